// GPT-2, exactly (docs/specification.md §4), in the shape of nanoGPT's model.py. Parameters are
// plain named tensors with Hugging Face GPT-2 names; linear weights are [in, out]. Every operation
// goes through the model seam (modelOps.ts), so nothing here depends on the backend.

import * as tf from '@tensorflow/tfjs-core';
// Gradients of every op (tfjs-core registers none by default; training needs them).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Mt19937 } from '../prng';
import { paramShapes, type GptConfig } from './shapes';
import { modelOps } from './chooseOps';
import { splitHeads } from './compositeOps';
import { Dropout } from './dropout';
import type { LinearLayer, ModelOps } from './modelOps';

/** Named parameters (tensors or variables), by GPT-2 name. */
export type Params = Record<string, tf.Tensor>;

const LN_EPS = 1e-5;

/**
 * GPT-2 init: normal(0, 0.02) for weights and embeddings, normal(0, 0.02/sqrt(2·n_layer)) for the
 * residual projections (attn.c_proj, mlp.c_proj), LayerNorm weight 1, every bias 0.
 * Drawn in a fixed order from MT19937(seed), so every backend starts from the same weights.
 */
export function initParamValues(cfg: GptConfig, seed: number): Map<string, Float32Array> {
	const rng = new Mt19937(seed);
	const values = new Map<string, Float32Array>();
	for (const [name, shape] of paramShapes(cfg)) {
		const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
		if (name.endsWith('.bias')) {
			// zeros
		} else if (/\.ln_(1|2|f)\.weight$/.test(name)) {
			data.fill(1);
		} else {
			const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * cfg.n_layer) : 0.02;
			for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
		}
		values.set(name, data);
	}
	return values;
}

/** Keys and values of one layer's earlier columns: (B*nh, Tc, hs) each. */
export interface LayerCache {
	k: tf.Tensor3D;
	v: tf.Tensor3D;
}

/**
 * A KV cache for decoding: one entry per layer, grown by each forward pass that is given it.
 * `forward` keeps the grown tensors (they outlive its tidy) and disposes the ones they replace;
 * the caller disposes the cache when decoding ends (`disposeCache`).
 */
export type KvCache = LayerCache[];

export function disposeCache(cache: KvCache): void {
	tf.dispose(cache.flatMap((c) => [c.k, c.v]));
	cache.length = 0;
}

/** Options for one forward pass: training (dropout) or decoding (cache, positions, padding mask). */
export interface ForwardOptions {
	/** Apply dropout (training only). */
	training?: boolean;
	/** Seed for this pass's dropout masks (e.g. derived from run seed and step). */
	dropoutSeed?: string;
	/** Decoding: attend to these earlier columns too, and append this pass's keys and values. */
	cache?: KvCache;
	/** Position of each token (B, T) int32; default 0..T-1 in every row (training, no cache). */
	positions?: tf.Tensor2D;
	/** Additive attention mask (B, 1, T, Tk) over cached + new keys (0 or -1e9); default causal. */
	mask?: tf.Tensor4D;
	/** The model's ops (a trainer's choice); default: those of the active backend. */
	ops?: ModelOps;
}

/** One forward pass's context: its ops, dropout and options. */
interface Pass {
	ops: ModelOps;
	drop: Dropout;
	opts: ForwardOptions;
}

/** The linear layer `name` (e.g. transformer.h.0.attn.c_attn) of p. */
const layer = (p: Params, name: string): LinearLayer => ({
	name,
	weight: p[`${name}.weight`] as tf.Tensor2D,
	bias: p[`${name}.bias`] as tf.Tensor1D
});

/** LayerNorm `name` of x over its last axis: (..., C) → (..., C). */
function layerNormOf(x: tf.Tensor, p: Params, name: string, ops: ModelOps): tf.Tensor {
	const rows = tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D; // (N, C)
	const y = ops.layerNorm(rows, p[`${name}.weight`] as tf.Tensor1D, p[`${name}.bias`] as tf.Tensor1D, LN_EPS);
	return tf.reshape(y, x.shape); // (..., C)
}

