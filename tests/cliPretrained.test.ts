// The CLI with an imported GPT-2 (docs/pretrained.md): npm run import-model keeps a checked copy
// under models/, `model.init` trains from it (LoRA here), Ctrl-C and --resume continue it, and
// npm run eval finds the base model again.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evalCommand } from '../src/cli/evalCommand';
import { exportHfCommand } from '../src/cli/exportHfCommand';
import { importModelCommand } from '../src/cli/importModelCommand';
import { runCommand, type CliIo } from '../src/cli/io';
import { trainCommand } from '../src/cli/trainCommand';
import { decodeCheckpoint } from '../src/lib/core/checkpoint/checkpoint';
import type { RunRecord } from '../src/lib/core/run/record';
import { makeTestGpt2 } from './pretrainedFixture';

const tmp = () => mkdtempSync(join(tmpdir(), 'tunix-cli-hf-'));

async function run(command: (argv: string[], io: CliIo) => Promise<number>, argv: string[], stopAfter?: number) {
	let err = '';
	let out = '';
	let lines = 0;
	const io: CliIo = {
		out: (t) => void (out += t),
		err: (t) => void (err += t),
		progressStream: {
			write: () => {
				if (stopAfter !== undefined && ++lines === stopAfter) process.emit('SIGINT');
				return true;
			},
			isTTY: false
		}
	};
	const code = await runCommand(command, argv, io);
	return { code, err, out };
}

let source: string;
let models: string;
beforeAll(() => {
	source = makeTestGpt2({ seed: 9, dtype: 'F16', noPrefix: true, tokenizer: 'vocab+merges' });
	models = tmp();
}, 120_000);

describe('npm run import-model', () => {
	it('keeps a checked copy under the name given, and says how to train from it', async () => {
		const r = await run(importModelCommand, [source, '--name', 'tiny-gpt2', '--models-dir', models]);
		expect(r.code, r.err).toBe(0);
		expect(r.err).toMatch(/imported tiny-gpt2: GPT-2 2 × 64 .* 3,324,736 parameters, F16/);
		expect(r.err).toMatch(/model\.init: tiny-gpt2/);
		expect(readdirSync(join(models, 'tiny-gpt2')).sort()).toEqual([
			'config.json',
			'model.safetensors',
			'tokenizer.json'
		]);
		expect(JSON.parse(r.out).sha256).toMatch(/^[0-9a-f]{64}$/);
		// the same model again is fine; other weights under the name are refused
		expect((await run(importModelCommand, [source, '--name', 'tiny-gpt2', '--models-dir', models])).code).toBe(0);
		const other = makeTestGpt2({ seed: 10 });
		const clash = await run(importModelCommand, [other, '--name', 'tiny-gpt2', '--models-dir', models]);
		expect(clash.code).toBe(1);
		expect(clash.err).toMatch(/a model named tiny-gpt2 with other weights .* is already in/);
	});

	it('refuses a bad name, a folder without weights and an unsupported model, writing nothing', async () => {
		const dir = tmp();
		const bad = await run(importModelCommand, [source, '--name', '../x', '--models-dir', dir]);
		expect(bad.err).toMatch(/model name "..\/x": use 1–64 letters/);
		const empty = await run(importModelCommand, [tmp(), '--models-dir', dir]);
		expect(empty.err).toMatch(/config\.json is missing: download it from the model's page on the Hub/);
		expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
	});
});

describe('npm run train from an imported model', () => {
	const args = (dir: string) => [
		'--config',
		'configs/ci_lora.yaml',
		'--checkpoint-dir',
		dir,
		'--backend',
		'wasm',
		'--models-dir',
		models
	];

	it('trains LoRA adapters, stops on Ctrl-C, resumes, and evaluates against the pretrained model', async () => {
		const dir = tmp();
		const stopped = await run((a, io) => trainCommand(a, io), args(dir), 2);
		expect(stopped.code, stopped.err).toBe(130);
		const resumed = await run((a, io) => trainCommand(a, io), [...args(dir), '--resume']);
		expect(resumed.code, resumed.err).toBe(0);
		expect(resumed.err).toMatch(/resuming .* from step [1-3]/);
		expect(resumed.err).toMatch(/golden-v2: answer_accuracy .* \(pretrained /);
		const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
		expect(record.status).toBe('completed');
		expect(record.provenance.base_model?.name).toBe('tiny-gpt2');
		const ck = decodeCheckpoint(new Uint8Array(readFileSync(join(dir, 'checkpoint-step6.safetensors'))));
		expect([...ck.params.keys()].every((n) => /lora_[AB]$/.test(n))).toBe(true);
		expect(record.summary.final_scores!['golden-v2'].loss).toBeLessThan(
			record.summary.baseline_scores!['golden-v2'].loss
		);
		const again = await run((a, io) => evalCommand(a, io), ['--run-dir', dir, '--models-dir', models]);
		expect(again.code, again.err).toBe(0);
		expect(again.err).toMatch(/\(pretrained /);

		// npm run export-hf: the PEFT adapter (and merged weights) beside the model's own tokenizer
		const out = join(tmp(), 'hf');
		const exported = await run(exportHfCommand, ['--run-dir', dir, '--out', out, '--merged', '--models-dir', models]);
		expect(exported.code, exported.err).toBe(0);
		expect(exported.err).toMatch(/wrote a PEFT adapter of ci-lora at step 6 to /);
		expect(readdirSync(out).sort()).toEqual([
			'README.md',
			'adapter_config.json',
			'adapter_model.safetensors',
			'merged',
			'tokenizer.json',
			'tokenizer_config.json'
		]);
		expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain(record.datasets.train.sha256);
		// nothing is overwritten; a step that is not kept says which are
		const again2 = await run(exportHfCommand, ['--run-dir', dir, '--out', out, '--models-dir', models]);
		expect(again2.err).toMatch(/--out .* is not empty: give a new folder/);
		const badStep = await run(exportHfCommand, [
			'--run-dir',
			dir,
			'--out',
			tmp(),
			'--step',
			'5',
			'--models-dir',
			models
		]);
		expect(badStep.err).toMatch(/--step 5: .* keeps checkpoints at steps [\d, ]*6/);
	});

	it('says how to import a model the config names but this machine lacks', async () => {
		const r = await run(
			(a, io) => trainCommand(a, io),
			['--config', 'configs/ci_lora.yaml', '--checkpoint-dir', tmp(), '--models-dir', tmp()]
		);
		expect(r.code).toBe(1);
		expect(r.err).toMatch(
			/model "tiny-gpt2" is not imported in .* run npm run import-model -- <HF folder> --name tiny-gpt2/
		);
	});
});

process.on('exit', () => models && rmSync(models, { recursive: true, force: true }));
