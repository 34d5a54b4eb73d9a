// The lab's own wasm kernels (docs/performance.md "wasm kernels"): the fused ops of
// src/lib/core/model/fused.ts for the wasm backend, in C compiled for wasm32 with 128-bit SIMD
// (kernels/build.sh). No libc: exp and log are below. Every pointer is an offset into tfjs's own
// WebAssembly.Memory, where the tensors live (src/lib/kernels/wasmLabKernels.ts instantiates the
// module on it; scratch comes from tfjs's allocator). The math of each kernel is that of the
// composite tfjs ops in gpt.ts (and of WebGPU's kernels, src/lib/kernels/webgpuKernels.ts, where
// it has the op). Kernels that split over threads take a range (r0, r1) of rows, columns or
// values, and a scratch pointer, as their last arguments. Nothing here uses the stack or static
// data, so several instances (one per thread) can run on one shared memory at once
// (kernels/build.sh checks it).

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef float f32;

// ---- exp and log, accurate to about 2e-7 relative (a few ulp) in the range the model uses ----

static inline f32 f32_from_bits(unsigned u) {
	union { unsigned u; f32 f; } v = {u};
	return v.f;
}
static inline unsigned bits_of(f32 f) {
	union { f32 f; unsigned u; } v = {f};
	return v.u;
}

// e^r on |r| ≤ ln2/2 as 1 + r + r²·q(r), q of degree 3 fitted for the least relative error
// (under 2e-7 in float32, as good as a degree-7 Taylor polynomial here)
#define EXP_Q0 0.49999231f
#define EXP_Q1 0.16667114f
#define EXP_Q2 0.041890115f
#define EXP_Q3 0.0083125252f

// e^x: x = n·ln2 + r, |r| ≤ ln2/2, e^r by the polynomial above, times 2^n
static f32 lab_exp(f32 x) {
	if (x > 88.0f) x = 88.0f;
	if (x < -103.0f) return 0.0f;
	f32 n = __builtin_floorf(x * 1.4426950408889634f + 0.5f);
	f32 r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
	f32 p = 1.0f + r + r * r * (EXP_Q0 + r * (EXP_Q1 + r * (EXP_Q2 + r * EXP_Q3)));
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

// e^x for 4 lanes: the same reduction and polynomial as lab_exp; x below −87.3 (e^x < 1.2e-38, a
// subnormal) is taken as −87.3, so the result there differs from 0 by less than 1.2e-38. n is
// rounded by adding 1.5·2^23 (the sum's low mantissa bits are then n, two's complement), which
// also gives 2^n's exponent bits by a shift: no float rounding or conversion instruction.
static inline v128_t lab_exp4(v128_t x) {
	const v128_t magic = wasm_f32x4_splat(12582912.0f);
	x = wasm_f32x4_pmin(x, wasm_f32x4_splat(88.0f));
	x = wasm_f32x4_pmax(x, wasm_f32x4_splat(-87.3f));
	v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.4426950408889634f)), magic);
	v128_t n = wasm_f32x4_sub(t, magic);
	v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693145751953125f)));
	r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(1.428606765330187e-06f)));
	v128_t q = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(EXP_Q3), r), wasm_f32x4_splat(EXP_Q2));
	q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(EXP_Q1));
	q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(EXP_Q0));
	v128_t p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_splat(1.0f), r), wasm_f32x4_mul(wasm_f32x4_mul(r, r), q));
	v128_t e = wasm_i32x4_add(wasm_i32x4_shl(t, 23), wasm_i32x4_splat(127 << 23));
	return wasm_f32x4_mul(p, e);
}

static inline f32 hsum(v128_t v) {
	return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
	       wasm_f32x4_extract_lane(v, 3);
}

static inline f32 hmax(v128_t v) {
	f32 a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
	f32 c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
	a = a > b ? a : b;
	c = c > d ? c : d;
	return a > c ? a : c;
}

// ---- GELU as x·σ(2u), u = √(2/π)(x + 0.044715x³), and its derivative ----

static inline f32 gelu_sig(f32 x) {
	return 1.0f / (1.0f + lab_exp(-2.0f * 0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

static inline v128_t gelu_sig4(v128_t x) {
	v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(x, x), x);
	v128_t u = wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_splat(0.044715f), x3));
	v128_t e = lab_exp4(wasm_f32x4_mul(wasm_f32x4_splat(-2.0f * 0.7978845608028654f), u));
	return wasm_f32x4_div(wasm_f32x4_splat(1.0f), wasm_f32x4_add(wasm_f32x4_splat(1.0f), e));
}

// d gelu / dx = s + x·s·(1 − s)·2√(2/π)(1 + 3·0.044715x²), s = σ(2u)
static inline f32 gelu_slope(f32 x) {
	f32 s = gelu_sig(x);
	return s + x * s * (1.0f - s) * 2.0f * 0.7978845608028654f * (1.0f + 3.0f * 0.044715f * x * x);
}

static inline v128_t gelu_slope4(v128_t x) {
	const v128_t one = wasm_f32x4_splat(1.0f), k = wasm_f32x4_splat(2.0f * 0.7978845608028654f);
	v128_t s = gelu_sig4(x);
	v128_t inner = wasm_f32x4_add(one, wasm_f32x4_mul(wasm_f32x4_splat(3.0f * 0.044715f), wasm_f32x4_mul(x, x)));
	return wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(x, s), wasm_f32x4_sub(one, s)), wasm_f32x4_mul(k, inner)));
}

