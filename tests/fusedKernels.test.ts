// The fused kernels of WebGPU and of the lab's wasm module against the cpu backend
// (tests/fusedKernelsSuite.ts). Here wasm runs its kernels as Node does by default: products and
// attention on one thread per core (up to 4), on the module's own shared memory, tensors copied in
// and out; the other kernels on one thread in tfjs's memory.
import { availableParallelism } from 'node:os';
import { expect, it } from 'vitest';
import { useNodeBackend } from '../src/cli/nodeBackend';
import { fusedKernelSuite } from './fusedKernelsSuite';

it("wasm's fused kernels run on one thread per core here (up to 4), and say so", async () => {
	const provenance = await useNodeBackend('wasm');
	const threads = Math.min(4, availableParallelism());
	const how =
		threads > 1
			? `products and attention on ${threads} threads copying tensors into their own memory, the other kernels on 1 thread in tfjs's memory`
			: "in tfjs's memory, on 1 thread";
	expect(provenance.backend_notes).toContain(`wasm: the lab's fused kernels (kernels/lab_kernels.c), ${how}`);
});

fusedKernelSuite(['webgpu', 'wasm']);
