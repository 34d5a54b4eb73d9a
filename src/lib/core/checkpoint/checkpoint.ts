// The lab's checkpoint (docs/specification.md §9): model tensors by GPT-2 name, AdamW moments under
// optimizer.m.<name> / optimizer.v.<name>, and string metadata with the config, vocab,
// trainer state and dataset manifest — everything needed to resume bit-for-bit.

import * as v from 'valibot';
import { ConfigSchema, finetuneOf, type LabConfig } from '../config';
import { canonicalJson } from '../data/canonicalJson';
import { DatasetManifestSchema, type DatasetManifest } from '../data/manifest';
import { loraShapes } from '../model/lora';
import { paramShapes, type GptConfig } from '../model/shapes';
import { finite, int, tryParse } from '../schema';
import { Sha256, sha256Bytes } from '../sha256';
import { CheckpointFormatError, decodeSafetensors, encodeSafetensors, type NamedArray } from './safetensors';

export const CHECKPOINT_FORMAT = 'tunix-rt-lab/checkpoint';
/** The version this lab writes: 2 adds metadata_sha256 (docs/checkpoint-format.md). */
export const CHECKPOINT_FORMAT_VERSION = '2';
/** Versions it reads: 1 (tensors hashed, metadata not), 2 (both). */
const READABLE_VERSIONS = ['1', '2'];

/** Where the trainer is, beyond the weights and optimizer moments. */
const TrainerStateSchema = v.object({
	/** Epochs started so far minus one (0-based epoch of the next batch). */
	epoch: int(0, 1e12),
	/** Position of the next trace within this epoch's order. */
	cursor: int(0, 1e12),
	/** Data-order PRNG state at the start of this epoch (the epoch's shuffle is redrawn from it): 624 uint32 words and a position. */
	rng: v.object({ mt: v.pipe(v.array(int(0, 2 ** 32 - 1)), v.length(624, 'must hold 624 words')), index: int(0, 624) }),
	/** Learning-rate schedule and its position. */
	schedule: v.object({
		step: int(0, 1e12),
		lr: finite(),
		min_lr: finite(),
		warmup_steps: int(0, 1e12),
		steps: int(0, 1e12)
	}),
	/** AdamW updates applied (the bias-correction t). */
	adam_t: int(0, 1e12),
	/** Training wall time so far, carried across resumes. */
	elapsed_s: finite()
});
export type TrainerState = v.InferOutput<typeof TrainerStateSchema>;

/** Token strings, index = id (the four special tokens first); empty when a base model's tokenizer is used. */
const VocabSchema = v.array(v.string());

/** The imported model a run started from (docs/pretrained.md): its tokenizer and, for LoRA, its frozen weights. */
const BaseModelRefSchema = v.object({
	/** Its name in the lab. */
	name: v.string(),
	/** sha256 of its model.safetensors. */
	sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex')),
	/** Its vocabulary size (the embedding's rows). */
	vocab_size: int(1, 10_000_000)
});
export type BaseModelRef = v.InferOutput<typeof BaseModelRefSchema>;

export interface Checkpoint {
	/** Completed optimizer steps. */
	step: number;
	config: LabConfig;
	/** Token strings, index = id (character tokenizer); empty when `base` is set (its tokenizer is used). */
	vocab: string[];
	/** The pretrained model the run started from, if any. */
	base?: BaseModelRef;
	trainerState: TrainerState;
	dataset: DatasetManifest;
	/** Trained tensors by name: the model's by GPT-2 name, or for LoRA the adapters only (`….lora_A`, `….lora_B`). */
	params: Map<string, Float32Array>;
	/** AdamW first moments by parameter name (empty for weights-only files). */
	m: Map<string, Float32Array>;
	/** AdamW second moments by parameter name. */
	v: Map<string, Float32Array>;
}

export function gptConfigOf(config: LabConfig, vocabSize: number): GptConfig {
	const { init: _init, ...shape } = config.model;
	return { vocab_size: vocabSize, ...shape };
}

/** The model's vocabulary size: the base model's, or the character tokenizer's. */
export const vocabSizeOf = (ck: Pick<Checkpoint, 'vocab' | 'base'>) => ck.base?.vocab_size ?? ck.vocab.length;

/** The tensors a run trains, by name and shape: every weight, or LoRA's adapters. */
export function trainedShapes(config: LabConfig, vocabSize: number): [string, number[]][] {
	const gpt = gptConfigOf(config, vocabSize);
	return finetuneOf(config) === 'lora' && config.lora ? loraShapes(gpt, config.lora) : paramShapes(gpt);
}

export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
	const shapes = trainedShapes(ck.config, vocabSizeOf(ck));
	const tensors: NamedArray[] = [];
	const groups: [string, Map<string, Float32Array>][] = [
		['', ck.params],
		['optimizer.m.', ck.m],
		['optimizer.v.', ck.v]
	];
	for (const [prefix, values] of groups) {
		if (prefix && values.size === 0) continue;
		for (const [name, shape] of shapes) {
			const data = values.get(name);
			if (!data) throw new Error(`checkpoint: missing ${prefix}${name}`);
			tensors.push({ name: prefix + name, shape, data });
		}
	}
	const metadata: Record<string, string> = {
		format: CHECKPOINT_FORMAT,
		format_version: CHECKPOINT_FORMAT_VERSION,
		tensors_sha256: tensorsSha256(tensors),
		step: String(ck.step),
		config: JSON.stringify(ck.config),
		vocab: JSON.stringify(ck.vocab),
		trainer_state: JSON.stringify(ck.trainerState),
		dataset: JSON.stringify(ck.dataset),
		...(ck.base ? { base_model: JSON.stringify(ck.base) } : {})
	};
	return encodeSafetensors({ tensors, metadata: { ...metadata, metadata_sha256: metadataSha256(metadata) } });
}

