// The size ladder of the speed work (docs/performance.md "The size ladder"): four models from the
// full-run model to GPT-2 small, each with the batch it is benchmarked at, and the arithmetic of a
// training step at that size — the products' floating-point operations and their shapes. The Node
// ladder (scripts/bench-ladder.ts) and the PyTorch reference (scripts/bench_pytorch.py --rung) read
// the rungs from here; one formula counts the work for every row of the table.

import { parameterCount, type GptConfig } from '../model/shapes';

/** One rung: a model shape and the batch a step trains on. */
export interface Rung {
	/** S, M, L, XL. */
	name: string;
	/** What the shape is, in words. */
	label: string;
	n_layer: number;
	n_head: number;
	n_embd: number;
	/** 44: golden-v2's characters (models trained from scratch); 50,257: GPT-2's tokens. */
	vocab: number;
	/** Rows of the batch. */
	batch: number;
	/** Tokens a row (every one counted in the loss). */
	seq: number;
}

export const LADDER: readonly Rung[] = [
	{
		name: 'S',
		label: 'the full-run model (2 × 64)',
		n_layer: 2,
		n_head: 4,
		n_embd: 64,
		vocab: 44,
		batch: 16,
		seq: 126
	},
	{ name: 'M', label: '6 × 384', n_layer: 6, n_head: 6, n_embd: 384, vocab: 44, batch: 16, seq: 126 },
	{
		name: 'L',
		label: "distilgpt2's shape (6 × 768)",
		n_layer: 6,
		n_head: 12,
		n_embd: 768,
		vocab: 50257,
		batch: 4,
		seq: 128
	},
	{
		name: 'XL',
		label: 'GPT-2 small (12 × 768)',
		n_layer: 12,
		n_head: 12,
		n_embd: 768,
		vocab: 50257,
		batch: 4,
		seq: 128
	}
];

export function rungNamed(name: string): Rung {
	const r = LADDER.find((x) => x.name === name.toUpperCase());
	if (!r) throw new Error(`no rung "${name}": the ladder has ${LADDER.map((x) => x.name).join(', ')}`);
	return r;
}

/** The rung's model (positions: 128 for the character models, GPT-2's 1,024 for L and XL). */
export function rungGpt(r: Rung): GptConfig {
	const { n_layer, n_head, n_embd, vocab } = r;
	return { vocab_size: vocab, n_layer, n_head, n_embd, block_size: vocab > 1000 ? 1024 : 128, dropout: 0 };
}

/** Its parameters, as Hugging Face counts GPT-2's (tied head). */
export const rungParameters = (r: Rung): number => parameterCount(rungGpt(r));

/**
 * One product of a step: `count` times (M, K) @ (K, N), batched `batch` times. The forward
 * products, then per linear the two of the backward pass (the input's gradient, dY @ Wᵀ, and the
 * weight's, Xᵀ @ dY).
 */
export interface ProductShape {
	/** Where it comes from, e.g. "c_fc forward". */
	what: string;
	batch: number;
	M: number;
	K: number;
	N: number;
	/** How many times a step runs it (the layers). */
	count: number;
	/** op(A) = Aᵀ, op(B) = Bᵀ as the step runs it. */
	transposeA: boolean;
	transposeB: boolean;
}

/** Every product of a training step at this rung (attention's at full T × T, as the kernels compute it). */
export function stepProducts(r: Rung): ProductShape[] {
	const [C, L, T] = [r.n_embd, r.n_layer, r.seq];
	const N = r.batch * T; // tokens: the rows of every linear
	const hs = C / r.n_head;
	const heads = r.batch * r.n_head;
	const out: ProductShape[] = [];
	const linear = (what: string, inF: number, outF: number, count: number) => {
		out.push({ what: `${what} forward`, batch: 1, M: N, K: inF, N: outF, count, transposeA: false, transposeB: false });
		out.push({ what: `${what} dX`, batch: 1, M: N, K: outF, N: inF, count, transposeA: false, transposeB: true });
		out.push({ what: `${what} dW`, batch: 1, M: inF, K: N, N: outF, count, transposeA: true, transposeB: false });
	};
	linear('c_attn', C, 3 * C, L);
	linear('attn c_proj', C, C, L);
	linear('c_fc', C, 4 * C, L);
	linear('mlp c_proj', 4 * C, C, L);
	// attention per head: S = Q Kᵀ (T, hs)(hs, T), Y = P V (T, T)(T, hs), and their gradients
	const att = (what: string, M: number, K: number, Nn: number, tA: boolean, tB: boolean) =>
		out.push({ what, batch: heads, M, K, N: Nn, count: L, transposeA: tA, transposeB: tB });
	att('attention Q·Kᵀ', T, hs, T, false, true);
	att('attention P·V', T, T, hs, false, false);
	att('attention dP = dY·Vᵀ', T, hs, T, false, true);
	att('attention dV = Pᵀ·dY', T, T, hs, true, false);
	att('attention dQ = dS·K', T, T, hs, false, false);
	att('attention dK = dSᵀ·Q', T, T, hs, true, false);
	// the tied head: logits = X Wteᵀ, then dX = dLogits Wte and dWte = dLogitsᵀ X
	out.push({ what: 'head forward', batch: 1, M: N, K: C, N: r.vocab, count: 1, transposeA: false, transposeB: true });
	out.push({ what: 'head dX', batch: 1, M: N, K: r.vocab, N: C, count: 1, transposeA: false, transposeB: false });
	out.push({ what: 'head dW', batch: 1, M: r.vocab, K: N, N: C, count: 1, transposeA: true, transposeB: false });
	return out;
}

/** Floating-point operations of one product shape, all its runs in a step (a multiply and an add: 2). */
export const productFlops = (p: ProductShape): number => 2 * p.batch * p.M * p.K * p.N * p.count;

/** Floating-point operations of the products of one training step (forward and backward). */
export const stepFlops = (r: Rung): number => stepProducts(r).reduce((s, p) => s + productFlops(p), 0);