/** LayerNorm over the last axis with weight w and bias b (the tests' entry; the model uses layerNormOf). */
export function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, ops: ModelOps = modelOps()): tf.Tensor {
	return layerNormOf(x, { 'ln.weight': w, 'ln.bias': b }, 'ln', ops);
}

/**
 * Causal self-attention of block h, added to the residual: x + attn(ln_1(x)), both (B, T, C).
 * With a cache, queries attend to the cached columns and the new ones (Tk = Tc + T keys), and the
 * new keys and values are appended.
 */
function attention(x: tf.Tensor, p: Params, h: string, cfg: GptConfig, pass: Pass, l: number): tf.Tensor {
	const [B, T, C] = x.shape; // (B, T, C)
	const { ops, drop, opts } = pass;
	const xn = tf.reshape(layerNormOf(x, p, `${h}.ln_1`, ops), [B * T, C]) as tf.Tensor2D; // (B*T, C)
	const qkv = tf.reshape(ops.linear(xn, layer(p, `${h}.attn.c_attn`)), [B, T, 3 * C]) as tf.Tensor3D; // (B, T, 3C)
	const y = opts.cache || opts.mask ? decodingAttention(qkv, cfg, pass, l) : ops.attention(qkv, cfg.n_head, drop); // (B, T, C)
	const out = ops.linearAdd(
		tf.reshape(x, [B * T, C]) as tf.Tensor2D,
		tf.reshape(y, [B * T, C]) as tf.Tensor2D,
		layer(p, `${h}.attn.c_proj`),
		drop
	); // (B*T, C)
	return tf.reshape(out, [B, T, C]); // (B, T, C)
}

/** Attention over the cache and the new columns, with the pass's mask: qkv (B, T, 3C) → (B, T, C). */
function decodingAttention(qkv: tf.Tensor3D, cfg: GptConfig, pass: Pass, l: number): tf.Tensor3D {
	const [B, T, C3] = qkv.shape;
	const [nh, hs] = [cfg.n_head, C3 / 3 / cfg.n_head];
	const { ops, drop, opts } = pass;
	const [q, kNew, vNew] = splitHeads(qkv, nh); // (B*nh, T, hs) each
	const [k, v] = opts.cache ? extendCache(opts.cache, l, kNew, vNew) : [kNew, vNew]; // (B*nh, Tk, hs)
	const scores = ops.matMulTransposeB(q, k); // (B*nh, T, Tk)
	const Tk = k.shape[1];
	const scale = 1 / Math.sqrt(hs);
	const att = opts.mask
		? (tf.reshape(
				tf.softmax(tf.add(tf.mul(tf.reshape(scores, [B, nh, T, Tk]), scale), opts.mask)), // (B, nh, T, Tk)
				[B * nh, T, Tk]
			) as tf.Tensor3D)
		: ops.causalSoftmax(scores, scale); // (B*nh, T, Tk)
	const y = tf.reshape(ops.matMul(drop.apply(att), v), [B, nh, T, hs]); // (B, nh, T, hs)
	return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, nh * hs]) as tf.Tensor3D; // (B, T, C)
}

/** Layer l's keys and values with this pass's appended along the time axis: (B*nh, Tc + T, hs). */
function extendCache(cache: KvCache, l: number, kNew: tf.Tensor3D, vNew: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
	const old = cache[l];
	const k = old ? tf.concat([old.k, kNew], 1) : kNew; // (B*nh, Tk, hs)
	const v = old ? tf.concat([old.v, vNew], 1) : vNew;
	cache[l] = { k: tf.keep(k), v: tf.keep(v) };
	if (old) tf.dispose([old.k, old.v]);
	return [k, v];
}

/** The MLP of block h, added to the residual: x + mlp(ln_2(x)), both (B, T, C). */
function mlp(x: tf.Tensor, p: Params, h: string, pass: Pass): tf.Tensor {
	const C = x.shape[x.rank - 1];
	const xn = tf.reshape(layerNormOf(x, p, `${h}.ln_2`, pass.ops), [-1, C]) as tf.Tensor2D; // (B*T, C)
	const residual = tf.reshape(x, [-1, C]) as tf.Tensor2D; // (B*T, C)
	const y = pass.ops.mlp(residual, xn, layer(p, `${h}.mlp.c_fc`), layer(p, `${h}.mlp.c_proj`), pass.drop);
	return tf.reshape(y, x.shape); // (B, T, C)
}