// ---- epilogues: what a product does to each finished value v before storing it (an op fused in) ----
#define EPI_NONE 0
#define EPI_GELU 1      // C = gelu(v), and aux = v (the pre-activation, kept for the gradient)
#define EPI_GELU_GRAD 2 // C = v · gelu'(aux), aux the pre-activation (dy·Wᵀ through GELU)
#define EPI_ADD 3       // C = v + aux (a residual)

static inline v128_t epilogue4(v128_t v, f32 *aux, int epi) {
	if (epi == EPI_GELU) {
		wasm_v128_store(aux, v);
		return wasm_f32x4_mul(v, gelu_sig4(v));
	}
	if (epi == EPI_GELU_GRAD) return wasm_f32x4_mul(v, gelu_slope4(wasm_v128_load(aux)));
	if (epi == EPI_ADD) return wasm_f32x4_add(v, wasm_v128_load(aux));
	return v;
}

static inline f32 epilogue1(f32 v, f32 *aux, int epi) {
	if (epi == EPI_GELU) {
		*aux = v;
		return v * gelu_sig(v);
	}
	if (epi == EPI_GELU_GRAD) return v * gelu_slope(*aux);
	if (epi == EPI_ADD) return v + *aux;
	return v;
}

// ---- products: C (batch, M, N) = alpha · op(A) op(B) (+ bias), op by strides ----
// a[i, k] = A[b·aBatch + i·aRow + k·aCol]; b[k, j] = B[b·bBatch + k·bRow + j·bCol]. B is packed
// into panels of 8 columns, each (K, 8) contiguous (the last zero-padded), so the inner loop reads
// B in order whatever its layout; each step of it updates a 4 × 8 block of C held in registers.

#define NR 8

static void pack_panels(const f32 *B, f32 *pack, int K, int N, int bRow, int bCol) {
	for (int j0 = 0; j0 < N; j0 += NR) {
		f32 *panel = pack + j0 * K;
		int w = N - j0 < NR ? N - j0 : NR;
		if (bCol == 1 && w == NR) { // rows of B contiguous: 2 vectors a row
			for (int k = 0; k < K; k++) {
				const f32 *row = B + k * bRow + j0;
				wasm_v128_store(panel + k * NR, wasm_v128_load(row));
				wasm_v128_store(panel + k * NR + 4, wasm_v128_load(row + 4));
			}
			continue;
		}
		for (int k = 0; k < K; k++) {
			const f32 *row = B + k * bRow + j0 * bCol;
			int j = 0;
			if (bCol == 1)
				for (; j < w; j++) panel[k * NR + j] = row[j];
			else
				for (; j < w; j++) panel[k * NR + j] = row[j * bCol];
			for (; j < NR; j++) panel[k * NR + j] = 0;
		}
	}
}

// stores `w` (≤ 8) columns of one row: alpha · sum (+ bias), added to what the row holds when
// `acc` (a later block of K), through the epilogue `epi` (aux: the same place in its array). No
// local arrays: the module uses no stack, so instances on one shared memory (threads) never share one.
static inline void store_row(f32 *c, v128_t x0, v128_t x1, v128_t alpha, const f32 *bias, int w, int acc, f32 *aux,
			     int epi) {
	x0 = wasm_f32x4_mul(x0, alpha);
	x1 = wasm_f32x4_mul(x1, alpha);
	if (w == NR) {
		if (acc) {
			x0 = wasm_f32x4_add(x0, wasm_v128_load(c));
			x1 = wasm_f32x4_add(x1, wasm_v128_load(c + 4));
		}
		if (bias) {
			x0 = wasm_f32x4_add(x0, wasm_v128_load(bias));
			x1 = wasm_f32x4_add(x1, wasm_v128_load(bias + 4));
		}
		if (epi != EPI_NONE) {
			x0 = epilogue4(x0, aux, epi);
			x1 = epilogue4(x1, aux + 4, epi);
		}
		wasm_v128_store(c, x0);
		wasm_v128_store(c + 4, x1);
		return;
	}
	// w < 8: each lane by name (an indexed lane would need a buffer in memory)
#define LANE(j, x, l) \
	if (w > j) \
	c[j] = epilogue1((acc ? c[j] : 0.0f) + wasm_f32x4_extract_lane(x, l) + (bias ? bias[j] : 0.0f), aux + j, epi)
	LANE(0, x0, 0);
	LANE(1, x0, 1);
	LANE(2, x0, 2);
	LANE(3, x0, 3);
	LANE(4, x1, 0);
	LANE(5, x1, 1);
	LANE(6, x1, 2);
#undef LANE
}

#define FMA(acc, x, y) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(x, y))

