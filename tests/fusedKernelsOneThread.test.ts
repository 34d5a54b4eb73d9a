// The lab's wasm kernels on one thread, in tfjs's plain (unshared) memory: the mode a page that
// is not cross-origin isolated gets, and Node with LAB_WASM_THREADS=1 (tests/fusedKernelsSuite.ts).
import { expect, it } from 'vitest';
import { useNodeBackend } from '../src/cli/nodeBackend';
import { fusedKernelSuite } from './fusedKernelsSuite';

process.env.LAB_WASM_THREADS = '1'; // read when the wasm backend starts (this file runs in its own worker)

it("wasm's fused kernels run in tfjs's memory on one thread, and say so", async () => {
	const provenance = await useNodeBackend('wasm');
	expect(provenance.backend_notes).toContain(
		"wasm: the lab's fused kernels (kernels/lab_kernels.c), in tfjs's memory, on 1 thread"
	);
});

fusedKernelSuite(['wasm']);
