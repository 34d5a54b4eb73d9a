// The fused kernels of WebGPU and of the lab's wasm module against the cpu backend
// (tests/fusedKernelsSuite.ts). Here wasm runs its kernels as Node does by default: one thread per
// core (up to 4), in tfjs's memory, shared because Node then starts tfjs's threaded build
// (src/cli/wasmThreadedBuild.ts); shapes large enough split over the threads.
import { availableParallelism } from 'node:os';
import { expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend } from '../src/cli/nodeBackend';
import { fusedKernelSuite } from './fusedKernelsSuite';

// vitest.config.ts runs the other files on one kernel thread; this one runs as Node does by default
delete process.env.LAB_WASM_THREADS;

it("wasm's fused kernels run on one thread per core here (up to 4), in tfjs's shared memory, and say so", async () => {
	const provenance = await useNodeBackend('wasm');
	const threads = Math.min(4, availableParallelism());
	expect(provenance.backend_notes).toContain(
		`wasm: the lab's fused kernels (kernels/lab_kernels.c), in tfjs's memory, on ${threads} thread${threads === 1 ? '' : 's'}`
	);
	const memory = (tf.backend() as unknown as { wasm: { wasmMemory?: WebAssembly.Memory } }).wasm.wasmMemory;
	expect(threads === 1 || memory?.buffer instanceof SharedArrayBuffer).toBe(true);
});

fusedKernelSuite(['webgpu', 'wasm']);
