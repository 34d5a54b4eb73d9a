// Kernel overrides for the wasm backend, registered by both entries (CLI and worker) after the
// backend loads. tfjs's gradient tape clones every saved input (Identity) and its gradients cast
// float32 to float32 (Cast); on wasm both copy the whole buffer, ~10% of a training step. Here
// they share the buffer by reference count instead, as the cpu backend's Identity does. Tensors are
// immutable, so sharing is safe; the wasm backend frees a buffer when its count reaches zero.

import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's BackendWasm these kernels use. */
interface RefCountingBackend {
	incRef(dataId: tf.DataId): void;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function share({ inputs, backend }: KernelArgs): tf.TensorInfo {
	const x = inputs.x as tf.TensorInfo;
	(backend as unknown as RefCountingBackend).incRef(x.dataId);
	return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let registered = false;

/** Replaces wasm's Identity, and Cast to the same dtype, with buffer sharing. Idempotent. */
export function registerWasmKernelOverrides(): void {
	if (registered) return;
	const identity = tf.getKernel('Identity', 'wasm');
	const cast = tf.getKernel('Cast', 'wasm');
	if (!identity || !cast) throw new Error('registerWasmKernelOverrides: the wasm backend is not registered');
	tf.unregisterKernel('Identity', 'wasm');
	tf.registerKernel({
		kernelName: 'Identity',
		backendName: 'wasm',
		kernelFunc: (args) =>
			(args.inputs.x as tf.TensorInfo).dtype === 'string' ? identity.kernelFunc(args) : share(args)
	});
	tf.unregisterKernel('Cast', 'wasm');
	tf.registerKernel({
		kernelName: 'Cast',
		backendName: 'wasm',
		kernelFunc: (args) =>
			(args.inputs.x as tf.TensorInfo).dtype === (args.attrs as { dtype: tf.DataType }).dtype
				? share(args)
				: cast.kernelFunc(args)
	});
	registered = true;
}
