import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCheckpoint, type Checkpoint } from '../src/lib/core/checkpoint/checkpoint';
import { canonicalJsonl } from '../src/lib/core/data/traces';
import { goldenV2, goldenV2Heldout } from '../src/lib/core/data/golden';
import { generate } from '../src/lib/core/eval/generate';
import { stepsToEvaluate } from '../src/lib/core/eval/runEvaluation';
import { forward, initParamValues } from '../src/lib/core/model/gpt';
import { paramShapes, type GptConfig } from '../src/lib/core/model/shapes';
import { EOS } from '../src/lib/core/text/tokenizer';
import { Trainer } from '../src/lib/core/train/trainer';
import { backend, evaluateCheckpoint, pythonWithNumpy, smokeConfig } from './helpers';

let trained: Checkpoint;

beforeAll(async () => {
	await backend('wasm');
	const trainer = new Trainer(smokeConfig({ train: { steps: 40, lr: 0.02 }, model: { n_embd: 32 } }), goldenV2());
	await trainer.run();
	trained = await trainer.snapshot();
	trainer.dispose();
});

describe('greedy generation with a KV cache', () => {
	it('equals recomputing the whole sequence per token, item by item', async () => {
		const cfg: GptConfig = { vocab_size: 13, n_layer: 2, n_head: 2, n_embd: 16, block_size: 12, dropout: 0 };
		const values = initParamValues(cfg, 5);
		const p = Object.fromEntries(
			paramShapes(cfg).map(([n, shape]) => [
				n,
				tf.tensor(
					values.get(n)!.map((x) => x * 40),
					shape
				)
			])
		);
		const prompts = [[1, 5, 6], [1, 7], [1, 8, 9, 10, 11, 4], [1]];
		const batched = await generate(p, cfg, prompts, 20);
		for (const [b, prompt] of prompts.entries()) {
			const ids = [...prompt];
			const want: number[] = [];
			let eos = false;
			while (want.length < 20 && ids.length <= cfg.block_size) {
				const logits = forward(p, tf.tensor2d([ids], undefined, 'int32'), cfg);
				const next = tf.argMax(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, cfg.vocab_size]), 2).dataSync()[0];
				if (next === EOS) {
					eos = true;
					break;
				}
				want.push(next);
				ids.push(next);
			}
			expect(batched[b].tokens, `prompt ${b}`).toEqual(want);
			expect(batched[b].endedWithEos).toBe(eos);
		}
		expect(batched.some((g) => g.tokens.length > 3)).toBe(true);

		// sampling: top-1 is greedy; a seed draws the same sample again; temperature changes what is drawn
		const sample = (t: number, k: number, seed: number) =>
			generate(p, cfg, prompts, 20, { temperature: t, topK: k, seed });
		expect((await sample(1, 1, 3)).map((g) => g.tokens)).toEqual(batched.map((g) => g.tokens));
		const a = await sample(2, 0, 7);
		expect((await sample(2, 0, 7)).map((g) => g.tokens)).toEqual(a.map((g) => g.tokens));
		expect(a.map((g) => g.tokens)).not.toEqual(batched.map((g) => g.tokens));
		// streaming: every step reports the tokens so far, ending with the result
		const seen: number[][][] = [];
		const streamed = await generate(p, cfg, prompts, 20, undefined, (t) => seen.push(t.map((r) => [...r])));
		expect(seen.at(-1)).toEqual(streamed.map((g) => g.tokens));
		expect(seen.length).toBeGreaterThan(1);
		tf.dispose(Object.values(p));
	});

	it('leaves no tensors behind', async () => {
		const before = tf.memory().numTensors;
		await evaluateCheckpoint(trained, goldenV2Heldout(), { maxNewTokens: 30, maxItems: 10 });
		expect(tf.memory().numTensors).toBe(before);
	});
});

describe('evaluate', () => {
	it('is deterministic: the same checkpoint twice gives identical results', async () => {
		const opts = { maxNewTokens: 64, maxItems: 20, batchSize: 8 };
		const a = await evaluateCheckpoint(trained, goldenV2(), opts);
		const b = await evaluateCheckpoint(trained, goldenV2(), opts);
		expect(b).toEqual(a);
		expect(a.n).toBe(20);
		expect(a.items[0]).toMatchObject({ index: 0, case: 'math_gen', prompt: 'What is 82 + 15?', expected: '97' });
		expect(a.items[0].generated.length).toBeGreaterThan(0);
		expect(a.loss).toBeLessThan(Math.log(trained.vocab.length));
		expect(Object.keys(a.per_case)).toEqual(['math_gen']);
	});

	it('reports per case, and the dataset loss weighs items by their completion tokens', async () => {
		const r = await evaluateCheckpoint(trained, goldenV2(), { maxNewTokens: 8, maxItems: null, batchSize: 64 });
		expect(r.per_case.math_gen.n + r.per_case.text_gen.n).toBe(100);
		const m = r.per_case.math_gen;
		const t = r.per_case.text_gen;
		// token-weighted: the overall loss lies strictly between the two cases' losses unless they are equal
		expect(r.loss).toBeGreaterThanOrEqual(Math.min(m.loss, t.loss));
		expect(r.loss).toBeLessThanOrEqual(Math.max(m.loss, t.loss));
		expect(r.perplexity).toBeCloseTo(Math.exp(r.loss), 10);
		expect(r.answer_accuracy).toBeCloseTo((m.answer_accuracy * m.n + t.answer_accuracy * t.n) / 100, 10);
	});

	it('agrees with an independent NumPy implementation of docs/specification.md (scripts/reference_loss.py)', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'tunix-ref-'));
		writeFileSync(join(dir, 'ck.safetensors'), encodeCheckpoint(trained));
		for (const ds of [goldenV2(), goldenV2Heldout()]) {
			writeFileSync(join(dir, 'd.jsonl'), canonicalJsonl(ds.traces));
			const ours = await evaluateCheckpoint(trained, ds, { maxNewTokens: 4, maxItems: null });
			const out = execFileSync(
				pythonWithNumpy(),
				['scripts/reference_loss.py', join(dir, 'ck.safetensors'), join(dir, 'd.jsonl')],
				{ encoding: 'utf8' }
			);
			const ref = JSON.parse(out) as { loss: number; items: number };
			expect(ref.items).toBe(ds.traces.length);
			expect(Math.abs(ours.loss - ref.loss), `${ds.manifest.key}: ${ours.loss} vs ${ref.loss}`).toBeLessThan(1e-4);
		}
	});
});

describe('which checkpoints are evaluated', () => {
	it('takes every N-th kept checkpoint and always the last', () => {
		expect(stepsToEvaluate([250, 500, 750, 1000], 1)).toEqual([250, 500, 750, 1000]);
		expect(stepsToEvaluate([250, 500, 750, 1000, 1250], 2)).toEqual([500, 1000, 1250]);
		expect(stepsToEvaluate([8], 3)).toEqual([8]);
		expect(stepsToEvaluate([], 1)).toEqual([]);
	});
});
