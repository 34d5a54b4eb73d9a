// The fused kernels (src/lib/core/model/fused.ts) for the wasm backend, run by the lab's own wasm
// module (kernels/lab_kernels.c → labKernels.wasm: 128-bit SIMD, no libc). The module runs on
// tfjs's own WebAssembly.Memory: kernels read and write tensors where they are (AdamW updates p, m
// and v in place). Every kernel but Σx² splits its rows, columns or values over a pool of threads
// (kernelPool.ts) when tfjs's memory is shared and there is enough work. Registered once the
// module's bytes are loaded: by the CLI from disk (src/cli/nodeBackend.ts), by the worker over
// fetch (worker/backends.ts).

import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_ATTRS, FUSED, productLayout, rowsOf, sizeOf } from '../core/model/fused';
import { onePool, threadPool, type KernelPool, type SpawnHelper } from './kernelPool';

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use. */
interface WasmBackendInternals {
	makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
	dataIdMap: { get(dataId: tf.DataId): { refCount: number; memoryOffset: number } };
	/** tfjs's emscripten module: its allocator, and its memory (`asm.memory`, or `wasmMemory` when threaded). */
	wasm: {
		_malloc(bytes: number): number;
		_free(ptr: number): void;
		asm?: { memory?: WebAssembly.Memory };
		wasmMemory?: WebAssembly.Memory;
	};
}

type Ptr = number;
/** labKernels.wasm's exports (kernels/lab_kernels.c). */
interface LabKernelExports {
	sum_squares(x: Ptr, n: number): number;
}

/** The kernels split over threads (each takes a range r0, r1 of rows, columns or values, and a scratch pointer, last). */
const THREADED = [
	'matmul',
	'matmul_rows',
	'causal_softmax',
	'softmax_grad',
	'gelu',
	'gelu_grad',
	'attention',
	'attention_grad',
	'column_sum',
	'row_stats',
	'layer_norm',
	'layer_norm_grad_x',
	'layer_norm_grad_w',
	'token_nll',
	'token_nll_grad',
	'adamw',
	'embedding',
	'embedding_grad'
];

/** Values a thread's share of a row or elementwise kernel has at least: below it, one thread runs it. */
const LEAST_SHARE = 262_144;
/** Multiply-adds a thread's share of a product has at least (a decoding step's are far fewer). */
const LEAST_PRODUCT_SHARE = 131_072;

/** A product's epilogue (lab_kernels.c EPI_*): what it does to each finished value. */
const EPI = { none: 0, gelu: 1, geluGrad: 2, add: 3 } as const;

/** Rows of K, columns of B and rows of A a product packs at a time (lab_kernels.c KC, NC, MC). */
const PRODUCT_KC = 256;
const PRODUCT_NC = 256;
const PRODUCT_MC = 64;

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** How the kernels reach tensors: in tfjs's own memory, where they live (pointers are the tensors' offsets; scratch from tfjs's allocator). */
class TfjsHeap {
	constructor(private readonly memory: WebAssembly.Memory) {}

	private offset(b: WasmBackendInternals, t: tf.TensorInfo): Ptr {
		return b.dataIdMap.get(t.dataId).memoryOffset;
	}

	/** Runs `body` on pointers to the inputs, new outputs of `shapes`, and `extra` scratch arrays (counts of f32). */
	call(
		backend: WasmBackendInternals,
		ins: tf.TensorInfo[],
		shapes: number[][],
		body: (p: Ptr[]) => void,
		extra: number[]
	): tf.TensorInfo[] {
		const results = shapes.map((shape) => backend.makeOutput(shape, 'float32'));
		const scratch = extra.map((n) => backend.wasm._malloc(n * 4));
		try {
			body([...[...ins, ...results].map((t) => this.offset(backend, t)), ...scratch]);
		} finally {
			scratch.forEach((p) => backend.wasm._free(p));
		}
		return results;
	}

	/** Pointers to tensors (updated in place). */
	at(backend: WasmBackendInternals, ts: tf.TensorInfo[]): Ptr[] {
		return ts.map((t) => this.offset(backend, t));
	}

	/** A view of the memory. */
	f32(p: Ptr, n: number): Float32Array {
		return new Float32Array(this.memory.buffer, p, n);
	}
}

/** The module's instance, how it reaches tensors, and its threads. */
interface Runtime {
	ex: LabKernelExports;
	heap: TfjsHeap;
	pool: KernelPool;
}

