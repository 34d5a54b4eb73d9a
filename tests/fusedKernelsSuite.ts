// The fused-kernel suite: each fused kernel — WebGPU's (src/lib/kernels/webgpuKernels.ts) and the
// lab's wasm module's (src/lib/kernels/wasmLabKernels.ts, kernels/lab_kernels.c) — against the
// composite tfjs ops on the cpu backend: values and gradients, odd shapes (T = 1, 7, 127; C not a
// multiple of 4). Run by tests/fusedKernels*.test.ts, once per way the wasm kernels can run.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { layerNorm, tokenNll } from '../src/lib/core/model/gpt';
import { useFusedKernels } from '../src/lib/core/model/chooseOps';
import {
	fusedAttention,
	fusedCausalSoftmax,
	fusedEmbedding,
	fusedLinearAdd,
	fusedMlp,
	fusedGelu,
	fusedLinear,
	fusedSumSquares
} from '../src/lib/core/model/fusedOps';
import { Mt19937 } from '../src/lib/core/prng';
import { AdamW } from '../src/lib/core/train/adamw';
import { modelOps } from '../src/lib/core/model/chooseOps';
import { backend } from './helpers';

/** The active backend's products (the model seam's choice for it). */
const product = <T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, tA = false, tB = false) =>
	modelOps().product(a, b, tA, tB);
const matMulTransposeB = (a: tf.Tensor3D, b: tf.Tensor3D) => modelOps().matMulTransposeB(a, b);

const rng = new Mt19937(7);
const randn = (n: number) => Float32Array.from({ length: n }, () => rng.normal());

/** The backend under test (its fused kernels), set by each describe block below. */
let fusedBackend: 'webgpu' | 'wasm' = 'webgpu';

/** Runs `f` on cpu (composite ops) and the fused backend, returning both results as arrays. */
async function both(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
	const out: Float32Array[][] = [];
	for (const name of ['cpu', fusedBackend] as const) {
		await backend(name);
		const r = tf.tidy(f);
		const list = Array.isArray(r) ? r : [r];
		out.push(await Promise.all(list.map(async (t) => (await t.data()) as Float32Array)));
		tf.dispose(list);
	}
	return [out[0], out[1]];
}

function close(want: Float32Array[], got: Float32Array[], tol = 1e-5) {
	expect(got.length).toBe(want.length);
	want.forEach((w, i) => {
		expect(got[i].length).toBe(w.length);
		// loops, not Math.max(...): a spread of half a million arguments overflows the stack
		let [scale, worst] = [1e-6, 0];
		w.forEach((v, j) => {
			scale = Math.max(scale, Math.abs(v));
			worst = Math.max(worst, Math.abs(v - got[i][j]));
		});
		expect(worst / scale, `output ${i}`).toBeLessThan(tol);
	});
}

const gelu = (x: tf.Tensor) => {
	// gpt.ts's composite form, for the cpu side
	const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))));
	return tf.mul(x, tf.sigmoid(tf.mul(2, inner)));
};
const onFused = () => tf.getBackend() === fusedBackend;

