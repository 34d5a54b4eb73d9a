// Greedy decoding with a KV cache, batched across items (docs/specification.md §7).
// Prompts of different lengths are left-padded to one width L; each item's positions start at 0
// at its first real token, and pad keys are masked out, so every item sees exactly the context it
// would see alone. After a prefill of (B, L), each new token costs one (B, 1) pass per layer that
// attends over the cached keys and values instead of recomputing the whole sequence.

import * as tf from '@tensorflow/tfjs-core';
import { Dropout, layerNorm, linear, lmHead, mlp, type GptConfig, type Params } from '../model/gpt';
import { EOS, PAD } from '../text/tokenizer';

/** One generation: the new token ids (without <eos>) and whether <eos> ended it. */
export interface Generation {
	tokens: number[];
	endedWithEos: boolean;
}

const NO_DROPOUT = new Dropout(0, {});
const NEG = -1e9;

/** Per-layer cache: keys and values (B, nh, T, hs). */
type LayerCache = { k: tf.Tensor4D; v: tf.Tensor4D };
/** Logits of the last column (B, V) and the caches after a pass. */
type PassOutput = { logits: tf.Tensor2D; caches: LayerCache[] };

/** Token + position embedding for explicit positions: tokens, positions (B, T) → (B, T, C). */
function embedAt(p: Params, cfg: GptConfig, tokens: tf.Tensor2D, positions: tf.Tensor2D): tf.Tensor3D {
	const [B, T] = tokens.shape;
	const C = cfg.n_embd;
	const tok = tf.matMul(tf.oneHot(tf.reshape(tokens, [B * T]), cfg.vocab_size), p['transformer.wte.weight']); // (B*T, C)
	const pos = tf.matMul(tf.oneHot(tf.reshape(positions, [B * T]), cfg.block_size), p['transformer.wpe.weight']); // (B*T, C)
	return tf.reshape(tf.add(tok, pos), [B, T, C]); // (B, T, C)
}

/**
 * One pass of every block over new columns x (B, Tn, C), attending to cached + new keys with the
 * additive mask (B, 1, Tn, Tk). Returns the last hidden state and the grown caches.
 */
function blocks(p: Params, cfg: GptConfig, x0: tf.Tensor3D, mask: tf.Tensor4D, caches: LayerCache[] | null) {
	const [B, Tn, C] = x0.shape;
	const nh = cfg.n_head;
	const hs = C / nh;
	const next: LayerCache[] = [];
	let x: tf.Tensor = x0;
	for (let l = 0; l < cfg.n_layer; l++) {
		const h = `transformer.h.${l}`;
		const a = layerNorm(x, p[`${h}.ln_1.weight`], p[`${h}.ln_1.bias`]);
		const qkv = linear(a, p[`${h}.attn.c_attn.weight`], p[`${h}.attn.c_attn.bias`]); // (B, Tn, 3C)
		const [q, kNew, vNew] = tf.split(qkv, 3, 2).map(
			(t) => tf.transpose(tf.reshape(t, [B, Tn, nh, hs]), [0, 2, 1, 3]) as tf.Tensor4D // (B, nh, Tn, hs)
		);
		const k = caches ? tf.concat([caches[l].k, kNew], 2) : kNew; // (B, nh, Tk, hs)
		const v = caches ? tf.concat([caches[l].v, vNew], 2) : vNew;
		next.push({ k, v });
		const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)), mask); // (B, nh, Tn, Tk)
		const y = tf.matMul(tf.softmax(scores), v); // (B, nh, Tn, hs)
		const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, Tn, C]); // (B, Tn, C)
		x = tf.add(x, linear(merged, p[`${h}.attn.c_proj.weight`], p[`${h}.attn.c_proj.bias`]));
		x = tf.add(x, mlp(layerNorm(x, p[`${h}.ln_2.weight`], p[`${h}.ln_2.bias`]), p, h, NO_DROPOUT));
	}
	const last = tf.reshape(tf.slice(x, [0, Tn - 1, 0], [B, 1, C]), [B, C]); // (B, C)
	return { last, caches: next };
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
	let { logits, caches } = tf.tidy<PassOutput>(() => {
		const x = embedAt(p, cfg, tf.tensor2d(ids, [B, L], 'int32'), tf.tensor2d(pos, [B, L], 'int32'));
		const out = blocks(p, cfg, x, tf.tensor4d(prefillMask, [B, 1, L, L]), null);
		return { logits: lmHead(out.last, p), caches: out.caches };
	});

	const results: Generation[] = prompts.map(() => ({ tokens: [], endedWithEos: false }));
	const active = prompts.map(() => true);
	let keyValid = Array.from({ length: B }, (_, b) => Array.from({ length: L }, (_, j) => j >= pad[b]));
	try {
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
			const Tk = keyValid[0].length;
			const stepMask = Float32Array.from(keyValid.flat(), (ok) => (ok ? 0 : NEG));
			const stepPos = Int32Array.from(lens, (n) => Math.min(n + t, cfg.block_size - 1));
			const old = { logits, caches };
			({ logits, caches } = tf.tidy<PassOutput>(() => {
				const x = embedAt(
					p,
					cfg,
					tf.tensor2d(Int32Array.from(next), [B, 1], 'int32'),
					tf.tensor2d(stepPos, [B, 1], 'int32')
				);
				const out = blocks(p, cfg, x, tf.tensor4d(stepMask, [B, 1, 1, Tk]), old.caches);
				return { logits: lmHead(out.last, p), caches: out.caches };
			}));
			tf.dispose([old.logits, ...old.caches.flatMap((c) => [c.k, c.v])]);
		}
	} finally {
		tf.dispose([logits, ...caches.flatMap((c) => [c.k, c.v])]);
	}
	return results;
}