// rows i … i+3 of C against one panel: a row of A every aRow values, its values along K every aCol
// (in place, or packed by pack_rows: 1 and 4)
static inline void block4(const f32 *a, int aRow, int aCol, const f32 *panel, int K, f32 *c, int N, v128_t va,
			  const f32 *bias, int w, int acc, f32 *aux, int epi) {
	v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
	const f32 *bk = panel;
	const f32 *a0 = a, *a1 = a + aRow, *a2 = a1 + aRow, *a3 = a2 + aRow;
	for (int k = 0; k < K; k++, bk += NR) {
		v128_t b0 = wasm_v128_load(bk), b1 = wasm_v128_load(bk + 4);
		int ka = k * aCol;
		v128_t x = wasm_f32x4_splat(a0[ka]);
		FMA(c00, x, b0);
		FMA(c01, x, b1);
		x = wasm_f32x4_splat(a1[ka]);
		FMA(c10, x, b0);
		FMA(c11, x, b1);
		x = wasm_f32x4_splat(a2[ka]);
		FMA(c20, x, b0);
		FMA(c21, x, b1);
		x = wasm_f32x4_splat(a3[ka]);
		FMA(c30, x, b0);
		FMA(c31, x, b1);
	}
	store_row(c, c00, c01, va, bias, w, acc, aux, epi);
	store_row(c + N, c10, c11, va, bias, w, acc, aux + N, epi);
	store_row(c + 2 * N, c20, c21, va, bias, w, acc, aux + 2 * N, epi);
	store_row(c + 3 * N, c30, c31, va, bias, w, acc, aux + 3 * N, epi);
}

// one row of C against one panel (the rows M % 4 leaves)
static inline void block1(const f32 *a, int aCol, const f32 *panel, int K, f32 *c, v128_t va, const f32 *bias, int w,
			  int acc, f32 *aux, int epi) {
	v128_t c0 = wasm_f32x4_splat(0), c1 = c0;
	const f32 *bk = panel;
	for (int k = 0; k < K; k++, bk += NR) {
		v128_t x = wasm_f32x4_splat(a[k * aCol]);
		FMA(c0, x, wasm_v128_load(bk));
		FMA(c1, x, wasm_v128_load(bk + 4));
	}
	store_row(c, c0, c1, va, bias, w, acc, aux, epi);
}

// Blocks that keep each operand in its cache level (GotoBLAS's loops, on the shapes of a step):
// K in blocks of KC; within one, B in blocks of NC columns packed once (KC × NC values, 256 kB: L2),
// A in blocks of MC rows (MC × KC values, 64 kB: L2, read once for all of a block's panels), one
// 8-column panel (KC × 8 values, 8 kB: L1) against 4 rows at a time. Without the blocks a product
// with many rows streamed all of A from memory once per panel (the tied head's gradient,
// (50,257 × 512)ᵀ-shaped, ran at a fifth of the kernel's rate) and one with many columns packed
// all of B before using any of it (51 MB a thread at the head's 50,257 columns).
#define KC 256
#define MC 64
#define NC 256

// A's rows 0 … 4·groups − 1 over kc values of K, packed in groups of 4 rows, each group (kc, 4)
// contiguous, from a transposed A (Xᵀ·dY: aRow 1, the rows' values at one k adjacent). Read in
// place, a block's rows of K lie a row of X apart, and at widths such as 3,072 that is a multiple
// of 4 kB: every one of them falls in the same cache sets, and the block never stays in cache.
static void pack_rows(const f32 *a, f32 *ap, int kc, int groups, int aCol) {
	for (int k = 0; k < kc; k++)
		for (int g = 0; g < groups; g++) wasm_v128_store(ap + (g * kc + k) * 4, wasm_v128_load(a + k * aCol + 4 * g));
}

// rows i0 … i1 − 1 of C against the panels of one packed block of B (columns j0 … j0 + nc − 1);
// `ap`: the rows' groups of 4 packed by pack_rows, or null to read A in place
static inline void rows_by_block(const f32 *a, int aRow, int aCol, const f32 *ap, const f32 *pack, int kc, int nc,
				 f32 *c, int N, v128_t va, const f32 *bias, int acc, f32 *x, int e, int i0, int i1) {
	for (int j = 0; j < nc; j += NR) {
		const f32 *panel = pack + j * kc;
		int w = nc - j < NR ? nc - j : NR;
		const f32 *bj = bias ? bias + j : 0;
		int i = i0;
		for (; i + 4 <= i1; i += 4) {
			f32 *ci = c + i * N + j, *xi = x + i * N + j;
			if (ap)
				block4(ap + (i - i0) * kc, 1, 4, panel, kc, ci, N, va, bj, w, acc, xi, e);
			else
				block4(a + i * aRow, aRow, aCol, panel, kc, ci, N, va, bj, w, acc, xi, e);
		}
		for (; i < i1; i++) block1(a + i * aRow, aCol, panel, kc, c + i * N + j, va, bj, w, acc, x + i * N + j, e);
	}
}

