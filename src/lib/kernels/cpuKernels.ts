// Kernel overrides for the cpu backend, registered by both entries (CLI and worker) beside the
// wasm ones. tfjs-backend-cpu computes each element of a broadcasting Add, Sub, Multiply or
// RealDiv through an index → coordinates → index round trip that allocates arrays per element;
// on the lab's models that was ~40% of a cpu training step (attention's mask add and softmax,
// LayerNorm's mean and variance), and its same-shape path takes a modulo per element. Here the
// same float32 operation per element runs over strided loops, so every result is bit for bit what
// tfjs computes (tests/cpuKernels.test.ts); the cpu backend stays the reference. BatchMatMul's
// replacement, with the same reasoning, is in cpuMatMul.ts.

import * as tf from '@tensorflow/tfjs-core';
import { cpuBatchMatMul } from './cpuMatMul';

/** The binary kernels replaced, each with its element operation as tfjs-backend-cpu writes it. */
const OPS = ['Add', 'Sub', 'Multiply', 'RealDiv'] as const;
type Op = (typeof OPS)[number];

/** The part of tfjs-backend-cpu's MathBackendCPU these kernels use. */
interface CpuBackend {
	data: { get(id: tf.DataId): { values: Float32Array } };
	makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/**
 * Strides of `shape` read as `outShape` (right-aligned, as broadcasting aligns): 0 along every
 * axis the input lacks or has as 1 where the output is wider.
 */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
	const out = new Array<number>(outShape.length).fill(0);
	let stride = 1;
	for (let i = shape.length - 1, o = outShape.length - 1; i >= 0; i--, o--) {
		out[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : stride;
		stride *= shape[i];
	}
	return out;
}

/** One output row (the last axis): out[o + k] = a[ai + k·as] op b[bi + k·bs] for k < n. */
function row(
	op: Op,
	out: Float32Array,
	o: number,
	n: number,
	a: Float32Array,
	ai: number,
	as: number,
	b: Float32Array,
	bi: number,
	bs: number
): void {
	switch (op) {
		case 'Add':
			for (let k = 0; k < n; k++) out[o + k] = a[ai + k * as] + b[bi + k * bs];
			break;
		case 'Sub':
			for (let k = 0; k < n; k++) out[o + k] = a[ai + k * as] - b[bi + k * bs];
			break;
		case 'Multiply':
			for (let k = 0; k < n; k++) out[o + k] = a[ai + k * as] * b[bi + k * bs];
			break;
		case 'RealDiv':
			for (let k = 0; k < n; k++) out[o + k] = a[ai + k * as] / b[bi + k * bs];
			break;
	}
}

/** a op b broadcast to `outShape` (rank ≥ 1): an odometer over the outer axes, a row at a time. */
export function broadcastBinary(
	op: Op,
	a: Float32Array,
	aShape: readonly number[],
	b: Float32Array,
	bShape: readonly number[],
	outShape: readonly number[]
): Float32Array {
	const rank = outShape.length;
	const out = new Float32Array(outShape.reduce((x, y) => x * y, 1));
	if (out.length === 0) return out;
	const [aStrides, bStrides] = [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)];
	const n = outShape[rank - 1];
	const index = new Array<number>(rank - 1).fill(0); // position along each outer axis
	let [ai, bi] = [0, 0];
	for (let o = 0; o < out.length; o += n) {
		row(op, out, o, n, a, ai, aStrides[rank - 1], b, bi, bStrides[rank - 1]);
		// next outer position: carry from the innermost outer axis outward
		for (let axis = rank - 2; axis >= 0; axis--) {
			index[axis]++;
			ai += aStrides[axis];
			bi += bStrides[axis];
			if (index[axis] < outShape[axis]) break;
			ai -= aStrides[axis] * outShape[axis];
			bi -= bStrides[axis] * outShape[axis];
			index[axis] = 0;
		}
	}
	return out;
}

/** a op b for float32 inputs to a result of rank ≥ 1 (anything else: null, for tfjs's kernel). */
function binary(op: Op, args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | null {
	const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
	const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
	if (a.dtype !== 'float32' || b.dtype !== 'float32' || outShape.length === 0) return null;
	const cpu = args.backend as unknown as CpuBackend;
	const [aVals, bVals] = [cpu.data.get(a.dataId).values, cpu.data.get(b.dataId).values];
	return cpu.makeTensorInfo(outShape, 'float32', broadcastBinary(op, aVals, a.shape, bVals, b.shape, outShape));
}

/**
 * tfjs-backend-cpu's Softmax, step for step (Max, Sub, Exp, Sum, RealDiv along the last axis), but
 * through the registered kernels: its own calls Sub and RealDiv directly, past the overrides.
 */
function softmax(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
	const logits = args.inputs.logits as tf.TensorInfo;
	const run = (name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}) =>
		tf.getKernel(name, 'cpu')!.kernelFunc({ inputs, backend: args.backend, attrs }) as tf.TensorInfo;
	const axes = [logits.shape.length - 1];
	const max = run('Max', { x: logits }, { reductionIndices: axes, keepDims: true }); // [..., 1]
	const shifted = run('Sub', { a: logits, b: max });
	const exp = run('Exp', { x: shifted });
	const sum = run('Sum', { x: exp }, { axis: axes, keepDims: true }); // [..., 1]
	const out = run('RealDiv', { a: exp, b: sum });
	for (const t of [max, shifted, exp, sum]) (args.backend as tf.KernelBackend).disposeData(t.dataId);
	return out;
}

let registered = false;

/** Replaces `name` on the cpu backend with `kernel`, which gives tfjs's own kernel what it returns null for. */
function override(name: string, kernel: (args: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo | null): void {
	const original = tf.getKernel(name, 'cpu');
	if (!original) throw new Error('registerCpuKernelOverrides: the cpu backend is not registered');
	tf.unregisterKernel(name, 'cpu');
	tf.registerKernel({
		kernelName: name,
		backendName: 'cpu',
		kernelFunc: (args) => kernel(args) ?? original.kernelFunc(args)
	});
}

/** Replaces the cpu backend's Add, Sub, Multiply, RealDiv, Softmax and BatchMatMul. Idempotent. */
export function registerCpuKernelOverrides(): void {
	if (registered) return;
	for (const op of OPS) override(op, (args) => binary(op, args));
	override('Softmax', (args) => {
		const { logits } = args.inputs as { logits: tf.TensorInfo };
		const { dim } = args.attrs as { dim: number };
		const last = dim === -1 || dim === logits.shape.length - 1;
		return logits.dtype === 'float32' && last ? softmax(args) : null;
	});
	override('BatchMatMul', cpuBatchMatMul);
	registered = true;
}
