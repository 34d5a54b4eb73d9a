// The speed work (src/lib/core/model/ops.ts, src/lib/kernels/wasmBufferSharing.ts) keeps the math:
// products and gradients equal tfjs's own, and the cpu backend's losses stay within 1e-5 of those
// recorded before it (tests/fixtures/cpu-losses-reference.json).
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goldenV2 } from '../src/lib/core/data/golden';
import { modelOps } from '../src/lib/core/model/chooseOps';
import { benchTraining } from '../src/lib/core/bench/bench';
import { Trainer } from '../src/lib/core/train/trainer';
import type { LabConfig } from '../src/lib/core/config';
import { backend, smokeConfig } from './helpers';

const reference = JSON.parse(readFileSync('tests/fixtures/cpu-losses-reference.json', 'utf8')) as {
	config: Pick<LabConfig, 'model' | 'train'>;
	losses: number[];
	grad_norms: number[];
};

/**
 * Trains `config` (the recorded reference's by default) on golden-v2 on the active backend: each
 * step's loss and gradient norm.
 */
async function trainReference(config = smokeConfig(reference.config)): Promise<{ losses: number[]; norms: number[] }> {
	const trainer = new Trainer(config, goldenV2());
	const losses: number[] = [];
	const norms: number[] = [];
	try {
		await trainer.run({ onStep: (m) => void (losses.push(m.loss), norms.push(m.grad_norm)) });
	} finally {
		trainer.dispose();
	}
	return { losses, norms };
}

/** op(a) @ op(b) in plain JS, batched over the leading axis. */
function jsProduct(a: number[][][], b: number[][][], tA: boolean, tB: boolean): number[][][] {
	const at = (m: number[][], i: number, j: number, t: boolean) => (t ? m[j][i] : m[i][j]);
	return a.map((am, n) => {
		const M = tA ? am[0].length : am.length;
		const K = tA ? am.length : am[0].length;
		const P = tB ? b[n].length : b[n][0].length;
		return Array.from({ length: M }, (_, i) =>
			Array.from({ length: P }, (_, j) => {
				let s = 0;
				for (let k = 0; k < K; k++) s += at(am, i, k, tA) * at(b[n], k, j, tB);
				return s;
			})
		);
	});
}

/** The active backend's product and matMul (the model seam's choice for it). */
const product = <T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, tA = false, tB = false) =>
	modelOps().product(a, b, tA, tB);
const matMul = <T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T) => modelOps().matMul(a, b);

const maxAbsDiff = (x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]);

describe('fast products (the model seam)', () => {
	for (const name of ['wasm', 'cpu'] as const) {
		it(`product equals a plain-JS product for every transpose, rank 2 and 3 (${name})`, async () => {
			await backend(name);
			for (const [N, M, K, P] of [
				[3, 5, 7, 4],
				[8, 17, 16, 17],
				[2, 1, 3, 1]
			]) {
				for (const tA of [false, true]) {
					for (const tB of [false, true]) {
						const a = tf.randomNormal(tA ? [N, K, M] : [N, M, K], 0, 1, 'float32', 7) as tf.Tensor3D;
						const b = tf.randomNormal(tB ? [N, P, K] : [N, K, P], 0, 1, 'float32', 8) as tf.Tensor3D;
						const want = jsProduct(a.arraySync(), b.arraySync(), tA, tB);
						const got = product(a, b, tA, tB);
						expect(got.shape).toEqual([N, M, P]);
						const got3 = got.arraySync().flat(2);
						want.flat(2).forEach((w, i) => expect(Math.abs(got3[i] - w)).toBeLessThan(1e-4));
						const first = (t: tf.Tensor3D) => tf.squeeze(tf.slice(t, 0, 1), [0]) as tf.Tensor2D;
						const got2 = tf.tidy(() => product(first(a), first(b), tA, tB));
						want[0].flat().forEach((w, i) => expect(Math.abs(got2.dataSync()[i] - w)).toBeLessThan(1e-4));
						tf.dispose([a, b, got, got2]);
					}
				}
			}
		});
	}

	it('matMul has the gradients of tf.matMul (wasm, rank 2 and 3)', async () => {
		await backend('wasm');
		for (const [aShape, bShape] of [
			[
				[6, 5],
				[5, 4]
			],
			[
				[3, 6, 5],
				[3, 5, 4]
			]
		]) {
			const a = tf.randomNormal(aShape, 0, 1, 'float32', 1);
			const b = tf.randomNormal(bShape, 0, 1, 'float32', 2);
			const w = tf.randomNormal([...aShape.slice(0, -1), bShape.at(-1)!], 0, 1, 'float32', 3);
			const loss = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) =>
				tf.sum(tf.mul(f(x, y), w));
			const want = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
			const got = tf.grads(loss((x, y) => matMul(x as tf.Tensor3D, y as tf.Tensor3D)))([a, b]);
			expect(maxAbsDiff(got[0], want[0])).toBeLessThan(1e-5);
			expect(maxAbsDiff(got[1], want[1])).toBeLessThan(1e-5);
			tf.dispose([a, b, w, ...want, ...got]);
		}
	});
});

