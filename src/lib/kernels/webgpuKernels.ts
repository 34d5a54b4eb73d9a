// Fused WGSL kernels for the training step on tfjs's WebGPU backend (names and contracts in
// src/lib/core/model/fused.ts; why in docs/performance.md "WebGPU"). tfjs runs each op as its own
// dispatch, and its matmul, softmax and reductions share work through workgroup memory and
// barriers. These kernels give each invocation a whole row, column or 4×4 tile and use no
// barriers: fewer dispatches, and fast on SwiftShader (the CPU's WebGPU) as on a GPU; the products
// also have a tiled kernel with workgroup memory, kept where it measures faster (below). Inputs are
// read through f32(): tfjs's Cast from int32 shares the int32 buffer (the one-hot embedding).
// Every kernel is checked against the cpu backend in tests/fusedKernelsSuite.ts (run by tests/fusedKernels.test.ts).

import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ADAMW_ATTRS, FUSED, productLayout, rowsOf, sizeOf } from '../core/model/fused';

/** What tfjs-webgpu needs of a program (its WebGPUProgram interface, which it does not export). */
interface Program {
	outputShape: number[];
	shaderKey: string;
	dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
	dispatch: [number, number, number];
	variableNames: string[];
	workgroupSize: [number, number, number];
	uniforms: string;
	size: boolean;
	getUserCode(): string;
}

type Uniform = { type: 'int32' | 'float32'; data: number[] };
const i32 = (v: number): Uniform => ({ type: 'int32', data: [v] });
const f32 = (v: number): Uniform => ({ type: 'float32', data: [v] });

const ROW_GROUP = 64; // invocations per workgroup of the one-row-per-invocation kernels

/** A kernel with one invocation per item (row, column or element) and `main(index)`. */
interface PerItem {
	/** Shader cache key. */
	key: string;
	/** The inputs by the names the WGSL reads them with, e.g. { X: x, W: w }. */
	inputs: Record<string, tf.TensorInfo>;
	outputShape: number[];
	/** Invocations: one per row, column or element. */
	items: number;
	/** Uniforms after `items`, by name (WGSL i32 and f32). */
	ints?: Record<string, number>;
	floats?: Record<string, number>;
	/** WGSL functions the body calls. */
	prelude?: string;
	/** The body of main(index); `index` is below `uniforms.items`. */
	body: string;
}

function runPerItem(backend: unknown, k: PerItem): tf.TensorInfo {
	const ints = Object.entries(k.ints ?? {});
	const floats = Object.entries(k.floats ?? {});
	const program: Program = {
		outputShape: k.outputShape,
		shaderKey: k.key,
		dispatchLayout: { x: k.outputShape.map((_, i) => i) },
		dispatch: [Math.ceil(k.items / ROW_GROUP), 1, 1],
		variableNames: Object.keys(k.inputs),
		workgroupSize: [ROW_GROUP, 1, 1],
		uniforms: ['items : i32,', ...ints.map(([n]) => `${n} : i32,`), ...floats.map(([n]) => `${n} : f32,`)].join(' '),
		size: false,
		getUserCode: () =>
			`${k.prelude ?? ''}\nfn main(index : i32) {\n if (index >= uniforms.items) { return; }\n${k.body}\n}`
	};
	const uniforms = [i32(k.items), ...ints.map(([, v]) => i32(v)), ...floats.map(([, v]) => f32(v))];
	return run(backend as WebGPUBackend, program, Object.values(k.inputs), uniforms);
}

function run(backend: WebGPUBackend, p: Program, inputs: tf.TensorInfo[], uniforms: Uniform[]): tf.TensorInfo {
	return backend.runWebGPUProgram(p as never, inputs, 'float32', uniforms);
}

// ---- matmul: op(a) @ op(b) · alpha (+ bias), two kernels ----
// `rows`: each invocation a 4 × 4 tile straight from global memory, no shared memory, no barriers
// (fast on SwiftShader, where barriers are slow). `tiled`: a workgroup of 16 × 16 invocations
// computes a 64 × 64 tile, staging A's and B's K-slices of 16 in workgroup memory between barriers,
// each value read from global memory once per workgroup instead of once per invocation (what real
// GPUs need at large shapes). Which one runs for products of at least 64 × 64 is measured on the
// running adapter (chooseWebgpuProducts); smaller products always take `rows`.

