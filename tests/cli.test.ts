import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../src/lib/core/checkpoint/checkpoint';
import type { RunRecord } from '../src/lib/core/run/record';
import { runCommand, type CliIo } from '../src/cli/io';
import { trainCommand } from '../src/cli/trainCommand';
import { evalCommand } from '../src/cli/evalCommand';
import type { EvalDeps } from '../src/cli/trainCommand';

const tmp = () => mkdtempSync(join(tmpdir(), 'tunix-cli-'));

function quietIo(onLine?: (line: string) => void): CliIo & { text: () => string } {
	let err = '';
	return {
		out: () => undefined,
		err: (t) => void (err += t),
		progressStream: { write: (s: string) => (onLine?.(s), true), isTTY: false },
		text: () => err
	};
}

async function train(argv: string[], onLine?: (line: string) => void, deps: EvalDeps = {}) {
	let err = '';
	const io: CliIo = {
		out: () => undefined,
		err: (t) => void (err += t),
		progressStream: {
			write: (s: string) => {
				onLine?.(s);
				return true;
			},
			isTTY: false
		}
	};
	const code = await runCommand((a, i) => trainCommand(a, i, deps), argv, io);
	return { code, err };
}

const smokeArgs = (dir: string, extra: string[] = []) => [
	'--config',
	'configs/ci_smoke.yaml',
	'--checkpoint-dir',
	dir,
	'--backend',
	'cpu',
	...extra
];
const losses = (dir: string) =>
	readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l))
		.filter((m) => 'loss' in m && !('split' in m))
		.map((m) => m.loss as number);

describe('npm run train (in-process)', () => {
	it('writes checkpoints (keep_last), metrics.jsonl and run.json', async () => {
		const dir = tmp();
		const { code, err } = await train(smokeArgs(dir, ['--dataset', 'golden-v2']));
		expect(err).toMatch(/trained 8 steps/);
		expect(code).toBe(0);
		expect(readdirSync(dir).sort()).toEqual(
			['checkpoint-step4.safetensors', 'checkpoint-step8.safetensors', 'eval.json', 'metrics.jsonl', 'run.json'].sort()
		);
		const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l));
		const steps = metrics.filter((m) => !('split' in m));
		expect(steps.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		expect(Object.keys(steps[0]).sort()).toEqual(['elapsed_s', 'grad_norm', 'loss', 'lr', 'step', 'tokens_per_s']);
		const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
		expect(run.provenance.backend).toBe('cpu');
		expect(run.provenance.runtime).toMatch(/^node v\d+/);
		expect(run.provenance.model_ops).toBe('composite tfjs ops on cpu'); // the model seam's choice, recorded
		expect(run.datasets.train.sha256).toBe('d1ad2444012524832046d8fa3c14e58558c3ce540b86295b08ddc9e7f262b1e9');
		expect(run.checkpoints.map((c) => c.step)).toEqual([4, 8]);
		expect(run.summary.steps_done).toBe(8);
		expect(run.summary.initial_loss).toBeGreaterThan(run.summary.final_loss!);
		expect(decodeCheckpoint(new Uint8Array(readFileSync(join(dir, 'checkpoint-step8.safetensors')))).step).toBe(8);
	});

	it('Ctrl-C writes a checkpoint; --resume then matches a straight run bit for bit', async () => {
		const straight = tmp();
		expect((await train(smokeArgs(straight))).code).toBe(0);
		const split = tmp();
		const first = await train(smokeArgs(split), (line) => {
			if (line.includes('step 3/8')) process.emit('SIGINT');
		});
		expect(first.code).toBe(130);
		expect(first.err).toMatch(/stopped at step 3; checkpoint written/);
		expect(JSON.parse(readFileSync(join(split, 'run.json'), 'utf8')).status).toBe('interrupted');
		expect(existsSync(join(split, 'checkpoint-step3.safetensors'))).toBe(true);
		const second = await train(smokeArgs(split, ['--resume']));
		expect(second.code).toBe(0);
		expect(second.err).toMatch(/resuming run-.* from step 3/);
		expect(losses(split)).toEqual(losses(straight));
		const a = decodeCheckpoint(new Uint8Array(readFileSync(join(straight, 'checkpoint-step8.safetensors'))));
		const b = decodeCheckpoint(new Uint8Array(readFileSync(join(split, 'checkpoint-step8.safetensors'))));
		for (const [name, v] of a.params) expect(b.params.get(name), name).toEqual(v);
	});
});

