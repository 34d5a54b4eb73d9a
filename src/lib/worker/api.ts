// The worker boundary (docs/specification.md §1, §10): what the UI thread may ask of the training worker, and the
// events it gets back. Only plain data crosses; weights never do.

import type { BackendChoice, BackendName } from '../core/config';
import type { Sampling } from '../core/eval/generate';
import type { BundleImport } from '../storage/bundles';
import type { DatasetImport } from '../storage/datasets';
import type { ModelImport } from '../storage/models';
import type { RunRecord } from '../core/run/record';
import type { BenchRecord } from '../core/bench/bench';
import type { StepMetrics } from '../core/train/metrics';

/** Which backend the worker got, and why the others were skipped. */
export interface BackendReport {
	backend: BackendName;
	/** One line per backend tried: chosen, or why it was skipped (stored in the run's provenance). */
	notes: string[];
	/** The backends tried before the chosen one and why each could not be used. */
	skipped: { backend: BackendName; reason: string }[];
	/** WebGPU adapter, when the backend is webgpu. */
	adapter: { vendor: string; architecture: string } | null;
	tfjs_version: string;
	/** True when the requested backend was not the one used. */
	fellBack: boolean;
	/** Whether the page is cross-origin isolated (SharedArrayBuffer, so wasm threads). */
	isolated: boolean;
	/** Threads tfjs's own wasm kernels use, when the backend is wasm. */
	wasmThreads: number | null;
	/** Threads the lab's wasm kernels (kernels/lab_kernels.c) run on, when the backend is wasm and they loaded. */
	labKernelThreads: number | null;
}

/** Events from a run, batched (at most about ten deliveries a second). */
export type LabEvent =
	| { kind: 'steps'; runId: string; metrics: StepMetrics[] }
	| { kind: 'run'; run: RunRecord }
	| { kind: 'eval'; runId: string; step: number; dataset: string }
	/** The run waits in the worker's job queue for jobs on another backend to end. */
	| { kind: 'waiting'; runId: string; message: string }
	| { kind: 'error'; runId: string; message: string; /** 'locked': another tab holds the run. */ code?: 'locked' }
	/** The experiment queue's driver failed (reading storage, say); reloading the page starts it again. */
	| { kind: 'queue-error'; message: string };

export type LabListener = (events: LabEvent[]) => void;

/** A dataset import: stored (how), or refused with every problem (`line N: field: problem`). */
/** An import: stored, or refused with every problem and how many lines were valid traces (an import of those only is offered). */
export type DatasetImportResult =
	{ ok: true; stored: DatasetImport } | { ok: false; problems: string[]; valid: number };

export interface StartRunRequest {
	/** The config YAML as the user edited it. */
	configYaml: string;
	/** Shown in config error messages (e.g. "ci_smoke.yaml"). */
	configName: string;
}

/** What generates: a run's checkpoint, or an imported model as it is (before any fine-tuning). */
export type GenerateSource = { kind: 'checkpoint'; runId: string; step: number } | { kind: 'model'; name: string };

export interface GenerateRequest {
	source: GenerateSource;
	prompt: string;
	maxNewTokens: number;
	/** The backend to generate on; null: the one a running job holds, else the run's own (wasm for a model). */
	backend: BackendChoice | null;
	/** Greedy (temperature 0) or sampled, with a seed. */
	sampling: Sampling;
}

export interface GenerateResult {
	/** The backend it ran on. */
	backend: BackendName;
	completion: string;
	answer: string | null;
	endedWithEos: boolean;
}

export interface BenchRequest {
	/** The backend to measure; the bench fails rather than fall back. */
	backend: BackendName;
	/** Config YAML whose model, batch size and datasets are measured. */
	configYaml: string;
	/** Timed steps wanted (median), capped by maxSeconds once 5 are timed. */
	steps: number;
	maxSeconds: number;
	/** Evaluation items per dataset (null: all). */
	evalMaxItems: number | null;
	/** The lab's fused WebGPU kernels (true), or op-by-op tfjs (false: the "before" figure). */
	fused: boolean;
}

export interface LabWorkerApi {
	/**
	 * Which backend `choice` would give here, trying them in the order of docs/specification.md §10.
	 * While a job holds a backend, says which one instead of switching it.
	 */
	probeBackend(choice: BackendChoice): Promise<BackendReport>;
	/** Validates the config, creates the run and starts training; resolves with the run id once it is stored. */
	startRun(request: StartRunRequest, listener: LabListener): Promise<string>;
	/**
	 * Continues an interrupted, cancelled or failed run from its newest checkpoint (optionally on
	 * another backend); `by` is recorded in the run's events (the user's Resume, or the lab's own
	 * after a reload).
	 */
	resumeRun(runId: string, backend: BackendChoice | null, by: 'user' | 'lab', listener: LabListener): Promise<void>;
	/**
	 * Runs the queued experiments (sweeps) one run after another, holding the experiments' Web Lock
	 * so one tab drives them at a time (a second tab's call waits and takes over when the first
	 * closes). Resolves when nothing is left to run; a call while this worker drives returns at once.
	 */
	driveExperiments(listener: LabListener): Promise<void>;
	/** Asks the run to stop after the current step; a checkpoint is written. */
	cancelRun(runId: string): Promise<void>;
	/** Evaluates a run's checkpoints again (completed, evaluation_failed or interrupted). */
	evaluateRun(runId: string, listener: LabListener): Promise<void>;
	/** Generation from a checkpoint or an imported model (the playground); `onText` gets the completion so far after each token. */
	generate(request: GenerateRequest, onText?: (completion: string) => void): Promise<GenerateResult>;
	/** The training benchmark (docs/performance.md) on one backend, in this worker. */
	bench(request: BenchRequest): Promise<BenchRecord>;
	/**
	 * Imports a run or experiment bundle (.zip): inflated, validated and stored here, off the page's
	 * thread (a large zip would freeze the page). Resolves with what was stored; rejects with the reason.
	 */
	importBundle(bytes: Uint8Array, fileName: string): Promise<BundleImport>;
	/** Imports a trace JSONL file (checked as UTF-8 and line by line) off the page's thread. */
	importDataset(bytes: Uint8Array, fileName: string, validOnly: boolean): Promise<DatasetImportResult>;
	/**
	 * Imports a Hugging Face GPT-2 folder's files (config.json, model.safetensors, tokenizer.json or
	 * vocab.json + merges.txt) under `name`, checked and stored off the page's thread (docs/pretrained.md).
	 */
	importModel(name: string, files: Record<string, Uint8Array>): Promise<ModelImport>;
	/** Trains a config with the bare core (no storage, no events): elapsed seconds after each step. */
	timeCoreRun(configYaml: string, backend: BackendName): Promise<number[]>;
}
