// A GPT-2-family model in Hugging Face layout → the lab's model (docs/pretrained.md): config.json,
// model.safetensors (F32, F16 or BF16) and the tokenizer (tokenizer.json, or vocab.json +
// merges.txt). The lab's GPT is GPT-2 exactly (Conv1D [in, out] weights, gelu_new, tied head,
// LayerNorm eps 1e-5), so the weights load by name; anything else is refused by key and value.

import type { BaseModelRef } from '../checkpoint/checkpoint';
import { decodeSafetensors, type NamedArray } from '../checkpoint/safetensors';
import { pretrainedName, type LabConfig } from '../config';
import { paramShapes, type GptConfig } from '../model/shapes';
import { sha256Bytes } from '../sha256';
import { BpeTokenizer, gpt2TokenizerJson, parseMerges, TokenizerFileError } from '../text/bpe';

/** An imported model, ready to train from (model.init) or generate with. */
export interface PretrainedModel {
	/** Its name in the lab (what `model.init` names). */
	name: string;
	/** sha256 of model.safetensors as imported (the Hub lists the same hash for the file). */
	sha256: string;
	/** Its shape; block_size is n_positions, dropout 0 (a run's config sets it). */
	gpt: GptConfig;
	/** Weights by GPT-2 name (`transformer.…`), float32. */
	params: Map<string, Float32Array>;
	/** The tokenizer.json object (built from vocab.json + merges.txt when that is what came). */
	tokenizerJson: Record<string, unknown>;
	/** The element type model.safetensors stored (F32, F16, BF16). */
	dtype: string;
}

/** The files of a Hugging Face model folder that the lab reads (bytes or text). */
export interface HfModelFiles {
	'config.json': string;
	'model.safetensors': Uint8Array;
	'tokenizer.json'?: string;
	'vocab.json'?: string;
	'merges.txt'?: string;
}

/** Thrown for a model the lab cannot import; the message names the file, the key and what to do. */
export class ModelImportError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ModelImportError';
	}
}

/** config.json keys that must hold these values (GPT-2's architecture as the lab implements it). */
const FIXED: Record<string, unknown[]> = {
	model_type: ['gpt2'],
	activation_function: ['gelu_new', 'gelu_pytorch_tanh'],
	layer_norm_epsilon: [1e-5],
	scale_attn_weights: [true, undefined],
	scale_attn_by_inverse_layer_idx: [false, undefined],
	reorder_and_upcast_attn: [false, undefined],
	add_cross_attention: [false, undefined],
	tie_word_embeddings: [true, undefined]
};

/** The model's shape from config.json, every unsupported value refused by key. */
export function gpt2ConfigOf(text: string): GptConfig {
	let raw: Record<string, unknown>;
	try {
		raw = JSON.parse(text);
	} catch (err) {
		throw new ModelImportError(`config.json is not valid JSON (${(err as Error).message})`);
	}
	if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
		throw new ModelImportError('config.json is not a JSON object');
	for (const [key, allowed] of Object.entries(FIXED)) {
		if (!allowed.includes(raw[key]))
			throw new ModelImportError(
				`config.json: ${key} is ${JSON.stringify(raw[key]) ?? 'missing'}; the lab trains GPT-2 models with ${key} ${allowed
					.filter((a) => a !== undefined)
					.map((a) => JSON.stringify(a))
					.join(' or ')}`
			);
	}
	const int = (key: string, max: number) => {
		const value = raw[key];
		if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max)
			throw new ModelImportError(
				`config.json: ${key} is ${JSON.stringify(value) ?? 'missing'}; expected an integer in 1..${max}`
			);
		return value as number;
	};
	const gpt: GptConfig = {
		vocab_size: int('vocab_size', 1_000_000),
		n_layer: int('n_layer', 48),
		n_head: int('n_head', 64),
		n_embd: int('n_embd', 4096),
		block_size: int('n_positions', 4096),
		dropout: 0
	};
	if (gpt.n_embd % gpt.n_head !== 0)
		throw new ModelImportError(`config.json: n_head ${gpt.n_head} does not divide n_embd ${gpt.n_embd}`);
	return gpt;
}

/** Buffers GPT-2 checkpoints carry that are not weights (the causal mask). */
const BUFFER = /\.attn\.(masked_)?bias$/;

/**
 * The weights by the lab's names: `transformer.` added where the file leaves it off, the attention
 * mask buffers ignored, `lm_head.weight` accepted only when it equals the token embedding (the
 * lab's head is tied). A missing, extra or misshapen tensor is refused by name.
 */
export function gpt2Params(tensors: NamedArray[], gpt: GptConfig): Map<string, Float32Array> {
	const byName = new Map<string, NamedArray>();
	let head: NamedArray | undefined;
	for (const t of tensors) {
		if (BUFFER.test(t.name)) continue;
		if (t.name === 'lm_head.weight') {
			head = t;
			continue;
		}
		const name = t.name.startsWith('transformer.') ? t.name : `transformer.${t.name}`;
		if (byName.has(name))
			throw new ModelImportError(`model.safetensors holds ${name} twice (with and without the prefix)`);
		byName.set(name, t);
	}
	const params = new Map<string, Float32Array>();
	for (const [name, shape] of paramShapes(gpt)) {
		const t = byName.get(name);
		if (!t)
			throw new ModelImportError(`model.safetensors lacks ${name} (shape [${shape}]), which config.json's shape needs`);
		if (t.shape.join(',') !== shape.join(','))
			throw new ModelImportError(
				`model.safetensors: ${name} has shape [${t.shape}]; config.json's shape needs [${shape}]`
			);
		params.set(name, t.data);
		byName.delete(name);
	}
	if (byName.size > 0)
		throw new ModelImportError(
			`model.safetensors holds tensors a GPT-2 of this shape has no place for: ${[...byName.keys()].slice(0, 5).join(', ')}`
		);
	if (head) checkTiedHead(head, params.get('transformer.wte.weight')!);
	return params;
}

