// GPT-2, exactly (docs/specification.md §4), written against tfjs-core in the shape of nanoGPT's model.py.
// Parameters are plain named tensors with Hugging Face GPT-2 names; linear weights are [in, out].

import * as tf from '@tensorflow/tfjs-core';
// Gradients of every op (tfjs-core registers none by default; training needs them).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Mt19937 } from '../prng';
import { paramShapes, type GptConfig } from './shapes';
import { FUSED, fusedAvailable } from './fused';
import {
	fusedAttention,
	fusedCausalSoftmax,
	fusedEmbedding,
	fusedGelu,
	fusedLayerNorm,
	fusedLinear,
	fusedLinearAdd,
	fusedMlp,
	fusedTokenNll
} from './fusedOps';
import { matMul, matMulTransposeB } from './ops';

/** Named parameters (tensors or variables), by GPT-2 name. */
export type Params = Record<string, tf.Tensor>;
export { paramShapes, type GptConfig };

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
}

const causalMasks = new Map<number, Float32Array>();

/** (T, T) additive mask: 0 on and below the diagonal, -1e9 above (future positions). */
function causalMask(T: number): Float32Array {
	let mask = causalMasks.get(T);
	if (!mask) {
		mask = new Float32Array(T * T);
		for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
		causalMasks.set(T, mask);
	}
	return mask;
}

/** x @ w + b over the last axis: x (..., in), w (in, out), b (out) → (..., out). */
export function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
	const inDim = x.shape[x.rank - 1];
	const lead = x.shape.slice(0, -1);
	const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D; // (N, in)
	if (fusedAvailable()) {
		return tf.reshape(fusedLinear(x2, w as tf.Tensor2D, b as tf.Tensor1D), [...lead, w.shape[1] as number]); // (..., out)
	}
	return tf.reshape(tf.add(matMul(x2, w as tf.Tensor2D), b), [...lead, w.shape[1] as number]); // (..., out)
}

export function layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
	if (fusedAvailable()) {
		const C = x.shape[x.rank - 1];
		const rows = tf.reshape(x, [-1, C]) as tf.Tensor2D; // (N, C)
		return tf.reshape(fusedLayerNorm(rows, w as tf.Tensor1D, b as tf.Tensor1D, LN_EPS), x.shape); // (..., C)
	}
	const { mean, variance } = tf.moments(x, -1, true); // (B, T, 1) each
	const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, LN_EPS)));
	return tf.add(tf.mul(xhat, w), b);
}

/**
 * GELU, tanh approximation (GPT-2's "gelu_new"): 0.5·x·(1 + tanh(u)), u = √(2/π)(x + 0.044715x³),
 * computed as x·σ(2u), which is the same function (0.5(1 + tanh(u)) = σ(2u)); sigmoid is ~10×
 * faster than tanh on the wasm backend.
 */
function gelu(x: tf.Tensor): tf.Tensor {
	if (fusedAvailable()) return fusedGelu(x);
	const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))));
	return tf.mul(x, tf.sigmoid(tf.mul(2, inner)));
}

class Dropout {
	private site = 0;
	constructor(
		private readonly rate: number,
		private readonly opts: ForwardOptions
	) {}
	/** Whether apply() drops anything (training with a rate above 0). */
	get active(): boolean {
		return Boolean(this.opts.training) && this.rate > 0;
	}
	apply(x: tf.Tensor): tf.Tensor {
		if (!this.active) return x;
		return tf.dropout(x, this.rate, undefined, `${this.opts.dropoutSeed ?? 'dropout'}:${this.site++}`);
	}
}

/**
 * residual + dropout(y @ w + b), y (..., in) → (..., out) as the residual: in one product with the
 * residual added in its epilogue where a fused kernel has it.
 */
function addLinear(residual: tf.Tensor, y: tf.Tensor, w: tf.Tensor, b: tf.Tensor, drop: Dropout): tf.Tensor {
	if (!drop.active && fusedAvailable(FUSED.linearAdd)) {
		const [inDim, outDim] = w.shape;
		const y2 = tf.reshape(y, [-1, inDim]) as tf.Tensor2D; // (N, in)
		const r2 = tf.reshape(residual, [-1, outDim]) as tf.Tensor2D; // (N, out)
		return tf.reshape(fusedLinearAdd(y2, w as tf.Tensor2D, b as tf.Tensor1D, r2), residual.shape); // (..., out)
	}
	return tf.add(residual, drop.apply(linear(y, w, b)));
}

