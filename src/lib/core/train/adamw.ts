// AdamW (decoupled weight decay, Loshchilov & Hutter) with global-norm gradient clipping.
// tfjs ships Adam only; this is the PyTorch torch.optim.AdamW update:
//   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε)

import * as tf from '@tensorflow/tfjs-core';
import { modelOps } from '../model/chooseOps';
import type { ModelOps } from '../model/modelOps';

export const BETA1 = 0.9;
export const BETA2 = 0.95;
export const EPS = 1e-8;

/** Weight decay applies to matrices only: not to biases, LayerNorm or the embeddings. */
export function decays(name: string, shape: readonly number[]): boolean {
	return shape.length === 2 && !name.startsWith('transformer.wte') && !name.startsWith('transformer.wpe');
}

/**
 * sqrt(Σ g²) over every gradient, as a scalar tensor. The per-tensor sums are concatenated and
 * summed, not added with tf.addN: tfjs-webgpu's AddN binds every input to one shader, and more than
 * maxStorageBuffersPerShaderStage − 1 (7 on many devices) makes an invalid pipeline whose command
 * buffer is dropped — the loss and norm read back as 0 (docs/performance.md, "WebGPU").
 */
export function globalNorm(grads: tf.NamedTensorMap, ops: ModelOps = modelOps()): tf.Scalar {
	return tf.tidy(() => tf.sqrt(tf.sum(ops.sumSquares(Object.values(grads)))) as tf.Scalar); // (n) → ()
}

/** The factor that brings the gradients' norm down to `maxNorm` (PyTorch's clip_grad_norm_). */
export function clipCoefficient(norm: number, maxNorm: number): number {
	if (maxNorm <= 0) return 1;
	return Math.min(1, maxNorm / (norm + 1e-6));
}

export class AdamW {
	/** First moments, by parameter name. */
	readonly m = new Map<string, tf.Variable>();
	/** Second moments, by parameter name. */
	readonly v = new Map<string, tf.Variable>();
	/** Updates applied so far (t in the bias corrections). */
	t = 0;

	constructor(
		private readonly params: Map<string, tf.Variable>,
		private readonly weightDecay: number,
		/** The update's implementation (fused: in place, one dispatch a parameter). */
		private readonly ops: ModelOps = modelOps()
	) {
		for (const [name, p] of params) {
			// a buffer each: the fused update writes m and v in place
			for (const moments of [this.m, this.v]) {
				const zeros = tf.zerosLike(p);
				moments.set(name, tf.variable(zeros, false));
				zeros.dispose();
			}
		}
	}

	/** One update with gradients scaled by `gradScale` (the clipping coefficient). */
	step(grads: tf.NamedTensorMap, lr: number, gradScale: number): void {
		this.t += 1;
		const bc1 = 1 - BETA1 ** this.t;
		const bc2 = 1 - BETA2 ** this.t;
		for (const [name, p] of this.params) {
			const g0 = grads[name];
			if (!g0) throw new Error(`AdamW: no gradient for ${name}`);
			const decay = decays(name, p.shape) ? 1 - lr * this.weightDecay : 1;
			const h = { lr, beta1: BETA1, beta2: BETA2, eps: EPS, bc1, bc2, decay, gradScale };
			this.ops.adamW(p, g0, this.m.get(name)!, this.v.get(name)!, h);
		}
	}

	dispose(): void {
		for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
	}
}
