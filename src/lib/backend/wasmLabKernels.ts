// The fused kernels (src/lib/core/model/fused.ts) for the wasm backend, run by the lab's own wasm
// module (kernels/lab_kernels.c → labKernels.wasm: 128-bit SIMD, no libc). Each kernel copies its
// inputs from tfjs's wasm heap into the module's memory, runs, and copies the result into a tfjs
// output (AdamW: back into p, m and v, in place). Products, softmax and GELU split their rows over
// a pool of threads (kernelPool.ts) when there is shared memory. Registered once the module's bytes
// are loaded: by the CLI from disk (src/cli/nodeBackend.ts), by the worker over fetch
// (worker/backends.ts).

import * as tf from '@tensorflow/tfjs-core';
import { FUSED } from '../core/model/fused';
import { onePool, threadPool, type KernelPool, type SpawnHelper } from './kernelPool';

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use. */
interface WasmBackendInternals {
	typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
	makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
	dataIdMap: { get(dataId: tf.DataId): { refCount: number } };
}

type Ptr = number;
/** labKernels.wasm's exports (kernels/lab_kernels.c). */
interface LabKernelExports {
	__heap_base: WebAssembly.Global;
	column_sum(x: Ptr, out: Ptr, R: number, C: number): void;
	row_stats(x: Ptr, out: Ptr, R: number, C: number, eps: number): void;
	layer_norm(x: Ptr, stats: Ptr, w: Ptr, b: Ptr, out: Ptr, R: number, C: number): void;
	layer_norm_grad_x(x: Ptr, stats: Ptr, w: Ptr, dy: Ptr, out: Ptr, R: number, C: number): void;
	layer_norm_grad_w(x: Ptr, stats: Ptr, dy: Ptr, out: Ptr, R: number, C: number): void;
	token_nll(logits: Ptr, targets: Ptr, out: Ptr, N: number, V: number): void;
	token_nll_grad(logits: Ptr, targets: Ptr, dy: Ptr, out: Ptr, N: number, V: number): void;
	sum_squares(x: Ptr, n: number): number;
	adamw(p: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, ...hyper: number[]): void;
}

const sizeOf = (shape: number[]) => shape.reduce((a, d) => a * d, 1);
/** (rows, last axis) of a tensor of any rank ≥ 1. */
const rowsOf = (x: tf.TensorInfo): [number, number] => {
	const C = x.shape[x.shape.length - 1];
	return [sizeOf(x.shape) / C, C];
};

/** The kernels split over threads (each takes a row range r0, r1 and a scratch pointer last). */
const THREADED = ['matmul', 'causal_softmax', 'softmax_grad', 'gelu', 'gelu_grad'];

/** The module's memory from __heap_base up, laid out afresh for each kernel call. */
class Scratch {
	private readonly base: number;
	constructor(
		ex: LabKernelExports,
		private readonly memory: WebAssembly.Memory
	) {
		this.base = (Number(ex.__heap_base.value) + 15) & ~15;
	}

	/** Offsets for arrays of these element counts (4 bytes each), 16-byte aligned; grows the memory. */
	layout(counts: number[]): Ptr[] {
		let at = this.base;
		const out = counts.map((n) => {
			const p = at;
			at += (n * 4 + 15) & ~15;
			return p;
		});
		const need = at - this.memory.buffer.byteLength;
		if (need > 0) this.memory.grow(Math.ceil(need / 65536));
		return out;
	}

	f32(p: Ptr, n: number): Float32Array {
		return new Float32Array(this.memory.buffer, p, n);
	}

