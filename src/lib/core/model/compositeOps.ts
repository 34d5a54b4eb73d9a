// The model's ops built from tfjs ops: every backend runs them (docs/architecture.md "The model seam").
//
// Products have hand-written gradients (the same math as tfjs's own matMul gradient) laid out for
// each backend's fast kernel (docs/performance.md). On wasm, XNNPACK runs a matmul only when it is
// 2-D with no transpose flag (a transposed or batched one falls to a scalar loop 10–20× slower, and
// autodiff's matMul gradient is always transposed), so there a transpose is materialised first
// (cheap), and a batched product (attention) runs as a depthwise convolution, which XNNPACK does run
// fast. Other backends use tfjs's matMul with transpose flags, exactly as autodiff did.

import * as tf from '@tensorflow/tfjs-core';
import type { Dropout } from './dropout';
import type { AdamWStep, LinearLayer, ModelOps } from './modelOps';

const causalMasks = new Map<number, Float32Array>();

/** (T, T) additive mask: 0 on and below the diagonal, -1e9 above (future positions). */
function causalMask(T: number): Float32Array {
	let mask = causalMasks.get(T);
	if (!mask) {
		mask = new Float32Array(T * T);
		for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
		causalMasks.set(T, mask);
	}
	return mask;
}

/**
 * Batched product as one depthwise convolution (wasm): channel n of the input holds a[n], the
 * filter's channel n holds b[n], the kernel spans the shared axis K, and the channel multiplier is
 * P. a (N, M, K) or, transposed, (N, K, M); b (N, K, P) or, transposed, (N, P, K).
 */
function depthwiseBatchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
	const [N, M, K] = transposeA ? [a.shape[0], a.shape[2], a.shape[1]] : a.shape;
	const P = transposeB ? b.shape[1] : b.shape[2];
	const x = tf.reshape(tf.transpose(a, transposeA ? [2, 1, 0] : [1, 2, 0]), [1, M, K, N]); // (1, M, K, N)
	const f = tf.reshape(tf.transpose(b, transposeB ? [2, 0, 1] : [1, 0, 2]), [1, K, N, P]); // (1, K, N, P)
	const out = tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'); // (1, M, 1, N*P)
	return tf.transpose(tf.reshape(out, [M, N, P]), [1, 0, 2]); // (N, M, P)
}

type Product = <T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, transposeA?: boolean, transposeB?: boolean) => T;

/** a @ b with the gradient of tf.matMul (da = dy @ bᵀ, db = aᵀ @ dy), each product run by `product`. */
function matMulOf(product: Product) {
	return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
		const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
		save([a, b]);
		return {
			value: product(a, b),
			gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [
				product(dy as tf.Tensor3D, sb as tf.Tensor3D, false, true),
				product(sa as tf.Tensor3D, dy as tf.Tensor3D, true, false)
			]
		};
	}) as <T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T) => T;
}

/** a @ bᵀ with its gradient (da = dy @ b, db = dyᵀ @ a), so no transpose is materialised where the backend takes the flag. */
function matMulTransposeBOf(product: Product) {
	return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
		const [a, b, save] = args as [tf.Tensor2D | tf.Tensor3D, tf.Tensor2D | tf.Tensor3D, tf.GradSaveFunc];
		save([a, b]);
		return {
			value: product(a, b, false, true),
			gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [
				product(dy as tf.Tensor2D | tf.Tensor3D, sb as tf.Tensor2D | tf.Tensor3D),
				product(dy as tf.Tensor2D | tf.Tensor3D, sa as tf.Tensor2D | tf.Tensor3D, true, false)
			]
		};
	}) as <T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T) => T;
}

export class CompositeOps implements ModelOps {
	readonly kind: 'fused' | 'composite' = 'composite';
	/** Products laid out for XNNPACK (the wasm backend). */
	private readonly xnnpack: boolean;
	readonly matMul: ModelOps['matMul'];
	readonly matMulTransposeB: ModelOps['matMulTransposeB'];

	constructor(readonly backend: string) {
		this.xnnpack = backend === 'wasm';
		const product: Product = (a, b, ta, tb) => this.product(a, b, ta, tb);
		this.matMul = matMulOf(product);
		this.matMulTransposeB = matMulTransposeBOf(product);
	}

	get description(): string {
		return `composite tfjs ops on ${this.backend}`;
	}

