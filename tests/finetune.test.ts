// Fine-tuning an imported GPT-2 (docs/pretrained.md): full and LoRA, from the pretrained weights,
// with its own tokenizer; step 0 is the pretrained model; LoRA checkpoints hold only adapters;
// resume is exact; wasm and webgpu follow cpu step by step; memory stays flat.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, type Checkpoint } from '../src/lib/core/checkpoint/checkpoint';
import { decodeSafetensors } from '../src/lib/core/checkpoint/safetensors';
import { parseConfig, type LabConfig } from '../src/lib/core/config';
import { builtInDataset } from '../src/lib/core/data/registry';
import { disposeModel, evaluate, modelFromValues } from '../src/lib/core/eval/evaluate';
import { RunEvaluator } from '../src/lib/core/eval/runEvaluation';
import { importGpt2, type PretrainedModel } from '../src/lib/core/hf/gpt2Import';
import { checkFits, footprint } from '../src/lib/core/train/footprint';
import { Trainer } from '../src/lib/core/train/trainer';
import { estimateSeconds } from '../src/lib/presets';
import { backend, sameBytes, smokeConfig } from './helpers';
import { hfFiles, makeTestGpt2 } from './pretrainedFixture';

let base: PretrainedModel;
beforeAll(() => {
	base = importGpt2('tiny', hfFiles(makeTestGpt2({ seed: 7 })));
}, 120_000);

const golden = () => builtInDataset('golden-v2');

/** ci_smoke on the tiny model, 3 steps of 1 trace: full fine-tuning, or LoRA on c_attn and c_fc. */
function finetuneConfig(method: 'full' | 'lora'): LabConfig {
	const c = smokeConfig({
		model: { init: 'tiny', n_layer: 2, n_head: 2, n_embd: 64, block_size: 128, dropout: 0 },
		train: { steps: 3, batch_size: 1, lr: method === 'lora' ? 0.01 : 0.001, warmup_steps: 1, finetune: method },
		checkpoint: { every_steps: 1, keep_last: 4 },
		eval: { max_new_tokens: 4, max_items: 2 }
	});
	return method === 'lora' ? { ...c, lora: { rank: 4, alpha: 8, dropout: 0, targets: ['c_attn', 'c_fc'] } } : c;
}

/** Trains to the end (from `resume` if given): the losses and every checkpoint's bytes by step. */
async function train(config: LabConfig, resume?: Checkpoint) {
	const trainer = new Trainer(config, golden(), resume, base);
	const losses: number[] = [];
	const bytes = new Map<number, Uint8Array>();
	try {
		await trainer.run({ onStep: (m) => void losses.push(m.loss), onCheckpoint: (s, b) => void bytes.set(s, b) });
	} finally {
		trainer.dispose();
	}
	return { losses, bytes };
}

describe('the config of a fine-tune', () => {
	const yaml = (extra: string) => `
run: {name: ft, seed: 1}
data: {dataset: golden-v2, eval_datasets: [], loss_on: completion}
model: {init: tiny, n_layer: 2, n_head: 2, n_embd: 64, block_size: 128, dropout: 0}
train: {steps: 4, batch_size: 4, lr: 0.01, min_lr: 0, warmup_steps: 0, weight_decay: 0, grad_clip: 1, finetune: lora}
checkpoint: {every_steps: 2, keep_last: 2}
eval: {every_checkpoints: 1, max_new_tokens: 8, max_items: 4, during_training: false}
runtime: {backend: cpu}
${extra}`;
	it('reads model.init, train.finetune and lora', () => {
		const c = parseConfig(yaml('lora: {rank: 8, alpha: 16, dropout: 0.05, targets: [c_attn, c_proj]}'));
		expect(c.model.init).toBe('tiny');
		expect(c.lora).toEqual({ rank: 8, alpha: 16, dropout: 0.05, targets: ['c_attn', 'c_proj'] });
	});
	it('refuses LoRA without its group, an unknown target, and LoRA from scratch', () => {
		expect(() => parseConfig(yaml(''))).toThrow(/train\.finetune: is lora, so the config needs a lora group/);
		expect(() => parseConfig(yaml('lora: {rank: 8, alpha: 16, dropout: 0, targets: [q_proj]}'))).toThrow(
			/lora\.targets\[0\]: must be one of c_attn, c_proj, c_fc/
		);
		expect(() =>
			parseConfig(
				yaml('lora: {rank: 8, alpha: 16, dropout: 0, targets: [c_attn]}').replace('init: tiny', 'init: scratch')
			)
		).toThrow(/lora trains adapters on a pretrained model/);
	});
	it('refuses a model shape that is not the imported model', async () => {
		await backend('cpu');
		const c = finetuneConfig('full');
		expect(() => new Trainer({ ...c, model: { ...c.model, n_embd: 32 } }, golden(), undefined, base)).toThrow(
			/model\.n_embd is 32, tiny has 64/
		);
		expect(() => new Trainer(c, golden())).toThrow(/model\.init is "tiny", which is not imported here/);
	});
});