	i32(p: Ptr, n: number): Int32Array {
		return new Int32Array(this.memory.buffer, p, n);
	}
}

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The kernels, over one instance of the module on `memory`, splitting the threaded ones over `pool`. */
function kernels(
	ex: LabKernelExports,
	memory: WebAssembly.Memory,
	pool: KernelPool
): [string, (args: Args) => tf.TensorInfo | tf.TensorInfo[]][] {
	const scratch = new Scratch(ex, memory);
	const none = () => 0;
	const heap = (b: unknown) => b as WasmBackendInternals;

	/**
	 * Runs `body` with `ins` copied into the module at the first offsets and room for outputs of
	 * `outCounts` after them; each output is copied into a new tfjs tensor of its shape.
	 */
	function call(
		args: Args,
		ins: tf.TensorInfo[],
		outs: number[][],
		body: (ptrs: Ptr[]) => void,
		extra: number[] = []
	): tf.TensorInfo[] {
		const backend = heap(args.backend);
		const results = outs.map((shape) => backend.makeOutput(shape, 'float32')); // before any heap view
		const ptrs = scratch.layout([...ins.map((t) => sizeOf(t.shape)), ...outs.map(sizeOf), ...extra]);
		ins.forEach((t, i) => {
			const src = backend.typedArrayFromHeap(t);
			(t.dtype === 'int32' ? scratch.i32(ptrs[i], src.length) : scratch.f32(ptrs[i], src.length)).set(src);
		});
		body(ptrs);
		results.forEach((r, j) => {
			const at = ptrs[ins.length + j];
			(backend.typedArrayFromHeap(r) as Float32Array).set(scratch.f32(at, sizeOf(outs[j])));
		});
		return results;
	}
	const one = (args: Args, ins: tf.TensorInfo[], shape: number[], body: (p: Ptr[]) => void, extra?: number[]) =>
		call(args, ins, [shape], body, extra)[0];
	const input = (args: Args, name: string) => args.inputs[name] as tf.TensorInfo;
	const attr = (args: Args, name: string) => (args.attrs as unknown as Record<string, number | boolean>)[name];

	return [
		[
			FUSED.matMul,
			(args) => {
				const [a, b, bias] = [input(args, 'a'), input(args, 'b'), args.inputs.bias as tf.TensorInfo | undefined];
				const [transposeA, transposeB] = [attr(args, 'transposeA'), attr(args, 'transposeB')];
				const r = a.shape.length;
				const batch = r === 3 ? a.shape[0] : 1;
				const [aR, aC] = a.shape.slice(-2);
				const [bR, bC] = b.shape.slice(-2);
				const [M, K] = transposeA ? [aC, aR] : [aR, aC];
				const N = transposeB ? bR : bC;
				const shape = r === 3 ? [batch, M, N] : [M, N]; // (batch, M, N) or (M, N)
				const ins = bias ? [a, b, bias] : [a, b];
				const packSize = K * Math.ceil(N / 8) * 8; // B packed in panels of 8 columns, one buffer per thread
				return one(
					args,
					ins,
					shape,
					(p) => {
						const pbias = bias ? p[2] : 0;
						const pc = p[ins.length];
						const packs = p[ins.length + 1];
						const strides = [
							r === 3 ? aR * aC : 0,
							transposeA ? 1 : aC,
							transposeA ? aC : 1,
							r === 3 ? bR * bC : 0,
							transposeB ? 1 : bC,
							transposeB ? bC : 1
						];
						const alpha = Number(attr(args, 'alpha') ?? 1);
						pool.run(
							'matmul',
							[p[0], p[1], pbias, pc, batch, M, N, K, ...strides, alpha],
							M,
							4,
							(part) => packs + part * packSize * 4
						);
					},
					[packSize * pool.size]
				);
			}
		],
		[
			FUSED.columnSum,
			(args) => {
				const x = input(args, 'x');
				const [R, C] = rowsOf(x);
				return one(args, [x], [C], ([px, out]) => ex.column_sum(px, out, R, C));
			}
		],
		[
			FUSED.causalSoftmax,
			(args) => {
				const s = input(args, 's');
				const [N, T, Tk] = s.shape; // (N, T, Tk)
				return one(args, [s], s.shape, ([ps, out]) =>
					pool.run('causal_softmax', [ps, out, N, T, Tk, Number(attr(args, 'scale'))], N * T, 1, none)
				);
			}
		],
		[
			FUSED.softmaxGrad,
			(args) => {
				const [p, dp] = [input(args, 'p'), input(args, 'dp')];
				const [rows, L] = rowsOf(p);
				return one(args, [p, dp], p.shape, ([pp, pdp, out]) =>
					pool.run('softmax_grad', [pp, pdp, out, rows, L, Number(attr(args, 'scale'))], rows, 1, none)
				);
			}
		],
		[
			FUSED.rowStats,
			(args) => {
				const x = input(args, 'x');
				const [R, C] = rowsOf(x);
				return one(args, [x], [R, 2], ([px, out]) => ex.row_stats(px, out, R, C, Number(attr(args, 'eps'))));
			}
		],
		[
			FUSED.layerNorm,
			(args) => {
				const [x, stats, w, b] = ['x', 'stats', 'w', 'b'].map((k) => input(args, k));
				const [R, C] = rowsOf(x);
				return one(args, [x, stats, w, b], x.shape, ([px, ps, pw, pb, out]) =>
					ex.layer_norm(px, ps, pw, pb, out, R, C)
				);
			}
		],
		[
			FUSED.layerNormGradX,
			(args) => {
				const [x, stats, w, dy] = ['x', 'stats', 'w', 'dy'].map((k) => input(args, k));
				const [R, C] = rowsOf(x);
				return one(args, [x, stats, w, dy], x.shape, ([px, ps, pw, pd, out]) =>
					ex.layer_norm_grad_x(px, ps, pw, pd, out, R, C)
				);
			}
		],
		[
			FUSED.layerNormGradW,
			(args) => {
				const [x, stats, dy] = ['x', 'stats', 'dy'].map((k) => input(args, k));
				const [R, C] = rowsOf(x);
				return one(args, [x, stats, dy], [C], ([px, ps, pd, out]) => ex.layer_norm_grad_w(px, ps, pd, out, R, C));
			}
		],
		[
			FUSED.tokenNll,
			(args) => {
				const [logits, targets] = [input(args, 'logits'), input(args, 'targets')];
				const [N, V] = logits.shape; // (N, V), targets (N) int32
				return one(args, [logits, targets], [N], ([pl, pt, out]) => ex.token_nll(pl, pt, out, N, V));
			}
		],
		[
			FUSED.tokenNllGrad,
			(args) => {
				const [logits, targets, dy] = [input(args, 'logits'), input(args, 'targets'), input(args, 'dy')];
				const [N, V] = logits.shape;
				return one(args, [logits, targets, dy], [N, V], ([pl, pt, pd, out]) =>
					ex.token_nll_grad(pl, pt, pd, out, N, V)
				);
			}
		],
		[
			FUSED.gelu,
			(args) => {
				const x = input(args, 'x');
				const n = sizeOf(x.shape);
				return one(args, [x], x.shape, ([px, out]) => pool.run('gelu', [px, out, n], n, 4, none));
			}
		],
		[
			FUSED.geluGrad,
			(args) => {
				const [x, dy] = [input(args, 'x'), input(args, 'dy')];
				const n = sizeOf(x.shape);
				return one(args, [x, dy], x.shape, ([px, pd, out]) => pool.run('gelu_grad', [px, pd, out, n], n, 4, none));
			}
		],
		[
			FUSED.sumSquares,
			(args) => {
				const xs = Object.keys(args.inputs)
					.sort()
					.map((k) => args.inputs[k] as tf.TensorInfo);
				return one(args, xs, [xs.length], (p) => {
					const out = scratch.f32(p[xs.length], xs.length);
					xs.forEach((x, i) => (out[i] = ex.sum_squares(p[i], sizeOf(x.shape))));
				});
			}
		],
		[
			FUSED.adamW,
			(args) => {
				const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((k) => input(args, k));
				const backend = heap(args.backend);
				for (const t of [p, m, v])
					if (backend.dataIdMap.get(t.dataId).refCount !== 1)
						throw new Error('LabAdamW (wasm): a tensor updated in place shares its buffer with another tensor');
				const n = sizeOf(p.shape);
				const ptrs = scratch.layout([n, n, n, n]);
				[p, g, m, v].forEach((t, i) => scratch.f32(ptrs[i], n).set(backend.typedArrayFromHeap(t)));
				const h = ['lr', 'beta1', 'beta2', 'eps', 'bc1', 'bc2', 'decay', 'gradScale'].map((k) => Number(attr(args, k)));
				ex.adamw(ptrs[0], ptrs[1], ptrs[2], ptrs[3], n, ...h);
				[p, m, v].forEach((t, i) =>
					(backend.typedArrayFromHeap(t) as Float32Array).set(scratch.f32(ptrs[[0, 2, 3][i]], n))
				);
				return [];
			}
		]
	];
}