// rows r0 … r1 − 1 and columns c0 … c1 − 1 (c0 a multiple of 8) of every batch's C; `pack`: this
// thread's buffer for its blocks of B (min(K, KC) · min(NC, ⌈N/8⌉·8) values), then for a block of A
// (min(K, KC) · MC values). `epi` applies once a value is finished (the last block of K); `aux`: its
// array, laid out as C.
static void product(const f32 *A, const f32 *B, const f32 *bias, f32 *C, int batch, int M, int N, int K, int aBatch,
		    int aRow, int aCol, int bBatch, int bRow, int bCol, f32 alpha, f32 *aux, int epi, int r0, int r1,
		    int c0, int c1, f32 *pack) {
	const v128_t va = wasm_f32x4_splat(alpha);
	if (c0 >= c1 || r0 >= r1) return;
	int n8 = (N + 7) & ~7;
	f32 *apack = aRow == 1 && aCol != 1 ? pack + (K < KC ? K : KC) * (n8 < NC ? n8 : NC) : 0;
	for (int b = 0; b < batch; b++) {
		f32 *c = C + b * M * N, *x = (aux ? aux : C) + b * M * N; // aux is never read with EPI_NONE
		for (int k0 = 0; k0 < K; k0 += KC) {
			int kc = K - k0 < KC ? K - k0 : KC, acc = k0 > 0; // later blocks add to C; the bias comes once
			int e = k0 + kc >= K ? epi : EPI_NONE;
			const f32 *a = A + b * aBatch + k0 * aCol;
			for (int jc = c0; jc < c1; jc += NC) {
				int nc = c1 - jc < NC ? c1 - jc : NC;
				pack_panels(B + b * bBatch + k0 * bRow + jc * bCol, pack, kc, nc, bRow, bCol);
				const f32 *bj = bias && !acc ? bias + jc : 0;
				for (int i0 = r0; i0 < r1; i0 += MC) {
					int i1 = r1 - i0 < MC ? r1 : i0 + MC;
					if (apack) pack_rows(a + i0, apack, kc, (i1 - i0) / 4, aCol);
					rows_by_block(a, aRow, aCol, apack, pack, kc, nc, c + jc, N, va, bj, acc, x + jc, e, i0, i1);
				}
			}
		}
	}
}

// C (batch, M, N) = alpha · op(A) op(B) (+ bias), a thread's share: columns c0 … c1 − 1 (each thread
// packs only its own columns of B; for products with more columns than rows) …
EXPORT(matmul)
void matmul(const f32 *A, const f32 *B, const f32 *bias, f32 *C, int batch, int M, int N, int K, int aBatch,
	    int aRow, int aCol, int bBatch, int bRow, int bCol, f32 alpha, f32 *aux, int epi, int c0, int c1, f32 *pack) {
	product(A, B, bias, C, batch, M, N, K, aBatch, aRow, aCol, bBatch, bRow, bCol, alpha, aux, epi, 0, M, c0, c1, pack);
}

// … or rows r0 … r1 − 1 (each thread reads only its own rows of A, and packs all of B: for products
// with more rows than columns, such as a step's linears over B·T rows)
EXPORT(matmul_rows)
void matmul_rows(const f32 *A, const f32 *B, const f32 *bias, f32 *C, int batch, int M, int N, int K, int aBatch,
		 int aRow, int aCol, int bBatch, int bRow, int bCol, f32 alpha, f32 *aux, int epi, int r0, int r1,
		 f32 *pack) {
	product(A, B, bias, C, batch, M, N, K, aBatch, aRow, aCol, bBatch, bRow, bCol, alpha, aux, epi, r0, r1, 0, N, pack);
}

// ---- reductions and row kernels ----

// Σ x over a row of n values, and Σ (x − m)²: 4 lanes at a time, the n % 4 left one by one
static inline f32 row_sum(const f32 *x, int n) {
	v128_t acc = wasm_f32x4_splat(0);
	int c = 0;
	for (; c + 4 <= n; c += 4) acc = wasm_f32x4_add(acc, wasm_v128_load(x + c));
	f32 t = hsum(acc);
	for (; c < n; c++) t += x[c];
	return t;
}

static inline f32 row_sq_dev(const f32 *x, f32 m, int n) {
	v128_t acc = wasm_f32x4_splat(0), vm = wasm_f32x4_splat(m);
	int c = 0;
	for (; c + 4 <= n; c += 4) {
		v128_t d = wasm_f32x4_sub(wasm_v128_load(x + c), vm);
		acc = wasm_f32x4_add(acc, wasm_f32x4_mul(d, d));
	}
	f32 t = hsum(acc);
	for (; c < n; c++) t += (x[c] - m) * (x[c] - m);
	return t;
}

// one term of a column reduction at x[i] (4 lanes), row r: x itself (stats null), or dy · x̂
static inline v128_t column_term(const f32 *x, const f32 *stats, const f32 *dy, int i, int r) {
	v128_t v = wasm_v128_load(x + i);
	if (!stats) return v;
	v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(v, wasm_f32x4_splat(stats[2 * r])), wasm_f32x4_splat(stats[2 * r + 1]));
	return wasm_f32x4_mul(wasm_v128_load(dy + i), xh);
}

static inline f32 column_term1(const f32 *x, const f32 *stats, const f32 *dy, int i, int r) {
	return stats ? dy[i] * (x[i] - stats[2 * r]) * stats[2 * r + 1] : x[i];
}

// out[c] = Σ_r column_term for columns c0 … c1 − 1 of (R, C): 16 columns (a cache line) at a time
// in 4 registers down every row, so out is written once and threads splitting the columns never
// write the same line
static void column_reduce(const f32 *x, const f32 *stats, const f32 *dy, f32 *out, int R, int C, int c0, int c1) {
	int c = c0;
	for (; c + 16 <= c1; c += 16) {
		v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
		for (int r = 0, i = c; r < R; r++, i += C) {
			a0 = wasm_f32x4_add(a0, column_term(x, stats, dy, i, r));
			a1 = wasm_f32x4_add(a1, column_term(x, stats, dy, i + 4, r));
			a2 = wasm_f32x4_add(a2, column_term(x, stats, dy, i + 8, r));
			a3 = wasm_f32x4_add(a3, column_term(x, stats, dy, i + 12, r));
		}
		wasm_v128_store(out + c, a0);
		wasm_v128_store(out + c + 4, a1);
		wasm_v128_store(out + c + 8, a2);
		wasm_v128_store(out + c + 12, a3);
	}
	for (; c + 4 <= c1; c += 4) {
		v128_t a = wasm_f32x4_splat(0);
		for (int r = 0; r < R; r++) a = wasm_f32x4_add(a, column_term(x, stats, dy, r * C + c, r));
		wasm_v128_store(out + c, a);
	}
	for (; c < c1; c++) {
		f32 a = 0;
		for (int r = 0; r < R; r++) a += column_term1(x, stats, dy, r * C + c, r);
		out[c] = a;
	}
}

