// The cpu backend's kernel overrides (src/lib/kernels/cpuKernels.ts, cpuMatMul.ts) give tfjs-backend-cpu's
// results bit for bit: each case is computed with tfjs's own kernels first, then with the
// overrides registered, and the float32 bits compared (NaN, ±Infinity and -0 included).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerCpuKernelOverrides } from '../src/lib/kernels/cpuKernels';
import { Mt19937 } from '../src/lib/core/prng';

/** Values with the awkward ones mixed in: 0, -0, ±Infinity, NaN, tiny and huge magnitudes. */
function values(n: number, seed: number): Float32Array {
	const prng = new Mt19937(seed);
	const rand = () => prng.random();
	const special = [0, -0, Infinity, -Infinity, NaN, 1e-30, -3e30];
	return Float32Array.from({ length: n }, () =>
		rand() < 0.05 ? special[Math.floor(rand() * special.length)] : (rand() - 0.5) * 8
	);
}

const size = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);

/** Pairs of shapes: each broadcasting a different way, plus ones tfjs's fast path already takes. */
const PAIRS: [number[], number[]][] = [
	[
		[8, 9, 9],
		[1, 9, 9]
	], // attention's mask
	[
		[8, 9, 9],
		[8, 9, 1]
	], // softmax's row max and sum
	[
		[39, 1],
		[39, 16]
	], // LayerNorm's mean and variance, broadcast on the left
	[
		[3, 1, 5],
		[1, 4, 1]
	], // both sides broadcast
	[
		[2, 1, 3, 1],
		[5, 1, 4]
	], // ranks differ
	[[6, 7], [7]], // a bias: no broadcast axis, tfjs's own path
	[
		[4, 5],
		[4, 5]
	], // same shape
	[
		[0, 3],
		[1, 3]
	] // empty
];

const OPS = [
	['Add', tf.add],
	['Sub', tf.sub],
	['Multiply', tf.mul],
	['RealDiv', tf.div]
] as const;

/** Every case's result bits, computed with whatever kernels are registered now. */
function compute(): Map<string, Uint32Array> {
	const out = new Map<string, Uint32Array>();
	const bits = (t: tf.Tensor) => new Uint32Array(new Float32Array(t.dataSync()).buffer);
	PAIRS.forEach(([aShape, bShape], i) => {
		for (const [name, op] of OPS) {
			tf.tidy(() => {
				const a = tf.tensor(
					values(
						aShape.reduce((x, y) => x * y, 1),
						i * 2 + 1
					),
					aShape
				);
				const b = tf.tensor(
					values(
						bShape.reduce((x, y) => x * y, 1),
						i * 2 + 2
					),
					bShape
				);
				out.set(`${name} ${aShape} ${bShape}`, bits(op(a, b)));
			});
		}
	});
	for (const [shape, masked] of [
		[[8, 5, 7], false],
		[[4, 1, 6], true]
	] as const) {
		tf.tidy(() => {
			const x = values(size(shape), 99);
			// a causal mask's -Infinity, and one row masked whole
			if (masked) x.forEach((_, j) => (j % 6 > j / 6 || j < 6 ? (x[j] = -Infinity) : 0));
			out.set(`Softmax ${shape}`, bits(tf.softmax(tf.tensor(x, [...shape]))));
		});
	}
	// products: each transpose, a shared axis of several 48-wide blocks, a broadcast batch, empty
	MATMULS.forEach(([aShape, bShape, transposeA, transposeB], i) => {
		tf.tidy(() => {
			const a = tf.tensor(values(size(aShape), 50 + i), aShape);
			const b = tf.tensor(values(size(bShape), 80 + i), bShape);
			out.set(
				`BatchMatMul ${aShape} ${bShape} ${transposeA} ${transposeB}`,
				bits(tf.matMul(a, b, transposeA, transposeB))
			);
		});
	});
	return out;
}

/** Products: A's shape, B's shape, transposeA, transposeB. */
const MATMULS: [number[], number[], boolean, boolean][] = [
	[[3, 7, 100], [3, 100, 5], false, false],
	[[3, 100, 7], [3, 100, 5], true, false],
	[[3, 7, 100], [3, 5, 100], false, true],
	[[3, 100, 7], [3, 5, 100], true, true],
	[[1, 4, 49], [2, 49, 3], false, false],
	[[6, 130], [130, 9], false, false],
	[[2, 0], [0, 3], false, false]
];

describe('the cpu kernel overrides', () => {
	const NAMES = ['Add', 'Sub', 'Multiply', 'RealDiv', 'Softmax', 'BatchMatMul'];
	const kernel = (name: string) => tf.getKernel(name, 'cpu')!.kernelFunc;
	let before: Map<string, Uint32Array>;
	let originals: tf.KernelFunc[];
	beforeAll(async () => {
		await tf.setBackend('cpu');
		before = compute();
		originals = NAMES.map(kernel);
		registerCpuKernelOverrides();
	});

	it('replace the binary ops, Softmax and BatchMatMul', () => {
		NAMES.forEach((name, i) => expect(kernel(name), name).not.toBe(originals[i]));
	});

	it("give tfjs-backend-cpu's float32 results bit for bit", () => {
		const after = compute();
		expect([...after.keys()]).toEqual([...before.keys()]);
		for (const [key, want] of before) {
			const got = after.get(key)!;
			expect(got.length, key).toBe(want.length);
			const first = want.findIndex((w, i) => w !== got[i]);
			expect(first, `${key}: first differing element`).toBe(-1);
		}
	});

	it('free every intermediate buffer', () => {
		const x = tf.randomNormal([4, 3, 5]);
		const mask = tf.zeros([1, 3, 5]);
		const buffers = () => tf.engine().backend.numDataIds();
		const start = buffers();
		for (let i = 0; i < 3; i++) tf.tidy(() => tf.mul(tf.softmax(tf.add(x, mask)), tf.ones([4, 3, 1]))).dispose();
		expect(buffers()).toBe(start);
		tf.dispose([x, mask]);
	});
});