let registered: string | null = null;

/** The lab kernels' threads: the shared-memory build, how many, and how to start a helper. */
export interface KernelThreads {
	bytes: BufferSource;
	count: number;
	spawn: SpawnHelper;
}

/**
 * Instantiates the lab's kernels and registers them for the wasm backend (once): on `threads`
 * threads with the shared-memory build when given (and more than one), else on one. Returns what
 * runs, for the run's provenance.
 */
export async function registerWasmLabKernels(bytes: BufferSource, threads?: KernelThreads): Promise<string> {
	if (registered) return registered;
	let ex: LabKernelExports;
	let memory: WebAssembly.Memory;
	let pool: KernelPool;
	if (threads && threads.count > 1) {
		const module = await WebAssembly.compile(threads.bytes);
		memory = new WebAssembly.Memory({ initial: 2, maximum: 32768, shared: true });
		const instance = await WebAssembly.instantiate(module, { env: { memory } });
		ex = instance.exports as unknown as LabKernelExports;
		const all = instance.exports as unknown as Record<string, (...a: number[]) => unknown>;
		pool = threadPool(all, module, memory, THREADED, threads.count, threads.spawn);
	} else {
		memory = new WebAssembly.Memory({ initial: 2 });
		const { instance } = await WebAssembly.instantiate(bytes, { env: { memory } });
		ex = instance.exports as unknown as LabKernelExports;
		pool = onePool(instance.exports as unknown as Record<string, (...a: number[]) => unknown>);
	}
	for (const [kernelName, kernelFunc] of kernels(ex, memory, pool))
		tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
	registered = `the lab's fused kernels (kernels/lab_kernels.c) on ${pool.size} thread${pool.size === 1 ? '' : 's'}`;
	return registered;
}

/** Where the modules are, for a loader that fetches or reads them. */
export const LAB_KERNELS_URL = new URL('./labKernels.wasm', import.meta.url);
export const LAB_KERNELS_THREADS_URL = new URL('./labKernelsThreads.wasm', import.meta.url);
