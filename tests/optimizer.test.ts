import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, BETA1, BETA2, clipCoefficient, decays, EPS, globalNorm } from '../src/lib/core/train/adamw';
import { learningRate } from '../src/lib/core/train/schedule';
import { backend } from './helpers';

describe('AdamW', () => {
	beforeAll(() => backend('cpu'));

	it('decays matrices only', () => {
		expect(decays('transformer.h.0.attn.c_attn.weight', [4, 12])).toBe(true);
		expect(decays('transformer.h.0.attn.c_attn.bias', [12])).toBe(false);
		expect(decays('transformer.h.0.ln_1.weight', [4])).toBe(false);
		expect(decays('transformer.wte.weight', [40, 4])).toBe(false);
		expect(decays('transformer.wpe.weight', [128, 4])).toBe(false);
	});

	it('matches the PyTorch AdamW update over two steps', () => {
		const w0 = [0.5, -1.5, 2, 0.25];
		const params = new Map<string, tf.Variable>([
			['transformer.h.0.mlp.c_fc.weight', tf.variable(tf.tensor2d(w0, [2, 2]))],
			['transformer.h.0.mlp.c_fc.bias', tf.variable(tf.tensor1d(w0))]
		]);
		const opt = new AdamW(params, 0.1);
		const gs = [
			[0.1, -0.2, 0.3, 0.0],
			[-0.05, 0.4, 0.1, 1.0]
		];
		const lrs = [0.01, 0.02];
		for (let s = 0; s < 2; s++) {
			opt.step(
				{
					'transformer.h.0.mlp.c_fc.weight': tf.tensor2d(gs[s], [2, 2]),
					'transformer.h.0.mlp.c_fc.bias': tf.tensor1d(gs[s])
				},
				lrs[s],
				0.5
			);
		}
		// reference in float64
		const expected = (decay: boolean) =>
			w0.map((w, i) => {
				let p = w;
				let m = 0;
				let v = 0;
				for (let s = 0; s < 2; s++) {
					const g = gs[s][i] * 0.5;
					if (decay) p *= 1 - lrs[s] * 0.1;
					m = BETA1 * m + (1 - BETA1) * g;
					v = BETA2 * v + (1 - BETA2) * g * g;
					p -= (lrs[s] * (m / (1 - BETA1 ** (s + 1)))) / (Math.sqrt(v / (1 - BETA2 ** (s + 1))) + EPS);
				}
				return p;
			});
		const w = Array.from(params.get('transformer.h.0.mlp.c_fc.weight')!.dataSync());
		const b = Array.from(params.get('transformer.h.0.mlp.c_fc.bias')!.dataSync());
		expected(true).forEach((e, i) => expect(w[i]).toBeCloseTo(e, 6));
		expected(false).forEach((e, i) => expect(b[i]).toBeCloseTo(e, 6));
		expect(w[0]).not.toBeCloseTo(b[0], 6); // decay made a difference
		expect(opt.t).toBe(2);
	});

	it('clips by global norm', () => {
		const n = globalNorm({ a: tf.tensor1d([3]), b: tf.tensor1d([4]) }).dataSync()[0];
		expect(n).toBeCloseTo(5, 6);
		expect(clipCoefficient(5, 1)).toBeCloseTo(0.2, 6);
		expect(clipCoefficient(0.5, 1)).toBe(1);
		expect(clipCoefficient(5, 0)).toBe(1);
	});
});

describe('learning-rate schedule', () => {
	const c = { lr: 1e-2, min_lr: 1e-3, warmup_steps: 10, steps: 110 };
	it('warms up linearly, then decays by cosine to min_lr', () => {
		expect(learningRate(0, c)).toBeCloseTo(1e-3, 12);
		expect(learningRate(9, c)).toBeCloseTo(1e-2, 12);
		expect(learningRate(10, c)).toBeCloseTo(1e-2, 12);
		expect(learningRate(60, c)).toBeCloseTo(5.5e-3, 12);
		expect(learningRate(110, c)).toBeCloseTo(1e-3, 12);
		for (let s = 11; s < 110; s++) expect(learningRate(s, c)).toBeLessThan(learningRate(s - 1, c));
	});
});
