// The model's ops on the lab's fused kernels (declared in fused.ts; WGSL in src/lib/kernels/
// webgpuKernels.ts, wasm in kernels/lab_kernels.c), with their gradients: the same math as
// compositeOps.ts in a handful of dispatches. `FusedOps` is the model seam's implementation on them
// (docs/architecture.md "The model seam"): an op whose kernel the backend lacks is the composite one.

import * as tf from '@tensorflow/tfjs-core';
import { CompositeOps } from './compositeOps';
import type { Dropout } from './dropout';
import { FUSED, MAX_FUSED_INPUTS, MAX_SUM_SQUARES_SIZE, runFused } from './fused';
import type { AdamWStep, LinearLayer } from './modelOps';

/** op(a) @ op(b) · alpha: a (M, K) / (N, M, K), b (K, P) / (N, K, P), transposed by flag. */
export function fusedProduct<T extends tf.Tensor>(a: T, b: T, transposeA = false, transposeB = false, alpha = 1): T {
	return runFused(FUSED.matMul, { a, b }, { transposeA, transposeB, alpha }) as T;
}

/** The gradients of x @ w + b from dy (N, out): dx, dw, db. */
const linearGrads = (dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor) => [
	fusedProduct(dy, w, false, true), // dx (N, in) = dy @ wᵀ
	fusedProduct(x, dy, true, false), // dw (in, out) = xᵀ @ dy
	runFused(FUSED.columnSum, { x: dy }) // db (out) = Σ_rows dy
];

const PLAIN = { transposeA: false, transposeB: false, alpha: 1 };

/** x (N, in) @ w (in, out) + b (out) → (N, out) in one dispatch; db is a column sum. */
export const fusedLinear = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
	const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
	save([x, w]);
	return {
		value: runFused(FUSED.matMul, { a: x, b: w, bias: b }, PLAIN),
		gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => linearGrads(dy, sx, sw)
	};
}) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** r + x @ w + b: a linear layer and the residual it adds to, (N, out), in one product. */
export const fusedLinearAdd = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
	const [x, w, b, r, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.GradSaveFunc];
	save([x, w]);
	return {
		value: runFused(FUSED.linearAdd, { a: x, b: w, bias: b, r }, PLAIN),
		gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => [...linearGrads(dy, sx, sw), tf.clone(dy)] // dr = dy
	};
}) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, r: tf.Tensor2D) => tf.Tensor2D;

/**
 * r + gelu(x @ w1 + b1) @ w2 + b2: GPT-2's MLP and the residual it adds to, (N, C), in two
 * products (GELU and the residual in their epilogues); backward, GELU's gradient is in the epilogue
 * of the product that makes it. The same math as the composite.
 */
export function fusedMlp(
	x: tf.Tensor2D,
	w1: tf.Tensor2D,
	b1: tf.Tensor1D,
	w2: tf.Tensor2D,
	b2: tf.Tensor1D,
	r: tf.Tensor2D
): tf.Tensor2D {
	const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
		const [xi, w1i, b1i, w2i, b2i, ri, save] = args as [
			tf.Tensor2D,
			tf.Tensor2D,
			tf.Tensor1D,
			tf.Tensor2D,
			tf.Tensor1D,
			tf.Tensor2D,
			tf.GradSaveFunc
		];
		const [a, h] = tf.engine().runKernel(FUSED.linearGelu, { a: xi, b: w1i, bias: b1i }, PLAIN) as tf.Tensor[]; // (N, 4C) each
		save([xi, w1i, w2i, a, h]);
		return {
			value: runFused(FUSED.linearAdd, { a, b: w2i, bias: b2i, r: ri }, PLAIN), // (N, C)
			gradFunc: (dy: tf.Tensor, [sx, sw1, sw2, sa, sh]: tf.Tensor[]) => {
				const dh = runFused(FUSED.productGeluGrad, { a: dy, b: sw2, h: sh }, { ...PLAIN, transposeB: true }); // (N, 4C)
				const [dx, dw1, db1] = linearGrads(dh, sx, sw1);
				const dw2 = fusedProduct(sa, dy, true, false); // (4C, C) = aᵀ @ dy
				const db2 = runFused(FUSED.columnSum, { x: dy }); // (C)
				return [dx, dw1, db1, dw2, db2, tf.clone(dy)]; // dr = dy
			}
		};
	});
	return op(x, w1, b1, w2, b2, r) as tf.Tensor2D;
}

