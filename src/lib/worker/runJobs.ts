// The worker's jobs on runs: train (new or resumed), evaluate again, generate from a checkpoint.
// Each is one job of the backend queue (backends.ts), holding its backend from start to end, and
// holds the run's Web Lock so that one tab works on a run at a time.

import * as tf from '@tensorflow/tfjs-core';
import { decodeCheckpoint } from '../core/checkpoint/checkpoint';
import { parseConfig, type BackendChoice, type LabConfig } from '../core/config';
import type { Dataset } from '../core/data/manifest';
import { disposeModel, evaluate as evaluateModel, modelFromValues } from '../core/eval/evaluate';
import { generate } from '../core/eval/generate';
import { extractAnswer } from '../core/eval/judge';
import { evaluateRun, failUnstartedRun, trainRun, type RunHooks, type StopReason } from '../core/run/driver';
import { checkRunDatasets, prepareResume } from '../core/run/prepare';
import { newRunRecord, type Provenance, type RunRecord } from '../core/run/record';
import { encodeExample } from '../core/text/examples';
import { modelShapeKey, timeModelSteps } from '../core/train/autoSelect';
import { encodedTraces } from '../core/train/trainer';
import { CheckpointRepo } from '../storage/checkpoints';
import { resolveDataset } from '../storage/datasets';
import { labDb } from '../storage/db';
import { RUN_LOCK_PREFIX } from '../storage/reconcile';
import { IdbRunStorage } from '../storage/runStorage';
import type { BackendReport, GenerateRequest, GenerateResult } from './api';
import { backendQueue, deviceKey, selectMeasured } from './backends';
import type { EventSink } from './events';

export const db = labDb();
/** Stop requests by run id, polled by the trainer between steps. */
export const stops = new Map<string, StopReason>();

/**
 * backend: auto for a run: the fastest backend for this model on this device, measured once
 * (a few steps on each) and remembered in IndexedDB (docs/performance.md "auto"). The queue runs
 * it as the selection of an idle worker, so measuring never switches a backend under a job.
 */
function measuredAuto(config: LabConfig, dataset: Dataset): () => Promise<BackendReport> {
	return async () => {
		const key = `${await deviceKey()} ${modelShapeKey(config)} app${__APP_VERSION__} tfjs${tf.version_core}`;
		const cached = (await db.backendTimings.get(key))?.timings ?? null;
		const { report, timings, complete } = await selectMeasured(
			(cutoff) => timeModelSteps(config, dataset, cutoff),
			cached
		);
		// a backend that started but failed may have failed for a passing reason: measure again next time
		if (!cached && complete) await db.backendTimings.put({ key, timings, measured: new Date().toISOString() });
		return report;
	};
}

function provenanceOf(report: BackendReport): Provenance {
	return {
		backend: report.backend,
		backend_notes: report.notes,
		adapter: report.adapter,
		tfjs_version: report.tfjs_version,
		app_version: __APP_VERSION__,
		runtime: navigator.userAgent
	};
}

/** A config's training dataset, then its evaluation datasets; throws naming the known keys for an unknown one. */
export async function loadDatasets(config: LabConfig): Promise<Dataset[]> {
	return Promise.all([config.data.dataset, ...config.data.eval_datasets].map((k) => resolveDataset(db, k)));
}

/** A run's datasets as it used them (core/run/prepare.ts checks each against the run's record). */
async function loadRunDatasets(run: RunRecord): Promise<Dataset[]> {
	return checkRunDatasets(run, await loadDatasets(run.config));
}

/**
 * A new pending run for a config (checked, its datasets resolved, no trace longer than block_size),
 * not yet stored: the caller stores it (alone, or with the experiment point that names it).
 */
export async function newRun(configYaml: string, configName: string): Promise<RunRecord> {
	const config = parseConfig(configYaml, { file: configName });
	const [train, ...evalSets] = await loadDatasets(config);
	encodedTraces(config, train); // a trace longer than block_size is refused before a run exists
	return newRunRecord(
		config,
		train.manifest,
		evalSets.map((d) => d.manifest)
	);
}