/** Each fused kernel of `backends` against the cpu backend's composite ops. */
export function fusedKernelSuite(backends: ('webgpu' | 'wasm')[]) {
	describe.each(backends)('fused %s kernels against the cpu backend', (name) => {
		useFusedKernels(true);
		beforeAll(() => {
			fusedBackend = name;
		});
		for (const [M, K, N] of [
			[1, 7, 5],
			[7, 13, 3],
			[33, 64, 127],
			[5, 515, 9], // K over two blocks of 256 (lab_kernels.c KC), the bias added once
			[515, 7, 9], // dw = xᵀ·dy with K = 515: a transposed A over blocks
			[130, 515, 300], // rows over blocks of 64 (MC), columns over blocks of 256 (NC), each with a part left
			[700, 300, 20] // more rows than columns: threads split the rows (matmul_rows), A plain and transposed
		]) {
			it(`matmul with bias and its gradients, ${M}×${K}×${N}`, async () => {
				const [x, w, b, dy] = [randn(M * K), randn(K * N), randn(N), randn(M * N)];
				const [want, got] = await both(() => {
					const xt = tf.tensor2d(x, [M, K]);
					const wt = tf.tensor2d(w, [K, N]);
					const bt = tf.tensor1d(b);
					const f = (a: tf.Tensor2D, c: tf.Tensor2D, d: tf.Tensor1D) =>
						onFused() ? fusedLinear(a, c, d) : tf.add(tf.matMul(a, c), d);
					const { value, grads } = tf.valueAndGrads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
						tf.sum(tf.mul(f(a as tf.Tensor2D, c as tf.Tensor2D, d as tf.Tensor1D), tf.tensor2d(dy, [M, N])))
					)([xt, wt, bt]);
					return [f(xt, wt, bt), value, ...grads];
				});
				// the product and the gradients to 1e-5; the value is a sum of M·N terms whose float32
				// rounding alone reaches 1e-5 of it at 700 × 20 (different summation orders), so 1e-4
				const [[wantY, wantValue, ...wantGrads], [gotY, gotValue, ...gotGrads]] = [want, got];
				close([wantY, ...wantGrads], [gotY, ...gotGrads]);
				close([wantValue], [gotValue], 1e-4);
			});
		}

		it('batched and transposed products, no two sides equal (N, M, K, P = 3, 7, 5, 4)', async () => {
			const [a, b, c] = [randn(3 * 7 * 5), randn(3 * 4 * 5), randn(3 * 7 * 4)];
			const [want, got] = await both(() => {
				const at = tf.tensor3d(a, [3, 7, 5]); // (N, M, K)
				const bt = tf.tensor3d(b, [3, 4, 5]); // (N, P, K)
				const ct = tf.tensor3d(c, [3, 7, 4]); // (N, M, P)
				return [
					product(at, bt, false, true), // (N, M, P)
					product(at, ct, true, false), // (N, K, P)
					product(ct, bt) // (N, M, K)
				];
			});
			close(want, got);
		});

		// wasm: 33 × 127 rows as well, enough that the softmax and its gradient split over threads
		for (const [N, T] of [[2, 1], [2, 7], [2, 127], ...(name === 'wasm' ? [[33, 127]] : [])]) {
			it(`causal attention weights and gradients, N = ${N}, T = ${T}`, async () => {
				const hs = 5;
				const [q, k, dy] = [randn(N * T * hs), randn(N * T * hs), randn(N * T * T)];
				const scale = 1 / Math.sqrt(hs);
				const mask = new Float32Array(T * T);
				for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
				const [want, got] = await both(() => {
					const f = (a: tf.Tensor3D, c: tf.Tensor3D) =>
						onFused()
							? fusedCausalSoftmax(matMulTransposeB(a, c), scale)
							: (tf.softmax(
									tf.add(tf.mul(tf.matMul(a, c, false, true), scale), tf.tensor3d(mask, [1, T, T]))
								) as tf.Tensor3D);
					const qt = tf.tensor3d(q, [N, T, hs]);
					const kt = tf.tensor3d(k, [N, T, hs]);
					const { grads } = tf.valueAndGrads((a: tf.Tensor, c: tf.Tensor) =>
						tf.sum(tf.mul(f(a as tf.Tensor3D, c as tf.Tensor3D), tf.tensor3d(dy, [N, T, T])))
					)([qt, kt]);
					return [f(qt, kt), ...grads];
				});
				close(want, got);
			});
		}

		// every head in one pass (the wasm module only): against gpt.ts's composite of split heads,
		// scaled causal softmax and merged heads; C = 15 (3 heads of 5), so no side is a multiple of 4 or 8
		if (name === 'wasm')
			for (const T of [1, 7, 127]) {
				it(`fused causal self-attention of every head and its gradient, B = 2, T = ${T}, C = 15`, async () => {
					const [B, nh, hs] = [2, 3, 5];
					const C = nh * hs;
					const [qkv, dy] = [randn(B * T * 3 * C), randn(B * T * C)];
					const mask = new Float32Array(T * T);
					for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
					const composite = (x: tf.Tensor3D) => {
						const [q, k, v] = tf.split(x, 3, 2).map(
							(t) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, nh, hs]), [0, 2, 1, 3]), [B * nh, T, hs]) // (B*nh, T, hs)
						);
						const scores = tf.add(
							tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)),
							tf.tensor3d(mask, [1, T, T])
						);
						const y = tf.reshape(tf.matMul(tf.softmax(scores), v), [B, nh, T, hs]); // (B, nh, T, hs)
						return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, C]) as tf.Tensor3D; // (B, T, C)
					};
					const [want, got] = await both(() => {
						const f = (x: tf.Tensor3D) => (onFused() ? fusedAttention(x, nh) : composite(x));
						const xt = tf.tensor3d(qkv, [B, T, 3 * C]);
						const { grads } = tf.valueAndGrads((x: tf.Tensor) =>
							tf.sum(tf.mul(f(x as tf.Tensor3D), tf.tensor3d(dy, [B, T, C])))
						)([xt]);
						return [f(xt), ...grads];
					});
					close(want, got);
				});
			}

		// the MLP and a linear layer with their residuals, epilogues in the products (the wasm module
		// only), against the composite; K = 515 and 300 put each epilogue after blocks of K
		if (name === 'wasm')
			for (const [N, C, H] of [
				[7, 13, 21],
				[33, 45, 515],
				[9, 300, 21]
			])
				it(`MLP and linear layer with residual, values and gradients, N = ${N}, C = ${C}, hidden ${H}`, async () => {
					const [x, w1, b1, w2, b2, r, dy] = [
						randn(N * C),
						randn(C * H),
						randn(H),
						randn(H * C),
						randn(C),
						randn(N * C),
						randn(N * C)
					];
					const [want, got] = await both(() => {
						const t = [tf.tensor2d(x, [N, C]), tf.tensor2d(w1, [C, H]), tf.tensor1d(b1), tf.tensor2d(w2, [H, C])];
						const [bt, rt, dyt] = [tf.tensor1d(b2), tf.tensor2d(r, [N, C]), tf.tensor2d(dy, [N, C])];
						const mlpOf = (a: tf.Tensor[]) => {
							const [xa, w1a, b1a, w2a, b2a, ra] = a as [
								tf.Tensor2D,
								tf.Tensor2D,
								tf.Tensor1D,
								tf.Tensor2D,
								tf.Tensor1D,
								tf.Tensor2D
							];
							if (onFused()) return fusedMlp(xa, w1a, b1a, w2a, b2a, ra);
							return tf.add(ra, tf.add(tf.matMul(gelu(tf.add(tf.matMul(xa, w1a), b1a)), w2a), b2a));
						};
						const linOf = (a: tf.Tensor[]) => {
							const [ha, w2a, b2a, ra] = a as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
							return onFused() ? fusedLinearAdd(ha, w2a, b2a, ra) : tf.add(ra, tf.add(tf.matMul(ha, w2a), b2a));
						};
						const hidden = tf.randomNormal([N, H], 0, 1, 'float32', 3);
						const m = tf.valueAndGrads((...a: tf.Tensor[]) => tf.sum(tf.mul(mlpOf(a), dyt)))([...t, bt, rt]);
						const l = tf.valueAndGrads((...a: tf.Tensor[]) => tf.sum(tf.mul(linOf(a), dyt)))([hidden, t[3], bt, rt]);
						return [mlpOf([...t, bt, rt]), ...m.grads, linOf([hidden, t[3], bt, rt]), ...l.grads];
					});
					close(want, got);
				});

		// the token embedding (the wasm module only) against the one-hot product it replaces: tokens
		// outside the table give zero rows there too; N = 12000, C = 45 splits rows and columns over threads (wasmLabKernels.ts LEAST_SHARE)
		if (name === 'wasm')
			for (const [N, V, C] of [
				[7, 11, 13],
				[12000, 11, 45]
			])
				it(`the token embedding and its gradient, N = ${N}, V = ${V}, C = ${C}`, async () => {
					const ids = Int32Array.from({ length: N }, (_, i) => (i % 17 === 5 ? V : i % 13 === 3 ? -1 : (i * 7) % V));
					const [w, dy] = [randn(V * C), randn(N * C)];
					const [want, got] = await both(() => {
						// the tokens are made inside the function differentiated: the forward pass's tensors
						// are freed before its gradient runs, so the op must keep them itself
						const f = (table: tf.Tensor2D) => {
							const tokens = tf.tensor1d(ids, 'int32');
							return onFused()
								? fusedEmbedding(tokens, table)
								: tf.matMul(tf.cast(tf.oneHot(tokens, V), 'float32') as tf.Tensor2D, table);
						};
						const wt = tf.tensor2d(w, [V, C]);
						const { grads } = tf.valueAndGrads((t: tf.Tensor) =>
							tf.sum(tf.mul(f(t as tf.Tensor2D), tf.tensor2d(dy, [N, C])))
						)([wt]);
						return [f(wt), ...grads];
					});
					close(want, got);
				});

		// wasm: a second shape large enough that its kernels split rows and columns over threads
		for (const [R, C, V] of [[7, 13, 11], ...(name === 'wasm' ? [[12000, 45, 45]] : [])])
			it(`LayerNorm, GELU, cross-entropy and Σx², values and gradients (R = ${R}, C = ${C}, V = ${V})`, async () => {
				const [x, w, b, dy, logits] = [randn(R * C), randn(C), randn(C), randn(R * C), randn(R * V)];
				const targets = Int32Array.from({ length: R }, (_, i) => (i * 5) % V);
				const [want, got] = await both(() => {
					const xt = tf.tensor2d(x, [R, C]);
					const dyt = tf.tensor2d(dy, [R, C]);
					const ln = tf.valueAndGrads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
						tf.sum(tf.mul(layerNorm(a, c, d), dyt))
					)([xt, tf.tensor1d(w), tf.tensor1d(b)]);
					const g = (a: tf.Tensor) => (onFused() ? fusedGelu(a) : gelu(a));
					const ge = tf.valueAndGrads((a: tf.Tensor) => tf.sum(tf.mul(g(a), dyt)))([xt]);
					const lt = tf.tensor3d(logits, [1, R, V]);
					const tt = tf.tensor2d(targets, [1, R], 'int32');
					// targets made inside the function differentiated (freed before its gradient runs)
					const ce = tf.valueAndGrads((a: tf.Tensor) =>
						tf.sum(tokenNll(a as tf.Tensor3D, tf.tensor2d(targets, [1, R], 'int32')))
					)([lt]);
					const parts = [xt, dyt, lt, tf.tensor1d(w)]; // Σx² of several tensors of different sizes
					const ss = onFused() ? fusedSumSquares(parts) : tf.stack(parts.map((t) => tf.sum(tf.square(t))));
					return [
						layerNorm(xt, tf.tensor1d(w), tf.tensor1d(b)),
						...ln.grads,
						g(xt),
						...ge.grads,
						tokenNll(lt, tt),
						...ce.grads,
						ss
					];
				});
				close(want.slice(0, -1), got.slice(0, -1));
				// Σx² over half a million float32 values: the two sums' orders differ by ~√n rounding steps
				close(want.slice(-1), got.slice(-1), R > 1000 ? 1e-4 : 1e-5);
			});

		it('AdamW updates p, m and v in place like the composite update, with decay and clipping', async () => {
			const shapes: [string, number[]][] = [
				['transformer.h.0.mlp.c_fc.weight', [13, 7]], // decays
				['transformer.h.0.ln_1.bias', [13]] // does not
			];
			const init = shapes.map(([, s]) => randn(s.reduce((a, b) => a * b, 1)));
			const grads = shapes.map(([, s]) => [randn(s.reduce((a, b) => a * b, 1)), randn(s.reduce((a, b) => a * b, 1))]);
			const [want, got] = await both(() => {
				// as the Trainer makes them: each variable alone on its buffer
				const params = new Map(
					shapes.map(([n, s], i) => {
						const t = tf.tensor(init[i], s);
						const v = tf.variable(t);
						t.dispose();
						return [n, v];
					})
				);
				const opt = new AdamW(params, 0.1);
				for (let t = 0; t < 2; t++) {
					const g = Object.fromEntries(shapes.map(([n, s], i) => [n, tf.tensor(grads[i][t], s)]));
					opt.step(g, 0.01, t === 0 ? 1 : 0.5);
					tf.dispose(Object.values(g));
				}
				const out = [...params.values(), ...opt.m.values(), ...opt.v.values()].map((v) => v.clone());
				opt.dispose();
				params.forEach((v) => v.dispose());
				return out;
			});
			close(want, got, 1e-5);
		});

		it('AdamW in place past 65535 workgroups (a parameter of 4.2 M values)', async () => {
			const n = 65535 * 64 + 1000;
			const [p0, g0] = [randn(n), randn(n)];
			const [want, got] = await both(() => {
				const t = tf.tensor1d(p0);
				const p = tf.variable(t);
				t.dispose();
				const opt = new AdamW(new Map([['transformer.h.0.ln_1.bias', p]]), 0);
				const g = tf.tensor1d(g0);
				opt.step({ 'transformer.h.0.ln_1.bias': g }, 0.01, 1);
				const tail = [p, opt.m.get('transformer.h.0.ln_1.bias')!].map((x) => tf.slice(x, [n - 2000], [2000]));
				tf.dispose([g, p]);
				opt.dispose();
				return tail;
			});
			close(want, got, 1e-5);
		});
	});
}
