// Matrix products for the GPT with hand-written gradients: the same math as tfjs's own matMul
// gradient, laid out so that every backend runs its fast kernel (docs/performance.md).
//
// WebGPU and wasm run the lab's fused product (fusedOps.ts: WebGPU's barrier-free shader, wasm's
// kernels/lab_kernels.c), which takes the transposes by strides. Without it, wasm runs tfjs's own
// kernels: XNNPACK runs a matmul only when it is 2-D with no transpose flag (a transposed or
// batched one falls to a scalar loop 10–20× slower, and autodiff's matMul gradient is always
// transposed), so there a transpose is materialised first (cheap), and a batched product
// (attention) runs as a depthwise convolution, which XNNPACK does run fast. Other backends use
// tfjs's matMul with transpose flags, exactly as autodiff did.

import * as tf from '@tensorflow/tfjs-core';
import { fusedAvailable } from './fused';
import { fusedProduct } from './fusedOps';

/** Whether the active backend needs products laid out for XNNPACK (see above). */
const onWasm = () => tf.getBackend() === 'wasm';

/**
 * Batched product as one depthwise convolution (wasm only): channel n of the input holds a[n],
 * the filter's channel n holds b[n], the kernel spans the shared axis K, and the channel
 * multiplier is P. a (N, M, K) or, transposed, (N, K, M); b (N, K, P) or, transposed, (N, P, K).
 */
function depthwiseBatchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
	const [N, M, K] = transposeA ? [a.shape[0], a.shape[2], a.shape[1]] : a.shape;
	const P = transposeB ? b.shape[1] : b.shape[2];
	const x = tf.reshape(tf.transpose(a, transposeA ? [2, 1, 0] : [1, 2, 0]), [1, M, K, N]); // (1, M, K, N)
	const f = tf.reshape(tf.transpose(b, transposeB ? [2, 0, 1] : [1, 0, 2]), [1, K, N, P]); // (1, K, N, P)
	const out = tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'); // (1, M, 1, N*P)
	return tf.transpose(tf.reshape(out, [M, N, P]), [1, 0, 2]); // (N, M, P)
}

/** op(a) @ op(b), where op transposes the last two axes when asked. Rank 2 or 3. */
export function product<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, transposeA = false, transposeB = false): T {
	if (fusedAvailable()) return fusedProduct(a, b, transposeA, transposeB);
	if (!onWasm()) return tf.matMul(a, b, transposeA, transposeB) as T;
	if (a.rank === 3) return depthwiseBatchMatMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB) as T;
	const a2 = transposeA ? tf.transpose(a) : a;
	const b2 = transposeB ? tf.transpose(b) : b;
	return tf.matMul(a2, b2) as T;
}

/**
 * a @ b with the gradient of tf.matMul (da = dy @ bᵀ, db = aᵀ @ dy), each product run by
 * `product`. a (M, K) and b (K, N), or batched (N, M, K) and (N, K, P).
 */
export const matMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
	const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
	save([a, b]);
	const value = product(a as tf.Tensor3D, b as tf.Tensor3D);
	return {
		value,
		gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [
			product(dy as tf.Tensor3D, sb as tf.Tensor3D, false, true),
			product(sa as tf.Tensor3D, dy as tf.Tensor3D, true, false)
		]
	};
}) as <T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T) => T;

/**
 * a @ bᵀ with its gradient (da = dy @ b, db = dyᵀ @ a), each product run by `product`, so no
 * transpose is materialised where the backend takes the flag: a (N, M, K), b (N, P, K) → (N, M, P).
 */
export const matMulTransposeB = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
	const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
	save([a, b]);
	return {
		value: product(a, b, false, true),
		gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [
			product(dy as tf.Tensor3D, sb as tf.Tensor3D),
			product(dy as tf.Tensor3D, sa as tf.Tensor3D, true, false)
		]
	};
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;
