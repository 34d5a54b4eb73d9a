import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { forward, initParamValues, maskedCrossEntropy } from '../src/lib/core/model/gpt';
import { paramShapes, type GptConfig } from '../src/lib/core/model/shapes';
import { backend } from './helpers';

const cfg: GptConfig = { vocab_size: 11, n_layer: 2, n_head: 2, n_embd: 8, block_size: 8, dropout: 0 };
const tokens = [
	[1, 4, 5, 6, 7, 2],
	[1, 9, 10, 4, 2, 0]
];

function params(scale = 1): Record<string, tf.Tensor> {
	const values = initParamValues(cfg, 3);
	return Object.fromEntries(
		paramShapes(cfg).map(([name, shape]) => {
			const v = values.get(name)!;
			// larger random values than the 0.02 init (and non-trivial LayerNorm/bias values) so
			// every gradient is well above float32 noise
			const data = v.map(
				(x, i) => x * scale + (name.includes('ln_') || name.endsWith('bias') ? 0.1 * Math.sin(i + name.length) : 0)
			);
			return [name, tf.tensor(data, shape)];
		})
	);
}

function loss(p: Record<string, tf.Tensor>): tf.Scalar {
	const x = tf.tensor2d(
		tokens.map((r) => r.slice(0, -1)),
		undefined,
		'int32'
	);
	const y = tf.tensor2d(
		tokens.map((r) => r.slice(1)),
		undefined,
		'int32'
	);
	const m = tf.tensor2d([
		[0, 1, 1, 1, 1],
		[1, 1, 1, 1, 0]
	]);
	return maskedCrossEntropy(forward(p, x, cfg), y, m);
}

describe('GPT model', () => {
	beforeAll(() => backend('cpu'));

	it('has the specified shapes (docs/specification.md §4)', () => {
		const shapes = Object.fromEntries(paramShapes({ ...cfg, vocab_size: 40, n_embd: 64, block_size: 128 }));
		expect(shapes['transformer.wte.weight']).toEqual([40, 64]);
		expect(shapes['transformer.wpe.weight']).toEqual([128, 64]);
		expect(shapes['transformer.h.1.attn.c_attn.weight']).toEqual([64, 192]);
		expect(shapes['transformer.h.1.mlp.c_proj.weight']).toEqual([256, 64]);
		expect(shapes['transformer.ln_f.bias']).toEqual([64]);
		expect(Object.keys(shapes)).toHaveLength(2 + 12 * 2 + 2);
	});

	it('is causal: a later token never changes earlier logits', () => {
		const p = params(10);
		const a = forward(p, tf.tensor2d([[1, 4, 5, 6]], undefined, 'int32'), cfg).arraySync();
		const b = forward(p, tf.tensor2d([[1, 4, 5, 9]], undefined, 'int32'), cfg).arraySync();
		expect(a[0].slice(0, 3)).toEqual(b[0].slice(0, 3));
		expect(a[0][3]).not.toEqual(b[0][3]);
	});

	it('starts near ln(V) with the GPT-2 init', () => {
		const l = loss(params(1)).dataSync()[0];
		expect(Math.abs(l - Math.log(cfg.vocab_size))).toBeLessThan(0.05);
	});

	it('has gradients that match central finite differences', () => {
		const p = params(3);
		const names = Object.keys(p);
		const grads = tf.grads((...ts: tf.Tensor[]) => loss(Object.fromEntries(names.map((n, i) => [n, ts[i]]))))(
			names.map((n) => p[n])
		);
		const eps = 3e-3;
		let checked = 0;
		names.forEach((name, k) => {
			const g = grads[k].dataSync();
			const base = p[name].dataSync();
			for (const i of [0, Math.floor(base.length / 2), base.length - 1]) {
				const at = (delta: number) => {
					const v = Float32Array.from(base);
					v[i] += delta;
					return loss({ ...p, [name]: tf.tensor(v, p[name].shape) }).dataSync()[0];
				};
				const fd = (at(eps) - at(-eps)) / (2 * eps);
				expect(Math.abs(fd - g[i]), `${name}[${i}]: fd ${fd} vs grad ${g[i]}`).toBeLessThan(
					2e-3 + 0.03 * Math.abs(g[i])
				);
				if (Math.abs(g[i]) > 1e-3) checked++;
			}
		});
		expect(checked).toBeGreaterThan(40); // most checks compare real, non-zero gradients
	});
});