/** LayerNorm over the last axis of x (R, C): 2 dispatches forward, 3 backward. */
export function fusedLayerNorm(x: tf.Tensor2D, w: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor2D {
	const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
		const [xi, wi, bi, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
		const stats = runFused(FUSED.rowStats, { x: xi }, { eps }); // (R, 2): mean, 1/sqrt(var + eps)
		save([xi, wi, stats]);
		return {
			value: runFused(FUSED.layerNorm, { x: xi, stats, w: wi, b: bi }),
			gradFunc: (dy: tf.Tensor, [sx, sw, ss]: tf.Tensor[]) => [
				runFused(FUSED.layerNormGradX, { x: sx, stats: ss, w: sw, dy }), // (R, C)
				runFused(FUSED.layerNormGradW, { x: sx, stats: ss, dy }), // (C)
				runFused(FUSED.columnSum, { x: dy }) // (C)
			]
		};
	});
	return op(x, w, b) as tf.Tensor2D;
}

/**
 * Causal softmax of attention scores: softmax(scale · s) with future keys at exactly 0.
 * s (N, T, T) → (N, T, T); 1 dispatch forward, 1 backward.
 */
export const fusedCausalSoftmax = (scores: tf.Tensor3D, scale: number): tf.Tensor3D =>
	tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
		const [s, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
		const p = runFused(FUSED.causalSoftmax, { s }, { scale }); // (N, T, T)
		save([p]);
		return {
			value: p,
			gradFunc: (dp: tf.Tensor, [sp]: tf.Tensor[]) => runFused(FUSED.softmaxGrad, { p: sp, dp }, { scale })
		};
	})(scores) as tf.Tensor3D;

/**
 * Causal self-attention of every head: qkv (B, T, 3C) → y (B, T, C), as the composite
 * (split heads, softmax(scale · q kᵀ) causal, · v, merge heads) with scale 1/√hs; 1 dispatch each way.
 */
export function fusedAttention(qkv: tf.Tensor3D, nHead: number): tf.Tensor3D {
	const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
		const [x, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
		const [y, p] = tf.engine().runKernel(FUSED.attention, { qkv: x }, { nHead }) as tf.Tensor[]; // (B, T, C), (B, nh, T, T)
		save([x, p]);
		return {
			value: y,
			gradFunc: (dy: tf.Tensor, [sx, sp]: tf.Tensor[]) =>
				runFused(FUSED.attentionGrad, { qkv: sx, p: sp, dy }, { nHead })
		};
	});
	return op(qkv) as tf.Tensor3D;
}

/** Refuses index tensors that are not int32 (a kernel would read float bits as indices). */
function assertInt32(t: tf.Tensor, what: string): void {
	if (t.dtype !== 'int32') throw new Error(`${what} must be an int32 tensor, got ${t.dtype}`);
}

/**
 * The token embedding: rows of table (V, C) by token → (N, C), the same values as the composite one-hot
 * product and the same gradient (dy's rows summed by token, in order), without the product. The
 * tokens are saved for the gradient (not an input of it), so they outlive a forward pass that made them.
 */
export function fusedEmbedding(tokens: tf.Tensor, table: tf.Tensor2D): tf.Tensor2D {
	assertInt32(tokens, 'fusedEmbedding: tokens');
	const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
		const [w, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
		save([tokens]);
		return {
			value: runFused(FUSED.embedding, { tokens, table: w }),
			gradFunc: (dy: tf.Tensor, [st]: tf.Tensor[]) =>
				runFused(FUSED.embeddingGrad, { tokens: st, dy }, { vocab: w.shape[0] })
		};
	});
	return op(table) as tf.Tensor2D;
}

/** −log p(target) per row: logits (N, V), targets (N) int32 → (N); 1 dispatch each way. */
export function fusedTokenNll(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
	assertInt32(targets, 'fusedTokenNll: targets');
	const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
		const [l, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
		save([l, targets]); // the targets too: they must outlive a forward pass that made them
		return {
			value: runFused(FUSED.tokenNll, { logits: l, targets }),
			gradFunc: (dy: tf.Tensor, [sl, st]: tf.Tensor[]) => runFused(FUSED.tokenNllGrad, { logits: sl, targets: st, dy })
		};
	});
	return op(logits) as tf.Tensor1D;
}

/** GELU (the composite's tanh form) elementwise; 1 dispatch each way. */
export const fusedGelu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
	const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
	save([x]);
	return {
		value: runFused(FUSED.gelu, { x }),
		gradFunc: (dy: tf.Tensor, [sx]: tf.Tensor[]) => runFused(FUSED.geluGrad, { x: sx, dy })
	};
}) as (x: tf.Tensor) => tf.Tensor;

