// The lab's fused kernels, declared once: names, inputs and attributes (docs/architecture.md "The
// model seam"). fusedOps.ts calls them; src/lib/kernels/webgpuKernels.ts (WGSL) and
// src/lib/kernels/wasmLabKernels.ts (kernels/lab_kernels.c) register them for their backend.

import * as tf from '@tensorflow/tfjs-core';
import type { AdamWStep } from './modelOps';

/** The fused kernels, by tfjs kernel name. */
export const FUSED = {
	/** op(a) @ op(b) · alpha (+ bias): a (M, K) or (N, M, K), transposes by attribute; no barriers. */
	matMul: 'LabMatMul',
	/**
	 * x (N, in) @ w (in, out) + bias through GELU, inputs a, b, bias → [GELU's output, its input h],
	 * both (N, out). Optional: only the wasm module has it (so the next two).
	 */
	linearGelu: 'LabLinearGelu',
	/** a @ op(b) ⊙ gelu'(h), inputs a, b, h, attribute transposeB: a gradient through GELU. */
	productGeluGrad: 'LabProductGeluGrad',
	/** a @ b + bias + r, inputs a, b, bias, r: a linear layer and the residual it adds to. */
	linearAdd: 'LabLinearAdd',
	/** Column sums of x (R, C) → (C): the gradient of a bias. */
	columnSum: 'LabColumnSum',
	/** Row-wise softmax of scale·s (N, T, T), causal: future positions get exactly 0. */
	causalSoftmax: 'LabCausalSoftmax',
	/** Its gradient: scale · p ⊙ (dp − Σ dp ⊙ p) per row. */
	softmaxGrad: 'LabSoftmaxGrad',
	/**
	 * Causal self-attention of every head in one pass, attribute nHead: qkv (B, T, 3C) → y (B, T, C)
	 * and the weights P (B, nh, T, T) for the gradient: defined on and below the diagonal only, an
	 * internal tensor that only attentionGrad reads. Optional: only the wasm module has it.
	 */
	attention: 'LabAttention',
	/** Its gradient: qkv, P, dy (B, T, C) → dqkv (B, T, 3C). */
	attentionGrad: 'LabAttentionGrad',
	/** Rows of table (V, C) by token: tokens (…) int32 → (N, C), N tokens. Optional: only the wasm module has it. */
	embedding: 'LabEmbedding',
	/** Its gradient: tokens, dy (N, C), attribute vocab → d table (vocab, C): dy's rows summed by token. */
	embeddingGrad: 'LabEmbeddingGrad',
	/** Per-row mean and 1/sqrt(var + eps) of x (R, C) → (R, 2). */
	rowStats: 'LabRowStats',
	/** (x − mean) · rstd · w + b, from rowStats. */
	layerNorm: 'LabLayerNorm',
	/** dx of LayerNorm (R, C). */
	layerNormGradX: 'LabLayerNormGradX',
	/** dw of LayerNorm (C); db is a columnSum. */
	layerNormGradW: 'LabLayerNormGradW',
	/** −log softmax(logits)[target] per row: logits (N, V), targets (N) int32 → (N). */
	tokenNll: 'LabTokenNll',
	/** Its gradient: (softmax − onehot(target)) · dy per row → (N, V). */
	tokenNllGrad: 'LabTokenNllGrad',
	/** GELU (tanh form, as x·σ(2u)) and its gradient. */
	gelu: 'LabGelu',
	geluGrad: 'LabGeluGrad',
	/** Σ x² of each of up to 7 tensors (inputs x0 … x6) → (k): terms of the global gradient norm. */
	sumSquares: 'LabSumSquares',
	/** One AdamW update of p, m and v, in place, from g; no output. */
	adamW: 'LabAdamW'
} as const;

/** adamW's attributes, in the order both kernels take them (a WGSL uniform struct, lab_kernels.c's arguments). */
export const ADAMW_ATTRS = [
	'lr',
	'beta1',
	'beta2',
	'eps',
	'bc1',
	'bc2',
	'decay',
	'gradScale'
] as const satisfies readonly (keyof AdamWStep)[];
/** Fails to compile when AdamWStep gains a field ADAMW_ATTRS lacks. */
export const ADAMW_ATTRS_COMPLETE: Exclude<keyof AdamWStep, (typeof ADAMW_ATTRS)[number]> extends never ? true : never =
	true;

/** Inputs a fused kernel with numbered inputs (sumSquares) takes at most: 8 storage buffers a shader, less the output. */
export const MAX_FUSED_INPUTS = 7;

/** Values one invocation of sumSquares sums at most: a larger tensor takes tfjs's parallel reduction. */
export const MAX_SUM_SQUARES_SIZE = 1 << 16;

/** Runs a fused kernel on the active backend. */
export function runFused(
	name: string,
	inputs: tf.NamedTensorMap,
	attrs: Record<string, number | boolean> = {}
): tf.Tensor {
	return tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** How a fused product reads its operands: sizes, the output's shape, and strides into a and b. */
export interface ProductLayout {
	batch: number;
	M: number;
	N: number;
	K: number;
	/** (batch, M, N), or (M, N) for rank-2 operands. */
	outputShape: number[];
	/** op(a)[i, k] = a[b·aBatch + i·aRow + k·aCol]; op(b)[k, j] = b[b·bBatch + k·bRow + j·bCol]. */
	strides: { aBatch: number; aRow: number; aCol: number; bBatch: number; bRow: number; bCol: number };
}

/** The layout of op(a) @ op(b) for a (…, aR, aC) and b (…, bR, bC): the one formula both backends use. */
export function productLayout(
	aShape: number[],
	bShape: number[],
	transposeA: boolean,
	transposeB: boolean
): ProductLayout {
	const r = aShape.length;
	const batch = r === 3 ? aShape[0] : 1;
	const [aR, aC] = aShape.slice(-2);
	const [bR, bC] = bShape.slice(-2);
	const [M, K] = transposeA ? [aC, aR] : [aR, aC];
	const N = transposeB ? bR : bC;
	return {
		batch,
		M,
		N,
		K,
		outputShape: r === 3 ? [batch, M, N] : [M, N],
		strides: {
			aBatch: r === 3 ? aR * aC : 0,
			aRow: transposeA ? 1 : aC,
			aCol: transposeA ? aC : 1,
			bBatch: r === 3 ? bR * bC : 0,
			bRow: transposeB ? 1 : bC,
			bCol: transposeB ? bC : 1
		}
	};
}

/** Values in a tensor of this shape. */
export const sizeOf = (shape: number[]) => shape.reduce((a, d) => a * d, 1);

/** A tensor as rows of its last axis: [rows, columns] (the row kernels of both backends). */
export function rowsOf(x: { shape: number[] }): [number, number] {
	const C = x.shape[x.shape.length - 1];
	return [sizeOf(x.shape) / C, C];
}
