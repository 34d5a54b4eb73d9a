// The two WebGPU product kernels (src/lib/kernels/webgpuKernels.ts): `tiled` (64 × 64 per
// workgroup, K-slices in workgroup memory, barriers) against the cpu backend at odd shapes, every
// transpose, a batch, and the products of the ladder's S and M steps (core/bench/ladder.ts), on
// Dawn (SwiftShader here); `rows` is checked by tests/fusedKernelsSuite.ts. Then the measurement
// that picks one for the running adapter.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rungNamed, stepProducts } from '../src/lib/core/bench/ladder';
import { FUSED } from '../src/lib/core/model/fused';
import { chooseWebgpuProducts, useLargeProductKernel } from '../src/lib/kernels/webgpuKernels';
import { useNodeBackend } from '../src/cli/nodeBackend';
import { backend } from './helpers';

/** op(a) @ op(b) on the active backend through the lab's product kernel, as plain numbers. */
type Operand = { values: Float32Array; shape: [number, number, number] };
async function product(a: Operand, b: Operand, tA: boolean, tB: boolean, on: 'webgpu' | 'cpu') {
	await backend(on);
	const [x, y] = [tf.tensor3d(a.values, a.shape), tf.tensor3d(b.values, b.shape)];
	const run = (p: tf.Tensor3D, q: tf.Tensor3D) =>
		on === 'cpu'
			? tf.matMul(p, q, tA, tB)
			: (tf
					.engine()
					.runKernel(FUSED.matMul, { a: p, b: q }, { transposeA: tA, transposeB: tB, alpha: 1 } as never) as tf.Tensor);
	const out = run(x, y);
	const values = await out.data();
	tf.dispose([x, y, out]);
	return values;
}

/** (n, rows, cols) of smooth values in [−1, 1]. */
function random(n: number, rows: number, cols: number, seed: number): Operand {
	const values = Float32Array.from({ length: n * rows * cols }, (_, i) => Math.sin(seed + i * 0.7311));
	return { values, shape: [n, rows, cols] };
}

describe('the tiled WebGPU product', () => {
	beforeAll(async () => {
		await backend('webgpu'); // its start measures and sets a kernel: force the tiled one after it
		useLargeProductKernel('tiled');
	});
	afterAll(() => useLargeProductKernel('rows'));

	// (batch, M, K, N, transposeA, transposeB): odd sizes that leave partial tiles and K-slices
	const cases: [number, number, number, number, boolean, boolean][] = [
		[1, 67, 33, 130, false, false],
		[1, 130, 67, 65, false, true],
		[1, 65, 129, 66, true, false],
		[3, 70, 17, 64, true, true],
		// the ladder's S and M steps: c_fc forward, its weight's gradient (K = B·T), the head's input gradient
		...[rungNamed('S'), rungNamed('M')].flatMap((r) =>
			stepProducts(r)
				.filter((p) => ['c_fc forward', 'c_fc dW', 'attention Q·Kᵀ'].includes(p.what))
				.map(
					(p) =>
						[Math.min(p.batch, 4), p.M, p.K, p.N, p.transposeA, p.transposeB] as [
							number,
							number,
							number,
							number,
							boolean,
							boolean
						]
				)
		)
	];
	for (const [n, M, K, N, tA, tB] of cases) {
		it(`matches cpu: batch ${n}, ${M} × ${K} × ${N}${tA ? ', A transposed' : ''}${tB ? ', B transposed' : ''}`, async () => {
			const a = random(n, tA ? K : M, tA ? M : K, 1);
			const b = random(n, tB ? N : K, tB ? K : N, 2);
			const want = await product(a, b, tA, tB, 'cpu');
			const got = await product(a, b, tA, tB, 'webgpu');
			expect(got.length).toBe(n * M * N);
			let worst = 0;
			got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]) / (1 + Math.abs(want[i])))));
			expect(worst).toBeLessThan(1e-4);
		});
	}
});

it('times both kernels on the running adapter and keeps the faster for large products', async () => {
	await backend('webgpu');
	const choice = await chooseWebgpuProducts([[128, 128, 128]]);
	expect(choice.rowsMs).toBeGreaterThan(0);
	expect(choice.tiledMs).toBeGreaterThan(0);
	expect(choice.kernel).toBe(choice.tiledMs < choice.rowsMs ? 'tiled' : 'rows');
	useLargeProductKernel('rows');
	// the lab measures once when webgpu starts and names the choice in the run's provenance
	const provenance = await useNodeBackend('webgpu');
	expect(provenance.backend_notes.join('\n')).toMatch(
		/webgpu: products of 64 × 64 and more on (4 × 4 tiles an invocation|shared-memory 64 × 64 tiles) \([\d.]+ ms\), faster here than .* \([\d.]+ ms\), timed on 512 × 128 × 512/
	);
});