export type ProductKernel = 'rows' | 'tiled';

const TILE = 4;
const MM_GROUP: [number, number, number] = [8, 8, 1];
const TILED_GROUP: [number, number, number] = [16, 16, 1];
const BIG = TILE * TILED_GROUP[0]; // 64: a tiled workgroup's rows and columns
const KT = 16; // the K-slice staged in workgroup memory

/** The 4 × 4 tile at (row0, col0) written from acc0 … acc3: alpha, then the bias, inside the bounds. */
function storeTile(bias: boolean): string {
	const rows = [0, 1, 2, 3];
	const biasLoad = bias
		? `let biasv = vec4<f32>(${rows.map((j) => `Bias[min(col0 + ${j}, uniforms.N - 1)]`).join(', ')});`
		: '';
	const stores = rows
		.map(
			(i) => `if (row0 + ${i} < uniforms.M) {
  let v${i} = acc${i} * uniforms.alpha${bias ? ' + biasv' : ''};
  for (var j = 0; j < 4; j++) { if (col0 + j < uniforms.N) { result[oBase + (row0 + ${i}) * uniforms.N + col0 + j] = v${i}[j]; } }
}`
		)
		.join('\n');
	return `${biasLoad}\n${stores}`;
}

const PRODUCT_UNIFORMS =
	'M : i32, N : i32, K : i32, aBatch : i32, aRow : i32, aCol : i32, bBatch : i32, bRow : i32, bCol : i32, alpha : f32,';

function matMulProgram(outputShape: number[], batch: number, M: number, N: number, bias: boolean): Program {
	const rows = [0, 1, 2, 3];
	const load = rows
		.map((i) => `let a${i} = f32(A[aBase + min(row0 + ${i}, uniforms.M - 1) * uniforms.aRow + k * uniforms.aCol]);`)
		.join('\n');
	const bvec = `vec4<f32>(${rows.map((j) => `f32(B[bBase + k * uniforms.bRow + min(col0 + ${j}, uniforms.N - 1) * uniforms.bCol])`).join(', ')})`;
	const fmas = rows.map((i) => `acc${i} = fma(vec4<f32>(a${i}), bv, acc${i});`).join('\n');
	return {
		outputShape,
		shaderKey: `lab_matmul_${bias}`,
		dispatchLayout: {
			x: [outputShape.length - 1],
			y: [outputShape.length - 2],
			z: outputShape.length === 3 ? [0] : []
		},
		dispatch: [Math.ceil(N / TILE / MM_GROUP[0]), Math.ceil(M / TILE / MM_GROUP[1]), batch],
		variableNames: bias ? ['A', 'B', 'Bias'] : ['A', 'B'],
		workgroupSize: MM_GROUP,
		uniforms: PRODUCT_UNIFORMS,
		size: false,
		getUserCode: () => `fn main() {
 let col0 = i32(globalId.x) * 4;
 let row0 = i32(globalId.y) * 4;
 let b = i32(globalId.z);
 if (row0 >= uniforms.M || col0 >= uniforms.N) { return; }
 let aBase = b * uniforms.aBatch;
 let bBase = b * uniforms.bBatch;
 let oBase = b * uniforms.M * uniforms.N;
 var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
 for (var k = 0; k < uniforms.K; k++) {
${load}
  let bv = ${bvec};
${fmas}
 }
${storeTile(bias)}
}`
	};
}

