// Greedy decoding with a KV cache, batched across items (docs/specification.md §7).
// Prompts of different lengths are left-padded to one width L; each item's positions start at 0
// at its first real token, and pad keys are masked out, so every item sees exactly the context it
// would see alone. After a prefill of (B, L), each new token costs one (B, 1) pass per layer that
// attends over the cached keys and values instead of recomputing the whole sequence.

import * as tf from '@tensorflow/tfjs-core';
import { disposeCache, forward, type GptConfig, type KvCache, type Params } from '../model/gpt';
import { EOS, PAD } from '../text/tokenizer';

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

/**
 * Greedy continuations of `prompts` (token ids, each starting with <bos>), until <eos>,
 * `maxNewTokens`, or the model's block_size. Deterministic for a given batch.
 */
export async function generateGreedy(
	p: Params,
	cfg: GptConfig,
	prompts: number[][],
	maxNewTokens: number
): Promise<Generation[]> {
	const B = prompts.length;
	const lens = prompts.map((ids) => ids.length);
	const L = Math.max(...lens);
	if (L > cfg.block_size) throw new Error(`a prompt of ${L} tokens exceeds block_size ${cfg.block_size}`);
	const pad = lens.map((n) => L - n);

	// prefill: ids/positions (B, L), mask (B, 1, L, L) = causal and key is not padding
	const ids = new Int32Array(B * L).fill(PAD);
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
			const argmax = tf.argMax(logits, 1); // (B)
			const next = Array.from(await argmax.data());
			argmax.dispose();
			for (let b = 0; b < B; b++) {
				if (!active[b]) continue;
				if (next[b] === EOS) {
					results[b].endedWithEos = true;
					active[b] = false;
				} else {
					results[b].tokens.push(next[b]);
					// the token just chosen sits at position lens[b] + t; it can be fed only below block_size
					if (lens[b] + t >= cfg.block_size) active[b] = false;
				}
			}
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
