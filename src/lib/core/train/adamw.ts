// AdamW (decoupled weight decay, Loshchilov & Hutter) with global-norm gradient clipping.
// tfjs ships Adam only; this is the PyTorch torch.optim.AdamW update:
//   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε)

import * as tf from '@tensorflow/tfjs-core';
import { fusedAvailable, MAX_FUSED_INPUTS, MAX_SUM_SQUARES_SIZE } from '../model/fused';
import { fusedAdamW, fusedSumSquares } from '../model/fusedOps';

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
export function globalNorm(grads: tf.NamedTensorMap): tf.Scalar {
	return tf.tidy(() => {
		const gs = Object.values(grads);
		const fused = fusedAvailable() ? gs.filter((g) => g.size <= MAX_SUM_SQUARES_SIZE) : [];
		const terms: tf.Tensor1D[] = []; // Σ g² per gradient: up to 7 small ones a dispatch, each (k)
		for (let i = 0; i < fused.length; i += MAX_FUSED_INPUTS)
			terms.push(fusedSumSquares(fused.slice(i, i + MAX_FUSED_INPUTS)));
		for (const g of gs.filter((x) => !fused.includes(x))) terms.push(tf.reshape(tf.sum(tf.square(g)), [1])); // (1)
		return tf.sqrt(tf.sum(tf.concat(terms))) as tf.Scalar; // (n) → ()
	});
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
		private readonly weightDecay: number
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
			if (fusedAvailable()) {
				const decay = decays(name, p.shape) ? 1 - lr * this.weightDecay : 1;
				const h = { lr, beta1: BETA1, beta2: BETA2, eps: EPS, bc1, bc2, decay, gradScale };
				fusedAdamW(p, g0, this.m.get(name)!, this.v.get(name)!, h);
				continue;
			}
			tf.tidy(() => {
				const g = gradScale === 1 ? g0 : tf.mul(g0, gradScale);
				const m = tf.add(tf.mul(this.m.get(name)!, BETA1), tf.mul(g, 1 - BETA1));
				const v = tf.add(tf.mul(this.v.get(name)!, BETA2), tf.mul(tf.square(g), 1 - BETA2));
				const decayed = decays(name, p.shape) ? tf.mul(p, 1 - lr * this.weightDecay) : p;
				const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), EPS));
				p.assign(tf.sub(decayed, tf.mul(update, lr)));
				this.m.get(name)!.assign(m);
				this.v.get(name)!.assign(v);
			});
		}
	}

	dispose(): void {
		for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
	}
}