describe('evaluation after training', () => {
	it('writes eval.json with baseline and history, eval lines in metrics.jsonl and the run summary', async () => {
		const dir = tmp();
		const { code, err } = await train(smokeArgs(dir));
		expect(code).toBe(0);
		expect(err).toMatch(
			/golden-v2: answer_accuracy \d\.\d+ \(95% CI \d\.\d+–\d\.\d+\) \(untrained \d\.\d+\), format_rate .* \(n = 4\)/
		);
		const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
		expect(run.status).toBe('completed');
		expect(run.finished).not.toBeNull();
		expect(Object.keys(run.summary.final_scores!)).toEqual(['golden-v2', 'golden-v2-heldout']);
		expect(Object.keys(run.summary.baseline_scores!)).toEqual(['golden-v2', 'golden-v2-heldout']);
		const e = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'));
		expect(Object.keys(e).sort()).toEqual(['baseline', 'datasets', 'history', 'judge', 'run_id', 'step']);
		expect(e.run_id).toBe(run.id);
		expect(e.step).toBe(8);
		expect(e.judge).toBe('answer_correctness@v1');
		expect(e.history.map((h: { step: number }) => h.step)).toEqual([0, 4, 8]);
		expect(e.datasets['golden-v2'].items).toHaveLength(4); // ci_smoke: max_items 4
		expect(e.baseline['golden-v2-heldout'].step).toBe(0);
		const evalLines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l))
			.filter((m) => 'split' in m);
		expect(evalLines.map((m) => `${m.step}:${m.split}`)).toEqual([
			'0:golden-v2',
			'0:golden-v2-heldout',
			'4:golden-v2',
			'4:golden-v2-heldout',
			'8:golden-v2',
			'8:golden-v2-heldout'
		]);
		expect(Object.keys(evalLines[0])).toEqual(
			expect.arrayContaining(['step', 'split', 'loss', 'perplexity', 'answer_accuracy', 'format_rate', 'per_case'])
		);
	});

	it('a failing evaluation ends as evaluation_failed, keeps checkpoints and metrics, and can be re-run', async () => {
		const dir = tmp();
		const failing: EvalDeps = { evaluateModel: async () => Promise.reject(new Error('injected evaluator fault')) };
		const { code, err } = await train(smokeArgs(dir), undefined, failing);
		expect(code).toBe(1);
		expect(err).toMatch(
			/^error: evaluation failed: injected evaluator fault\. Checkpoints and training metrics are intact; evaluate the run again to retry \(npm run eval -- --run-dir /m
		);
		const failed = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
		expect(failed.status).toBe('evaluation_failed');
		expect(failed.error).toMatch(/injected evaluator fault/);
		expect(failed.checkpoints.map((c) => c.step)).toEqual([4, 8]);
		const trainingLossesBefore = losses(dir);
		expect(trainingLossesBefore).toHaveLength(8);
		expect(existsSync(join(dir, 'eval.json'))).toBe(false);
		expect(decodeCheckpoint(new Uint8Array(readFileSync(join(dir, 'checkpoint-step8.safetensors')))).step).toBe(8);

		const io = quietIo();
		expect(await runCommand(evalCommand, ['--run-dir', dir, '--backend', 'cpu'], io)).toBe(0);
		expect(io.text()).toMatch(/run run-.* is completed/);
		const fixed = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
		expect(fixed.status).toBe('completed');
		expect(fixed.error).toBeNull();
		expect(losses(dir)).toEqual(trainingLossesBefore);
		expect(JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')).history).toHaveLength(3);
	});

	it('npm run eval -- --checkpoint evaluates one file, with the baseline, into --out', async () => {
		const dir = tmp();
		expect((await train(smokeArgs(dir))).code).toBe(0);
		const io = quietIo();
		const out = join(dir, 'one.json');
		const args = [
			'--checkpoint',
			join(dir, 'checkpoint-step4.safetensors'),
			'--dataset',
			'golden-v2-heldout',
			'--out',
			out,
			'--backend',
			'cpu'
		];
		expect(await runCommand(evalCommand, args, io)).toBe(0);
		const e = JSON.parse(readFileSync(out, 'utf8'));
		expect(e.step).toBe(4);
		expect(Object.keys(e.datasets)).toEqual(['golden-v2-heldout']);
		expect(e.history.map((h: { step: number }) => h.step)).toEqual([0, 4]);
		// ci_smoke's config scores 4 items; the CLI says so, and --max-items changes it
		expect(io.text()).toMatch(
			/golden-v2-heldout @ step 4 on 4 of 53 items \(--max-items all scores every item\): answer_accuracy/
		);
		const all = quietIo();
		expect(await runCommand(evalCommand, [...args, '--max-items', 'all'], all)).toBe(0);
		expect(all.text()).toMatch(/golden-v2-heldout @ step 4 on 53 of 53 items: answer_accuracy/);
		expect(JSON.parse(readFileSync(out, 'utf8')).datasets['golden-v2-heldout'].n).toBe(53);
		await expect(runCommand(evalCommand, [...args, '--max-items', '0'], quietIo())).resolves.toBe(2);
	});
});