/** Another tab's worker holds the run. */
class RunLockedError extends Error {}

/**
 * Runs `work` holding the run's Web Lock, so one trainer works on a run across tabs. When another
 * tab holds it, the UI gets an error event with code 'locked' instead. True when `work` ran.
 */
async function withRunLock(runId: string, events: EventSink, work: () => Promise<void>): Promise<boolean> {
	// a second request for a run this worker drives (a double click) is the same request
	if (driving.has(runId)) return false;
	driving.add(runId);
	try {
		await navigator.locks.request(`${RUN_LOCK_PREFIX}${runId}`, { ifAvailable: true }, async (lock) => {
			if (!lock)
				throw new RunLockedError(
					`run ${runId} is being trained or evaluated in another tab; this tab follows its progress`
				);
			await work();
		});
		return true;
	} catch (err) {
		if (!(err instanceof RunLockedError)) throw err;
		events.push({ kind: 'error', runId, message: err.message, code: 'locked' });
		events.flush();
		return false;
	} finally {
		driving.delete(runId);
	}
}

/** Runs this worker is training or evaluating (or about to). */
const driving = new Set<string>();

export const isDriving = (runId: string) => driving.has(runId);

// A lost WebGPU device fails the trainer's next read-back with its reason (core/gpu/gpuErrors.ts).
// `queueStop`: the experiment queue's own stop (a pause or cancel), which no later job clears.
function hooksFor(runId: string, events: EventSink, queueStop?: () => StopReason | null): RunHooks {
	return {
		onStep: (m) => events.push({ kind: 'steps', runId, metrics: [m] }),
		onRun: (run) => events.push({ kind: 'run', run: structuredClone(run) }),
		onEvalProgress: ({ step, dataset }) => events.push({ kind: 'eval', runId, step, dataset }),
		shouldStop: () => stops.get(runId) ?? queueStop?.() ?? null
	};
}

/** The backend a run's follow-up jobs (evaluation, generation) use: the one it trained on. */
const trainedOn = (run: RunRecord) => (run.provenance.backend || run.config.runtime.backend) as BackendChoice;

/**
 * A run job: holding the run's lock, it reads the run afresh (a tab may have deleted or changed it
 * since the request), then queues for its backend; failures become error events. False when it
 * did not run: another tab holds the run, or this worker already works on it.
 */
async function runJob(
	runId: string,
	events: EventSink,
	spec: {
		what: string;
		choice: (run: RunRecord) => BackendChoice;
		select?: (run: RunRecord) => (() => Promise<BackendReport>) | undefined;
	},
	work: (report: BackendReport, run: RunRecord) => Promise<unknown>
): Promise<boolean> {
	return withRunLock(runId, events, async () => {
		stops.delete(runId); // a stop meant for an earlier job of this run
		const run = await db.runs.get(runId);
		if (!run) {
			events.push({
				kind: 'error',
				runId,
				message: `run ${runId} was deleted; there is nothing to ${spec.what === 'training' ? 'train' : 'evaluate'}`
			});
			events.flush();
			return;
		}
		try {
			const job = { label: `run ${run.id} (${spec.what})`, choice: spec.choice(run), select: spec.select?.(run) };
			await backendQueue.run(
				job,
				(report) => work(report, run),
				(why) => {
					events.push({ kind: 'waiting', runId: run.id, message: `${spec.what} ${why}` });
					events.flush();
				}
			);
		} catch (err) {
			events.push({ kind: 'error', runId: run.id, message: (err as Error).message });
			const stored = await db.runs.get(run.id);
			// a new run whose backend or datasets failed before training began fails; it never stays pending
			if (stored) {
				await failUnstartedRun(new IdbRunStorage(db, run.id), stored, err).catch(() => undefined);
				events.push({ kind: 'run', run: stored });
			}
		} finally {
			stops.delete(run.id);
			events.flush();
		}
	});
}

/**
 * Trains a new run, or resumes one from its newest checkpoint (on `backend`, else its own), then
 * evaluates it. `queueStop` is the experiment queue's stop. False when the job did not run (runJob).
 */