// columns c0 … c1 − 1 (c0 a multiple of 16)
EXPORT(column_sum)
void column_sum(const f32 *x, f32 *out, int R, int C, int c0, int c1) { column_reduce(x, 0, 0, out, R, C, c0, c1); }

// one row of softmax(scale · x) over its first n values, into y (x and y may be the same row); the
// rest of the row's L values get exactly 0 (the keys a causal query does not see)
static inline void softmax_row(const f32 *x, f32 *y, int n, int L, f32 scale) {
	const v128_t vs = wasm_f32x4_splat(scale);
	int n4 = n & ~3;
	v128_t vm = wasm_f32x4_splat(-3.402823e38f);
	for (int j = 0; j < n4; j += 4) vm = wasm_f32x4_pmax(vm, wasm_f32x4_mul(wasm_v128_load(x + j), vs));
	f32 mx = hmax(vm);
	for (int j = n4; j < n; j++) mx = x[j] * scale > mx ? x[j] * scale : mx;
	v128_t vmx = wasm_f32x4_splat(mx), vsum = wasm_f32x4_splat(0);
	for (int j = 0; j < n4; j += 4) {
		v128_t e = lab_exp4(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(x + j), vs), vmx));
		wasm_v128_store(y + j, e);
		vsum = wasm_f32x4_add(vsum, e);
	}
	f32 sum = hsum(vsum);
	for (int j = n4; j < n; j++) sum += (y[j] = lab_exp(x[j] * scale - mx));
	f32 inv = 1.0f / sum;
	v128_t vinv = wasm_f32x4_splat(inv);
	for (int j = 0; j < n4; j += 4) wasm_v128_store(y + j, wasm_f32x4_mul(wasm_v128_load(y + j), vinv));
	for (int j = n4; j < n; j++) y[j] *= inv;
	for (int j = n; j < L; j++) y[j] = 0;
}

// s (N, T, Tk): query t sees keys 0 … t + Tk − T; later keys get exactly 0
// rows r0 … r1 − 1 of the N·T rows
EXPORT(causal_softmax)
void causal_softmax(const f32 *s, f32 *out, int N, int T, int Tk, f32 scale, int r0, int r1) {
	(void)N;
	for (int row = r0; row < r1; row++) softmax_row(s + row * Tk, out + row * Tk, row % T + Tk - T + 1, Tk, scale);
}

// the gradient of one row of softmax(scale · s) over its first n values: scale · p ⊙ (dp − Σ p ⊙ dp),
// into o (dp and o may be the same row); the rest of the row's L values get exactly 0
static inline void softmax_grad_row(const f32 *pr, const f32 *dr, f32 *o, int n, int L, f32 scale) {
	int n4 = n & ~3;
	v128_t vd = wasm_f32x4_splat(0);
	for (int j = 0; j < n4; j += 4) vd = wasm_f32x4_add(vd, wasm_f32x4_mul(wasm_v128_load(pr + j), wasm_v128_load(dr + j)));
	f32 dot = hsum(vd);
	for (int j = n4; j < n; j++) dot += pr[j] * dr[j];
	v128_t vdot = wasm_f32x4_splat(dot), vs = wasm_f32x4_splat(scale);
	for (int j = 0; j < n4; j += 4)
		wasm_v128_store(o + j, wasm_f32x4_mul(wasm_f32x4_mul(vs, wasm_v128_load(pr + j)),
						      wasm_f32x4_sub(wasm_v128_load(dr + j), vdot)));
	for (int j = n4; j < n; j++) o[j] = scale * pr[j] * (dr[j] - dot);
	for (int j = n; j < L; j++) o[j] = 0;
}

// rows r0 … r1 − 1
EXPORT(softmax_grad)
void softmax_grad(const f32 *p, const f32 *dp, f32 *out, int rows, int L, f32 scale, int r0, int r1) {
	(void)rows;
	for (int r = r0; r < r1; r++) softmax_grad_row(p + r * L, dp + r * L, out + r * L, L, L, scale);
}

// ---- causal self-attention, fused: one (batch, head) pair at a time ----
// qkv (B, T, 3C): each token's query, key and value side by side; head h's are columns
// h·hs … h·hs + hs − 1 of each third. y (B, T, C): head h's output in its columns h·hs ….
// P (B, nh, T, T): the attention weights, kept for the gradient. Query t sees keys 0 … t, so a
// block of 4 queries reads only the keys its last query sees: the products above the diagonal,
// half of them, are never computed, and P is written only up to each block's last key (0 above
// the diagonal there; right of it P is never written, and never read). No head is split out or
// merged back: strides.