/** The kernels, run by the runtime `runtimeFor` gives for the backend of each call. */
function kernels(
	runtimeFor: (backend: WasmBackendInternals) => Runtime
): [string, (args: Args) => tf.TensorInfo | tf.TensorInfo[]][] {
	const none = () => 0;
	/** Rows (or columns) a thread's share needs for LEAST_SHARE values, `per` values each. */
	const rowsFor = (per: number) => Math.ceil(LEAST_SHARE / per);
	const heap = (b: unknown) => b as WasmBackendInternals;
	const rt = (args: Args) => runtimeFor(heap(args.backend));

	/** A kernel with one output of `shape`: `body` gets pointers to the inputs, the output, then `extra`. */
	const one = (args: Args, ins: tf.TensorInfo[], shape: number[], body: (p: Ptr[]) => void, extra: number[] = []) =>
		rt(args).heap.call(heap(args.backend), ins, [shape], body, extra)[0];
	const input = (args: Args, name: string) => args.inputs[name] as tf.TensorInfo;
	const attr = (args: Args, name: string) => (args.attrs as unknown as Record<string, number | boolean>)[name];

	/**
	 * A product op(a) @ op(b) · alpha (+ bias) through an epilogue: GELU (a second output, the
	 * pre-activation h), GELU's gradient (input h), or a residual added (input r).
	 */
	const product = (args: Args, epi: number): tf.TensorInfo | tf.TensorInfo[] => {
		const [a, b, bias] = [input(args, 'a'), input(args, 'b'), args.inputs.bias as tf.TensorInfo | undefined];
		const auxIn = epi === EPI.geluGrad ? input(args, 'h') : epi === EPI.add ? input(args, 'r') : undefined;
		const [transposeA, transposeB] = [attr(args, 'transposeA'), attr(args, 'transposeB')];
		const {
			batch,
			M,
			N,
			K,
			outputShape: shape,
			strides: st
		} = productLayout(a.shape, b.shape, Boolean(transposeA), Boolean(transposeB));
		const ins = [a, b, ...(bias ? [bias] : []), ...(auxIn ? [auxIn] : [])];
		const shapes = epi === EPI.gelu ? [shape, shape] : [shape]; // GELU also returns h
		const { heap: h, pool } = rt(args);
		// per thread: a block of B in panels of 8 columns (at most KC × NC values), then one of A's
		// rows in groups of 4 (KC × MC values)
		const packSize = Math.min(K, PRODUCT_KC) * (Math.min(PRODUCT_NC, Math.ceil(N / 8) * 8) + PRODUCT_MC);
		const outs = h.call(
			heap(args.backend),
			ins,
			shapes,
			(p) => {
				const pbias = bias ? p[2] : 0;
				const pc = p[ins.length];
				const paux = epi === EPI.gelu ? p[ins.length + 1] : auxIn ? p[ins.length - 1] : 0;
				const packs = p[ins.length + shapes.length];
				const strides = [st.aBatch, st.aRow, st.aCol, st.bBatch, st.bRow, st.bCol];
				const alpha = Number(attr(args, 'alpha') ?? 1);
				// threads split the longer side: the rows (in fours, the register block's), each thread
				// reading its own rows of A and packing all of B; or the columns (in panels of 8), each
				// packing only its own part of B and reading all of A
				const byRows = M > N;
				const [side, other] = byRows ? [M, N] : [N, M];
				pool.run(
					byRows ? 'matmul_rows' : 'matmul',
					[p[0], p[1], pbias, pc, batch, M, N, K, ...strides, alpha, paux, epi],
					side,
					byRows ? 4 : 8,
					(part: number) => packs + part * packSize * 4,
					Math.ceil(LEAST_PRODUCT_SHARE / (batch * other * K)) // rows or columns a share needs to be worth a thread
				);
			},
			[packSize * pool.size]
		);
		return epi === EPI.gelu ? outs : outs[0];
	};

	return [
		[FUSED.matMul, (args) => product(args, EPI.none)],
		[FUSED.linearGelu, (args) => product(args, EPI.gelu)],
		[FUSED.productGeluGrad, (args) => product(args, EPI.geluGrad)],
		[FUSED.linearAdd, (args) => product(args, EPI.add)],
		[
			FUSED.columnSum,
			(args) => {
				const x = input(args, 'x');
				const [R, C] = rowsOf(x);
				return one(args, [x], [C], ([px, out]) =>
					rt(args).pool.run('column_sum', [px, out, R, C], C, 16, none, rowsFor(R))
				);
			}
		],
		[
			FUSED.causalSoftmax,
			(args) => {
				const s = input(args, 's');
				const [N, T, Tk] = s.shape; // (N, T, Tk)
				return one(args, [s], s.shape, ([ps, out]) =>
					rt(args).pool.run(
						'causal_softmax',
						[ps, out, N, T, Tk, Number(attr(args, 'scale'))],
						N * T,
						1,
						none,
						rowsFor(Tk)
					)
				);
			}
		],
		[
			FUSED.softmaxGrad,
			(args) => {
				const [p, dp] = [input(args, 'p'), input(args, 'dp')];
				const [rows, L] = rowsOf(p);
				return one(args, [p, dp], p.shape, ([pp, pdp, out]) =>
					rt(args).pool.run(
						'softmax_grad',
						[pp, pdp, out, rows, L, Number(attr(args, 'scale'))],
						rows,
						1,
						none,
						rowsFor(L)
					)
				);
			}
		],
		[
			FUSED.attention,
			(args) => {
				const qkv = input(args, 'qkv');
				const { B, T, nh, hs, pack } = attentionSizes(qkv.shape, Number(attr(args, 'nHead')));
				const { heap: h, pool } = rt(args);
				const scratch = 2 * pack; // Kᵀ and V of one head, per thread
				const shapes = [
					[B, T, nh * hs],
					[B, nh, T, T]
				];
				return h.call(
					heap(args.backend),
					[qkv],
					shapes,
					([pq, py, pp, ps]) =>
						pool.run(
							'attention',
							[pq, py, pp, B, T, nh, hs, 1 / Math.sqrt(hs)],
							B * nh,
							1,
							(i) => ps + i * scratch * 4
						),
					[scratch * pool.size]
				);
			}
		],
		[
			FUSED.attentionGrad,
			(args) => {
				const [qkv, p, dy] = [input(args, 'qkv'), input(args, 'p'), input(args, 'dy')];
				const { B, T, nh, hs, pack } = attentionSizes(qkv.shape, Number(attr(args, 'nHead')));
				const { pool } = rt(args);
				const scratch = T * T + 4 * pack; // dS, and dY, Vᵀ, K, Q of one head, per thread
				return one(
					args,
					[qkv, p, dy],
					qkv.shape,
					([pq, pp, pd, out, ps]) =>
						pool.run(
							'attention_grad',
							[pq, pp, pd, out, B, T, nh, hs, 1 / Math.sqrt(hs)],
							B * nh,
							1,
							(i) => ps + i * scratch * 4
						),
					[scratch * pool.size]
				);
			}
		],
		[
			FUSED.embedding,
			(args) => {
				const [tokens, table] = [input(args, 'tokens'), input(args, 'table')];
				const [V, C] = table.shape; // (V, C)
				const N = sizeOf(tokens.shape);
				return one(args, [tokens, table], [N, C], ([pt, pw, out]) =>
					rt(args).pool.run('embedding', [pt, pw, out, N, V, C], N, 1, none, rowsFor(C))
				);
			}
		],
		[
			FUSED.embeddingGrad,
			(args) => {
				const [tokens, dy] = [input(args, 'tokens'), input(args, 'dy')];
				const [N, C] = rowsOf(dy); // (N, C)
				const V = Number(attr(args, 'vocab'));
				return one(args, [tokens, dy], [V, C], ([pt, pd, out]) =>
					rt(args).pool.run('embedding_grad', [pt, pd, out, N, V, C], C, 16, none, rowsFor(N))
				);
			}
		],
		[
			FUSED.rowStats,
			(args) => {
				const x = input(args, 'x');
				const [R, C] = rowsOf(x);
				return one(args, [x], [R, 2], ([px, out]) =>
					rt(args).pool.run('row_stats', [px, out, R, C, Number(attr(args, 'eps'))], R, 1, none, rowsFor(C))
				);
			}
		],
		[
			FUSED.layerNorm,
			(args) => {
				const [x, stats, w, b] = ['x', 'stats', 'w', 'b'].map((k) => input(args, k));
				const [R, C] = rowsOf(x);
				return one(args, [x, stats, w, b], x.shape, ([px, ps, pw, pb, out]) =>
					rt(args).pool.run('layer_norm', [px, ps, pw, pb, out, R, C], R, 1, none, rowsFor(C))
				);
			}
		],
		[
			FUSED.layerNormGradX,
			(args) => {
				const [x, stats, w, dy] = ['x', 'stats', 'w', 'dy'].map((k) => input(args, k));
				const [R, C] = rowsOf(x);
				return one(args, [x, stats, w, dy], x.shape, ([px, ps, pw, pd, out]) =>
					rt(args).pool.run('layer_norm_grad_x', [px, ps, pw, pd, out, R, C], R, 1, none, rowsFor(C))
				);
			}
		],
		[
			FUSED.layerNormGradW,
			(args) => {
				const [x, stats, dy] = ['x', 'stats', 'dy'].map((k) => input(args, k));
				const [R, C] = rowsOf(x);
				return one(args, [x, stats, dy], [C], ([px, ps, pd, out]) =>
					rt(args).pool.run('layer_norm_grad_w', [px, ps, pd, out, R, C], C, 16, none, rowsFor(R))
				);
			}
		],
		[
			FUSED.tokenNll,
			(args) => {
				const [logits, targets] = [input(args, 'logits'), input(args, 'targets')];
				const [N, V] = logits.shape; // (N, V), targets (N) int32
				return one(args, [logits, targets], [N], ([pl, pt, out]) =>
					rt(args).pool.run('token_nll', [pl, pt, out, N, V], N, 1, none, rowsFor(V))
				);
			}
		],
		[
			FUSED.tokenNllGrad,
			(args) => {
				const [logits, targets, dy] = [input(args, 'logits'), input(args, 'targets'), input(args, 'dy')];
				const [N, V] = logits.shape;
				return one(args, [logits, targets, dy], [N, V], ([pl, pt, pd, out]) =>
					rt(args).pool.run('token_nll_grad', [pl, pt, pd, out, N, V], N, 1, none, rowsFor(V))
				);
			}
		],
		[
			FUSED.gelu,
			(args) => {
				const x = input(args, 'x');
				const n = sizeOf(x.shape);
				return one(args, [x], x.shape, ([px, out]) => rt(args).pool.run('gelu', [px, out, n], n, 4, none, LEAST_SHARE));
			}
		],
		[
			FUSED.geluGrad,
			(args) => {
				const [x, dy] = [input(args, 'x'), input(args, 'dy')];
				const n = sizeOf(x.shape);
				return one(args, [x, dy], x.shape, ([px, pd, out]) =>
					rt(args).pool.run('gelu_grad', [px, pd, out, n], n, 4, none, LEAST_SHARE)
				);
			}
		],
		[
			FUSED.sumSquares,
			(args) => {
				const xs = Object.keys(args.inputs)
					.sort()
					.map((k) => args.inputs[k] as tf.TensorInfo);
				const { ex, heap: h } = rt(args);
				return one(args, xs, [xs.length], (p) => {
					const sums = xs.map((x, i) => ex.sum_squares(p[i], sizeOf(x.shape)));
					h.f32(p[xs.length], xs.length).set(sums);
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
				const h = ADAMW_ATTRS.map((k) => Number(attr(args, k)));
				const { pool, heap: where } = rt(args);
				const q = where.at(backend, [p, g, m, v]);
				pool.run('adamw', [q[0], q[1], q[2], q[3], n, ...h], n, 4, none, LEAST_SHARE);
				return [];
			}
		]
	];
}

/** Sizes of fused attention on qkv (B, T, 3C) with nh heads; `pack`: values in one packed head operand (lab_kernels.c pack_size). */
function attentionSizes(shape: number[], nh: number) {
	const [B, T, C3] = shape;
	const hs = C3 / 3 / nh;
	const ceil8 = (n: number) => Math.ceil(n / 8) * 8;
	return { B, T, nh, hs, pack: ceil8(T) * ceil8(hs) };
}

/** Once registered: prepares the module for the wasm backend instance (once) and says how it runs. */
let registered: ((backend: unknown) => Promise<KernelMode>) | null = null;

/** The lab kernels' threads: the shared-memory build, how many, and how to start a helper. */
export interface KernelThreads {
	bytes: BufferSource;
	count: number;
	spawn: SpawnHelper;
}

/** How the kernels run (always in tfjs's memory): on how many threads; why not on more. */
export type KernelMode = { threads: number; fallback?: string };

/**
 * Registers the lab's kernels for the wasm backend (once). The module runs on tfjs's own
 * WebAssembly.Memory, on the tensors where they are: the one-thread build where that memory is
 * plain, the shared-memory build where it is shared (tfjs's threaded build: isolated pages, and
 * Node with threads, src/cli/wasmThreadedBuild.ts), with `threads.count` threads.
 * Returns `prepare(backend)`, which both entries await right after the wasm backend starts: it
 * instantiates the module for that backend, starts the helper threads (waiting until they run),
 * and says how it runs (for the run's provenance). Threads that cannot start, or a memory that is
 * not shared, leave one thread, and the note says why.
 */
export async function registerWasmLabKernels(
	bytes: BufferSource,
	threads?: KernelThreads
): Promise<(backend: unknown) => Promise<KernelMode>> {
	if (registered) return registered;
	const one = await WebAssembly.compile(bytes);
	const shared = threads ? await WebAssembly.compile(threads.bytes) : null;
	let runtime: Runtime | null = null;
	let mode: KernelMode = { threads: 1 };
	const exportsOf = (i: WebAssembly.Instance) => i.exports as unknown as LabKernelExports;
	const all = (i: WebAssembly.Instance) => i.exports as unknown as Record<string, (...a: number[]) => unknown>;
	/** tfjs's memory, and whether it is shared. */
	const memoryOf = (backend: WasmBackendInternals) => {
		const memory = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
		if (!memory)
			throw new Error("the lab's wasm kernels need tfjs's WebAssembly.Memory, which this tfjs does not expose");
		return { memory, isShared: typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer };
	};
	/** The module on tfjs's memory, on the calling thread alone. */
	const oneThread = (backend: WasmBackendInternals): Runtime => {
		const { memory, isShared } = memoryOf(backend);
		const module = isShared ? shared : one;
		if (!module) throw new Error("tfjs's wasm memory is shared, and the lab's shared-memory kernels were not loaded");
		const instance = new WebAssembly.Instance(module, { env: { memory } });
		return { ex: exportsOf(instance), heap: new TfjsHeap(memory), pool: onePool(all(instance)) };
	};
	// a kernel before prepare() (never in the lab: both entries prepare first) runs on one thread
	const runtimeFor = (backend: WasmBackendInternals): Runtime => (runtime ??= oneThread(backend));
	for (const [kernelName, kernelFunc] of kernels(runtimeFor))
		tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
	/** How the module runs for `backend`: on one thread, or on `threads.count` where tfjs's memory is shared. */
	const start = async (b: WasmBackendInternals): Promise<[Runtime, KernelMode]> => {
		const { memory, isShared } = memoryOf(b);
		if (!threads || threads.count === 1 || !shared) return [oneThread(b), { threads: 1 }];
		if (!isShared)
			return [
				oneThread(b),
				{ threads: 1, fallback: "tfjs's wasm memory is not shared (its threaded build did not start)" }
			];
		const instance = new WebAssembly.Instance(shared, { env: { memory } });
		try {
			const pool = await threadPool(all(instance), shared, memory, THREADED, threads.count, threads.spawn);
			return [{ ex: exportsOf(instance), heap: new TfjsHeap(memory), pool }, { threads: threads.count }];
		} catch (err) {
			return [oneThread(b), { threads: 1, fallback: (err as Error).message }];
		}
	};
	registered = async (backend: unknown) => {
		if (!runtime) [runtime, mode] = await start(backend as WasmBackendInternals);
		return mode;
	};
	return registered;
}

/** A run's provenance line for a kernel mode. */
export function kernelModeNote(mode: KernelMode): string {
	const fallback = mode.fallback ? ` (threads could not start: ${mode.fallback})` : '';
	return `wasm: the lab's fused kernels (kernels/lab_kernels.c), in tfjs's memory, on ${threadCount(mode.threads)}${fallback}`;
}

/** "1 thread", "2 threads". */
export const threadCount = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;

/** Where the modules are, for a loader that fetches or reads them. */
export const LAB_KERNELS_URL = new URL('./labKernels.wasm', import.meta.url);
export const LAB_KERNELS_THREADS_URL = new URL('./labKernelsThreads.wasm', import.meta.url);