/**
 * Token + position embedding: tokens (B, T) → (B, T, C). The token rows come from the seam (a
 * gather or a one-hot product, the same values and gradient); positions default to 0..T-1, and
 * explicit ones (decoding, no gradient) are gathered.
 */
function embed(tokens: tf.Tensor2D, p: Params, cfg: GptConfig, pass: Pass): tf.Tensor {
	const [B, T] = tokens.shape;
	if (T > cfg.block_size) throw new Error(`sequence of ${T} tokens exceeds block_size ${cfg.block_size}`);
	const C = cfg.n_embd;
	const tok = tf.reshape(pass.ops.embedding(tokens, p['transformer.wte.weight'] as tf.Tensor2D), [B, T, C]); // (B, T, C)
	const positions = pass.opts.positions;
	const pos = positions
		? tf.reshape(tf.gather(p['transformer.wpe.weight'], tf.reshape(positions, [B * T])), [B, T, C]) // (B, T, C)
		: tf.slice(p['transformer.wpe.weight'], [0, 0], [T, C]); // (T, C)
	return tf.add(tok, pos); // (B, T, C)
}

/**
 * tokens (B, T) int32 → logits (B, T, V). The LM head is tied to the token embedding. The one
 * forward pass: training (dropout), evaluation, and KV-cache decoding (opts.cache, positions, mask).
 */
export function forward(p: Params, tokens: tf.Tensor2D, cfg: GptConfig, opts: ForwardOptions = {}): tf.Tensor3D {
	const pass: Pass = {
		ops: opts.ops ?? modelOps(),
		drop: new Dropout(cfg.dropout, Boolean(opts.training), opts.dropoutSeed),
		opts
	};
	let x = pass.drop.apply(embed(tokens, p, cfg, pass)); // (B, T, C)
	for (let l = 0; l < cfg.n_layer; l++) {
		const h = `transformer.h.${l}`;
		x = attention(x, p, h, cfg, pass, l);
		x = mlp(x, p, h, pass);
	}
	const [B, T, C] = x.shape;
	return tf.reshape(lmHead(tf.reshape(x, [B * T, C]), p, pass.ops), [B, T, cfg.vocab_size]); // (B, T, V)
}

/**
 * Final LayerNorm and the tied LM head: x (N, C) → logits (N, V). The product takes wte (V, C) as
 * it is stored, transposed by the kernel: materialising wteᵀ and its gradient's transpose cost two
 * copies of the largest tensor every step (4 of 5.5 s of a step on WebGPU at 50,257 tokens).
 */
function lmHead(x: tf.Tensor, p: Params, ops: ModelOps): tf.Tensor2D {
	const normed = layerNormOf(x, p, 'transformer.ln_f', ops) as tf.Tensor2D; // (N, C)
	return ops.matMulTransposeB(normed, p['transformer.wte.weight'] as tf.Tensor2D); // (N, C) @ (V, C)ᵀ → (N, V)
}

/**
 * Masked mean cross-entropy: logits (B, T, V), targets (B, T) int32, mask (B, T) float32 of 0/1.
 * Returns the scalar sum(mask · -log p(target)) / sum(mask).
 */
export function maskedCrossEntropy(
	logits: tf.Tensor3D,
	targets: tf.Tensor2D,
	mask: tf.Tensor2D,
	ops: ModelOps = modelOps()
): tf.Scalar {
	const nll = tf.mul(tokenNll(logits, targets, ops), mask); // (B, T)
	return tf.div(tf.sum(nll), tf.maximum(tf.sum(mask), 1));
}

/** Per-token negative log-likelihood of the targets: logits (B, T, V), targets (B, T) → (B, T). */
export function tokenNll(logits: tf.Tensor3D, targets: tf.Tensor2D, ops: ModelOps = modelOps()): tf.Tensor2D {
	const [B, T, V] = logits.shape;
	const flat = tf.reshape(logits, [B * T, V]) as tf.Tensor2D; // (B*T, V)
	return tf.reshape(ops.tokenNll(flat, tf.reshape(targets, [B * T]) as tf.Tensor1D), [B, T]); // (B, T)
}