/**
 * Causal self-attention of one block, added to the residual: x + attn(xn) with xn = ln(x), both
 * (B, T, C). With a cache, queries attend to the cached columns and the new ones (Tk = Tc + T
 * keys), and the new keys and values are appended.
 */
function attention(
	x: tf.Tensor,
	xn: tf.Tensor,
	p: Params,
	h: string,
	cfg: GptConfig,
	drop: Dropout,
	opts: ForwardOptions,
	l: number
) {
	const [B, T, C] = xn.shape; // (B, T, C)
	const nh = cfg.n_head;
	const hs = C / nh;
	const [wProj, bProj] = [p[`${h}.attn.c_proj.weight`], p[`${h}.attn.c_proj.bias`]];
	const qkv = linear(xn, p[`${h}.attn.c_attn.weight`], p[`${h}.attn.c_attn.bias`]); // (B, T, 3C)
	if (!opts.cache && !opts.mask && !drop.active && fusedAvailable(FUSED.attention)) {
		// every head in one kernel, causal, straight from qkv's layout: the same math as below
		return addLinear(x, fusedAttention(qkv as tf.Tensor3D, nh), wProj, bProj, drop); // (B, T, C)
	}
	const [q, kNew, vNew] = tf.split(qkv, 3, 2).map(
		(t) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, nh, hs]), [0, 2, 1, 3]), [B * nh, T, hs]) // (B*nh, T, hs)
	) as tf.Tensor3D[];
	const [k, v] = opts.cache ? extendCache(opts.cache, l, kNew, vNew) : [kNew, vNew]; // (B*nh, Tk, hs)
	const att = drop.apply(attentionWeights(q, k, B, opts.mask, 1 / Math.sqrt(hs))) as tf.Tensor3D; // (B*nh, T, Tk)
	const y = tf.reshape(matMul(att, v), [B, nh, T, hs]); // (B, nh, T, hs)
	const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, C]); // (B, T, C)
	return addLinear(x, merged, wProj, bProj, drop);
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

/**
 * softmax(scale · q kᵀ + mask): q (B*nh, T, hs), k (B*nh, Tk, hs) → (B*nh, T, Tk). Without a
 * mask the mask is causal (T = Tk), computed inside the fused kernel where there is one.
 */
function attentionWeights(q: tf.Tensor3D, k: tf.Tensor3D, B: number, mask: tf.Tensor4D | undefined, scale: number) {
	const scores = matMulTransposeB(q, k); // (B*nh, T, Tk)
	const [BH, T, Tk] = scores.shape;
	if (mask) {
		const perItem = tf.reshape(scores, [B, BH / B, T, Tk]); // (B, nh, T, Tk)
		return tf.reshape(tf.softmax(tf.add(tf.mul(perItem, scale), mask)), [BH, T, Tk]) as tf.Tensor3D; // (B*nh, T, Tk)
	}
	if (fusedAvailable()) return fusedCausalSoftmax(scores, scale);
	const causal = tf.tensor3d(causalMask(T), [1, T, T]); // (1, T, T)
	return tf.softmax(tf.add(tf.mul(scores, scale), causal)) as tf.Tensor3D;
}

/** The MLP of one block, added to the residual: x + mlp(xn), xn = ln(x), both (B, T, C). */
function mlp(x: tf.Tensor, xn: tf.Tensor, p: Params, h: string, drop: Dropout): tf.Tensor {
	const [w1, b1] = [p[`${h}.mlp.c_fc.weight`], p[`${h}.mlp.c_fc.bias`]];
	const [w2, b2] = [p[`${h}.mlp.c_proj.weight`], p[`${h}.mlp.c_proj.bias`]];
	if (!drop.active && fusedAvailable(FUSED.linearGelu)) {
		// two products: GELU in the first's epilogue, the residual in the second's
		const C = x.shape[x.rank - 1];
		const [x2, xn2] = [tf.reshape(x, [-1, C]), tf.reshape(xn, [-1, C])] as tf.Tensor2D[]; // (B*T, C)
		const y = fusedMlp(xn2, w1 as tf.Tensor2D, b1 as tf.Tensor1D, w2 as tf.Tensor2D, b2 as tf.Tensor1D, x2);
		return tf.reshape(y, x.shape); // (B, T, C)
	}
	const hidden = gelu(linear(xn, w1, b1)); // (B, T, 4C)
	return addLinear(x, hidden, w2, b2, drop); // (B, T, C)
}

