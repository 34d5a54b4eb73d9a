// The Hugging Face export (core/export/hfFolder.ts, docs/export.md), checked by code that is not the
// lab's: the tokenizer files by the `tokenizers` library's own JS port, the weights by a NumPy
// GPT-2 written from transformers' conventions (scripts/gpt2_reference.py), the PEFT adapter by the
// key names and config fields PEFT's docs give and by that loader applying it PEFT's way.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/lib/core/checkpoint/checkpoint';
import { decodeSafetensors } from '../src/lib/core/checkpoint/safetensors';
import { parseConfig, type LabConfig } from '../src/lib/core/config';
import { goldenV2 } from '../src/lib/core/data/golden';
import type { Dataset } from '../src/lib/core/data/manifest';
import { disposeModel, evaluate, modelFromValues } from '../src/lib/core/eval/evaluate';
import { exportHf, type ExportFiles } from '../src/lib/core/export/hfFolder';
import { importGpt2, type PretrainedModel } from '../src/lib/core/hf/gpt2Import';
import { templateText } from '../src/lib/core/text/template';
import { Trainer } from '../src/lib/core/train/trainer';
import { backend, pythonWithNumpy, sameBytes, smokeConfig } from './helpers';
import { hfFiles, makeTestGpt2 } from './pretrainedFixture';

/** Trains `config` to the end on golden-v2 and returns its last checkpoint. */
async function trainedCheckpoint(config: LabConfig, base?: PretrainedModel): Promise<Checkpoint> {
	const trainer = new Trainer(config, goldenV2(), undefined, base);
	try {
		await trainer.run();
		return await trainer.snapshot();
	} finally {
		trainer.dispose();
	}
}