function matMulTiledProgram(outputShape: number[], batch: number, M: number, N: number, bias: boolean): Program {
	const group = TILED_GROUP[0] * TILED_GROUP[1]; // 256 invocations share the slices
	const perInvocation = (BIG * KT) / group; // 4 values of each slice a step
	const fmas = [0, 1, 2, 3]
		.map((i) => `   acc${i} = fma(vec4<f32>(As[(ty * 4 + ${i}) * ${KT} + k]), bv, acc${i});`)
		.join('\n');
	return {
		outputShape,
		shaderKey: `lab_matmul_tiled_${bias}`,
		dispatchLayout: {
			x: [outputShape.length - 1],
			y: [outputShape.length - 2],
			z: outputShape.length === 3 ? [0] : []
		},
		dispatch: [Math.ceil(N / BIG), Math.ceil(M / BIG), batch],
		variableNames: bias ? ['A', 'B', 'Bias'] : ['A', 'B'],
		workgroupSize: TILED_GROUP,
		uniforms: PRODUCT_UNIFORMS,
		size: false,
		// no early return: every invocation reaches every barrier (out-of-range values load as 0)
		getUserCode: () => `var<workgroup> As : array<f32, ${BIG * KT}>; // (64 rows of A, KT): row-major
var<workgroup> Bs : array<f32, ${KT * BIG}>; // (KT, 64 columns of B)
fn main() {
 let tx = i32(localId.x);
 let ty = i32(localId.y);
 let flat = ty * ${TILED_GROUP[0]} + tx;
 let tileRow = i32(workgroupId.y) * ${BIG};
 let tileCol = i32(workgroupId.x) * ${BIG};
 let b = i32(globalId.z);
 let aBase = b * uniforms.aBatch;
 let bBase = b * uniforms.bBatch;
 let oBase = b * uniforms.M * uniforms.N;
 var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
 for (var k0 = 0; k0 < uniforms.K; k0 += ${KT}) {
  for (var i = 0; i < ${perInvocation}; i++) {
   let e = flat + i * ${group};
   let ar = tileRow + e / ${KT};
   let ak = k0 + e % ${KT};
   var av = 0.0;
   if (ar < uniforms.M && ak < uniforms.K) { av = f32(A[aBase + ar * uniforms.aRow + ak * uniforms.aCol]); }
   As[e] = av;
   let bk = k0 + e / ${BIG};
   let bc = tileCol + e % ${BIG};
   var bv = 0.0;
   if (bk < uniforms.K && bc < uniforms.N) { bv = f32(B[bBase + bk * uniforms.bRow + bc * uniforms.bCol]); }
   Bs[e] = bv;
  }
  workgroupBarrier();
  for (var k = 0; k < ${KT}; k++) {
   let bv = vec4<f32>(Bs[k * ${BIG} + tx * 4], Bs[k * ${BIG} + tx * 4 + 1], Bs[k * ${BIG} + tx * 4 + 2], Bs[k * ${BIG} + tx * 4 + 3]);
${fmas}
  }
  workgroupBarrier();
 }
 let row0 = tileRow + ty * 4;
 let col0 = tileCol + tx * 4;
${storeTile(bias)}
}`
	};
}

/** Which kernel runs products of at least 64 × 64 (output) and K ≥ 16: measured, else `rows`. */
let largeProducts: ProductKernel = 'rows';

/** Sets the kernel for large products (chooseWebgpuProducts measures it; the tests force each). */
export function useLargeProductKernel(kernel: ProductKernel): void {
	largeProducts = kernel;
}

const isLarge = (M: number, N: number, K: number) => M >= BIG && N >= BIG && K >= KT;

function matMulKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) {
	const { a, b, bias } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
	const { transposeA, transposeB, alpha } = args.attrs as unknown as {
		transposeA: boolean;
		transposeB: boolean;
		alpha: number;
	};
	const { batch, M, N, K, outputShape, strides: st } = productLayout(a.shape, b.shape, transposeA, transposeB);
	const uniforms = [
		i32(M),
		i32(N),
		i32(K),
		i32(st.aBatch),
		i32(st.aRow),
		i32(st.aCol),
		i32(st.bBatch),
		i32(st.bRow),
		i32(st.bCol),
		f32(alpha ?? 1)
	];
	const make = largeProducts === 'tiled' && isLarge(M, N, K) ? matMulTiledProgram : matMulProgram;
	const program = make(outputShape, batch, M, N, bias !== undefined);
	return run(args.backend as WebGPUBackend, program, bias ? [a, b, bias] : [a, b], uniforms);
}