// rows i … i + n − 1 (n ≤ 4; A's row i at a + i·aRow) times the panels of a packed B for columns
// 0 … N − 1 (panels Kp rows apart), reading its first K rows, into C (ldc)
static inline void rows_by_panels(const f32 *a, int aRow, int aCol, int n, const f32 *pack, int Kp, int K, int N,
				  f32 *c, int ldc) {
	const v128_t one = wasm_f32x4_splat(1.0f);
	for (int j0 = 0; j0 < N; j0 += NR) {
		const f32 *panel = pack + j0 * Kp;
		int w = N - j0 < NR ? N - j0 : NR;
		if (n == 4)
			block4(a, aRow, aCol, panel, K, c + j0, ldc, one, 0, w, 0, 0, EPI_NONE);
		else
			for (int i = 0; i < n; i++) block1(a + i * aRow, aCol, panel, K, c + i * ldc + j0, one, 0, w, 0, 0, EPI_NONE);
	}
}

// values in one pack of a (T, hs) or (hs, T) operand: both sides padded to panels of 8
static inline int pack_size(int T, int hs) { return ((T + 7) & ~7) * ((hs + 7) & ~7); }

// y and P from qkv; pairs r0 … r1 − 1 of the B·nh; `scratch`: this thread's 2 packs (pack_size)
EXPORT(attention)
void attention(const f32 *qkv, f32 *y, f32 *P, int B, int T, int nh, int hs, f32 scale, int r0, int r1, f32 *scratch) {
	int C = nh * hs, ld = 3 * C;
	f32 *kt = scratch, *vp = scratch + pack_size(T, hs);
	(void)B;
	for (int u = r0; u < r1; u++) {
		int b = u / nh, h = u % nh;
		const f32 *q = qkv + b * T * ld + h * hs, *k = q + C, *v = q + 2 * C;
		f32 *p = P + u * T * T, *yo = y + b * T * C + h * hs;
		pack_panels(k, kt, hs, T, 1, ld); // Kᵀ (hs, T)
		pack_panels(v, vp, T, hs, ld, 1); // V (T, hs)
		for (int t0 = 0; t0 < T; t0 += 4) {
			int n = T - t0 < 4 ? T - t0 : 4, keys = t0 + n;
			rows_by_panels(q + t0 * ld, ld, 1, n, kt, hs, hs, keys, p + t0 * T, T); // scores (n, keys)
			for (int t = t0; t < keys; t++) softmax_row(p + t * T, p + t * T, t + 1, keys, scale);
			rows_by_panels(p + t0 * T, T, 1, n, vp, T, keys, hs, yo + t0 * C, C); // y = P V (n, hs)
		}
	}
}

// dqkv (B, T, 3C) from qkv, P and dy (B, T, C): dV = Pᵀ dY, dS = softmax'(dY Vᵀ), dQ = dS K,
// dK = dSᵀ Q; pairs r0 … r1 − 1; `scratch`: this thread's T × T dS and 4 packs (pack_size)
EXPORT(attention_grad)
void attention_grad(const f32 *qkv, const f32 *P, const f32 *dy, f32 *dqkv, int B, int T, int nh, int hs, f32 scale,
		    int r0, int r1, f32 *scratch) {
	int C = nh * hs, ld = 3 * C, ps = pack_size(T, hs);
	f32 *ds = scratch, *gp = ds + T * T, *vt = gp + ps, *kp = vt + ps, *qp = kp + ps;
	(void)B;
	for (int u = r0; u < r1; u++) {
		int b = u / nh, h = u % nh;
		const f32 *q = qkv + b * T * ld + h * hs, *k = q + C, *v = q + 2 * C;
		const f32 *p = P + u * T * T, *g = dy + b * T * C + h * hs;
		f32 *dq = dqkv + b * T * ld + h * hs, *dk = dq + C, *dv = dq + 2 * C;
		pack_panels(g, gp, T, hs, C, 1);  // dY (T, hs)
		pack_panels(v, vt, hs, T, 1, ld); // Vᵀ (hs, T)
		pack_panels(k, kp, T, hs, ld, 1); // K (T, hs)
		pack_panels(q, qp, T, hs, ld, 1); // Q (T, hs)
		// key j's rows of dV and dK sum over the queries t ≥ j: op(A) = Pᵀ or dSᵀ from row j0 on
		for (int j0 = 0; j0 < T; j0 += 4) {
			int n = T - j0 < 4 ? T - j0 : 4;
			rows_by_panels(p + j0 * T + j0, 1, T, n, gp + j0 * NR, T, T - j0, hs, dv + j0 * ld, ld); // dV (n, hs)
		}
		for (int t0 = 0; t0 < T; t0 += 4) {
			int n = T - t0 < 4 ? T - t0 : 4, keys = t0 + n;
			rows_by_panels(g + t0 * C, C, 1, n, vt, hs, hs, keys, ds + t0 * T, T); // dP (n, keys)
			for (int t = t0; t < keys; t++) softmax_grad_row(p + t * T, ds + t * T, ds + t * T, t + 1, keys, scale);
			rows_by_panels(ds + t0 * T, T, 1, n, kp, T, keys, hs, dq + t0 * ld, ld); // dQ (n, hs)
		}
		for (int j0 = 0; j0 < T; j0 += 4) {
			int n = T - j0 < 4 ? T - j0 : 4;
			rows_by_panels(ds + j0 * T + j0, 1, T, n, qp + j0 * NR, T, T - j0, hs, dk + j0 * ld, ld); // dK (n, hs)
		}
	}
}

