// A run from start to finish, storage-agnostic (docs/specification.md §5, §7, §8): train with checkpoints on a
// cadence and keep_last pruning, then evaluate (baseline + kept checkpoints), moving the run
// through its states with the pure transition function. The CLI (files) and the browser worker
// (IndexedDB) each implement RunStorage; everything else is shared.

import { decodeCheckpoint, type Checkpoint } from '../checkpoint/checkpoint';
import { CheckpointFormatError } from '../checkpoint/safetensors';
import type { LabConfig } from '../config';
import type { PretrainedModel } from '../hf/gpt2Import';
import type { Dataset } from '../data/manifest';
import type { EvalLine } from '../eval/evalJson';
import type { evaluate } from '../eval/evaluate';
import { evalMetricLines, RunEvaluator, stepsToEvaluate, type EvalJson } from '../eval/runEvaluation';
import { evalRunSummary } from './evalSummary';
import { StorageFullError } from './storageFull';
import type { StepMetrics } from '../train/metrics';
import { NonFiniteError, Trainer } from '../train/trainer';
import { GpuError } from '../gpu/gpuErrors';
import { checkpointFileName } from './runFiles';
import { runHealth } from './health';
import { lossSummary } from './lossStats';
import type { ErrorKind, Provenance, RunRecord } from './record';
import { canEvaluate, isTerminal, trainingFinished, transition, type RunEvent } from './status';

/** Where one run's artifacts live. */
export interface RunStorage {
	/** Stores the run record (status, summary, checkpoints…); the user's name and notes are theirs, not the trainer's. */
	saveRun(run: RunRecord): Promise<void>;
	/**
	 * Stores a checkpoint, the metrics lines not yet stored (up to its step), the run record (whose
	 * checkpoint list holds it) and the removal of the checkpoints in `drop` (keep_last) as one
	 * unit: after a crash at any point either all of it is visible or none of it.
	 */
	commitCheckpoint(commit: CheckpointCommit): Promise<void>;
	/** Steps of the stored (committed) checkpoints, ascending. */
	checkpointSteps(): Promise<number[]>;
	readCheckpoint(step: number): Promise<Uint8Array>;
	/** Adds training metrics lines (in step order). */
	appendMetrics(lines: StepMetrics[]): Promise<void>;
	/** Drops training metrics after `step` (a resume starts from its checkpoint). */
	truncateMetrics(step: number): Promise<void>;
	readMetrics(): Promise<StepMetrics[]>;
	/** Stores eval.json and replaces the evaluation lines of metrics.jsonl. */
	saveEvaluation(evalJson: EvalJson, lines: EvalLine[]): Promise<void>;
}

export interface CheckpointCommit {
	step: number;
	/** The checkpoint's safetensors bytes. */
	bytes: Uint8Array;
	/** Training lines since the last stored one, through `step`. */
	metrics: StepMetrics[];
	/** The run record to store with it. */
	run: RunRecord;
	/** Steps of older checkpoints to remove (beyond keep_last). */
	drop: number[];
}

/**
 * Why a running trainer should stop: the user cancelled, its experiment's queue paused (the run
 * ends cancelled and the queue continues it), or the runtime is going away.
 */
export type StopReason = 'cancel' | 'pause' | 'interrupt';

/** What the run's error says about a stop at `step`. */
const STOPPED: Record<StopReason, string> = {
	cancel: 'cancelled by the user',
	pause: "paused with its experiment's queue",
	interrupt: 'stopped before the end'
};

export interface RunHooks {
	onStep?(m: StepMetrics): void;
	/** Every status change and summary update, after it is saved. */
	onRun?(run: RunRecord): void;
	onEvalProgress?(what: { step: number; dataset: string }): void;
	/** Polled between steps. */
	shouldStop?(): StopReason | null;
}