/** What the measurement found: the kernel kept and both times, for provenance. */
export interface ProductChoice {
	kernel: ProductKernel;
	/** ms of the measured products with each kernel (median of 3 after a warm-up). */
	rowsMs: number;
	tiledMs: number;
}

/**
 * Times both kernels on the running adapter over `shapes` (M, K, N products, e.g. a step's
 * largest) and keeps the faster for large products; the backend is webgpu. Cached per adapter and
 * shape list for the session.
 */
export async function chooseWebgpuProducts(shapes: [number, number, number][]): Promise<ProductChoice> {
	const inputs = shapes.map(([M, K, N]) => [tf.randomNormal([M, K]), tf.randomNormal([K, N])] as const);
	const time = async (kernel: ProductKernel) => {
		useLargeProductKernel(kernel);
		const runs: number[] = [];
		for (let i = 0; i < 4; i++) {
			const t = performance.now();
			const outs = inputs.map(([a, b]) =>
				tf.engine().runKernel(FUSED.matMul, { a, b }, { transposeA: false, transposeB: false, alpha: 1 } as never)
			) as tf.Tensor[];
			await Promise.all(outs.map((o) => o.data()));
			if (i > 0) runs.push(performance.now() - t);
			tf.dispose(outs);
		}
		return runs.sort((x, y) => x - y)[1];
	};
	try {
		const rowsMs = await time('rows');
		const tiledMs = await time('tiled');
		const kernel: ProductKernel = tiledMs < rowsMs ? 'tiled' : 'rows';
		useLargeProductKernel(kernel);
		return { kernel, rowsMs, tiledMs };
	} finally {
		tf.dispose(inputs.flat());
	}
}

// ---- column sums: the bias gradient ----

function columnSumKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const { x } = args.inputs as { x: tf.TensorInfo };
	const [R, C] = rowsOf(x);
	return runPerItem(args.backend, {
		key: 'lab_colsum',
		inputs: { X: x },
		outputShape: [C],
		items: C,
		ints: { R, C },
		body: ` var s = 0.0;
 for (var r = 0; r < uniforms.R; r++) { s += X[r * uniforms.C + index]; }
 result[index] = s;`
	});
}

// ---- causal softmax and its gradient, one row per invocation ----

function causalSoftmaxKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) {
	const { s } = args.inputs as { s: tf.TensorInfo };
	const { scale } = args.attrs as unknown as { scale: number };
	const [N, T, Tk] = s.shape; // (N, T, Tk): query i sees keys 0 … i + (Tk − T)
	return runPerItem(args.backend, {
		key: 'lab_causal_softmax',
		inputs: { S: s },
		outputShape: [N, T, Tk],
		items: N * T,
		ints: { T, Tk },
		floats: { scale },
		body: ` let base = index * uniforms.Tk;
 let last = index % uniforms.T + uniforms.Tk - uniforms.T;
 var mx = -3.402823e38;
 for (var j = 0; j <= last; j++) { mx = max(mx, S[base + j] * uniforms.scale); }
 var sum = 0.0;
 for (var j = 0; j <= last; j++) { sum += exp(S[base + j] * uniforms.scale - mx); }
 for (var j = 0; j < uniforms.Tk; j++) {
  result[base + j] = select(0.0, exp(S[base + j] * uniforms.scale - mx) / sum, j <= last);
 }`
	});
}

function softmaxGradKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) {
	const { p: probs, dp } = args.inputs as { p: tf.TensorInfo; dp: tf.TensorInfo };
	const { scale } = args.attrs as unknown as { scale: number };
	const [rows, L] = rowsOf(probs);
	return runPerItem(args.backend, {
		key: 'lab_softmax_grad',
		inputs: { P: probs, DP: dp },
		outputShape: probs.shape,
		items: rows,
		ints: { L },
		floats: { scale },
		body: ` let base = index * uniforms.L;
 var dot = 0.0;
 for (var j = 0; j < uniforms.L; j++) { dot += P[base + j] * DP[base + j]; }
 for (var j = 0; j < uniforms.L; j++) { result[base + j] = uniforms.scale * P[base + j] * (DP[base + j] - dot); }`
	});
}