/** Writes the export's files under a new temporary folder. */
function writeFolder(files: ExportFiles): string {
	const dir = mkdtempSync(join(tmpdir(), 'tunix-hf-export-'));
	for (const [name, bytes] of Object.entries(files)) {
		mkdirSync(dirname(join(dir, name)), { recursive: true });
		writeFileSync(join(dir, name), bytes);
	}
	return dir;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const jsonOf = (b: Uint8Array) => JSON.parse(text(b)) as Record<string, unknown>;

/** The `tokenizers` library over the exported tokenizer files (not the lab's tokenizer). */
function hfTokenizer(files: ExportFiles, folder = ''): HfTokenizer {
	return new HfTokenizer(jsonOf(files[`${folder}tokenizer.json`]), jsonOf(files[`${folder}tokenizer_config.json`]));
}

/** Each trace as the exported tokenizer encodes it: ids ending in the config's eos, and the prompt's length. */
function examplesOf(tok: HfTokenizer, eos: number, bos: number, withBos: boolean, ds: Dataset, n: number) {
	return ds.traces.slice(0, n).map((t) => {
		const { prompt, completion } = templateText(t);
		// the character tokenizer's post-processor adds <bos>; GPT-2's adds nothing, so it is prepended
		const head = withBos ? [] : [bos];
		const promptIds = [...head, ...tok.encode(prompt).ids];
		const completionIds = tok.encode(completion, { add_special_tokens: false }).ids;
		return { ids: [...promptIds, ...completionIds, eos], prompt_length: promptIds.length };
	});
}

/** The NumPy GPT-2's completion loss over the examples, from the exported folder (and adapter). */
function referenceLoss(modelDir: string, examples: object[], adapterDir?: string): number {
	const path = join(mkdtempSync(join(tmpdir(), 'tunix-ex-')), 'examples.json');
	writeFileSync(path, JSON.stringify(examples));
	const args = ['scripts/gpt2_reference.py', 'loss', modelDir, path, ...(adapterDir ? [adapterDir] : [])];
	return (JSON.parse(execFileSync(pythonWithNumpy(), args, { encoding: 'utf8' })) as { loss: number }).loss;
}

/** The lab's own evaluation loss of the checkpoint on the first n items. */
async function labLoss(ck: Checkpoint, n: number, base?: PretrainedModel): Promise<number> {
	const model = modelFromValues(ck.params, ck, ck.step, base);
	try {
		return (await evaluate(model, goldenV2(), { maxNewTokens: 1, maxItems: n })).loss;
	} finally {
		disposeModel(model);
	}
}

const ITEMS = 12;

beforeAll(() => backend('cpu'));

describe('a model trained from scratch, exported for transformers', () => {
	let ck: Checkpoint;
	let files: ExportFiles;
	beforeAll(async () => {
		ck = await trainedCheckpoint(smokeConfig({ train: { steps: 4, batch_size: 4 } }));
		files = exportHf({ checkpoint: ck, run: { id: 'run-x', name: 'ci-smoke' } });
	}, 120_000);

	it('writes the files AutoModelForCausalLM and AutoTokenizer read, with GPT2LMHeadModel config keys', () => {
		expect(Object.keys(files).sort()).toEqual([
			'README.md',
			'config.json',
			'generation_config.json',
			'model.safetensors',
			'tokenizer.json',
			'tokenizer_config.json'
		]);
		const config = jsonOf(files['config.json']);
		expect(config).toMatchObject({
			architectures: ['GPT2LMHeadModel'],
			model_type: 'gpt2',
			vocab_size: ck.vocab.length,
			n_positions: ck.config.model.block_size,
			n_embd: ck.config.model.n_embd,
			n_layer: ck.config.model.n_layer,
			n_head: ck.config.model.n_head,
			activation_function: 'gelu_new',
			layer_norm_epsilon: 1e-5,
			tie_word_embeddings: true,
			bos_token_id: 1,
			eos_token_id: 2,
			pad_token_id: 0
		});
		// transformers' state-dict names; the tied head is not stored (save_pretrained drops it too)
		const names = decodeSafetensors(files['model.safetensors']).tensors.map((t) => t.name);
		expect(names).toContain('transformer.h.0.attn.c_attn.weight');
		expect(names).toContain('transformer.ln_f.bias');
		expect(names).not.toContain('lm_head.weight');
		expect(names.filter((n) => n.startsWith('optimizer.'))).toEqual([]);
		expect(text(files['README.md'])).toContain(ck.dataset.sha256);
	});

	it('its tokenizer.json encodes every golden-v2 trace to the ids the lab trained on', () => {
		const tok = hfTokenizer(files);
		const lab = modelFromValues(ck.params, ck, ck.step);
		try {
			goldenV2().traces.forEach((t) => {
				const { prompt, completion } = templateText(t);
				const ours = [1, ...lab.tokenizer.encode(prompt + completion), 2];
				const theirs = [...tok.encode(prompt + completion).ids, 2];
				expect(theirs).toEqual(ours);
				expect(tok.decode(theirs, { skip_special_tokens: true })).toBe(prompt + completion);
			});
			// a character outside the vocabulary is <unk> in both
			expect(tok.encode('Q: ☃').ids).toEqual([1, ...lab.tokenizer.encode('Q: ☃')]);
			expect(tok.encode('☃').ids).toEqual([1, 3]);
		} finally {
			disposeModel(lab);
		}
	});

	it('read by a NumPy GPT-2 written from transformers’ conventions, gives the lab’s evaluation loss within 1e-4', async () => {
		const dir = writeFolder(files);
		const ref = referenceLoss(dir, examplesOf(hfTokenizer(files), 2, 1, true, goldenV2(), ITEMS));
		const ours = await labLoss(ck, ITEMS);
		expect(Math.abs(ref - ours), `${ref} vs ${ours}`).toBeLessThan(1e-4);
	}, 60_000);
});

describe('a LoRA run on an imported GPT-2, exported as a PEFT adapter', () => {
	let baseDir: string;
	let base: PretrainedModel;
	let ck: Checkpoint;
	let files: ExportFiles;
	beforeAll(async () => {
		baseDir = makeTestGpt2({ seed: 11 });
		base = importGpt2('tiny', hfFiles(baseDir));
		const c = smokeConfig({
			model: { init: 'tiny', n_layer: 2, n_head: 2, n_embd: 64, block_size: 128, dropout: 0 },
			train: { steps: 3, batch_size: 2, lr: 0.05, warmup_steps: 1, finetune: 'lora' }
		});
		const config = parseConfig(
			JSON.stringify({ ...c, lora: { rank: 4, alpha: 8, dropout: 0, targets: ['c_attn', 'c_proj'] } })
		);
		ck = await trainedCheckpoint(config, base);
		files = exportHf({ checkpoint: ck, run: { id: 'run-l', name: 'tiny-lora' }, base }, { merged: true });
	}, 120_000);

	it("holds adapter_config.json and adapter_model.safetensors with PEFT's names, and merged/ on request", () => {
		const root = Object.keys(files).filter((f) => !f.startsWith('merged/'));
		expect(root.sort()).toEqual([
			'README.md',
			'adapter_config.json',
			'adapter_model.safetensors',
			'tokenizer.json',
			'tokenizer_config.json'
		]);
		expect(Object.keys(files).filter((f) => f.startsWith('merged/'))).toContain('merged/model.safetensors');
		// LoraConfig's fields as PEFT's docs list them; GPT-2's Conv1D needs fan_in_fan_out
		expect(jsonOf(files['adapter_config.json'])).toMatchObject({
			peft_type: 'LORA',
			task_type: 'CAUSAL_LM',
			base_model_name_or_path: 'tiny',
			r: 4,
			lora_alpha: 8,
			lora_dropout: 0,
			target_modules: ['c_attn', 'c_proj'],
			fan_in_fan_out: true,
			bias: 'none'
		});
		// PEFT's saved keys: base_model.model.<module>.lora_A.weight (r, in), lora_B.weight (out, r)
		const tensors = decodeSafetensors(files['adapter_model.safetensors']).tensors;
		const expected = [0, 1].flatMap((l) =>
			['attn.c_attn', 'attn.c_proj', 'mlp.c_proj'].flatMap((m) => [
				`base_model.model.transformer.h.${l}.${m}.lora_A.weight`,
				`base_model.model.transformer.h.${l}.${m}.lora_B.weight`
			])
		);
		expect(tensors.map((t) => t.name).sort()).toEqual(expected.sort());
		const shape = (n: string) => tensors.find((t) => t.name === n)!.shape;
		expect(shape('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')).toEqual([4, 64]);
		expect(shape('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')).toEqual([192, 4]);
		expect(shape('base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight')).toEqual([4, 256]);
		// the export carries the base model's own tokenizer
		expect(jsonOf(files['tokenizer.json'])).toEqual(base.tokenizerJson);
	});

	it('the adapter applied PEFT’s way to the base model, and merged/, give the lab’s evaluation loss within 1e-4', async () => {
		const dir = writeFolder(files);
		const tok = hfTokenizer(files);
		const eos = tok.token_to_id('<|endoftext|>')!;
		const examples = examplesOf(tok, eos, eos, false, goldenV2(), ITEMS / 2);
		const ours = await labLoss(ck, ITEMS / 2, base);
		const adapted = referenceLoss(baseDir, examples, dir);
		const merged = referenceLoss(join(dir, 'merged'), examples);
		expect(Math.abs(adapted - ours), `${adapted} vs ${ours}`).toBeLessThan(1e-4);
		expect(Math.abs(merged - ours), `${merged} vs ${ours}`).toBeLessThan(1e-4);
		// and the adapters did move the model: the base alone scores differently
		expect(Math.abs(referenceLoss(baseDir, examples) - ours)).toBeGreaterThan(1e-3);
	}, 120_000);

	it('merged/ imports back into the lab as a model to fine-tune further (the Models page, npm run import-model)', () => {
		const back = importGpt2('tiny-lora-merged', hfFiles(join(writeFolder(files), 'merged')));
		expect(back.gpt).toEqual(base.gpt);
		const name = 'transformer.h.0.attn.c_attn.weight';
		expect(sameBytes(back.params.get(name), base.params.get(name)), name).toBe(false);
		expect(sameBytes(back.params.get('transformer.wte.weight'), base.params.get('transformer.wte.weight'))).toBe(true);
	});
});