export interface TrainRunInput {
	storage: RunStorage;
	/** A new run (pending) or one to resume (interrupted, cancelled or training_failed). */
	run: RunRecord;
	config: LabConfig;
	dataset: Dataset;
	/** The eval datasets of config.data.eval_datasets, loaded. */
	evalDatasets: Dataset[];
	provenance: Provenance;
	/** Continue from this checkpoint. */
	resume?: Checkpoint;
	/** The imported model config's model.init names (docs/pretrained.md); absent for a run from scratch. */
	base?: PretrainedModel;
	hooks?: RunHooks;
	/** Replaceable for fault-injection tests. */
	evaluateModel?: typeof evaluate;
	/** Persist buffered metrics at least this often (ms); they are always persisted at checkpoints. */
	flushIntervalMs?: number;
}

export interface RunOutcome {
	run: RunRecord;
	/** How training ended. */
	ended: 'completed' | 'cancelled' | 'interrupted';
	evaluation?: EvalJson;
}

const now = () => new Date().toISOString();

/** What kind of failure an error is, for the run record's error_kind. */
function errorKind(err: unknown): ErrorKind {
	if (err instanceof NonFiniteError) return 'non-finite';
	if (err instanceof StorageFullError) return 'storage-full';
	const gpu =
		err instanceof GpuError
			? err
			: (err as Error)?.cause instanceof GpuError
				? ((err as Error).cause as GpuError)
				: null;
	if (!gpu) return 'other';
	return gpu.kind === 'device-lost' ? 'gpu-device-lost' : 'gpu-error';
}

async function move(
	storage: RunStorage,
	run: RunRecord,
	event: RunEvent,
	hooks: RunHooks | undefined,
	error: string | null = run.error,
	kind: ErrorKind | null = error === null ? null : (run.error_kind ?? null)
) {
	run.status = transition(run.status, event);
	run.error = error;
	run.error_kind = kind;
	if (isTerminal(run.status)) run.finished = now();
	await storage.saveRun(run);
	hooks?.onRun?.(run);
}

export function makeRunEvaluator(
	run: RunRecord,
	vocab: string[],
	datasets: Dataset[],
	input: Pick<TrainRunInput, 'evaluateModel' | 'hooks' | 'base'>
): RunEvaluator {
	return new RunEvaluator({
		runId: run.id,
		config: run.config,
		vocab,
		base: input.base,
		datasets,
		evaluateModel: input.evaluateModel,
		onProgress: (w) => input.hooks?.onEvalProgress?.(w)
	});
}

/** A stored checkpoint, decoded; a failure names the file (checkpoint-step8.safetensors: …). */
async function readStored(storage: RunStorage, step: number): Promise<Checkpoint> {
	try {
		return decodeCheckpoint(await storage.readCheckpoint(step));
	} catch (err) {
		throw new Error(`${checkpointFileName(step)}: ${(err as Error).message}`, { cause: err });
	}
}

/**
 * The newest stored checkpoint that reads back whole, for a resume: a damaged newer one (bad
 * checksum, truncated) is skipped and named in `skipped`, and the next commit removes it.
 */
export async function newestReadableCheckpoint(
	storage: RunStorage
): Promise<{ checkpoint: Checkpoint | null; skipped: string[] }> {
	const skipped: string[] = [];
	for (const step of (await storage.checkpointSteps()).reverse()) {
		try {
			return { checkpoint: await readStored(storage, step), skipped };
		} catch (err) {
			// only a damaged checkpoint is skipped; a read that failed for another reason (memory,
			// storage, permissions) must not make the resume drop a good checkpoint
			if (!((err as Error).cause instanceof CheckpointFormatError)) throw err;
			const why = ((err as Error).cause as Error).message;
			skipped.push(`checkpoint step ${step} is damaged (${why})`);
		}
	}
	return { checkpoint: null, skipped };
}

/**
 * A new run that failed before training began (its backend, datasets or a trace too long for the
 * model) is training_failed with the reason: it never stays pending. Any other run is left as it
 * is (a resume that could not start stays resumable). True when it changed the run.
 */