/** Per method: cpu's straight run (losses, checkpoint bytes by step), the reference of the other backends. */
const straight = new Map<'full' | 'lora', { losses: number[]; bytes: Map<number, Uint8Array> }>();

describe('what a fine-tune costs before it runs (core/train/footprint.ts)', () => {
	const gpt2 = (method: 'full' | 'lora') => {
		const c = finetuneConfig(method);
		return {
			...c,
			model: { ...c.model, n_layer: 12, n_head: 12, n_embd: 768, block_size: 1024 },
			train: { ...c.train, batch_size: 4 }
		};
	};
	it('counts GPT-2 small, what trains, and refuses full fine-tuning past a tab with the figures', () => {
		const full = footprint(gpt2('full'), 50257);
		expect(full.params).toBe(124_439_808); // GPT-2 small, as Hugging Face counts it
		expect(full.trainable).toBe(full.params);
		expect(full.tooLarge).toBe(true);
		expect(() => checkFits(gpt2('full'), 50257)).toThrow(
			/more than a browser tab can hold \(2000 MB\): 124,439,808 parameters, all of them train; about [\d,]+ MB: 498 MB of weights, 1493 MB of gradients and AdamW state, [\d,]+ MB of activations at batch 4 × 256 tokens\. Use LoRA/
		);
		const lora = footprint(gpt2('lora'), 50257);
		// rank 4 on c_attn (768 → 2304) and c_fc (768 → 3072) in 12 layers
		expect(lora.trainable).toBe(12 * (4 * (768 + 2304) + 4 * (768 + 3072)));
		expect(lora.tooLarge).toBe(false);
		expect(() => checkFits(gpt2('lora'), 50257)).not.toThrow();
	});
	it("times a step by its work, the 50,257-token output layer included (the lab page's estimate)", () => {
		// The tiny model's blocks are as small as the full-run model's, but its output layer is 50,257
		// tokens wide: a step costs far more than the full-run model's, not "at most about 5 s".
		const tiny = { ...finetuneConfig('lora'), train: { ...finetuneConfig('lora').train, steps: 300, batch_size: 8 } };
		const scratch = { ...tiny, model: { ...tiny.model, init: undefined } };
		const withVocab = estimateSeconds(tiny, 'wasm', footprint(tiny, 50257).vocab)!;
		// (a quarter as many tokens a trace, each ~33 times the work)
		expect(withVocab / estimateSeconds(scratch, 'wasm', 44)!).toBeGreaterThan(5);
		// distilgpt2's shape, batch 4: measured 1.0–1.2 s a step on wasm (docs/performance.md)
		const distil = { ...tiny, model: { ...tiny.model, n_layer: 6, n_head: 12, n_embd: 768 } };
		const perStep = estimateSeconds({ ...distil, train: { ...distil.train, batch_size: 4 } }, 'wasm', 50257)! / 300;
		expect(perStep).toBeGreaterThan(0.7);
		expect(perStep).toBeLessThan(2.5);
	});
});

