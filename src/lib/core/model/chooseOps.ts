// Which implementation of the model seam (modelOps.ts) runs on a backend: the lab's fused kernels
// where the backend registers them (webgpu, wasm), else the composite tfjs ops. A trainer asks once
// and keeps the answer; the run's provenance records it.

import * as tf from '@tensorflow/tfjs-core';
import { CompositeOps } from './compositeOps';
import { FUSED } from './fused';
import { FusedOps } from './fusedOps';
import type { ModelOps } from './modelOps';

let preferFused = true;

/** Whether later choices take the fused kernels where they exist (true, the default); the bench measures both. */
export function useFusedKernels(on: boolean): void {
	preferFused = on;
}

/** The ops made so far, by backend and kind: a decoding loop asks for them at every token. */
const made = new Map<string, ModelOps>();

/** The model's ops on `backend` (the active one by default). */
export function modelOps(backend: string = tf.getBackend()): ModelOps {
	const fused = preferFused && tf.getKernel(FUSED.matMul, backend) !== undefined;
	const key = `${backend}:${fused ? 'fused' : 'composite'}`;
	let ops = made.get(key);
	if (!ops) made.set(key, (ops = fused ? new FusedOps(backend) : new CompositeOps(backend)));
	return ops;
}
