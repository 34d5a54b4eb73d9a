// IndexedDB schema (Dexie). Versioned: each version states its stores; upgrades keep every run.
//   v1: runs, metrics, checkpoints (meta), chunks
//   v2: + evaluations (eval.json per run), datasets (imported traces), runs indexed by name
//   v3: + backendTimings (backend: auto's measurements per device and model shape)
//   v4: + experiments (sweeps queued in the lab: core/experiment/experiment.ts)
//   v5: + models, modelChunks (imported Hugging Face GPT-2s: docs/pretrained.md)

import Dexie, { type EntityTable } from 'dexie';
import type { DatasetManifest } from '../core/data/manifest';
import type { EvalJson, EvalLine } from '../core/eval/evalJson';
import type { RunRecord } from '../core/run/record';
import type { ExperimentRecord } from '../core/experiment/experiment';
import type { GptConfig } from '../core/model/shapes';
import type { BackendTiming } from '../core/train/autoSelect';
import type { StepMetrics } from '../core/train/metrics';

export const DB_NAME = 'tunix-rt-lab';

/** A run as stored: run.json plus the user's notes. */
export interface StoredRun extends RunRecord {
	notes?: string;
}

/** One metrics.jsonl line of a run: a training step, or an evaluation (`split` set). */
export interface StoredMetric {
	id?: number;
	runId: string;
	step: number;
	/** Training step metrics, or an evaluation summary line. */
	line: StepMetrics | EvalLine;
	split?: string;
}

/** A checkpoint's metadata. Invisible to readers until `committed` is 1 (the commit transaction). */
export interface StoredCheckpoint {
	runId: string;
	step: number;
	bytes: number;
	chunkCount: number;
	/** sha256 of each chunk, in order. */
	checksums: string[];
	committed: 0 | 1;
	created: string;
}

/** ≤ 8 MB of a checkpoint's bytes. */
export interface StoredChunk {
	runId: string;
	step: number;
	index: number;
	data: Uint8Array;
}

export interface StoredEvaluation {
	runId: string;
	evalJson: EvalJson;
}

export interface StoredDataset {
	key: string;
	manifest: DatasetManifest;
	/** The canonical JSONL. */
	jsonl: string;
	imported: string;
}

/** An imported model (docs/pretrained.md): what lists and checks need; its weights are in modelChunks. */
export interface StoredModel {
	/** Its name (what model.init names). */
	name: string;
	/** sha256 of model.safetensors as imported. */
	sha256: string;
	/** Its shape (block_size = n_positions). */
	gpt: GptConfig;
	parameters: number;
	/** The element type of model.safetensors (F32, F16, BF16). */
	dtype: string;
	/** config.json as imported. */
	configJson: string;
	/** tokenizer.json (built from vocab.json + merges.txt when those came). */
	tokenizerJson: string;
	/** Bytes of model.safetensors, split into chunks of at most 8 MB. */
	bytes: number;
	chunkCount: number;
	/** sha256 of each chunk, in order. */
	checksums: string[];
	imported: string;
}

/** ≤ 8 MB of an imported model's model.safetensors. */
export interface StoredModelChunk {
	name: string;
	index: number;
	data: Uint8Array;
}

/** `backend: auto`'s measurement for one device and model shape (src/lib/core/train/autoSelect.ts). */
export interface StoredBackendTiming {
	/** Device (adapter, cores, isolation) and model shape. */
	key: string;
	timings: BackendTiming[];
	/** ISO time of the measurement. */
	measured: string;
}

export class LabDb extends Dexie {
	runs!: EntityTable<StoredRun, 'id'>;
	metrics!: EntityTable<StoredMetric, 'id'>;
	checkpoints!: Dexie.Table<StoredCheckpoint, [string, number]>;
	chunks!: Dexie.Table<StoredChunk, [string, number, number]>;
	evaluations!: EntityTable<StoredEvaluation, 'runId'>;
	datasets!: EntityTable<StoredDataset, 'key'>;
	backendTimings!: EntityTable<StoredBackendTiming, 'key'>;
	experiments!: EntityTable<ExperimentRecord, 'id'>;
	models!: EntityTable<StoredModel, 'name'>;
	modelChunks!: Dexie.Table<StoredModelChunk, [string, number]>;

	constructor(name = DB_NAME) {
		super(name);
		this.version(1).stores({
			runs: 'id, created, status',
			metrics: '++id, runId, [runId+step]',
			checkpoints: '[runId+step], runId, committed',
			chunks: '[runId+step+index], [runId+step]'
		});
		this.version(2)
			.stores({
				runs: 'id, created, status, name',
				evaluations: 'runId',
				datasets: 'key'
			})
			.upgrade(async (tx) => {
				// v1 runs had no notes field: give every existing run an empty one
				await tx
					.table('runs')
					.toCollection()
					.modify((run: StoredRun) => {
						run.notes ??= '';
					});
			});
		this.version(3).stores({ backendTimings: 'key' });
		this.version(4).stores({ experiments: 'id, created' });
		this.version(5).stores({ models: 'name', modelChunks: '[name+index], name' });
	}
}

let shared: LabDb | null = null;

/** The app's database (one per JS realm: the page and the worker each open their own). */
export function labDb(): LabDb {
	shared ??= new LabDb();
	return shared;
}