describe('fine-tuning on cpu', () => {
	beforeAll(() => backend('cpu'));

	it('starts from the pretrained model: step 0 of full and LoRA runs both evaluate as it', async () => {
		const ds = golden();
		const config = finetuneConfig('full');
		const opts = { maxNewTokens: config.eval.max_new_tokens, maxItems: config.eval.max_items };
		const direct = modelFromValues(base.params, { config, vocab: [] }, 0, base);
		const want = (await evaluate(direct, ds, opts)).loss;
		disposeModel(direct);
		expect(want).toBeGreaterThan(8); // a random 50,257-way model: ≈ ln 50257 = 10.8
		for (const method of ['full', 'lora'] as const) {
			const seen: number[] = [];
			const evaluateModel: typeof evaluate = async (...args) => {
				const r = await evaluate(...args);
				seen.push(r.loss);
				return r;
			};
			const ev = new RunEvaluator({
				runId: 'r',
				config: finetuneConfig(method),
				vocab: [],
				base,
				datasets: [ds],
				evaluateModel
			});
			await ev.baseline();
			expect(seen[0], method).toBeCloseTo(want, 5);
		}
	});

	for (const method of ['full', 'lora'] as const) {
		it(`${method}: the loss falls, and resuming from step 1 repeats steps 2 and 3 exactly`, async () => {
			const run = await train(finetuneConfig(method));
			straight.set(method, run);
			expect(run.losses).toHaveLength(3);
			expect(run.losses[2]).toBeLessThan(run.losses[0]);
			const resumed = await train(finetuneConfig(method), decodeCheckpoint(run.bytes.get(1)!));
			expect(resumed.losses).toEqual(run.losses.slice(1));
			const [a, b] = [decodeCheckpoint(run.bytes.get(3)!), decodeCheckpoint(resumed.bytes.get(3)!)];
			for (const [name, data] of a.params) expect(sameBytes(b.params.get(name), data), name).toBe(true);
		});
	}

	it('a LoRA checkpoint holds only the adapters, their moments and the base model it needs', () => {
		const bytes = straight.get('lora')!.bytes.get(3)!;
		const names = decodeSafetensors(bytes).tensors.map((t) => t.name);
		expect(names.every((n) => /\.lora_[AB]$/.test(n))).toBe(true);
		expect(names.filter((n) => !n.startsWith('optimizer.'))).toHaveLength(2 * 2 * 2); // 2 layers × 2 targets × A, B
		expect(decodeCheckpoint(bytes).base).toEqual({ name: 'tiny', sha256: base.sha256, vocab_size: 50257 });
		expect(bytes.length).toBeLessThan(200_000); // the base model is 13 MB
	});

	it('a LoRA checkpoint evaluates as the base model with the adapters merged', async () => {
		const ck = decodeCheckpoint(straight.get('lora')!.bytes.get(3)!);
		const tuned = modelFromValues(ck.params, ck, 3, base);
		const pre = modelFromValues(base.params, { config: finetuneConfig('full'), vocab: [] }, 0, base);
		const opts = { maxNewTokens: 1, maxItems: 4 };
		const [a, b] = [await evaluate(tuned, golden(), opts), await evaluate(pre, golden(), opts)];
		disposeModel(tuned);
		disposeModel(pre);
		expect(a.loss).toBeLessThan(b.loss - 0.01);
	});
});

describe.each(['wasm', 'webgpu'] as const)('fine-tuning on %s', (name) => {
	for (const method of ['full', 'lora'] as const) {
		it(`${method}: per-step losses within 1e-3 of cpu, memory flat`, async () => {
			const ref = straight.get(method)!.losses;
			await backend(name);
			const trainer = new Trainer(finetuneConfig(method), golden(), undefined, base);
			const losses: number[] = [];
			const counts: number[] = [];
			await trainer.run({
				onStep: (m) => {
					losses.push(m.loss);
					counts.push(tf.memory().numTensors);
				}
			});
			trainer.dispose();
			for (let i = 0; i < ref.length; i++) expect(Math.abs(losses[i] - ref[i]), `step ${i + 1}`).toBeLessThan(1e-3);
			expect(counts[2]).toBe(counts[1]);
		});
	}
});