export async function trainJob(
	runId: string,
	backend: BackendChoice | null,
	events: EventSink,
	resumeFromLatest: boolean,
	queueStop?: () => StopReason | null
): Promise<boolean> {
	// loaded once for the job: by auto's measuring (when it selects) and by the training
	let loaded: Promise<Dataset[]> | null = null;
	const load = (run: RunRecord) => (loaded ??= loadRunDatasets(run));
	const choice = (run: RunRecord) => backend ?? run.config.runtime.backend;
	return runJob(
		runId,
		events,
		{
			what: 'training',
			choice,
			select: (run) =>
				choice(run) === 'auto' ? () => load(run).then(([d]) => measuredAuto(run.config, d)()) : undefined
		},
		async (report, run) => {
			const storage = new IdbRunStorage(db, run.id);
			const [dataset, ...evalDatasets] = await load(run);
			let resume;
			if (resumeFromLatest) {
				const point = await prepareResume(storage, run);
				resume = point.resume;
				const skipped = point.skipped;
				if (skipped.length > 0) {
					const from = resume ? `step ${resume.step}` : 'the start';
					events.push({ kind: 'error', runId: run.id, message: `${skipped.join('; ')}: resumed from ${from} instead` });
				}
			}
			await trainRun({
				storage,
				run,
				config: run.config,
				dataset,
				evalDatasets,
				provenance: provenanceOf(report),
				resume,
				hooks: hooksFor(run.id, events, queueStop),
				evaluateModel,
				flushIntervalMs: 1000
			});
		}
	);
}

/** Evaluates a run's kept checkpoints again, on the backend it trained on. */
export async function evaluateJob(runId: string, events: EventSink) {
	await runJob(runId, events, { what: 'evaluation', choice: trainedOn }, async (_report, run) =>
		evaluateRun({
			storage: new IdbRunStorage(db, run.id),
			run,
			datasets: await loadRunDatasets(run),
			hooks: hooksFor(run.id, events)
		})
	);
}

/**
 * Generation from one checkpoint (the Playground): joins a running job's backend unless one is
 * asked for; `onText` gets the completion so far after every token (streaming).
 */
export async function generateJob(
	request: GenerateRequest,
	onText?: (completion: string) => void
): Promise<GenerateResult> {
	const run = await db.runs.get(request.runId);
	if (!run) throw new Error(`run ${request.runId} does not exist`);
	if (!Number.isInteger(request.maxNewTokens) || request.maxNewTokens < 1 || request.maxNewTokens > 1000)
		throw new Error(`max new tokens must be a whole number from 1 to 1000, got ${request.maxNewTokens}`);
	const spec = { label: 'generation', choice: request.backend ?? trainedOn(run), anyHeld: request.backend === null };
	return backendQueue.run(spec, async (report) => {
		const ck = decodeCheckpoint(await new CheckpointRepo(db).read(run.id, request.step));
		const model = modelFromValues(ck.params, ck, ck.step);
		try {
			const ex = encodeExample(
				{ trace_version: '1.0', prompt: request.prompt, steps: [{ i: 0, type: 'x', content: 'x' }], final_answer: 'x' },
				model.tokenizer
			);
			const prompt = ex.ids.slice(0, ex.promptLength);
			const { temperature, topK, seed } = request.sampling;
			if (!(temperature >= 0 && temperature <= 5) || !Number.isInteger(topK) || topK < 0 || !Number.isInteger(seed))
				throw new Error('sampling needs a temperature in 0..5, a top-k ≥ 0 (0: all) and a whole-number seed');
			const stream = onText ? ([tokens]: number[][]) => void onText(model.tokenizer.decode(tokens)) : undefined;
			const [gen] = await generate(model.params, model.gpt, [prompt], request.maxNewTokens, request.sampling, stream);
			const completion = model.tokenizer.decode(gen.tokens);
			return { backend: report.backend, completion, answer: extractAnswer(completion), endedWithEos: gen.endedWithEos };
		} finally {
			disposeModel(model);
		}
	});
}