// rows r0 … r1 − 1 (so the 3 row kernels of LayerNorm, and cross-entropy's 2)
EXPORT(row_stats)
void row_stats(const f32 *x, f32 *out, int R, int C, f32 eps, int r0, int r1) {
	(void)R;
	for (int r = r0; r < r1; r++) {
		const f32 *xr = x + r * C;
		f32 mean = row_sum(xr, C) / (f32)C;
		out[2 * r] = mean;
		out[2 * r + 1] = 1.0f / __builtin_sqrtf(row_sq_dev(xr, mean, C) / (f32)C + eps);
	}
}

EXPORT(layer_norm)
void layer_norm(const f32 *x, const f32 *stats, const f32 *w, const f32 *b, f32 *out, int R, int C, int r0, int r1) {
	(void)R;
	for (int r = r0; r < r1; r++) {
		const f32 *xr = x + r * C;
		f32 *o = out + r * C;
		f32 mean = stats[2 * r], rstd = stats[2 * r + 1];
		v128_t vm = wasm_f32x4_splat(mean), vr = wasm_f32x4_splat(rstd);
		int c = 0;
		for (; c + 4 <= C; c += 4) {
			v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vr);
			wasm_v128_store(o + c, wasm_f32x4_add(wasm_f32x4_mul(xh, wasm_v128_load(w + c)), wasm_v128_load(b + c)));
		}
		for (; c < C; c++) o[c] = (xr[c] - mean) * rstd * w[c] + b[c];
	}
}

// dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · w
EXPORT(layer_norm_grad_x)
void layer_norm_grad_x(const f32 *x, const f32 *stats, const f32 *w, const f32 *dy, f32 *out, int R, int C, int r0,
		       int r1) {
	(void)R;
	for (int r = r0; r < r1; r++) {
		const f32 *xr = x + r * C, *dr = dy + r * C;
		f32 *o = out + r * C;
		f32 mean = stats[2 * r], rstd = stats[2 * r + 1];
		v128_t vm = wasm_f32x4_splat(mean), vr = wasm_f32x4_splat(rstd);
		v128_t ag = wasm_f32x4_splat(0), agx = ag;
		int c = 0;
		for (; c + 4 <= C; c += 4) {
			v128_t g = wasm_f32x4_mul(wasm_v128_load(dr + c), wasm_v128_load(w + c));
			ag = wasm_f32x4_add(ag, g);
			agx = wasm_f32x4_add(agx, wasm_f32x4_mul(g, wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vr)));
		}
		f32 mg = hsum(ag), mgx = hsum(agx);
		for (int t = c; t < C; t++) {
			f32 g = dr[t] * w[t];
			mg += g;
			mgx += g * (xr[t] - mean) * rstd;
		}
		mg /= (f32)C;
		mgx /= (f32)C;
		v128_t vg = wasm_f32x4_splat(mg), vgx = wasm_f32x4_splat(mgx);
		for (c = 0; c + 4 <= C; c += 4) {
			v128_t xh = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), vm), vr);
			v128_t g = wasm_f32x4_mul(wasm_v128_load(dr + c), wasm_v128_load(w + c));
			wasm_v128_store(o + c, wasm_f32x4_mul(vr, wasm_f32x4_sub(wasm_f32x4_sub(g, vg), wasm_f32x4_mul(xh, vgx))));
		}
		for (; c < C; c++) o[c] = rstd * (dr[c] * w[c] - mg - (xr[c] - mean) * rstd * mgx);
	}
}

// dw[c] = Σ_r dy · x̂, columns c0 … c1 − 1 (c0 a multiple of 16)
EXPORT(layer_norm_grad_w)
void layer_norm_grad_w(const f32 *x, const f32 *stats, const f32 *dy, f32 *out, int R, int C, int c0, int c1) {
	column_reduce(x, stats, dy, out, R, C, c0, c1);
}

// ---- the token embedding: rows of the table by token, and their gradient ----

// out (N, C): row n is table (V, C)'s row tokens[n] (0 for a token outside 0 … V − 1, as a
// one-hot product gives); rows r0 … r1 − 1
EXPORT(embedding)
void embedding(const int *tokens, const f32 *table, f32 *out, int N, int V, int C, int r0, int r1) {
	(void)N;
	for (int n = r0; n < r1; n++) {
		int v = tokens[n];
		f32 *o = out + n * C;
		if (v < 0 || v >= V) {
			for (int c = 0; c < C; c++) o[c] = 0;
			continue;
		}
		const f32 *t = table + v * C;
		int c = 0;
		for (; c + 4 <= C; c += 4) wasm_v128_store(o + c, wasm_v128_load(t + c));
		for (; c < C; c++) o[c] = t[c];
	}
}

