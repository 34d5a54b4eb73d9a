// The lab's own wasm kernels (docs/performance.md "wasm kernels"): the fused ops of
// src/lib/core/model/fused.ts for the wasm backend, in C compiled for wasm32 with 128-bit SIMD
// (kernels/build.sh). No libc: exp and log are below. Every pointer is an offset into this
// module's own memory; the JS side (src/lib/backend/wasmLabKernels.ts) copies tensors in and out.
// The math of each kernel is the WebGPU one's (src/lib/backend/webgpuKernels.ts), the same as the
// composite tfjs ops in gpt.ts.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef float f32;

// ---- exp and log, accurate to about 1 ulp in the range the model uses ----

static inline f32 f32_from_bits(unsigned u) {
	union { unsigned u; f32 f; } v = {u};
	return v.f;
}
static inline unsigned bits_of(f32 f) {
	union { f32 f; unsigned u; } v = {f};
	return v.u;
}

// e^x: x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-7 Taylor polynomial, times 2^n
static f32 lab_exp(f32 x) {
	if (x > 88.0f) x = 88.0f;
	if (x < -103.0f) return 0.0f;
	f32 n = __builtin_floorf(x * 1.4426950408889634f + 0.5f);
	f32 r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
	f32 p = 1.0f + r * (1.0f + r * (0.5f + r * (1.6666667e-1f + r * (4.1666668e-2f + r * (8.3333338e-3f + r * (1.3888889e-3f + r * 1.9841270e-4f))))));
	int e = (int)n;
	if (e < -126) { // subnormal results: scale in two steps
		p *= f32_from_bits((unsigned)(e + 126 + 127) << 23);
		return p * 1.1754943508222875e-38f;
	}
	return p * f32_from_bits((unsigned)(e + 127) << 23);
}

// ln x for x > 0: x = m·2^e with m in [√½, √2), ln m = 2·atanh((m − 1)/(m + 1)) by its series
static f32 lab_log(f32 x) {
	if (!(x > 0.0f)) return x == 0.0f ? -__builtin_inff() : __builtin_nanf("");
	unsigned u = bits_of(x);
	int e = (int)((u >> 23) & 0xff) - 127;
	f32 m = f32_from_bits((u & 0x007fffff) | 0x3f800000);
	if (m > 1.41421356f) {
		m *= 0.5f;
		e += 1;
	}
	f32 s = (m - 1.0f) / (m + 1.0f);
	f32 s2 = s * s;
	f32 series = s * (2.0f + s2 * (0.6666667f + s2 * (0.4f + s2 * (0.2857143f + s2 * (0.2222222f + s2 * 0.1818182f)))));
	return series + (f32)e * 0.6931471805599453f;
}

// ---- products: C (batch, M, N) = alpha · op(A) op(B) (+ bias), op by strides ----
// a[i, k] = A[b·aBatch + i·aRow + k·aCol]; b[k, j] = B[b·bBatch + k·bRow + j·bCol]. B is packed
// (K, N) row-major into `pack` unless it already is; 4 rows × 8 columns of C per inner loop.

static void pack_b(const f32 *B, f32 *pack, int K, int N, int bRow, int bCol) {
	for (int k = 0; k < K; k++)
		for (int j = 0; j < N; j++) pack[k * N + j] = B[k * bRow + j * bCol];
}

static inline void store8(f32 *c, v128_t x0, v128_t x1, v128_t alpha, const f32 *bias) {
	x0 = wasm_f32x4_mul(x0, alpha);
	x1 = wasm_f32x4_mul(x1, alpha);
	if (bias) {
		x0 = wasm_f32x4_add(x0, wasm_v128_load(bias));
		x1 = wasm_f32x4_add(x1, wasm_v128_load(bias + 4));
	}
	wasm_v128_store(c, x0);
	wasm_v128_store(c + 4, x1);
}