/**
 * sha256 of every other metadata entry (keys sorted, canonical JSON): the step, config, vocabulary,
 * trainer state, dataset and the tensors' own hash, so an edited header is as damaged as a changed byte.
 */
function metadataSha256(meta: Record<string, string>): string {
	const { metadata_sha256: _self, ...rest } = meta;
	return sha256Bytes(new TextEncoder().encode(canonicalJson(rest)));
}

/** sha256 of the data section: every tensor's bytes in file order (what a flipped byte changes). */
function tensorsSha256(tensors: NamedArray[]): string {
	const hash = new Sha256();
	for (const t of tensors) hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
	return hash.digest();
}

/** A file that claims the lab's format without the hash its version must have: damaged or edited. */
function missingHash(key: string): CheckpointFormatError {
	return new CheckpointFormatError(
		`__metadata__.${key} is missing from a file that claims the lab's format: it was edited or damaged, so it cannot be trusted`
	);
}

/**
 * Checks a lab checkpoint's hashes: the data section against tensors_sha256 (every version), and
 * from version 2 the rest of the metadata against metadata_sha256.
 */
function verifyHashes(bytes: Uint8Array, meta: Record<string, string>): void {
	if (meta.tensors_sha256 === undefined) throw missingHash('tensors_sha256');
	verifyTensors(bytes, meta.tensors_sha256);
	if (meta.format_version === '1') return;
	if (meta.metadata_sha256 === undefined) throw missingHash('metadata_sha256');
	if (metadataSha256(meta) !== meta.metadata_sha256)
		throw new CheckpointFormatError(
			'its metadata (step, config, vocabulary, trainer state or dataset) does not match the sha256 stored with it: the file was edited or damaged'
		);
}

/** Checks the data section against its sha256. */
function verifyTensors(bytes: Uint8Array, sha256: string): void {
	const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
	if (sha256Bytes(bytes.subarray(8 + headerLen)) !== sha256)
		throw new CheckpointFormatError(
			'its tensor data does not match the sha256 stored with it: the file is damaged (a changed byte)'
		);
}

/** A metadata entry: JSON checked against its schema. */
function parseMeta<S extends v.GenericSchema>(meta: Record<string, string>, key: string, schema: S): v.InferOutput<S> {
	if (!(key in meta)) throw new CheckpointFormatError(`__metadata__.${key} is missing`);
	let value: unknown;
	try {
		value = JSON.parse(meta[key]);
	} catch {
		throw new CheckpointFormatError(`__metadata__.${key} is not valid JSON`);
	}
	const result = tryParse(schema, value);
	if (!result.ok)
		throw new CheckpointFormatError(`__metadata__.${key} is not valid: ${result.problems.slice(0, 5).join('; ')}`);
	return value as v.InferOutput<S>;
}

/** Reads a checkpoint; throws CheckpointFormatError naming the problem for anything else. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
	const file = decodeSafetensors(bytes);
	const meta = file.metadata;
	if (meta.format !== CHECKPOINT_FORMAT) {
		throw new CheckpointFormatError(
			`__metadata__.format is ${JSON.stringify(meta.format)}, expected "${CHECKPOINT_FORMAT}" (not a Tunix RT Lab checkpoint)`
		);
	}
	if (!READABLE_VERSIONS.includes(meta.format_version)) {
		throw new CheckpointFormatError(
			`__metadata__.format_version is ${JSON.stringify(meta.format_version)}; this lab reads versions ${READABLE_VERSIONS.join(' and ')}`
		);
	}
	verifyHashes(bytes, meta);
	const step = Number(meta.step);
	if (!Number.isInteger(step) || step < 0) throw new CheckpointFormatError(`__metadata__.step is not a step number`);
	const config = parseMeta(meta, 'config', ConfigSchema);
	const vocab = parseMeta(meta, 'vocab', VocabSchema);
	const base = 'base_model' in meta ? parseMeta(meta, 'base_model', BaseModelRefSchema) : undefined;
	if (!base && vocab.length < 4)
		throw new CheckpointFormatError('__metadata__.vocab must hold the special tokens and at least one more');
	const byName = new Map(file.tensors.map((t) => [t.name, t]));
	const groups = {
		params: new Map<string, Float32Array>(),
		m: new Map<string, Float32Array>(),
		v: new Map<string, Float32Array>()
	};
	const shapes = trainedShapes(config, vocabSizeOf({ vocab, base }));
	const hasMoments = byName.has(`optimizer.m.${shapes[0][0]}`);
	for (const [name, shape] of shapes) {
		for (const [prefix, into] of [
			['', groups.params],
			['optimizer.m.', groups.m],
			['optimizer.v.', groups.v]
		] as const) {
			if (prefix && !hasMoments) continue;
			const t = byName.get(prefix + name);
			if (!t) throw new CheckpointFormatError(`tensor ${prefix + name} is missing`);
			if (t.shape.join(',') !== shape.join(',')) {
				throw new CheckpointFormatError(`tensor ${prefix + name} has shape [${t.shape}], the config needs [${shape}]`);
			}
			into.set(name, t.data);
		}
	}
	return {
		step,
		config,
		vocab,
		...(base ? { base } : {}),
		trainerState: parseMeta(meta, 'trainer_state', TrainerStateSchema),
		dataset: parseMeta(meta, 'dataset', DatasetManifestSchema),
		...groups
	};
}