// ---- LayerNorm: row statistics, normalisation, and the gradients ----

function rowStatsKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) {
	const { x } = args.inputs as { x: tf.TensorInfo };
	const { eps } = args.attrs as unknown as { eps: number };
	const [R, C] = rowsOf(x);
	return runPerItem(args.backend, {
		key: 'lab_row_stats',
		inputs: { X: x },
		outputShape: [R, 2],
		items: R,
		ints: { C },
		floats: { eps },
		body: ` let base = index * uniforms.C;
 var mean = 0.0;
 for (var c = 0; c < uniforms.C; c++) { mean += X[base + c]; }
 mean = mean / f32(uniforms.C);
 var v = 0.0;
 for (var c = 0; c < uniforms.C; c++) { let d = X[base + c] - mean; v += d * d; }
 result[index * 2] = mean;
 result[index * 2 + 1] = inverseSqrt(v / f32(uniforms.C) + uniforms.eps);`
	});
}

function layerNormKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const { x, stats, w, b } = args.inputs as Record<string, tf.TensorInfo>;
	const [R, C] = rowsOf(x);
	return runPerItem(args.backend, {
		key: 'lab_layer_norm',
		inputs: { X: x, Stats: stats, W: w, Bn: b },
		outputShape: x.shape,
		items: R * C,
		ints: { C },
		body: ` let r = index / uniforms.C;
 let c = index % uniforms.C;
 result[index] = (X[index] - Stats[r * 2]) * Stats[r * 2 + 1] * W[c] + Bn[c];`
	});
}

function layerNormGradXKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const { x, stats, w, dy } = args.inputs as Record<string, tf.TensorInfo>;
	const [R, C] = rowsOf(x);
	// dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · w
	return runPerItem(args.backend, {
		key: 'lab_layer_norm_dx',
		inputs: { X: x, Stats: stats, W: w, DY: dy },
		outputShape: x.shape,
		items: R,
		ints: { C },
		body: ` let base = index * uniforms.C;
 let mean = Stats[index * 2];
 let rstd = Stats[index * 2 + 1];
 var mg = 0.0;
 var mgx = 0.0;
 for (var c = 0; c < uniforms.C; c++) {
  let g = DY[base + c] * W[c];
  mg += g;
  mgx += g * (X[base + c] - mean) * rstd;
 }
 mg = mg / f32(uniforms.C);
 mgx = mgx / f32(uniforms.C);
 for (var c = 0; c < uniforms.C; c++) {
  let xhat = (X[base + c] - mean) * rstd;
  result[base + c] = rstd * (DY[base + c] * W[c] - mg - xhat * mgx);
 }`
	});
}

function layerNormGradWKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const { x, stats, dy } = args.inputs as Record<string, tf.TensorInfo>;
	const [R, C] = rowsOf(x);
	// dw[c] = Σ_r dy · x̂ (db[c] = Σ_r dy is a column sum)
	return runPerItem(args.backend, {
		key: 'lab_layer_norm_dw',
		inputs: { X: x, Stats: stats, DY: dy },
		outputShape: [C],
		items: C,
		ints: { R, C },
		body: ` var s = 0.0;
 for (var r = 0; r < uniforms.R; r++) {
  let i = r * uniforms.C + index;
  s += DY[i] * (X[i] - Stats[r * 2]) * Stats[r * 2 + 1];
 }
 result[index] = s;`
	});
}

// ---- cross-entropy and GELU ----

// max and Σ exp of row `base` of L (V wide): log-sum-exp = mx + log(sum)
const ROW_SOFTMAX_PRELUDE = `
fn rowMaxSum(base : i32) -> vec2<f32> {
 var mx = -3.402823e38;
 for (var j = 0; j < uniforms.V; j++) { mx = max(mx, L[base + j]); }
 var sum = 0.0;
 for (var j = 0; j < uniforms.V; j++) { sum += exp(L[base + j] - mx); }
 return vec2<f32>(mx, sum);
}`;

function tokenNllKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const { logits, targets } = args.inputs as Record<string, tf.TensorInfo>;
	const [N, V] = logits.shape; // (N, V), targets (N) int32
	return runPerItem(args.backend, {
		key: 'lab_token_nll',
		inputs: { L: logits, Tg: targets },
		outputShape: [N],
		items: N,
		ints: { V },
		prelude: ROW_SOFTMAX_PRELUDE,
		body: ` let base = index * uniforms.V;
 let ms = rowMaxSum(base);
 result[index] = ms.x + log(ms.y) - L[base + i32(Tg[index])];`
	});
}

function tokenNllGradKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const { logits, targets, dy } = args.inputs as Record<string, tf.TensorInfo>;
	const [N, V] = logits.shape;
	// d nll / d logits = softmax(logits) − onehot(target), times the upstream gradient of the row
	return runPerItem(args.backend, {
		key: 'lab_token_nll_grad',
		inputs: { L: logits, Tg: targets, DY: dy },
		outputShape: [N, V],
		items: N,
		ints: { V },
		prelude: ROW_SOFTMAX_PRELUDE,
		body: ` let base = index * uniforms.V;
 let ms = rowMaxSum(base);
 let t = i32(Tg[index]);
 let d = DY[index];
 for (var j = 0; j < uniforms.V; j++) {
  result[base + j] = d * (exp(L[base + j] - ms.x) / ms.y - select(0.0, 1.0, j == t));
 }`
	});
}

// GELU as in gpt.ts: x·σ(2u), u = √(2/π)(x + 0.044715x³)
const GELU_PRELUDE = `
fn geluSig(x : f32) -> f32 { return 1.0 / (1.0 + exp(-2.0 * 0.7978845608028654 * (x + 0.044715 * x * x * x))); }`;

function geluKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const { x } = args.inputs as { x: tf.TensorInfo };
	return runPerItem(args.backend, {
		key: 'lab_gelu',
		inputs: { X: x },
		outputShape: x.shape,
		items: sizeOf(x.shape),
		prelude: GELU_PRELUDE,
		body: ` let v = X[index];
 result[index] = v * geluSig(v);`
	});
}

function geluGradKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const { x, dy } = args.inputs as Record<string, tf.TensorInfo>;
	// d/dx x·σ(2u) = σ + x·σ(1 − σ)·2√(2/π)(1 + 3·0.044715x²)
	return runPerItem(args.backend, {
		key: 'lab_gelu_grad',
		inputs: { X: x, DY: dy },
		outputShape: x.shape,
		items: sizeOf(x.shape),
		prelude: GELU_PRELUDE,
		body: ` let v = X[index];
 let s = geluSig(v);
 result[index] = DY[index] * (s + v * s * (1.0 - s) * 2.0 * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * v * v));`
	});
}

// ---- optimizer: Σ x² and AdamW ----

/** Σ x² of up to 7 tensors, one invocation each → (k): terms of the global gradient norm. */
function sumSquaresKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) {
	const xs = Object.keys(args.inputs)
		.sort()
		.map((k) => args.inputs[k] as tf.TensorInfo);
	const loops = xs
		.map(
			(_, i) => `${i === 0 ? '' : 'else '}if (index == ${i}) {
  for (var i = 0; i < uniforms.n${i}; i++) { s = fma(f32(X${i}[i]), f32(X${i}[i]), s); }
 }`
		)
		.join(' ');
	return runPerItem(args.backend, {
		key: `lab_sum_squares_${xs.length}`,
		inputs: Object.fromEntries(xs.map((x, i) => [`X${i}`, x])),
		outputShape: [xs.length],
		items: xs.length,
		ints: Object.fromEntries(xs.map((x, i) => [`n${i}`, sizeOf(x.shape)])),
		body: ` var s = 0.0;
 ${loops}
 result[index] = s;`
	});
}