/** Σ x² of each tensor (at most MAX_FUSED_INPUTS) in one dispatch → (k). */
export function fusedSumSquares(xs: tf.Tensor[]): tf.Tensor1D {
	if (xs.length > MAX_FUSED_INPUTS) throw new Error(`fusedSumSquares takes at most ${MAX_FUSED_INPUTS} tensors`);
	const inputs = Object.fromEntries(xs.map((x, i) => [`x${i}`, x]));
	return runFused(FUSED.sumSquares, inputs) as tf.Tensor1D;
}

/** One AdamW update of p, m and v in place (one dispatch); the variables keep their buffers. */
export function fusedAdamW(p: tf.Variable, g: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void {
	tf.engine().runKernel(FUSED.adamW, { p, g, m, v }, h as unknown as tf.NamedAttrMap);
}

/**
 * The model seam on the lab's kernels registered for `backend`: the product, LayerNorm, GELU, the
 * causal softmax, cross-entropy, Σx² and AdamW everywhere it has them (webgpu, wasm); the MLP and
 * linear-with-residual epilogues, whole attention and the embedding gather where the backend has
 * those too (wasm). A pass with dropout takes the composite path for the ops that drop inside.
 */
export class FusedOps extends CompositeOps {
	override readonly kind = 'fused' as const;
	/** The optional kernels this backend registers, by FUSED name. */
	private readonly has: Set<string>;

	constructor(backend: string) {
		super(backend);
		this.has = new Set(Object.values(FUSED).filter((k) => tf.getKernel(k, backend) !== undefined));
	}

	override get description(): string {
		return `fused lab kernels on ${this.backend} (${this.has.size} of ${Object.keys(FUSED).length})`;
	}

	override product<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, transposeA = false, transposeB = false): T {
		return fusedProduct(a, b, transposeA, transposeB);
	}

	override linear(x: tf.Tensor2D, layer: LinearLayer): tf.Tensor2D {
		return fusedLinear(x, layer.weight, layer.bias);
	}

	override linearAdd(residual: tf.Tensor2D, y: tf.Tensor2D, layer: LinearLayer, drop: Dropout): tf.Tensor2D {
		if (drop.active || !this.has.has(FUSED.linearAdd)) return super.linearAdd(residual, y, layer, drop);
		return fusedLinearAdd(y, layer.weight, layer.bias, residual);
	}

	override mlp(residual: tf.Tensor2D, xn: tf.Tensor2D, fc: LinearLayer, proj: LinearLayer, drop: Dropout): tf.Tensor2D {
		if (drop.active || !this.has.has(FUSED.linearGelu)) return super.mlp(residual, xn, fc, proj, drop);
		// two products: GELU in the first's epilogue, the residual in the second's
		return fusedMlp(xn, fc.weight, fc.bias, proj.weight, proj.bias, residual);
	}

	override gelu(x: tf.Tensor): tf.Tensor {
		return fusedGelu(x);
	}

	override layerNorm(x: tf.Tensor2D, w: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor2D {
		return fusedLayerNorm(x, w, b, eps);
	}

	override causalSoftmax(scores: tf.Tensor3D, scale: number): tf.Tensor3D {
		return fusedCausalSoftmax(scores, scale);
	}

	override attention(qkv: tf.Tensor3D, nHead: number, drop: Dropout): tf.Tensor3D {
		if (drop.active || !this.has.has(FUSED.attention)) return super.attention(qkv, nHead, drop);
		// every head in one kernel, causal, straight from qkv's layout
		return fusedAttention(qkv, nHead);
	}

	override embedding(tokens: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
		if (!this.has.has(FUSED.embedding)) return super.embedding(tokens, table);
		return fusedEmbedding(tokens, table); // a gather, (B*T, C)
	}

	override tokenNll(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
		return fusedTokenNll(logits, targets);
	}

	/** Small tensors up to 7 a dispatch; a larger one takes tfjs's parallel reduction. */
	override sumSquares(xs: tf.Tensor[]): tf.Tensor1D {
		const small = xs.filter((g) => g.size <= MAX_SUM_SQUARES_SIZE);
		const terms: tf.Tensor1D[] = [];
		for (let i = 0; i < small.length; i += MAX_FUSED_INPUTS)
			terms.push(fusedSumSquares(small.slice(i, i + MAX_FUSED_INPUTS)));
		const large = xs.filter((g) => g.size > MAX_SUM_SQUARES_SIZE);
		if (large.length > 0) terms.push(super.sumSquares(large));
		return (terms.length === 1 ? terms[0] : tf.concat(terms)) as tf.Tensor1D; // (k)
	}

	override adamW(p: tf.Variable, g: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void {
		fusedAdamW(p, g, m, v, h);
	}
}