describe('wasm kernel overrides (wasmBufferSharing.ts)', () => {
	it('clone and same-dtype cast share the buffer, and it survives disposing the original', async () => {
		await backend('wasm');
		const x = tf.tensor1d([1, 2, 3]);
		const buffers = tf.memory().numDataBuffers;
		const copy = tf.clone(x);
		const same = tf.cast(x, 'float32');
		expect(tf.memory().numDataBuffers).toBe(buffers); // shared, not copied
		x.dispose();
		expect([...copy.dataSync()]).toEqual([1, 2, 3]);
		copy.dispose();
		expect([...same.dataSync()]).toEqual([1, 2, 3]);
		const ints = tf.cast(same, 'int32'); // a real cast still converts
		expect(ints.dtype).toBe('int32');
		expect([...ints.dataSync()]).toEqual([1, 2, 3]);
		tf.dispose([same, ints]);
	});
});

describe('the loss sequence is unchanged by the speed work', () => {
	it('cpu: losses and gradient norms within 1e-5 of the recorded reference', async () => {
		await backend('cpu');
		const { losses, norms } = await trainReference();
		expect(losses).toHaveLength(reference.losses.length);
		losses.forEach((l, i) => expect(Math.abs(l - reference.losses[i]), `loss at step ${i + 1}`).toBeLessThan(1e-5));
		norms.forEach((n, i) => expect(Math.abs(n - reference.grad_norms[i]), `norm at step ${i + 1}`).toBeLessThan(1e-5));
	});

	it("wasm (the lab's fused kernels) trains the cpu backend's losses within 1e-4 over 100 steps", async () => {
		const config = smokeConfig({ train: { steps: 100, warmup_steps: 10 } });
		const run = async (name: 'cpu' | 'wasm') => {
			await backend(name);
			return (await trainReference(config)).losses;
		};
		const cpu = await run('cpu');
		const wasm = await run('wasm');
		expect(wasm).toHaveLength(100);
		wasm.forEach((l, i) => expect(Math.abs(l - cpu[i]), `loss at step ${i + 1}: ${l} vs ${cpu[i]}`).toBeLessThan(1e-4));
	});

	it('wasm follows the recorded losses within 1e-4', async () => {
		await backend('wasm');
		const { losses } = await trainReference();
		losses.forEach((l, i) => expect(Math.abs(l - reference.losses[i]), `loss at step ${i + 1}`).toBeLessThan(1e-4));
	});
});

describe('benchTraining (the record behind npm run bench)', () => {
	it('reports every field, with memory flat across 100 timed steps (wasm)', async () => {
		await backend('wasm');
		const config = smokeConfig();
		const ds = goldenV2();
		const before = tf.memory().numTensors;
		const r = await benchTraining(config, ds, {
			runtime: 'test',
			steps: 100,
			maxSeconds: 600,
			evalDatasets: [ds],
			evalMaxItems: null
		});
		expect(r).toMatchObject({ runtime: 'test', backend: 'wasm', batch_size: 4, steps_measured: 100 });
		expect(r.eval_items).toBe(ds.traces.length);
		expect(r.seq_len).toBeGreaterThan(100); // the longest traces
		for (const k of ['ms_per_step', 'tokens_per_s', 'first_step_ms', 'eval_items_per_s', 'checkpoint_bytes'] as const)
			expect(r[k], k).toBeGreaterThan(0);
		expect(r.num_tensors).toBeGreaterThan(0);
		expect(r.num_tensors_end).toBe(r.num_tensors);
		expect(r.bytes_end).toBe(r.bytes);
		expect(r.gpu_bytes).toBeNull();
		expect(r.fused_kernels).toBe(true); // the lab's wasm kernels (kernels/lab_kernels.c)
		expect([r.gpu_dispatches_per_step, r.gpu_submits_per_step, r.gpu_buffers_created_per_step]).toEqual([
			null,
			null,
			null
		]);
		expect(tf.memory().numTensors).toBe(before); // the trainers are disposed
	});
});