// ---- AdamW in place: p, m and v of one parameter in one dispatch ----
//
// tfjs gives a program one output buffer, so an update of three tensors would take three
// dispatches and three new buffers. This kernel records its own dispatch into tfjs's command
// encoder instead, with p, m and v bound read-write and updated where they are.

/** The parts of tfjs-webgpu's backend an in-place dispatch uses (not in its typings). */
interface BackendInternals {
	device: GPUDevice;
	commandEncoder: GPUCommandEncoder | null;
	computePassEncoder: GPUComputePassEncoder | null;
	dispatchCountInPass: number;
	commandQueueOwnedIds: WeakSet<object>;
	tensorMap: { get(dataId: object): { values: unknown; refCount: number } };
	uploadToGPU(dataId: object): void;
	tensorToBinding(t: tf.TensorInfo): GPUBindingResource;
	makeUniforms(u: Uniform[]): GPUBindingResource;
	ensureCommandEncoderReady(): void;
	endComputePassEncoder(): void;
	submitQueue(): void;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
/** WebGPU's default maxComputeWorkgroupsPerDimension. */
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

function pipelineFor(device: GPUDevice, key: string, code: string): GPUComputePipeline {
	let cache = pipelines.get(device);
	if (!cache) pipelines.set(device, (cache = new Map()));
	let pipeline = cache.get(key);
	if (!pipeline) {
		const module = device.createShaderModule({ code, label: key });
		pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
		cache.set(key, pipeline);
	}
	return pipeline;
}

/**
 * Records one dispatch of `code` (bindings: the tensors in order, then the uniforms) into tfjs's
 * command stream, as runWebGPUProgram would. Tensors in `written` must hold their buffer alone,
 * and must not be read back while the dispatch is queued (tfjs caches a read's values after it
 * resolves; the Trainer awaits every read before the next update).
 */
function dispatchInPlace(
	backend: BackendInternals,
	key: string,
	code: string,
	tensors: tf.TensorInfo[],
	written: tf.TensorInfo[],
	uniforms: Uniform[],
	workgroups: number
): void {
	for (const t of written) {
		if (backend.tensorMap.get(t.dataId).refCount !== 1) {
			throw new Error(`${key}: a tensor updated in place shares its buffer with another tensor`);
		}
	}
	tensors.forEach((t) => backend.uploadToGPU(t.dataId));
	const pipeline = pipelineFor(backend.device, key, code);
	const entries = [...tensors.map((t) => backend.tensorToBinding(t)), backend.makeUniforms(uniforms)];
	const bindGroup = backend.device.createBindGroup({
		layout: pipeline.getBindGroupLayout(0),
		entries: entries.map((resource, binding) => ({ binding, resource }))
	});
	backend.ensureCommandEncoderReady();
	backend.computePassEncoder ??= backend.commandEncoder!.beginComputePass({});
	backend.computePassEncoder.setPipeline(pipeline);
	backend.computePassEncoder.setBindGroup(0, bindGroup);
	// at most 65535 workgroups a dimension: larger counts spill into y (the kernel flattens x, y)
	const x = Math.min(workgroups, MAX_WORKGROUPS_PER_DIMENSION);
	backend.computePassEncoder.dispatchWorkgroups(x, Math.ceil(workgroups / x));
	tensors.forEach((t) => backend.commandQueueOwnedIds.add(t.dataId)); // kept alive until submitted
	written.forEach((t) => (backend.tensorMap.get(t.dataId).values = null)); // a CPU copy is stale now
	backend.dispatchCountInPass++;
	if (backend.dispatchCountInPass >= Number(tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'))) {
		backend.endComputePassEncoder();
		backend.submitQueue();
	}
}

// the same update as AdamW.step (src/lib/core/train/adamw.ts)
const ADAMW_WGSL = `
struct U { n : i32, ${ADAMW_ATTRS.map((u) => `${u} : f32`).join(', ')} };
@group(0) @binding(0) var<storage, read_write> P : array<f32>;
@group(0) @binding(1) var<storage, read> G : array<f32>;
@group(0) @binding(2) var<storage, read_write> M : array<f32>;
@group(0) @binding(3) var<storage, read_write> V : array<f32>;
@group(0) @binding(4) var<uniform> u : U;
@compute @workgroup_size(${ROW_GROUP})
fn main(@builtin(global_invocation_id) id : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
 let i = i32(id.y * groups.x * ${ROW_GROUP}u + id.x);
 if (i >= u.n) { return; }
 let g = G[i] * u.gradScale;
 let m = M[i] * u.beta1 + g * (1.0 - u.beta1);
 let v = V[i] * u.beta2 + g * g * (1.0 - u.beta2);
 M[i] = m;
 V[i] = v;
 P[i] = P[i] * u.decay - (m / u.bc1) / (sqrt(v / u.bc2) + u.eps) * u.lr;
}`;

function adamWKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) {
	const { p, g, m, v } = args.inputs as Record<string, tf.TensorInfo>;
	const a = args.attrs as unknown as Record<(typeof ADAMW_ATTRS)[number], number>;
	const n = sizeOf(p.shape);
	const uniforms = [i32(n), ...ADAMW_ATTRS.map((k) => f32(a[k]))];
	const backend = args.backend as BackendInternals;
	dispatchInPlace(
		backend,
		'lab_adamw_in_place',
		ADAMW_WGSL,
		[p, g, m, v],
		[p, m, v],
		uniforms,
		Math.ceil(n / ROW_GROUP)
	);
	return [];
}

/** The product the choice is timed on: 512 × 128 × 512 (67 MFLOP, well under a second on SwiftShader). */
const CHOICE_SHAPES: [number, number, number][] = [[512, 128, 512]];
let choiceNote: Promise<string> | null = null;

/**
 * Measures the product kernels once per session on the running webgpu adapter (the lab calls it
 * when webgpu starts) and says what it kept, for the run's provenance.
 */
export function chooseWebgpuProductsOnce(): Promise<string> {
	choiceNote ??= chooseWebgpuProducts(CHOICE_SHAPES).then((c) => {
		const [M, K, N] = CHOICE_SHAPES[0];
		const name = { rows: '4 × 4 tiles an invocation', tiled: 'shared-memory 64 × 64 tiles' };
		const other: ProductKernel = c.kernel === 'rows' ? 'tiled' : 'rows';
		const ms = (k: ProductKernel) => (k === 'rows' ? c.rowsMs : c.tiledMs).toFixed(1);
		return (
			`webgpu: products of 64 × 64 and more on ${name[c.kernel]} (${ms(c.kernel)} ms), ` +
			`faster here than ${name[other]} (${ms(other)} ms), timed on ${M} × ${K} × ${N}`
		);
	});
	return choiceNote;
}

let registered = false;

/** Registers the fused kernels for the webgpu backend (once; the model uses them when present). */
export function registerWebgpuKernels(): void {
	if (registered) return;
	registered = true;
	const kernels: [string, (args: never) => tf.TensorInfo | tf.TensorInfo[]][] = [
		[FUSED.matMul, matMulKernel],
		[FUSED.columnSum, columnSumKernel],
		[FUSED.causalSoftmax, causalSoftmaxKernel],
		[FUSED.softmaxGrad, softmaxGradKernel],
		[FUSED.rowStats, rowStatsKernel],
		[FUSED.layerNorm, layerNormKernel],
		[FUSED.layerNormGradX, layerNormGradXKernel],
		[FUSED.layerNormGradW, layerNormGradWKernel],
		[FUSED.tokenNll, tokenNllKernel],
		[FUSED.tokenNllGrad, tokenNllGradKernel],
		[FUSED.gelu, geluKernel],
		[FUSED.geluGrad, geluGradKernel],
		[FUSED.sumSquares, sumSquaresKernel],
		[FUSED.adamW, adamWKernel]
	];
	for (const [kernelName, kernelFunc] of kernels) {
		tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
	}
}
