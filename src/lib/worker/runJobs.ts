// The worker's jobs on runs: train (new or resumed), evaluate again, generate from a checkpoint.
// Each is one job of the backend queue (backends.ts), holding its backend from start to end, and
// holds the run's Web Lock so that one tab works on a run at a time. `RunJobs` owns what the jobs
// share: the database, the runs this worker drives and their stop requests.

import * as tf from '@tensorflow/tfjs-core';
import { decodeCheckpoint } from '../core/checkpoint/checkpoint';
import { parseConfig, pretrainedName, type BackendChoice, type LabConfig } from '../core/config';
import type { Dataset } from '../core/data/manifest';
import {
	disposeModel,
	evaluate as evaluateModel,
	modelFromPretrained,
	modelFromValues,
	type EvalModel
} from '../core/eval/evaluate';
import { generate } from '../core/eval/generate';
import { extractAnswer } from '../core/eval/judge';
import { evaluateRun, failUnstartedRun, trainRun, type RunHooks, type StopReason } from '../core/run/driver';
import { checkRunDatasets, prepareResume } from '../core/run/prepare';
import { newRunRecord, trainedBackend, type Provenance, type Resumer, type RunRecord } from '../core/run/record';
import { resumedEvent } from '../core/run/events';
import { encodePrompt } from '../core/text/examples';
import { modelShapeKey, timeModelSteps } from '../core/train/autoSelect';
import { encodedTraces } from '../core/train/trainer';
import { checkFits } from '../core/train/footprint';
import { checkBaseModel, type PretrainedModel } from '../core/hf/gpt2Import';
import { loadModel, modelTokenizer } from '../storage/models';
import { CheckpointRepo } from '../storage/checkpoints';
import { resolveDataset } from '../storage/datasets';
import type { LabDb } from '../storage/db';
import { RUN_LOCK_PREFIX } from '../storage/reconcile';
import { IdbRunStorage } from '../storage/runStorage';
import type { BackendReport, GenerateRequest, GenerateResult, GenerateSource } from './api';
import { backendQueue, deviceKey, selectMeasured } from './backends';
import type { EventSink } from './events';

/**
 * backend: auto for a run: the fastest backend for this model on this device, measured once
 * (a few steps on each) and remembered in IndexedDB (docs/performance.md "auto"). The queue runs
 * it as the selection of an idle worker, so measuring never switches a backend under a job.
 */
