// The model seam (docs/architecture.md "The model seam"): an adapter plugs in as a wrapper of
// `linear` over whichever ops a backend has (composite on cpu, the lab's fused kernels on wasm),
// without touching a kernel. A LoRA-style low-rank delta on one layer must equal training that
// layer's merged weight W + A·B — on both implementations — and carry gradients to A and B.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { modelOps } from '../src/lib/core/model/chooseOps';
import { forward, initParamValues, type Params } from '../src/lib/core/model/gpt';
import type { ModelOps } from '../src/lib/core/model/modelOps';
import { paramShapes, type GptConfig } from '../src/lib/core/model/shapes';
import { Mt19937 } from '../src/lib/core/prng';
import { backend } from './helpers';

const cfg: GptConfig = { vocab_size: 13, n_layer: 2, n_head: 2, n_embd: 16, block_size: 16, dropout: 0 };
const TARGET = 'transformer.h.1.attn.c_attn';
const RANK = 3;

/** `base` with `delta(x)` added to the output of each named linear layer; everything else delegated. */
function withAdapters(base: ModelOps, deltas: Map<string, (x: tf.Tensor2D) => tf.Tensor2D>): ModelOps {
	const ops: ModelOps = Object.create(base); // base's methods, with `this` = the wrapper
	ops.linear = (x, layer) => {
		const y = base.linear(x, layer);
		const delta = deltas.get(layer.name);
		return delta ? tf.add(y, delta(x)) : y;
	};
	ops.linearAdd = (r, y, layer, drop) =>
		deltas.has(layer.name) ? tf.add(r, drop.apply(ops.linear(y, layer))) : base.linearAdd(r, y, layer, drop);
	ops.mlp = (r, xn, fc, proj, drop) =>
		deltas.has(fc.name) || deltas.has(proj.name)
			? ops.linearAdd(r, ops.gelu(ops.linear(xn, fc)) as tf.Tensor2D, proj, drop)
			: base.mlp(r, xn, fc, proj, drop);
	return ops;
}

const rng = new Mt19937(11);
const randn = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * rng.normal());

function params(): Params {
	const values = initParamValues(cfg, 5);
	return Object.fromEntries(paramShapes(cfg).map(([name, shape]) => [name, tf.tensor(values.get(name)!, shape)]));
}

describe.each(['cpu', 'wasm'] as const)('an adapter around linear (%s)', (name) => {
	it('equals the merged weight W + A·B, and trains A and B', async () => {
		await backend(name);
		const base = modelOps();
		expect(base.kind).toBe(name === 'wasm' ? 'fused' : 'composite');
		const C = cfg.n_embd;
		const A = tf.variable(tf.tensor2d(randn(C * RANK, 0.3), [C, RANK]));
		const B = tf.variable(tf.tensor2d(randn(RANK * 3 * C, 0.3), [RANK, 3 * C]));
		const lora = withAdapters(base, new Map([[TARGET, (x: tf.Tensor2D) => tf.matMul(tf.matMul(x, A), B)]]));
		const tokens = tf.tensor2d(
			[
				[1, 4, 5, 6, 7, 2, 9],
				[1, 9, 10, 4, 2, 3, 3]
			],
			undefined,
			'int32'
		);
		const p = params();
		const adapted = forward(p, tokens, cfg, { ops: lora });
		const merged = forward(
			{ ...p, [`${TARGET}.weight`]: tf.add(p[`${TARGET}.weight`], tf.matMul(A, B)) },
			tokens,
			cfg,
			{ ops: base }
		);
		const plain = forward(p, tokens, cfg, { ops: base });
		const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
		expect(diff(adapted, merged)).toBeLessThan(1e-4);
		expect(diff(adapted, plain)).toBeGreaterThan(1e-3); // the adapter did change the model
		const { grads } = tf.variableGrads(() => tf.sum(tf.square(forward(p, tokens, cfg, { ops: lora }))), [A, B]);
		for (const g of Object.values(grads)) expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
		tf.dispose([A, B, tokens, adapted, merged, plain, ...Object.values(p), ...Object.values(grads)]);
	});
});