	product<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, transposeA = false, transposeB = false): T {
		if (!this.xnnpack) return tf.matMul(a, b, transposeA, transposeB) as T;
		if (a.rank === 3) return depthwiseBatchMatMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB) as T;
		const a2 = transposeA ? tf.transpose(a) : a;
		const b2 = transposeB ? tf.transpose(b) : b;
		return tf.matMul(a2, b2) as T;
	}

	linear(x: tf.Tensor2D, layer: LinearLayer): tf.Tensor2D {
		return tf.add(this.matMul(x, layer.weight), layer.bias);
	}

	linearAdd(residual: tf.Tensor2D, y: tf.Tensor2D, layer: LinearLayer, drop: Dropout): tf.Tensor2D {
		return tf.add(residual, drop.apply(this.linear(y, layer)));
	}

	mlp(residual: tf.Tensor2D, xn: tf.Tensor2D, fc: LinearLayer, proj: LinearLayer, drop: Dropout): tf.Tensor2D {
		const hidden = this.gelu(this.linear(xn, fc)) as tf.Tensor2D; // (N, 4C)
		return this.linearAdd(residual, hidden, proj, drop); // (N, C)
	}

	/** 0.5·x·(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), computed as x·σ(2u) (the same function; sigmoid is ~10× faster than tanh on wasm). */
	gelu(x: tf.Tensor): tf.Tensor {
		const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))));
		return tf.mul(x, tf.sigmoid(tf.mul(2, inner)));
	}

	layerNorm(x: tf.Tensor2D, w: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor2D {
		const { mean, variance } = tf.moments(x, -1, true); // (N, 1) each
		const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps)));
		return tf.add(tf.mul(xhat, w), b);
	}

	causalSoftmax(scores: tf.Tensor3D, scale: number): tf.Tensor3D {
		const T = scores.shape[1];
		const causal = tf.tensor3d(causalMask(T), [1, T, T]); // (1, T, T)
		return tf.softmax(tf.add(tf.mul(scores, scale), causal)) as tf.Tensor3D;
	}

	attention(qkv: tf.Tensor3D, nHead: number, drop: Dropout): tf.Tensor3D {
		const [B, T, C3] = qkv.shape; // (B, T, 3C)
		const C = C3 / 3;
		const hs = C / nHead;
		const [q, k, v] = splitHeads(qkv, nHead); // (B*nh, T, hs) each
		const att = drop.apply(this.causalSoftmax(this.matMulTransposeB(q, k), 1 / Math.sqrt(hs))); // (B*nh, T, T)
		const y = tf.reshape(this.matMul(att, v), [B, nHead, T, hs]); // (B, nh, T, hs)
		return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, C]); // (B, T, C)
	}

	/** A one-hot product: its gradient needs no UnsortedSegmentSum, which the wasm backend lacks. */
	embedding(tokens: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
		const [B, T] = tokens.shape;
		const V = table.shape[0];
		// int32 one-hot cast to float32 (the wasm backend's OneHot ignores its dtype argument)
		const oneHot = tf.cast(tf.oneHot(tf.reshape(tokens, [B * T]), V), 'float32') as tf.Tensor2D; // (B*T, V)
		return this.matMul(oneHot, table); // (B*T, C)
	}

	tokenNll(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
		const logp = tf.logSoftmax(logits); // (N, V)
		return tf.neg(tf.sum(tf.mul(logp, tf.oneHot(targets, logits.shape[1])), 1)); // (N)
	}

	sumSquares(xs: tf.Tensor[]): tf.Tensor1D {
		return tf.concat(xs.map((g) => tf.reshape(tf.sum(tf.square(g)), [1]))) as tf.Tensor1D; // (k)
	}

	adamW(p: tf.Variable, g0: tf.Tensor, mv: tf.Variable, vv: tf.Variable, h: AdamWStep): void {
		tf.tidy(() => {
			const g = h.gradScale === 1 ? g0 : tf.mul(g0, h.gradScale);
			const m = tf.add(tf.mul(mv, h.beta1), tf.mul(g, 1 - h.beta1));
			const v = tf.add(tf.mul(vv, h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
			const decayed = h.decay === 1 ? p : tf.mul(p, h.decay);
			const update = tf.div(tf.div(m, h.bc1), tf.add(tf.sqrt(tf.div(v, h.bc2)), h.eps));
			p.assign(tf.sub(decayed, tf.mul(update, h.lr)));
			mv.assign(m);
			vv.assign(v);
		});
	}
}

/** qkv (B, T, 3C) → q, k, v as (B*nh, T, hs) each. */
export function splitHeads(qkv: tf.Tensor3D, nHead: number): tf.Tensor3D[] {
	const [B, T, C3] = qkv.shape;
	const hs = C3 / 3 / nHead;
	return tf.split(qkv, 3, 2).map(
		(t) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, nHead, hs]), [0, 2, 1, 3]), [B * nHead, T, hs]) // (B*nh, T, hs)
	) as tf.Tensor3D[];
}