/**
 * Token + position embedding: tokens (B, T) → (B, T, C). The token lookup is a one-hot matmul: its
 * gradient needs no UnsortedSegmentSum, which the wasm backend lacks (the gradient of tf.gather
 * would). Positions default to 0..T-1; explicit ones (decoding, no gradient) are gathered.
 */
function embed(tokens: tf.Tensor2D, p: Params, cfg: GptConfig, positions?: tf.Tensor2D): tf.Tensor {
	const [B, T] = tokens.shape;
	if (T > cfg.block_size) throw new Error(`sequence of ${T} tokens exceeds block_size ${cfg.block_size}`);
	const C = cfg.n_embd;
	const tok = tf.reshape(tokenRows(tokens, p['transformer.wte.weight'] as tf.Tensor2D, cfg.vocab_size), [B, T, C]); // (B, T, C)
	const pos = positions
		? tf.reshape(tf.gather(p['transformer.wpe.weight'], tf.reshape(positions, [B * T])), [B, T, C]) // (B, T, C)
		: tf.slice(p['transformer.wpe.weight'], [0, 0], [T, C]); // (T, C)
	return tf.add(tok, pos); // (B, T, C)
}

/** The table's rows by token: tokens (B, T) → (B*T, C); a gather where a fused kernel has one, else a one-hot product. */
function tokenRows(tokens: tf.Tensor2D, wte: tf.Tensor2D, V: number): tf.Tensor2D {
	if (fusedAvailable(FUSED.embedding)) return fusedEmbedding(tokens, wte); // (B*T, C)
	const [B, T] = tokens.shape;
	// int32 one-hot cast to float32 (the wasm backend's OneHot ignores its dtype argument)
	const oneHot = tf.cast(tf.oneHot(tf.reshape(tokens, [B * T]), V), 'float32') as tf.Tensor2D; // (B*T, V)
	return matMul(oneHot, wte); // (B*T, C)
}

/**
 * tokens (B, T) int32 → logits (B, T, V). The LM head is tied to the token embedding. The one
 * forward pass: training (dropout), evaluation, and KV-cache decoding (opts.cache, positions, mask).
 */
export function forward(p: Params, tokens: tf.Tensor2D, cfg: GptConfig, opts: ForwardOptions = {}): tf.Tensor3D {
	const drop = new Dropout(cfg.dropout, opts);
	let x = drop.apply(embed(tokens, p, cfg, opts.positions)); // (B, T, C)
	for (let l = 0; l < cfg.n_layer; l++) {
		const h = `transformer.h.${l}`;
		x = attention(x, layerNorm(x, p[`${h}.ln_1.weight`], p[`${h}.ln_1.bias`]), p, h, cfg, drop, opts, l);
		x = mlp(x, layerNorm(x, p[`${h}.ln_2.weight`], p[`${h}.ln_2.bias`]), p, h, drop);
	}
	const [B, T, C] = x.shape;
	return tf.reshape(lmHead(tf.reshape(x, [B * T, C]), p), [B, T, cfg.vocab_size]); // (B, T, V)
}

/** Final LayerNorm and the tied LM head: x (N, C) → logits (N, V). */
function lmHead(x: tf.Tensor, p: Params): tf.Tensor2D {
	const normed = layerNorm(x, p['transformer.ln_f.weight'], p['transformer.ln_f.bias']); // (N, C)
	return matMul(normed as tf.Tensor2D, tf.transpose(p['transformer.wte.weight']) as tf.Tensor2D); // (N, V)
}

/**
 * Masked mean cross-entropy: logits (B, T, V), targets (B, T) int32, mask (B, T) float32 of 0/1.
 * Returns the scalar sum(mask · -log p(target)) / sum(mask).
 */
export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
	const nll = tf.mul(tokenNll(logits, targets), mask); // (B, T)
	return tf.div(tf.sum(nll), tf.maximum(tf.sum(mask), 1));
}

/** Per-token negative log-likelihood of the targets: logits (B, T, V), targets (B, T) → (B, T). */
export function tokenNll(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
	const [B, T, V] = logits.shape;
	if (fusedAvailable()) {
		const flat = tf.reshape(logits, [B * T, V]) as tf.Tensor2D; // (B*T, V)
		return tf.reshape(fusedTokenNll(flat, tf.reshape(targets, [B * T]) as tf.Tensor1D), [B, T]); // (B, T)
	}
	const logp = tf.logSoftmax(tf.reshape(logits, [B * T, V])); // (B*T, V)
	const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.reshape(targets, [B * T]), V)), 1); // (B*T)
	return tf.reshape(tf.neg(picked), [B, T]); // (B, T)
}