export async function failUnstartedRun(
	storage: RunStorage,
	run: RunRecord,
	err: unknown,
	hooks?: RunHooks
): Promise<boolean> {
	if (run.status !== 'pending') return false;
	await move(storage, run, 'training_error', hooks, (err as Error).message, 'other');
	return true;
}

/** Trains (new or resumed) and then evaluates. Throws after recording a failure in the run. */
export async function trainRun(input: TrainRunInput): Promise<RunOutcome> {
	const { storage, run, config, hooks } = input;
	let trainer: Trainer;
	try {
		trainer = new Trainer(config, input.dataset, input.resume, input.base);
	} catch (err) {
		await failUnstartedRun(storage, run, err, hooks);
		throw err;
	}
	const datasets = [input.dataset, ...input.evalDatasets];
	const metrics: StepMetrics[] = input.resume
		? (await storage.readMetrics()).filter((m) => m.step <= input.resume!.step)
		: [];
	if (input.resume) {
		await storage.truncateMetrics(input.resume.step);
		run.checkpoints = run.checkpoints.filter((c) => c.step <= input.resume!.step);
	} else if (run.status !== 'pending') run.checkpoints = []; // a resume from scratch: none is usable
	let pending: StepMetrics[] = [];
	let lastFlush = Date.now();
	const flush = async () => {
		if (pending.length === 0) return;
		const lines = pending;
		pending = [];
		await storage.appendMetrics(lines);
		lastFlush = Date.now();
	};
	const summarise = (nonFinite = false) => {
		const losses = metrics.map((m) => m.loss);
		const health = runHealth(losses, nonFinite, null, config);
		run.summary = { ...run.summary, ...lossSummary(losses), steps_done: trainer.step, health };
	};

	run.provenance = {
		...input.provenance,
		model_ops: trainer.ops.description,
		...(input.base ? { base_model: { name: input.base.name, sha256: input.base.sha256 } } : {})
	};
	run.started ??= now();
	await move(storage, run, run.status === 'pending' ? 'start' : 'resume', hooks, null);

	const during = config.eval.during_training ? makeRunEvaluator(run, trainer.vocab, datasets, input) : undefined;
	let stop: StopReason | null = null;
	try {
		if (during) await during.baseline();
		let written = 0;
		const result = await trainer.run({
			onStep: async (m) => {
				metrics.push(m);
				pending.push(m);
				hooks?.onStep?.(m);
				if (Date.now() - lastFlush >= (input.flushIntervalMs ?? Infinity)) await flush();
			},
			onCheckpoint: async (step, bytes) => {
				const entry = { step, file: checkpointFileName(step), bytes: bytes.length, created: now() };
				const all = [...run.checkpoints.filter((c) => c.step !== step), entry].sort((x, y) => x.step - y.step);
				const keep = config.checkpoint.keep_last;
				summarise();
				const kept = new Set(all.slice(-keep).map((c) => c.step));
				// beyond keep_last, and any stored one the record no longer lists (damaged, skipped by a resume)
				const drop = (await storage.checkpointSteps()).filter((s) => !kept.has(s) && s !== step);
				// the record lists the new checkpoint only once it is stored
				await storage.commitCheckpoint({
					step,
					bytes,
					metrics: pending,
					run: { ...run, checkpoints: all.slice(-keep) },
					drop
				});
				run.checkpoints = all.slice(-keep);
				pending = [];
				lastFlush = Date.now();
				hooks?.onRun?.(run);
				written += 1;
				if (during && written % config.eval.every_checkpoints === 0) await during.checkpoint(decodeCheckpoint(bytes));
			},
			shouldStop: () => (stop ??= hooks?.shouldStop?.() ?? null) !== null
		});
		await flush();
		summarise();
		if (result.stopped) {
			const cancelled = stop !== 'interrupt';
			const then = stop === 'pause' ? 'the queue continues it from there' : 'resume continues from there';
			await move(
				storage,
				run,
				cancelled ? 'cancel' : 'interrupt',
				hooks,
				`${STOPPED[stop!]} at step ${result.step}; ${then}`
			);
			return { run, ended: cancelled ? 'cancelled' : 'interrupted' };
		}
		await move(storage, run, 'training_done', hooks);
	} catch (err) {
		await flush().catch(() => undefined);
		summarise(err instanceof NonFiniteError);
		await move(storage, run, 'training_error', hooks, (err as Error).message, errorKind(err));
		throw err;
	} finally {
		trainer.dispose();
	}
	const evaluation = await evaluateRun({
		storage,
		run,
		datasets,
		evaluator: during,
		base: input.base,
		evaluateModel: input.evaluateModel,
		hooks
	});
	return { run, ended: 'completed', evaluation };
}

