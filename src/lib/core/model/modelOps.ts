// The model seam (docs/architecture.md "The model seam"): every operation the GPT and its optimizer
// need, as one interface. `CompositeOps` (compositeOps.ts) builds them from tfjs ops and runs on
// every backend; `FusedOps` (fusedOps.ts) runs the lab's kernels where the backend registers them.
// A trainer chooses one implementation once (chooseOps.ts) and the model (gpt.ts) calls only this
// interface, so it has no backend branch. Wrappers (a LoRA adapter around `linear`) implement the
// same interface over another one.

import type * as tf from '@tensorflow/tfjs-core';
import type { Dropout } from './dropout';

/** One linear layer: y = x @ weight + bias, with its Hugging Face name. */
export interface LinearLayer {
	/** The layer's GPT-2 name without `.weight`, e.g. `transformer.h.0.attn.c_attn`. */
	name: string;
	/** (in, out): GPT-2's Conv1D layout. */
	weight: tf.Tensor2D;
	/** (out). */
	bias: tf.Tensor1D;
}

/** Hyper-parameters of one AdamW update of one parameter (train/adamw.ts). */
export interface AdamWStep {
	lr: number;
	beta1: number;
	beta2: number;
	eps: number;
	/** 1 − β1^t and 1 − β2^t. */
	bc1: number;
	bc2: number;
	/** 1 − lr·wd where the parameter decays, else 1. */
	decay: number;
	/** The clipping coefficient. */
	gradScale: number;
}

/** Every operation of the model and its optimizer. Shapes: N rows, C channels, V vocabulary. */
export interface ModelOps {
	/** 'fused' (the lab's kernels) or 'composite' (tfjs ops): the run's provenance names it. */
	readonly kind: 'fused' | 'composite';
	/** One line for provenance: the implementation and where its kernels come from. */
	readonly description: string;
	/** op(a) @ op(b), no gradient of its own: a (M, K) / (N, M, K), transposed by flag. */
	product<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, transposeA?: boolean, transposeB?: boolean): T;
	/** a @ b with its gradient: (M, K) @ (K, N), or batched (N, M, K) @ (N, K, P). */
	matMul<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T): T;
	/** a @ bᵀ with its gradient: (M, K) @ (P, K)ᵀ, or batched (N, M, K), (N, P, K) → (N, M, P). */
	matMulTransposeB<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T): T;
	/** x (N, in) → (N, out). */
	linear(x: tf.Tensor2D, layer: LinearLayer): tf.Tensor2D;
	/** residual + drop(y @ w + b): y (N, in), residual (N, out) → (N, out). */
	linearAdd(residual: tf.Tensor2D, y: tf.Tensor2D, layer: LinearLayer, drop: Dropout): tf.Tensor2D;
	/** GPT-2's MLP added to the residual: residual + drop(proj(gelu(fc(xn)))), both (N, C) → (N, C). */
	mlp(residual: tf.Tensor2D, xn: tf.Tensor2D, fc: LinearLayer, proj: LinearLayer, drop: Dropout): tf.Tensor2D;
	/** GELU, tanh form ("gelu_new"), elementwise. */
	gelu(x: tf.Tensor): tf.Tensor;
	/** LayerNorm over the last axis: x (N, C), w, b (C) → (N, C). */
	layerNorm(x: tf.Tensor2D, w: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor2D;
	/** softmax(scale · scores) with future keys at 0: scores (N, T, T) → (N, T, T). */
	causalSoftmax(scores: tf.Tensor3D, scale: number): tf.Tensor3D;
	/** Causal self-attention of every head, no cache: qkv (B, T, 3C) → y (B, T, C) before c_proj. */
	attention(qkv: tf.Tensor3D, nHead: number, drop: Dropout): tf.Tensor3D;
	/** Rows of the token table by token: tokens (B, T) int32, table (V, C) → (B*T, C). */
	embedding(tokens: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D;
	/** −log softmax(logits)[target] per row: logits (N, V), targets (N) int32 → (N). */
	tokenNll(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D;
	/** Σ x² of each tensor → (k): the terms of the global gradient norm. */
	sumSquares(xs: tf.Tensor[]): tf.Tensor1D;
	/** One AdamW update of p, m and v (variables) from the gradient g. */
	adamW(p: tf.Variable, g: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): void;
}