EXPORT(matmul)
void matmul(const f32 *A, const f32 *B, const f32 *bias, f32 *C, f32 *pack, int batch, int M, int N, int K,
	    int aBatch, int aRow, int aCol, int bBatch, int bRow, int bCol, f32 alpha) {
	const v128_t va = wasm_f32x4_splat(alpha);
	for (int b = 0; b < batch; b++) {
		const f32 *a = A + b * aBatch;
		const f32 *bp = B + b * bBatch;
		if (!(bCol == 1 && bRow == N)) {
			pack_b(bp, pack, K, N, bRow, bCol);
			bp = pack;
		}
		f32 *c = C + b * M * N;
		int N8 = N & ~7;
		int i = 0;
		for (; i + 4 <= M; i += 4) {
			const f32 *a0 = a + i * aRow, *a1 = a0 + aRow, *a2 = a1 + aRow, *a3 = a2 + aRow;
			for (int j = 0; j < N8; j += 8) {
				v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
				const f32 *bk = bp + j;
				for (int k = 0; k < K; k++, bk += N) {
					v128_t b0 = wasm_v128_load(bk), b1 = wasm_v128_load(bk + 4);
					v128_t x = wasm_f32x4_splat(a0[k * aCol]);
					c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0));
					c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));
					x = wasm_f32x4_splat(a1[k * aCol]);
					c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0));
					c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));
					x = wasm_f32x4_splat(a2[k * aCol]);
					c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0));
					c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));
					x = wasm_f32x4_splat(a3[k * aCol]);
					c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0));
					c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));
				}
				const f32 *bj = bias ? bias + j : 0;
				store8(c + i * N + j, c00, c01, va, bj);
				store8(c + (i + 1) * N + j, c10, c11, va, bj);
				store8(c + (i + 2) * N + j, c20, c21, va, bj);
				store8(c + (i + 3) * N + j, c30, c31, va, bj);
			}
		}
		// the rows and columns the blocks leave: one value at a time
		for (int r = 0; r < M; r++)
			for (int j = (r < i ? N8 : 0); j < N; j++) {
				f32 s = 0;
				for (int k = 0; k < K; k++) s += a[r * aRow + k * aCol] * bp[k * N + j];
				c[r * N + j] = s * alpha + (bias ? bias[j] : 0.0f);
			}
	}
}

// ---- reductions and row kernels ----

EXPORT(column_sum)
void column_sum(const f32 *x, f32 *out, int R, int C) {
	for (int c = 0; c < C; c++) out[c] = 0;
	for (int r = 0; r < R; r++)
		for (int c = 0; c < C; c++) out[c] += x[r * C + c];
}

// s (N, T, Tk): query t sees keys 0 … t + Tk − T; later keys get exactly 0
EXPORT(causal_softmax)
void causal_softmax(const f32 *s, f32 *out, int N, int T, int Tk, f32 scale) {
	for (int row = 0; row < N * T; row++) {
		const f32 *x = s + row * Tk;
		f32 *y = out + row * Tk;
		int last = row % T + Tk - T;
		f32 mx = -3.402823e38f;
		for (int j = 0; j <= last; j++) mx = x[j] * scale > mx ? x[j] * scale : mx;
		f32 sum = 0;
		for (int j = 0; j <= last; j++) sum += (y[j] = lab_exp(x[j] * scale - mx));
		f32 inv = 1.0f / sum;
		for (int j = 0; j <= last; j++) y[j] *= inv;
		for (int j = last + 1; j < Tk; j++) y[j] = 0;
	}
}

EXPORT(softmax_grad)
void softmax_grad(const f32 *p, const f32 *dp, f32 *out, int rows, int L, f32 scale) {
	for (int r = 0; r < rows; r++) {
		const f32 *pr = p + r * L, *dr = dp + r * L;
		f32 dot = 0;
		for (int j = 0; j < L; j++) dot += pr[j] * dr[j];
		for (int j = 0; j < L; j++) out[r * L + j] = scale * pr[j] * (dr[j] - dot);
	}
}

EXPORT(row_stats)
void row_stats(const f32 *x, f32 *out, int R, int C, f32 eps) {
	for (int r = 0; r < R; r++) {
		const f32 *xr = x + r * C;
		f32 mean = 0;
		for (int c = 0; c < C; c++) mean += xr[c];
		mean /= (f32)C;
		f32 v = 0;
		for (int c = 0; c < C; c++) v += (xr[c] - mean) * (xr[c] - mean);
		out[2 * r] = mean;
		out[2 * r + 1] = 1.0f / __builtin_sqrtf(v / (f32)C + eps);
	}
}

EXPORT(layer_norm)
void layer_norm(const f32 *x, const f32 *stats, const f32 *w, const f32 *b, f32 *out, int R, int C) {
	for (int r = 0; r < R; r++) {
		f32 mean = stats[2 * r], rstd = stats[2 * r + 1];
		for (int c = 0; c < C; c++) out[r * C + c] = (x[r * C + c] - mean) * rstd * w[c] + b[c];
	}
}

// dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · w
EXPORT(layer_norm_grad_x)
void layer_norm_grad_x(const f32 *x, const f32 *stats, const f32 *w, const f32 *dy, f32 *out, int R, int C) {
	for (int r = 0; r < R; r++) {
		const f32 *xr = x + r * C, *dr = dy + r * C;
		f32 mean = stats[2 * r], rstd = stats[2 * r + 1];
		f32 mg = 0, mgx = 0;
		for (int c = 0; c < C; c++) {
			f32 g = dr[c] * w[c];
			mg += g;
			mgx += g * (xr[c] - mean) * rstd;
		}
		mg /= (f32)C;
		mgx /= (f32)C;
		for (int c = 0; c < C; c++) out[r * C + c] = rstd * (dr[c] * w[c] - mg - (xr[c] - mean) * rstd * mgx);
	}
}

// dw[c] = Σ_r dy · x̂
EXPORT(layer_norm_grad_w)
void layer_norm_grad_w(const f32 *x, const f32 *stats, const f32 *dy, f32 *out, int R, int C) {
	for (int c = 0; c < C; c++) out[c] = 0;
	for (int r = 0; r < R; r++) {
		f32 mean = stats[2 * r], rstd = stats[2 * r + 1];
		for (int c = 0; c < C; c++) out[c] += dy[r * C + c] * (x[r * C + c] - mean) * rstd;
	}
}

// ---- cross-entropy: −log softmax(logits)[target] per row, and its gradient ----

static void row_max_sum(const f32 *l, int V, f32 *mx, f32 *sum) {
	f32 m = -3.402823e38f;
	for (int j = 0; j < V; j++) m = l[j] > m ? l[j] : m;
	f32 s = 0;
	for (int j = 0; j < V; j++) s += lab_exp(l[j] - m);
	*mx = m;
	*sum = s;
}

EXPORT(token_nll)
void token_nll(const f32 *logits, const int *targets, f32 *out, int N, int V) {
	for (int n = 0; n < N; n++) {
		f32 mx, sum;
		row_max_sum(logits + n * V, V, &mx, &sum);
		out[n] = mx + lab_log(sum) - logits[n * V + targets[n]];
	}
}

EXPORT(token_nll_grad)
void token_nll_grad(const f32 *logits, const int *targets, const f32 *dy, f32 *out, int N, int V) {
	for (int n = 0; n < N; n++) {
		const f32 *l = logits + n * V;
		f32 mx, sum;
		row_max_sum(l, V, &mx, &sum);
		f32 inv = 1.0f / sum;
		for (int j = 0; j < V; j++) out[n * V + j] = dy[n] * (lab_exp(l[j] - mx) * inv - (j == targets[n] ? 1.0f : 0.0f));
	}
}

// ---- GELU as x·σ(2u), u = √(2/π)(x + 0.044715x³), and its gradient ----

static inline f32 gelu_sig(f32 x) {
	return 1.0f / (1.0f + lab_exp(-2.0f * 0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

EXPORT(gelu)
void gelu(const f32 *x, f32 *out, int n) {
	for (int i = 0; i < n; i++) out[i] = x[i] * gelu_sig(x[i]);
}

EXPORT(gelu_grad)
void gelu_grad(const f32 *x, const f32 *dy, f32 *out, int n) {
	for (int i = 0; i < n; i++) {
		f32 v = x[i], s = gelu_sig(v);
		out[i] = dy[i] * (s + v * s * (1.0f - s) * 2.0f * 0.7978845608028654f * (1.0f + 3.0f * 0.044715f * v * v));
	}
}

// ---- the optimizer: Σ x², and AdamW in place (src/lib/core/train/adamw.ts) ----

EXPORT(sum_squares)
f32 sum_squares(const f32 *x, int n) {
	f32 s = 0;
	for (int i = 0; i < n; i++) s += x[i] * x[i];
	return s;
}

EXPORT(adamw)
void adamw(f32 *p, const f32 *g, f32 *m, f32 *v, int n, f32 lr, f32 beta1, f32 beta2, f32 eps, f32 bc1, f32 bc2,
	   f32 decay, f32 gradScale) {
	for (int i = 0; i < n; i++) {
		f32 gi = g[i] * gradScale;
		f32 mi = m[i] * beta1 + gi * (1.0f - beta1);
		f32 vi = v[i] * beta2 + gi * gi * (1.0f - beta2);
		m[i] = mi;
		v[i] = vi;
		p[i] = p[i] * decay - (mi / bc1) / (__builtin_sqrtf(vi / bc2) + eps) * lr;
	}
}