describe('npm run train: bad input', () => {
	const yaml = readFileSync('configs/ci_smoke.yaml', 'utf8');
	const cases: [string, () => string[], RegExp][] = [
		['malformed YAML', () => ['--config', file('run:\n  name: [oops\n')], /^error: .*bad\.yaml:\d+:\d+: \(yaml\): /],
		[
			'unknown key',
			() => ['--config', file(yaml.replace('  seed: 1234', '  seed: 1234\n  sead: 1'))],
			/^error: .*bad\.yaml:5:3: run\.sead: unknown key \(expected: name, seed\)/
		],
		[
			'wrong type',
			() => ['--config', file(yaml.replace('batch_size: 4', 'batch_size: four'))],
			/^error: .*bad\.yaml:\d+:15: train\.batch_size: must be an integer, got "four"/
		],
		[
			'out-of-range value',
			() => ['--config', file(yaml.replace('dropout: 0.0', 'dropout: 1.5'))],
			/^error: .*bad\.yaml:\d+:12: model\.dropout: must be in \[0, 0\.9\], got 1\.5/
		],
		[
			'unknown dataset key',
			() => ['--config', 'configs/ci_smoke.yaml', '--dataset', 'golden-v7'],
			/^error: --dataset: unknown dataset "golden-v7"/
		],
		[
			'unknown dataset key in the config',
			() => ['--config', file(yaml.replace('dataset: golden-v2', 'dataset: nope'))],
			/^error: .*bad\.yaml:\d+:12: data\.dataset: unknown dataset "nope"/
		],
		[
			'invalid trace file',
			() => [
				'--config',
				'configs/ci_smoke.yaml',
				'--dataset',
				file('{"prompt":"p","steps":[],"final_answer":"a"}\n', 'bad.jsonl')
			],
			/^error: .*bad\.jsonl: 1 problem\(s\), nothing was loaded:\n {2}line 1: steps: has 0 steps/
		]
	];
	let scratch = '';
	function file(text: string, name = 'bad.yaml'): string {
		const p = join(scratch, name);
		writeFileSync(p, text);
		return p;
	}

	for (const [what, argv, message] of cases) {
		it(`${what}: non-zero exit, a message naming file and field, nothing written`, async () => {
			scratch = tmp();
			const out = join(tmp(), 'run');
			const { code, err } = await train([...argv(), '--checkpoint-dir', out, '--backend', 'cpu']);
			expect(code).not.toBe(0);
			expect(err).toMatch(message);
			expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
		});
	}

	it('unwritable checkpoint dir', async () => {
		const dir = tmp();
		writeFileSync(join(dir, 'afile'), 'x');
		const { code, err } = await train(smokeArgs(join(dir, 'afile', 'run')));
		expect(code).toBe(1);
		expect(err).toMatch(/^error: cannot write to .*afile\/run \(ENOTDIR\): choose another directory/);
	});

	it('a damaged newest checkpoint on --resume: says so, falls back to the one before, trains the same losses', async () => {
		const dir = tmp();
		expect((await train(smokeArgs(dir))).code).toBe(0);
		const straight = losses(dir);
		const p = join(dir, 'checkpoint-step8.safetensors');
		const flipped = readFileSync(p);
		flipped[flipped.length - 3] ^= 0x40; // one bit of one float
		writeFileSync(p, flipped);
		const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
		writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...run, status: 'interrupted' }));
		const { code, err } = await train(smokeArgs(dir, ['--resume']));
		expect(err).toMatch(
			/checkpoint step 8 is damaged \(its tensor data does not match the sha256 .*\); trying the one before/
		);
		expect(err).toMatch(/resuming run-\S+ from step 4/);
		expect(code).toBe(0);
		expect(losses(dir)).toEqual(straight);
		expect(() => decodeCheckpoint(new Uint8Array(readFileSync(p)))).not.toThrow();
	});

	it('a run killed before its first checkpoint resumes from step 0', async () => {
		const dir = tmp();
		expect((await train(smokeArgs(dir))).code).toBe(0);
		const straight = losses(dir);
		for (const f of readdirSync(dir)) if (f.endsWith('.safetensors') || f === 'eval.json') rmSync(join(dir, f));
		const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
		writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...run, status: 'training', checkpoints: [] }));
		const { code, err } = await train(smokeArgs(dir, ['--resume']));
		expect(err).toMatch(/has no readable checkpoint yet: training it again from step 0/);
		expect(code).toBe(0);
		expect(losses(dir)).toEqual(straight);
	});

	it('one trainer per directory: a second is refused before it touches anything; a stale lock is taken over', async () => {
		const dir = tmp();
		const temp = join(dir, 'metrics.jsonl.tmp-99999');
		writeFileSync(temp, 'a live run is writing this');
		writeFileSync(join(dir, '.lock'), `${process.pid}\n`); // a live process holds it
		for (const extra of [[], ['--resume']]) {
			const { code, err } = await train(smokeArgs(dir, extra));
			expect(code).toBe(1);
			expect(err).toMatch(new RegExp(`is being trained by process ${process.pid} \\(lock file .*\\.lock\\)`));
			expect(existsSync(temp)).toBe(true);
		}
		const gone = spawnSync('node', ['-e', 'process.exit(0)']).pid!;
		writeFileSync(join(dir, '.lock'), `${gone}\n`); // its process has ended
		expect((await train(smokeArgs(dir))).code).toBe(0);
		expect(existsSync(join(dir, '.lock'))).toBe(false);
		expect(existsSync(temp)).toBe(false); // stale temps go once the lock is ours
	});

	it('refuses to overwrite an existing run without --resume', async () => {
		const dir = tmp();
		expect((await train(smokeArgs(dir))).code).toBe(0);
		const { code, err } = await train(smokeArgs(dir));
		expect(code).toBe(1);
		expect(err).toMatch(/already holds a run: pass --resume/);
	});
});

describe('the real commands', () => {
	it('npm run export-dataset prints the canonical JSONL with the specified hash', () => {
		const out = execFileSync('node', ['scripts/run-ts.mjs', 'src/cli/export-dataset.ts', 'golden-v2'], {
			encoding: 'utf8'
		});
		expect(out.split('\n')).toHaveLength(101);
		expect(createHash('sha256').update(out).digest('hex')).toBe(
			'd1ad2444012524832046d8fa3c14e58558c3ce540b86295b08ddc9e7f262b1e9'
		);
	});

	it('npm run train exits non-zero with one line for a bad flag', () => {
		const r = spawnSync(
			'node',
			[
				'scripts/run-ts.mjs',
				'src/cli/train.ts',
				'--config',
				'configs/ci_smoke.yaml',
				'--checkpoint-dir',
				tmp(),
				'--backend',
				'tpu'
			],
			{ encoding: 'utf8' }
		);
		expect(r.status).toBe(2);
		expect(r.stderr.trim()).toBe('error: --backend must be one of wasm, cpu, webgpu, got "tpu"');
	});
});