function measuredAuto(
	db: LabDb,
	config: LabConfig,
	dataset: Dataset,
	base?: PretrainedModel
): () => Promise<BackendReport> {
	return async () => {
		const key = `${await deviceKey()} ${modelShapeKey(config)} app${__APP_VERSION__} tfjs${tf.version_core}`;
		const cached = (await db.backendTimings.get(key))?.timings ?? null;
		const { report, timings, complete } = await selectMeasured(
			(cutoff) => timeModelSteps(config, dataset, cutoff, undefined, base),
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

/** Another tab's worker holds the run. */
class RunLockedError extends Error {}

/** The backend a run's follow-up jobs (evaluation, generation) use: the one it trained on. */
const trainedOn = trainedBackend;

/** Refuses generation settings out of range, before any backend or checkpoint is touched. */
function checkGenerateRequest(request: GenerateRequest): void {
	if (!Number.isInteger(request.maxNewTokens) || request.maxNewTokens < 1 || request.maxNewTokens > 1000)
		throw new Error(`max new tokens must be a whole number from 1 to 1000, got ${request.maxNewTokens}`);
	const { temperature, topK, seed } = request.sampling;
	if (!(temperature >= 0 && temperature <= 5) || !Number.isInteger(topK) || topK < 0 || !Number.isInteger(seed))
		throw new Error('sampling needs a temperature in 0..5, a top-k ≥ 0 (0: all) and a whole-number seed');
}

/** The run jobs of one worker, over its database. */
export class RunJobs {
	/** Runs this worker is training or evaluating (or about to). */
	private readonly driving = new Set<string>();
	/** Stop requests by run id, polled by the trainer between steps. */
	private readonly stops = new Map<string, StopReason>();

	constructor(readonly db: LabDb) {}

	/** Whether this worker trains or evaluates the run now. */
	isDriving(runId: string): boolean {
		return this.driving.has(runId);
	}

	/** Asks the run this worker drives to stop at its next step (a checkpoint is written). */
	stop(runId: string, reason: StopReason): void {
		// only a run this worker drives can be stopped here (a stale stop would cancel a later resume)
		if (!this.isDriving(runId))
			throw new Error(`run ${runId} is not being trained in this tab; cancel it in the tab that trains it`);
		this.stops.set(runId, reason);
	}

	/** A config's training dataset, then its evaluation datasets; throws naming the known keys for an unknown one. */
	loadDatasets(config: LabConfig): Promise<Dataset[]> {
		return Promise.all([config.data.dataset, ...config.data.eval_datasets].map((k) => resolveDataset(this.db, k)));
	}

	/** The imported model a config starts from (model.init), read and checked; undefined from scratch. */
	async baseModel(config: LabConfig): Promise<PretrainedModel | undefined> {
		const name = pretrainedName(config);
		return name === null ? undefined : loadModel(this.db, name);
	}

	/** A run's datasets as it used them (core/run/prepare.ts checks each against the run's record). */
	private async loadRunDatasets(run: RunRecord): Promise<Dataset[]> {
		return checkRunDatasets(run, await this.loadDatasets(run.config));
	}

	/**
	 * A new pending run for a config (checked, its datasets resolved, no trace longer than block_size),
	 * not yet stored: the caller stores it (alone, or with the experiment point that names it).
	 */
	async newRun(configYaml: string, configName: string): Promise<RunRecord> {
		const config = parseConfig(configYaml, { file: configName });
		const [train, ...evalSets] = await this.loadDatasets(config);
		const name = pretrainedName(config);
		// more than a tab holds is refused with the figures (never an out-of-memory mid-run), and a
		// trace longer than block_size before a run exists
		if (name === null) {
			checkFits(config);
			encodedTraces(config, train);
		} else {
			const { tokenizer, model } = await modelTokenizer(this.db, name);
			checkBaseModel(config, model);
			checkFits(config, model.gpt.vocab_size);
			encodedTraces(config, train, tokenizer);
		}
		return newRunRecord(
			config,
			train.manifest,
			evalSets.map((d) => d.manifest)
		);
	}

	/**
	 * Runs `work` holding the run's Web Lock, so one trainer works on a run across tabs. When another
	 * tab holds it, the UI gets an error event with code 'locked' instead. True when `work` ran.
	 */
	private async withRunLock(runId: string, events: EventSink, work: () => Promise<void>): Promise<boolean> {
		// a second request for a run this worker drives (a double click) is the same request
		if (this.driving.has(runId)) return false;
		this.driving.add(runId);
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
			this.driving.delete(runId);
		}
	}

	// A lost WebGPU device fails the trainer's next read-back with its reason (core/gpu/gpuErrors.ts).
	// `queueStop`: the experiment queue's own stop (a pause or cancel), which no later job clears.
	private hooksFor(runId: string, events: EventSink, queueStop?: () => StopReason | null): RunHooks {
		return {
			onStep: (m) => events.push({ kind: 'steps', runId, metrics: [m] }),
			onRun: (run) => events.push({ kind: 'run', run: structuredClone(run) }),
			onEvalProgress: ({ step, dataset }) => events.push({ kind: 'eval', runId, step, dataset }),
			shouldStop: () => this.stops.get(runId) ?? queueStop?.() ?? null
		};
	}

	/**
	 * A run job: holding the run's lock, it reads the run afresh (a tab may have deleted or changed it
	 * since the request), then queues for its backend; failures become error events. False when it
	 * did not run: another tab holds the run, or this worker already works on it.
	 */
	private async runJob(
		runId: string,
		events: EventSink,
		spec: {
			what: string;
			choice: (run: RunRecord) => BackendChoice;
			select?: (run: RunRecord) => (() => Promise<BackendReport>) | undefined;
		},
		work: (report: BackendReport, run: RunRecord) => Promise<unknown>
	): Promise<boolean> {
		const db = this.db;
		return this.withRunLock(runId, events, async () => {
			this.stops.delete(runId); // a stop meant for an earlier job of this run
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
				this.stops.delete(run.id);
				events.flush();
			}
		});
	}

	/**
	 * Trains a new run, or resumes one from its newest checkpoint when `resumedBy` says who asked
	 * (on `backend`, else its own), then evaluates it. `queueStop` is the experiment queue's stop.
	 * False when the job did not run (runJob).
	 */
	async train(
		runId: string,
		backend: BackendChoice | null,
		events: EventSink,
		resumedBy: Resumer | null,
		queueStop?: () => StopReason | null
	): Promise<boolean> {
		// loaded once for the job: by auto's measuring (when it selects) and by the training
		let loaded: Promise<[Dataset[], PretrainedModel | undefined]> | null = null;
		const load = (run: RunRecord) => (loaded ??= Promise.all([this.loadRunDatasets(run), this.baseModel(run.config)]));
		const choice = (run: RunRecord) => backend ?? run.config.runtime.backend;
		return this.runJob(
			runId,
			events,
			{
				what: 'training',
				choice,
				select: (run) =>
					choice(run) === 'auto'
						? () => load(run).then(([[d], base]) => measuredAuto(this.db, run.config, d, base)())
						: undefined
			},
			async (report, run) => {
				const storage = new IdbRunStorage(this.db, run.id);
				const [[dataset, ...evalDatasets], base] = await load(run);
				let resume;
				if (resumedBy) {
					const point = await prepareResume(storage, run);
					resume = point.resume;
					// the run's record says who continued it and from where (trainRun saves it)
					run.events = [...(run.events ?? []), resumedEvent(resume?.step ?? 0, resumedBy)];
					if (point.skipped.length > 0) {
						const from = resume ? `step ${resume.step}` : 'the start';
						events.push({
							kind: 'error',
							runId: run.id,
							message: `${point.skipped.join('; ')}: resumed from ${from} instead`
						});
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
					base,
					hooks: this.hooksFor(run.id, events, queueStop),
					evaluateModel,
					flushIntervalMs: 1000
				});
			}
		);
	}

	/** Evaluates a run's kept checkpoints again, on the backend it trained on. */
	async evaluate(runId: string, events: EventSink): Promise<void> {
		await this.runJob(runId, events, { what: 'evaluation', choice: trainedOn }, async (_report, run) =>
			evaluateRun({
				storage: new IdbRunStorage(this.db, run.id),
				run,
				datasets: await this.loadRunDatasets(run),
				base: await this.baseModel(run.config),
				hooks: this.hooksFor(run.id, events)
			})
		);
	}

	/**
	 * Generation from one checkpoint (the Playground): joins a running job's backend unless one is
	 * asked for; `onText` gets the completion so far after every token (streaming).
	 */
	async generate(request: GenerateRequest, onText?: (completion: string) => void): Promise<GenerateResult> {
		checkGenerateRequest(request);
		const source = request.source;
		const run = source.kind === 'checkpoint' ? await this.db.runs.get(source.runId) : undefined;
		if (source.kind === 'checkpoint' && !run) throw new Error(`run ${source.runId} does not exist`);
		const choice = request.backend ?? (run ? trainedOn(run) : 'wasm');
		const spec = { label: 'generation', choice, anyHeld: request.backend === null };
		return backendQueue.run(spec, async (report) => {
			const model = await this.generationModel(source);
			try {
				const prompt = encodePrompt(request.prompt, model.tokenizer);
				const stream = onText ? ([tokens]: number[][]) => void onText(model.tokenizer.decode(tokens)) : undefined;
				const [gen] = await generate(
					model.params,
					model.gpt,
					[prompt],
					request.maxNewTokens,
					request.sampling,
					stream,
					model.tokenizer
				);
				const completion = model.tokenizer.decode(gen.tokens);
				return {
					backend: report.backend,
					completion,
					answer: extractAnswer(completion),
					endedWithEos: gen.endedWithEos
				};
			} finally {
				disposeModel(model);
			}
		});
	}

	/** The weights a generation runs: a checkpoint's (with its base model), or an imported model's own. */
	private async generationModel(source: GenerateSource): Promise<EvalModel> {
		if (source.kind === 'model') return modelFromPretrained(await loadModel(this.db, source.name));
		const ck = decodeCheckpoint(await new CheckpointRepo(this.db).read(source.runId, source.step));
		return modelFromValues(ck.params, ck, ck.step, await this.baseModel(ck.config));
	}
}
