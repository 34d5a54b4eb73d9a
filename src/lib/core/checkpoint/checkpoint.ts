// The lab's checkpoint (docs/specification.md §9): model tensors by GPT-2 name, AdamW moments under
// optimizer.m.<name> / optimizer.v.<name>, and string metadata with the config, vocab,
// trainer state and dataset manifest — everything needed to resume bit-for-bit.

import type { LabConfig } from '../config';
import type { DatasetManifest } from '../data/manifest';
import { paramShapes, type GptConfig } from '../model/gpt';
import type { PrngState } from '../prng';
import { CheckpointFormatError, decodeSafetensors, encodeSafetensors, type NamedArray } from './safetensors';

export const CHECKPOINT_FORMAT = 'tunix-rt-lab/checkpoint';
export const CHECKPOINT_FORMAT_VERSION = '1';

/** Where the trainer is, beyond the weights and optimizer moments. */
export interface TrainerState {
	/** Epochs started so far minus one (0-based epoch of the next batch). */
	epoch: number;
	/** Position of the next trace within this epoch's order. */
	cursor: number;
	/** Data-order PRNG state at the start of this epoch (the epoch's shuffle is redrawn from it). */
	rng: PrngState;
	/** Learning-rate schedule and its position. */
	schedule: { step: number; lr: number; min_lr: number; warmup_steps: number; steps: number };
	/** AdamW updates applied (the bias-correction t). */
	adam_t: number;
	/** Training wall time so far, carried across resumes. */
	elapsed_s: number;
}

export interface Checkpoint {
	/** Completed optimizer steps. */
	step: number;
	config: LabConfig;
	/** Token strings, index = id. */
	vocab: string[];
	trainerState: TrainerState;
	dataset: DatasetManifest;
	/** Model tensors by GPT-2 name. */
	params: Map<string, Float32Array>;
	/** AdamW first moments by parameter name (empty for weights-only files). */
	m: Map<string, Float32Array>;
	/** AdamW second moments by parameter name. */
	v: Map<string, Float32Array>;
}

export function gptConfigOf(config: LabConfig, vocabSize: number): GptConfig {
	return { vocab_size: vocabSize, ...config.model };
}

export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
	const shapes = paramShapes(gptConfigOf(ck.config, ck.vocab.length));
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
	return encodeSafetensors({
		tensors,
		metadata: {
			format: CHECKPOINT_FORMAT,
			format_version: CHECKPOINT_FORMAT_VERSION,
			step: String(ck.step),
			config: JSON.stringify(ck.config),
			vocab: JSON.stringify(ck.vocab),
			trainer_state: JSON.stringify(ck.trainerState),
			dataset: JSON.stringify(ck.dataset)
		}
	});
}

function parseMeta<T>(meta: Record<string, string>, key: string): T {
	if (!(key in meta)) throw new CheckpointFormatError(`__metadata__.${key} is missing`);
	try {
		return JSON.parse(meta[key]) as T;
	} catch {
		throw new CheckpointFormatError(`__metadata__.${key} is not valid JSON`);
	}
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
	if (meta.format_version !== CHECKPOINT_FORMAT_VERSION) {
		throw new CheckpointFormatError(
			`__metadata__.format_version is ${JSON.stringify(meta.format_version)}; this lab reads version ${CHECKPOINT_FORMAT_VERSION}`
		);
	}
	const step = Number(meta.step);
	if (!Number.isInteger(step) || step < 0) throw new CheckpointFormatError(`__metadata__.step is not a step number`);
	const config = parseMeta<LabConfig>(meta, 'config');
	const vocab = parseMeta<string[]>(meta, 'vocab');
	if (!Array.isArray(vocab) || vocab.length < 4)
		throw new CheckpointFormatError('__metadata__.vocab is not a token list');
	const byName = new Map(file.tensors.map((t) => [t.name, t]));
	const groups = {
		params: new Map<string, Float32Array>(),
		m: new Map<string, Float32Array>(),
		v: new Map<string, Float32Array>()
	};
	const hasMoments = byName.has('optimizer.m.transformer.wte.weight');
	for (const [name, shape] of paramShapes(gptConfigOf(config, vocab.length))) {
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
		trainerState: parseMeta<TrainerState>(meta, 'trainer_state'),
		dataset: parseMeta<DatasetManifest>(meta, 'dataset'),
		...groups
	};
}