// d table (V, C) = Σ of dy's rows n by tokens[n], in order of n (as the one-hot product's
// gradient sums them); columns c0 … c1 − 1 (c0 a multiple of 16), so threads never write one line
EXPORT(embedding_grad)
void embedding_grad(const int *tokens, const f32 *dy, f32 *out, int N, int V, int C, int c0, int c1) {
	for (int v = 0; v < V; v++)
		for (int c = c0; c < c1; c++) out[v * C + c] = 0;
	for (int n = 0; n < N; n++) {
		int v = tokens[n];
		if (v < 0 || v >= V) continue;
		const f32 *d = dy + n * C;
		f32 *o = out + v * C;
		int c = c0;
		for (; c + 4 <= c1; c += 4) wasm_v128_store(o + c, wasm_f32x4_add(wasm_v128_load(o + c), wasm_v128_load(d + c)));
		for (; c < c1; c++) o[c] += d[c];
	}
}

// ---- cross-entropy: −log softmax(logits)[target] per row, and its gradient ----

// the row's max, and Σ e^(l − max) (returned, not through pointers: a local whose address is
// taken would live on the stack, which threads on one memory share)
static inline f32 row_max(const f32 *l, int V) {
	v128_t vm = wasm_f32x4_splat(-3.402823e38f);
	int V4 = V & ~3;
	for (int j = 0; j < V4; j += 4) vm = wasm_f32x4_pmax(vm, wasm_v128_load(l + j));
	f32 m = hmax(vm);
	for (int j = V4; j < V; j++) m = l[j] > m ? l[j] : m;
	return m;
}

static inline f32 row_exp_sum(const f32 *l, int V, f32 m) {
	v128_t vs = wasm_f32x4_splat(0), vmx = wasm_f32x4_splat(m);
	int V4 = V & ~3;
	for (int j = 0; j < V4; j += 4) vs = wasm_f32x4_add(vs, lab_exp4(wasm_f32x4_sub(wasm_v128_load(l + j), vmx)));
	f32 s = hsum(vs);
	for (int j = V4; j < V; j++) s += lab_exp(l[j] - m);
	return s;
}

EXPORT(token_nll)
void token_nll(const f32 *logits, const int *targets, f32 *out, int N, int V, int r0, int r1) {
	(void)N;
	for (int n = r0; n < r1; n++) {
		const f32 *l = logits + n * V;
		f32 mx = row_max(l, V);
		out[n] = mx + lab_log(row_exp_sum(l, V, mx)) - l[targets[n]];
	}
}

// dy · (softmax − onehot(target)) per row
EXPORT(token_nll_grad)
void token_nll_grad(const f32 *logits, const int *targets, const f32 *dy, f32 *out, int N, int V, int r0, int r1) {
	int V4 = V & ~3;
	(void)N;
	for (int n = r0; n < r1; n++) {
		const f32 *l = logits + n * V;
		f32 *o = out + n * V;
		f32 mx = row_max(l, V);
		f32 k = dy[n] / row_exp_sum(l, V, mx);
		v128_t vk = wasm_f32x4_splat(k), vmx = wasm_f32x4_splat(mx);
		for (int j = 0; j < V4; j += 4)
			wasm_v128_store(o + j, wasm_f32x4_mul(vk, lab_exp4(wasm_f32x4_sub(wasm_v128_load(l + j), vmx))));
		for (int j = V4; j < V; j++) o[j] = k * lab_exp(l[j] - mx);
		o[targets[n]] -= dy[n];
	}
}

// values r0 … r1 − 1 (r0 a multiple of 4)
EXPORT(gelu)
void gelu(const f32 *x, f32 *out, int n, int r0, int r1) {
	(void)n;
	int n4 = r0 + ((r1 - r0) & ~3), i = r0;
	for (; i < n4; i += 4) {
		v128_t v = wasm_v128_load(x + i);
		wasm_v128_store(out + i, wasm_f32x4_mul(v, gelu_sig4(v)));
	}
	for (; i < r1; i++) out[i] = x[i] * gelu_sig(x[i]);
}

// values r0 … r1 − 1 (r0 a multiple of 4)
EXPORT(gelu_grad)
void gelu_grad(const f32 *x, const f32 *dy, f32 *out, int n, int r0, int r1) {
	(void)n;
	int n4 = r0 + ((r1 - r0) & ~3), i = r0;
	for (; i < n4; i += 4) wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), gelu_slope4(wasm_v128_load(x + i))));
	for (; i < r1; i++) out[i] = dy[i] * gelu_slope(x[i]);
}

// ---- the optimizer: Σ x², and AdamW in place (src/lib/core/train/adamw.ts) ----

EXPORT(sum_squares)
f32 sum_squares(const f32 *x, int n) {
	v128_t acc = wasm_f32x4_splat(0);
	int i = 0;
	for (; i + 4 <= n; i += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(x + i)));
	f32 s = hsum(acc);
	for (; i < n; i++) s += x[i] * x[i];
	return s;
}

// values r0 … r1 − 1
EXPORT(adamw)
void adamw(f32 *p, const f32 *g, f32 *m, f32 *v, int n, f32 lr, f32 beta1, f32 beta2, f32 eps, f32 bc1, f32 bc2,
	   f32 decay, f32 gradScale, int r0, int r1) {
	(void)n;
	for (int i = r0; i < r1; i++) {
		f32 gi = g[i] * gradScale;
		f32 mi = m[i] * beta1 + gi * (1.0f - beta1);
		f32 vi = v[i] * beta2 + gi * gi * (1.0f - beta2);
		m[i] = mi;
		v[i] = vi;
		p[i] = p[i] * decay - (mi / bc1) / (__builtin_sqrtf(vi / bc2) + eps) * lr;
	}
}
