// A lab run carried to PyTorch and back (docs/torch.md), with Debian's python3-torch: the first
// steps replayed on one process and under torchrun on two agree with the lab's within 1e-4 (the
// parity certificate says so, and says otherwise for a wrong learning rate); a lab checkpoint
// continued in PyTorch equals the lab's own continuation, evaluates, and imports as a run; a LoRA
// run on an imported BPE GPT-2 replays the same way.
import 'fake-indexeddb/auto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importModelCommand } from '../src/cli/importModelCommand';
import { runCommand, type CliIo } from '../src/cli/io';
import { torchCommand, torchTrainer } from '../src/cli/torchCommand';
import { trainCommand } from '../src/cli/trainCommand';
import { ParitySchema, type Parity } from '../src/lib/core/run/parity';
import type { RunRecord } from '../src/lib/core/run/record';
import { checked } from '../src/lib/core/schema';
import { LabDb } from '../src/lib/storage/db';
import { importBundle } from '../src/lib/storage/bundles';
import { getRun } from '../src/lib/storage/queries';
import { makeTestGpt2 } from './pretrainedFixture';

const tmp = () => mkdtempSync(join(tmpdir(), 'tunix-torch-'));

async function cli(command: (argv: string[], io: CliIo) => Promise<number>, argv: string[]) {
	let err = '';
	const io: CliIo = { out: () => undefined, err: (t) => void (err += t), progressStream: { write: () => true } };
	return { code: await runCommand(command, argv, io), err };
}

/** A Python that imports torch (CI: Debian's python3-torch). */
function pythonWithTorch(): string {
	const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
	const found = candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
	if (!found) throw new Error(`no Python with PyTorch among ${candidates.join(', ')}: apt-get install python3-torch`);
	return found;
}

/** Training lines of a run directory's metrics.jsonl, by step. */
function losses(dir: string): Map<number, { loss: number; grad_norm: number }> {
	const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
	return new Map(
		lines
			.map((l) => JSON.parse(l))
			.filter((m) => m.split === undefined)
			.map((m) => [m.step, m])
	);
}

function trainPy(python: string, runDir: string, ...more: string[]) {
	const r = spawnSync(python, [torchTrainer(), '--run-dir', runDir, ...more], { encoding: 'utf8' });
	expect(r.status, r.stderr).toBe(0);
}

const readRun = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
const readParity = (dir: string): Parity =>
	checked(ParitySchema, JSON.parse(readFileSync(join(dir, 'parity.json'), 'utf8')), 'parity.json');

let python: string;
let lab: string;
beforeAll(async () => {
	python = pythonWithTorch();
	const config = join(tmp(), 'smoke20.yaml');
	writeFileSync(
		config,
		readFileSync('configs/ci_smoke.yaml', 'utf8')
			.replace(/^ {2}steps: \d+/m, '  steps: 20')
			.replace(/every_steps: \d+/, 'every_steps: 10')
	);
	lab = tmp();
	const r = await cli(trainCommand, ['--config', config, '--checkpoint-dir', lab, '--backend', 'cpu']);
	expect(r.code, r.err).toBe(0);
}, 120_000);

