// LoRA (docs/pretrained.md "LoRA"): a low-rank update W + (alpha / rank) · A·B on chosen linear
// layers of a frozen pretrained GPT-2, plugged in at the model seam as a wrapper of `linear` over
// whichever ops the backend has, so no kernel changes. A (in, r) starts uniform in ±1/√in (PEFT's
// Kaiming init), B (r, out) at zero, so step 0 is the pretrained model exactly.

import * as tf from '@tensorflow/tfjs-core';
import type { LORA_TARGETS } from '../config';
import { Mt19937 } from '../prng';
import type { Dropout } from './dropout';
import type { LinearLayer, ModelOps } from './modelOps';
import type { GptConfig } from './shapes';

/** A layer an adapter may target, by PEFT's module name (config.ts LORA_TARGETS). */
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** A run's adapters (config `lora`). */
export interface LoraSettings {
	/** r: the adapters' inner width. */
	rank: number;
	/** The update is scaled by alpha / rank. */
	alpha: number;
	/** Dropout on an adapter's input while training (0 = off). */
	dropout: number;
	/** Which linear layers carry an adapter. */
	targets: readonly LoraTarget[];
}

/** Every adapted layer: its GPT-2 name (without `.weight`) and its weight's [in, out]. */
export function loraLayers(gpt: GptConfig, targets: readonly LoraTarget[]): { name: string; dims: [number, number] }[] {
	const C = gpt.n_embd;
	const has = (t: LoraTarget) => targets.includes(t);
	const out: { name: string; dims: [number, number] }[] = [];
	for (let l = 0; l < gpt.n_layer; l++) {
		const h = `transformer.h.${l}`;
		if (has('c_attn')) out.push({ name: `${h}.attn.c_attn`, dims: [C, 3 * C] });
		if (has('c_proj') || has('attn.c_proj')) out.push({ name: `${h}.attn.c_proj`, dims: [C, C] });
		if (has('c_fc')) out.push({ name: `${h}.mlp.c_fc`, dims: [C, 4 * C] });
		if (has('c_proj') || has('mlp.c_proj')) out.push({ name: `${h}.mlp.c_proj`, dims: [4 * C, C] });
	}
	return out;
}

/** The adapters' tensors in a fixed order: `<layer>.lora_A` (in, r), `<layer>.lora_B` (r, out). */
export function loraShapes(gpt: GptConfig, lora: LoraSettings): [string, number[]][] {
	return loraLayers(gpt, lora.targets).flatMap(({ name, dims: [i, o] }) => [
		[`${name}.lora_A`, [i, lora.rank]],
		[`${name}.lora_B`, [lora.rank, o]]
	]);
}

/** The adapters at step 0, drawn from MT19937(seed) in loraShapes' order. */
export function initLoraValues(gpt: GptConfig, lora: LoraSettings, seed: number): Map<string, Float32Array> {
	const rng = new Mt19937(seed);
	const out = new Map<string, Float32Array>();
	for (const [name, [rows, cols]] of loraShapes(gpt, lora)) {
		const data = new Float32Array(rows * cols);
		if (name.endsWith('.lora_A')) {
			const bound = 1 / Math.sqrt(rows);
			for (let k = 0; k < data.length; k++) data[k] = bound * (2 * rng.random() - 1);
		}
		out.set(name, data);
	}
	return out;
}

/**
 * `base` with each adapted layer's output raised by (alpha/r) · drop(x)·A·B. Everything else is
 * delegated; a projection or MLP with an adapter runs through the composite path (linear, gelu,
 * add) so the delta joins before the residual, as a merged weight would.
 */
export function loraOps(base: ModelOps, adapters: tf.NamedTensorMap, lora: LoraSettings, inputDrop: Dropout): ModelOps {
	const scale = lora.alpha / lora.rank;
	const adapted = (layer: LinearLayer) => adapters[`${layer.name}.lora_A`] !== undefined;
	const ops: ModelOps = Object.create(base); // base's methods, `this` = the wrapper
	Object.defineProperty(ops, 'description', { value: `${base.description}, with LoRA adapters (rank ${lora.rank})` });
	ops.linear = (x, layer) => {
		const y = base.linear(x, layer); // (N, out)
		if (!adapted(layer)) return y;
		const A = adapters[`${layer.name}.lora_A`] as tf.Tensor2D; // (in, r)
		const B = adapters[`${layer.name}.lora_B`] as tf.Tensor2D; // (r, out)
		const delta = base.matMul(base.matMul(inputDrop.apply(x), A), B); // (N, out)
		return tf.add(y, tf.mul(delta, scale));
	};
	ops.linearAdd = (residual, y, layer, drop) =>
		adapted(layer) ? tf.add(residual, drop.apply(ops.linear(y, layer))) : base.linearAdd(residual, y, layer, drop);
	ops.mlp = (residual, xn, fc, proj, drop) =>
		adapted(fc) || adapted(proj)
			? ops.linearAdd(residual, ops.gelu(ops.linear(xn, fc)) as tf.Tensor2D, proj, drop)
			: base.mlp(residual, xn, fc, proj, drop);
	return ops;
}

/** The base weights with every adapter merged in: W + (alpha/r) · A·B (what evaluation and export use). */
export function mergeLora(
	base: ReadonlyMap<string, Float32Array>,
	adapters: ReadonlyMap<string, Float32Array>,
	gpt: GptConfig,
	lora: LoraSettings
): Map<string, Float32Array> {
	const merged = new Map(base);
	const scale = lora.alpha / lora.rank;
	const r = lora.rank;
	for (const {
		name,
		dims: [rows, cols]
	} of loraLayers(gpt, lora.targets)) {
		const A = adapters.get(`${name}.lora_A`)!; // (in, r)
		const B = adapters.get(`${name}.lora_B`)!; // (r, out)
		const W = Float32Array.from(base.get(`${name}.weight`)!); // (in, out), a copy
		for (let i = 0; i < rows; i++) {
			for (let k = 0; k < r; k++) {
				const a = scale * A[i * r + k];
				if (a === 0) continue;
				for (let j = 0; j < cols; j++) W[i * cols + j] += a * B[k * cols + j];
			}
		}
		merged.set(`${name}.weight`, W);
	}
	return merged;
}