export interface EvaluateRunInput {
	storage: RunStorage;
	/**
	 * A run that is evaluating, one that may be re-evaluated (completed, evaluation_failed), or an
	 * unfinished one (interrupted, cancelled, training_failed), evaluated without a status change.
	 */
	run: RunRecord;
	/** Training dataset first, then the eval datasets. */
	datasets: Dataset[];
	/** An evaluator that already holds results (eval.during_training). */
	evaluator?: RunEvaluator;
	/** The imported model the run started from, if any. */
	base?: PretrainedModel;
	evaluateModel?: typeof evaluate;
	hooks?: RunHooks;
}

/**
 * The evaluation phase: baseline and every every_checkpoints-th kept checkpoint (always the last),
 * then eval.json, the eval lines of the metrics and the run summary. A failure ends as
 * evaluation_failed and leaves checkpoints and training metrics untouched. An unfinished run keeps
 * its status either way: it stays resumable and never reads as trained to the end.
 */
export async function evaluateRun(input: EvaluateRunInput): Promise<EvalJson> {
	const { storage, run, hooks } = input;
	const unfinished = !trainingFinished(run.status);
	if (unfinished && !canEvaluate(run.status)) throw new Error(`a run that is ${run.status} cannot be evaluated now`);
	if (!unfinished && run.status !== 'evaluating') await move(storage, run, 'reevaluate', hooks, null);
	try {
		const kept = await storage.checkpointSteps();
		if (kept.length === 0) throw new Error('the run has no stored checkpoints to evaluate');
		const last = await readStored(storage, kept[kept.length - 1]);
		const ev = input.evaluator ?? makeRunEvaluator(run, last.vocab, input.datasets, input);
		if (!ev.evaluatedSteps.includes(0)) await ev.baseline();
		for (const step of stepsToEvaluate(kept, run.config.eval.every_checkpoints)) {
			if (ev.evaluatedSteps.includes(step)) continue;
			await ev.checkpoint(step === last.step ? last : await readStored(storage, step));
		}
		const result = ev.result();
		await storage.saveEvaluation(result, evalMetricLines(result));
		const losses = (await storage.readMetrics()).map((m) => m.loss);
		const health = runHealth(losses, run.error_kind === 'non-finite', result, run.config);
		run.summary = { ...run.summary, ...evalRunSummary(result), health };
		if (unfinished) {
			await storage.saveRun(run);
			hooks?.onRun?.(run);
		} else await move(storage, run, 'evaluation_done', hooks, null);
		return result;
	} catch (err) {
		const cause = (err as Error).message;
		if (unfinished)
			throw new Error(`evaluation failed: ${cause}. The run is unchanged (${run.status}); resume it to train on`, {
				cause: err
			});
		const message = `evaluation failed: ${cause}. Checkpoints and training metrics are intact; evaluate the run again to retry`;
		await move(storage, run, 'evaluation_error', hooks, message, errorKind(err));
		throw new Error(message, { cause: err });
	}
}