/** lm_head.weight must be the token embedding (GPT-2 ties them; the lab has no separate head). */
function checkTiedHead(head: NamedArray, wte: Float32Array): void {
	const same = head.data.length === wte.length && head.data.every((x, i) => x === wte[i]);
	if (!same)
		throw new ModelImportError(
			'model.safetensors: lm_head.weight differs from transformer.wte.weight; the lab trains GPT-2 with a tied head'
		);
}

/** The tokenizer.json object: the file itself, or GPT-2's built from vocab.json + merges.txt. */
export function tokenizerJsonOf(files: HfModelFiles): Record<string, unknown> {
	const parse = (name: string, text: string) => {
		try {
			return JSON.parse(text);
		} catch (err) {
			throw new TokenizerFileError(`${name} is not valid JSON (${(err as Error).message})`);
		}
	};
	if (files['tokenizer.json'] !== undefined) return parse('tokenizer.json', files['tokenizer.json']);
	if (files['vocab.json'] !== undefined && files['merges.txt'] !== undefined)
		return gpt2TokenizerJson(parse('vocab.json', files['vocab.json']), parseMerges(files['merges.txt']));
	throw new TokenizerFileError(
		'no tokenizer: add tokenizer.json (or vocab.json and merges.txt) from the model folder on the Hub'
	);
}

/** A model folder's files → the imported model, every file checked against the others. */
export function importGpt2(name: string, files: HfModelFiles): PretrainedModel {
	const gpt = gpt2ConfigOf(files['config.json']);
	let decoded;
	try {
		decoded = decodeSafetensors(files['model.safetensors']);
	} catch (err) {
		throw new ModelImportError(`model.safetensors: ${(err as Error).message}`);
	}
	const params = gpt2Params(decoded.tensors, gpt);
	const tokenizerJson = tokenizerJsonOf(files);
	const tokenizer = new BpeTokenizer(tokenizerJson);
	if (tokenizer.size > gpt.vocab_size)
		throw new ModelImportError(
			`the tokenizer has ${tokenizer.size} tokens but config.json's vocab_size is ${gpt.vocab_size}: they are not from the same model`
		);
	return {
		name,
		sha256: sha256Bytes(files['model.safetensors']),
		gpt,
		params,
		tokenizerJson,
		dtype: decoded.tensors.find((t) => !BUFFER.test(t.name))?.dtype ?? 'F32'
	};
}

const tokenizers = new WeakMap<PretrainedModel, BpeTokenizer>();

/** The model's tokenizer, built once per model (its vocabulary and merges take a moment to read). */
export function baseTokenizer(base: PretrainedModel): BpeTokenizer {
	let tok = tokenizers.get(base);
	if (!tok) tokenizers.set(base, (tok = new BpeTokenizer(base.tokenizerJson)));
	return tok;
}

/** What a checkpoint records of the model a run started from. */
export const baseModelRef = (base: PretrainedModel): BaseModelRef => ({
	name: base.name,
	sha256: base.sha256,
	vocab_size: base.gpt.vocab_size
});

/**
 * Throws unless `base` is the model `config` starts from (model.init) and the config's model keys
 * repeat its shape; a run from scratch takes no base model.
 */
export function checkBaseModel(
	config: LabConfig,
	base: Pick<PretrainedModel, 'name' | 'sha256' | 'gpt'> | undefined,
	expected?: { sha256: string }
): void {
	const name = pretrainedName(config);
	if (name === null) {
		if (base) throw new Error(`the config trains from scratch (model.init), but a base model (${base.name}) was given`);
		return;
	}
	if (!base)
		throw new Error(
			`model.init is "${name}", which is not imported here: import it (the Models page, or npm run import-model) first`
		);
	if (base.name !== name) throw new Error(`model.init is "${name}", but the model given is "${base.name}"`);
	if (expected && expected.sha256 !== base.sha256)
		throw new Error(
			`the run started from ${name} with sha256 ${expected.sha256.slice(0, 12)}…, but the model imported under that name now has ${base.sha256.slice(0, 12)}…: import the original again under another name`
		);
	const differ = (['n_layer', 'n_head', 'n_embd', 'block_size'] as const).filter(
		(k) => config.model[k] !== base.gpt[k]
	);
	if (differ.length > 0)
		throw new Error(
			`the config's model shape differs from ${name}'s: ${differ
				.map((k) => `model.${k} is ${config.model[k]}, ${name} has ${base.gpt[k]}`)
				.join('; ')} (block_size is its n_positions)`
		);
}

/** A model's name in the lab: what `model.init` holds and its folder is called. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Throws unless `name` can name an imported model (letters, digits, . _ -; not "scratch"). */
export function checkModelName(name: string): void {
	if (!MODEL_NAME.test(name))
		throw new ModelImportError(
			`model name ${JSON.stringify(name)}: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`
		);
	if (name === 'scratch')
		throw new ModelImportError('"scratch" means a model trained from random weights: choose another name');
}

/** The files the lab keeps of an imported model: its config, weights as imported and tokenizer.json. */
export function storedFiles(files: HfModelFiles, model: PretrainedModel): Record<string, Uint8Array> {
	const text = new TextEncoder();
	return {
		'config.json': text.encode(files['config.json']),
		'model.safetensors': files['model.safetensors'],
		'tokenizer.json': text.encode(JSON.stringify(model.tokenizerJson))
	};
}
