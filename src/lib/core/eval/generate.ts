// Greedy decoding with a KV cache, batched across items (docs/specification.md §7).
// Prompts of different lengths are left-padded to one width L; each item's positions start at 0
// at its first real token, and pad keys are masked out, so every item sees exactly the context it
// would see alone. After a prefill of (B, L), each new token costs one (B, 1) pass per layer that
// attends over the cached keys and values instead of recomputing the whole sequence.

import * as tf from '@tensorflow/tfjs-core';
import { disposeCache, forward, type KvCache, type Params } from '../model/gpt';
import type { GptConfig } from '../model/shapes';
import { Mt19937 } from '../prng';
import { EOS, PAD, type TextTokenizer } from '../text/tokenizer';

/** One generation: the new token ids (without <eos>) and whether <eos> ended it. */
export interface Generation {
	tokens: number[];
	endedWithEos: boolean;
}

const NEG = -1e9;

/**
 * One decoding pass of the model's own forward (model/gpt.ts) over B rows of new columns:
 * ids/positions (B, T), additive mask (B, 1, T, Tk); grows `cache`. Returns the last column's logits (B, V).
 */
function decode(
	p: Params,
	cfg: GptConfig,
	cache: KvCache,
	B: number,
	ids: Int32Array,
	pos: Int32Array,
	mask: Float32Array
) {
	const T = ids.length / B;
	const Tk = mask.length / (B * T);
	return tf.tidy(() => {
		const logits = forward(p, tf.tensor2d(ids, [B, T], 'int32'), cfg, {
			cache,
			positions: tf.tensor2d(pos, [B, T], 'int32'),
			mask: tf.tensor4d(mask, [B, 1, T, Tk])
		}); // (B, T, V)
		return tf.reshape(tf.slice(logits, [0, T - 1, 0], [B, 1, cfg.vocab_size]), [B, cfg.vocab_size]) as tf.Tensor2D; // (B, V)
	});
}

/** How the next token is chosen. Greedy (temperature 0) unless asked otherwise. */
export interface Sampling {
	/** 0: the most likely token (greedy, deterministic); above 0: sample from softmax(logits / temperature). */
	temperature: number;
	/** Sample among the k most likely tokens only (0: all). */
	topK: number;
	/** Seed of the sampling PRNG (MT19937), so a sample can be drawn again. */
	seed: number;
}

export const GREEDY: Sampling = { temperature: 0, topK: 0, seed: 0 };

/** The next token of one row of logits (V values), as `sampling` says. */
function pick(row: Float32Array, sampling: Sampling, rng: Mt19937 | null): number {
	let best = 0;
	for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j; // the first maximum, as tf.argMax
	if (sampling.temperature <= 0 || !rng) return best;
	const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a]);
	const kept = sampling.topK > 0 ? order.slice(0, sampling.topK) : order;
	const weights = kept.map((j) => Math.exp((row[j] - row[best]) / sampling.temperature));
	let u = rng.random() * weights.reduce((a, b) => a + b, 0);
	for (let k = 0; k < kept.length; k++) if ((u -= weights[k]) < 0) return kept[k];
	return kept[kept.length - 1];
}

/**
 * Continuations of `prompts` (token ids, each starting with <bos>), until <eos>, `maxNewTokens`,
 * or the model's block_size: greedy by default (deterministic for a given batch), or sampled.
 * `onTokens` gets the tokens so far of every row after each step (streaming). `ends` holds the
 * tokenizer's <eos> and padding ids (the character tokenizer's by default).
 */
export async function generate(
	p: Params,
	cfg: GptConfig,
	prompts: number[][],
	maxNewTokens: number,
	sampling: Sampling = GREEDY,
	onTokens?: (tokens: number[][]) => void,
	ends: Pick<TextTokenizer, 'eos' | 'pad'> = { eos: EOS, pad: PAD }
): Promise<Generation[]> {
	const rng = sampling.temperature > 0 ? new Mt19937(sampling.seed) : null;
	const B = prompts.length;
	const lens = prompts.map((ids) => ids.length);
	const L = Math.max(...lens);
	if (L > cfg.block_size) throw new Error(`a prompt of ${L} tokens exceeds block_size ${cfg.block_size}`);
	const pad = lens.map((n) => L - n);

	// prefill: ids/positions (B, L), mask (B, 1, L, L) = causal and key is not padding
	const ids = new Int32Array(B * L).fill(ends.pad);
	const pos = new Int32Array(B * L);
	const prefillMask = new Float32Array(B * L * L);
	for (let b = 0; b < B; b++) {
		prompts[b].forEach((id, j) => (ids[b * L + pad[b] + j] = id));
		for (let i = 0; i < L; i++) {
			pos[b * L + i] = Math.max(0, i - pad[b]);
			for (let j = 0; j < L; j++) if (j > i || j < pad[b]) prefillMask[(b * L + i) * L + j] = NEG;
		}
	}
	const results: Generation[] = prompts.map(() => ({ tokens: [], endedWithEos: false }));
	const active = prompts.map(() => true);
	let keyValid = Array.from({ length: B }, (_, b) => Array.from({ length: L }, (_, j) => j >= pad[b]));
	const cache: KvCache = [];
	let logits: tf.Tensor2D | null = null;
	try {
		logits = decode(p, cfg, cache, B, ids, pos, prefillMask); // (B, V)
		for (let t = 0; t < maxNewTokens; t++) {
			const rows = (await logits.data()) as Float32Array; // (B, V)
			const V = cfg.vocab_size;
			const next = Array.from({ length: B }, (_, b) => pick(rows.subarray(b * V, (b + 1) * V), sampling, rng));
			for (let b = 0; b < B; b++) {
				if (!active[b]) continue;
				if (next[b] === ends.eos) {
					results[b].endedWithEos = true;
					active[b] = false;
				} else {
					results[b].tokens.push(next[b]);
					// the token just chosen sits at position lens[b] + t; it can be fed only below block_size
					if (lens[b] + t >= cfg.block_size) active[b] = false;
				}
			}
			onTokens?.(results.map((r) => r.tokens));
			if (!active.some(Boolean) || t === maxNewTokens - 1) break;
			keyValid = keyValid.map((row) => [...row, true]);
			const stepMask = Float32Array.from(keyValid.flat(), (ok) => (ok ? 0 : NEG));
			const stepPos = Int32Array.from(lens, (n) => Math.min(n + t, cfg.block_size - 1));
			const previous = logits;
			logits = decode(p, cfg, cache, B, Int32Array.from(next), stepPos, stepMask);
			previous.dispose();
		}
	} finally {
		logits?.dispose();
		disposeCache(cache);
	}
	return results;
}