describe('the parity certificate', () => {
	it('replays 20 steps on one process and under torchrun on two: losses within 1e-4 of the lab run', async () => {
		for (const nproc of ['1', '2']) {
			const r = await cli(torchCommand, [
				'parity',
				'--run-dir',
				lab,
				'--steps',
				'20',
				'--nproc',
				nproc,
				'--python',
				python
			]);
			expect(r.code, r.err).toBe(0);
			expect(r.err).toMatch(/The first 20 steps replayed in PyTorch .* match the lab's/);
			const parity = readParity(lab);
			expect(parity).toMatchObject({ passed: true, steps: 20, world_size: Number(nproc), first_failing_step: null });
			expect(parity.max_loss_diff).toBeLessThan(1e-4);
			expect(parity.per_step).toHaveLength(20);
			expect(readRun(lab).parity?.world_size).toBe(Number(nproc)); // the run page shows it
		}
	});

	it('fails for a deliberately wrong learning rate, from the first step it changes', async () => {
		const wrong = join(tmp(), 'wrong');
		expect((await cli(torchCommand, ['prepare', '--from', lab, '--step', '0', '--out', wrong])).code).toBe(0);
		const run = readRun(wrong);
		run.config.train.lr *= 2;
		writeFileSync(join(wrong, 'run.json'), JSON.stringify(run));
		trainPy(python, wrong, '--steps', '5');
		const r = await cli(torchCommand, ['parity', '--run-dir', lab, '--steps', '5', '--against', wrong]);
		expect(r.code).toBe(1);
		expect(r.err).toMatch(/do not match the lab's from step 2/); // step 1's loss comes before any update
		expect(readParity(lab)).toMatchObject({ passed: false, first_failing_step: 2 });
	});
});

describe('a lab checkpoint continued in PyTorch', () => {
	it('trains steps 11–20 as the lab did, evaluates, and imports into the lab as a run with its history', async () => {
		const dir = join(tmp(), 'continued');
		const prepared = await cli(torchCommand, ['prepare', '--from', lab, '--step', '10', '--out', dir]);
		expect(prepared.code, prepared.err).toBe(0);
		trainPy(python, dir);
		const [ours, theirs] = [losses(lab), losses(dir)];
		expect([...theirs.keys()]).toEqual(Array.from({ length: 20 }, (_, i) => i + 1)); // the history came along
		for (let step = 11; step <= 20; step++)
			expect(Math.abs(theirs.get(step)!.loss - ours.get(step)!.loss), `step ${step}`).toBeLessThan(1e-4);

		const finished = await cli(torchCommand, ['finish', '--run-dir', dir, '--backend', 'cpu']);
		expect(finished.code, finished.err).toBe(0);
		const run = readRun(dir);
		expect(run).toMatchObject({ status: 'completed', name: 'ci-smoke · PyTorch' });
		expect(run.events?.at(-1)).toMatchObject({ kind: 'resumed', step: 10, by: 'torch' });
		expect(run.provenance.runtime).toMatch(/^PyTorch \S+ \(1 process, cpu\)$/);
		expect(existsSync(join(dir, 'eval.json'))).toBe(true);
		// its evaluation of the last checkpoint is the lab's (the same weights, to rounding)
		const labScores = readRun(lab).summary.final_scores!['golden-v2'];
		expect(Math.abs(run.summary.final_scores!['golden-v2'].loss - labScores.loss)).toBeLessThan(1e-4);

		const db = new LabDb(`torch-${Date.now()}`);
		const imported = await importBundle(db, new Uint8Array(readFileSync(`${dir}.zip`)), 'continued.zip');
		const entry = await getRun(db, imported.id);
		expect(entry?.ok && entry.run.status).toBe('completed');
		expect(await db.checkpoints.where('runId').equals(imported.id).count()).toBe(2);
	});

	it('continues its own run after a stop from its newest checkpoint, with no step twice; finish runs once', async () => {
		const dir = join(tmp(), 'twice');
		expect((await cli(torchCommand, ['prepare', '--from', lab, '--step', '10', '--out', dir])).code).toBe(0);
		trainPy(python, dir, '--steps', '15'); // stops at 15 with a checkpoint
		trainPy(python, dir); // continues from it, not from prepare's step 10
		const [ours, theirs] = [losses(lab), losses(dir)];
		const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l).step);
		expect(steps).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
		for (let step = 11; step <= 20; step++)
			expect(Math.abs(theirs.get(step)!.loss - ours.get(step)!.loss), `step ${step}`).toBeLessThan(1e-4);
		expect((await cli(torchCommand, ['finish', '--run-dir', dir, '--backend', 'cpu'])).code).toBe(0);
		const again = await cli(torchCommand, ['finish', '--run-dir', dir, '--backend', 'cpu']);
		expect(again.err).toMatch(/the run is completed; finish takes a run that torch\/train\.py trained since prepare/);
	});

	it('refuses a step with no checkpoint and a directory that holds a run, saying what to do', async () => {
		const missing = await cli(torchCommand, ['prepare', '--from', lab, '--step', '7', '--out', join(tmp(), 'x')]);
		expect(missing.err).toMatch(/has no checkpoint at step 7 \(it has 10, 20\)/);
		const taken = await cli(torchCommand, ['prepare', '--from', lab, '--out', lab]);
		expect(taken.err).toMatch(/already holds a run: give --out a new directory/);
		const unprepared = await cli(torchCommand, ['finish', '--run-dir', lab]);
		expect(unprepared.err).toMatch(/torch\.json is missing: train the directory with torch\/train\.py first/);
	});
});

describe('LoRA on an imported BPE GPT-2', () => {
	it('replays the adapters’ training in PyTorch within 1e-4', async () => {
		const models = tmp();
		const source = makeTestGpt2({ seed: 9, tokenizer: 'vocab+merges' });
		expect((await cli(importModelCommand, [source, '--name', 'tiny-gpt2', '--models-dir', models])).code).toBe(0);
		const config = join(tmp(), 'lora.yaml');
		writeFileSync(
			config,
			readFileSync('configs/ci_lora.yaml', 'utf8').replace('weight_decay: 0.0', 'weight_decay: 0.1')
		);
		const dir = tmp();
		const trained = await cli(trainCommand, [
			'--config',
			config,
			'--checkpoint-dir',
			dir,
			'--backend',
			'wasm',
			'--models-dir',
			models
		]);
		expect(trained.code, trained.err).toBe(0);
		const r = await cli(torchCommand, [
			'parity',
			'--run-dir',
			dir,
			'--steps',
			'6',
			'--python',
			python,
			'--models-dir',
			models
		]);
		expect(r.code, r.err).toBe(0);
		expect(readParity(dir).max_loss_diff).toBeLessThan(1e-4);
	});
});
