// tfjs-backend-cpu's BatchMatMul with the same sums in the same order, over contiguous rows.
// tfjs sums each output element in blocks of `blockSize` (48) along the shared axis: one block's
// products in a double, then that sum added to the float32 result. It walks B down its columns,
// a cache miss per product when B is wide (the 50,257-token output layer). Here A's rows and B's
// columns are first laid out contiguously along the shared axis and the same blocks are summed in
// the same order, so every result is bit for bit tfjs's (tests/cpuKernels.test.ts).

import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-cpu's MathBackendCPU this kernel uses. */
interface CpuBackend {
	blockSize: number;
	data: { get(id: tf.DataId): { values: Float32Array } };
	makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** [batch, rows, cols] → [batch, cols, rows], a copy. */
function transposeLast(x: Float32Array, batch: number, rows: number, cols: number): Float32Array {
	const out = new Float32Array(x.length);
	for (let b = 0; b < batch; b++) {
		const base = b * rows * cols;
		for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[base + c * rows + r] = x[base + r * cols + c];
	}
	return out;
}

/**
 * out[bi, i, j] = Σ_k a[bi, i, k] · b[bi, j, k], summed in blocks of `block` as tfjs does:
 * a: [batchA, M, K], b: [batchB, N, K] (B already transposed), batches broadcast by modulo.
 */
function blockedProduct(
	a: Float32Array,
	batchA: number,
	b: Float32Array,
	batchB: number,
	M: number,
	N: number,
	K: number,
	block: number
): Float32Array {
	const batch = Math.max(batchA, batchB);
	const out = new Float32Array(batch * M * N);
	for (let bi = 0; bi < batch; bi++) {
		const [aBase, bBase, outBase] = [(bi % batchA) * M * K, (bi % batchB) * N * K, bi * M * N];
		for (let i = 0; i < M; i++) {
			const ai = aBase + i * K;
			for (let j = 0; j < N; j++) {
				const bj = bBase + j * K;
				let result = 0; // a float32, as tfjs's result buffer holds it
				for (let k0 = 0; k0 < K; k0 += block) {
					const end = Math.min(k0 + block, K);
					let sum = 0.0;
					for (let k = k0; k < end; k++) sum += a[ai + k] * b[bj + k];
					result = Math.fround(result + sum);
				}
				out[outBase + i * N + j] = result;
			}
		}
	}
	return out;
}

/** BatchMatMul for float32 inputs (anything else: null, for tfjs's own kernel). */
export function cpuBatchMatMul(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | null {
	const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
	const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
	if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
	const [ra, rb] = [a.shape.length, b.shape.length];
	const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
	const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
	const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
	if (K !== (transposeB ? b.shape[rb - 1] : b.shape[rb - 2])) return null; // tfjs says what is wrong
	const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
	const [batchA, batchB] = [tf.util.sizeFromShape(a.shape.slice(0, -2)), tf.util.sizeFromShape(b.shape.slice(0, -2))];
	const cpu = args.backend as unknown as CpuBackend;
	const [aVals, bVals] = [cpu.data.get(a.dataId).values, cpu.data.get(b.dataId).values];
	const rowsA = transposeA ? transposeLast(aVals, batchA, K, M) : aVals; // [batchA, M, K]
	const colsB = transposeB ? bVals : transposeLast(bVals, batchB, K, N); // [batchB, N, K]
	const out = blockedProduct(rowsA, batchA, colsB, batchB, M, N, K, cpu.blockSize);
	return cpu.makeTensorInfo([...outer, M, N], 'float32', out);
}
