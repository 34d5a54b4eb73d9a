// The training worker: the same core and run driver as the CLI, on the best WebGPU/WebGL/wasm/cpu
// backend, storing runs, metrics and checkpoints in IndexedDB itself. Exposed with Comlink as
// LabWorkerApi. One trainer per run across tabs (Web Locks).

import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import { decodeCheckpoint } from '../core/checkpoint/checkpoint';
import { parseConfig, type BackendChoice, type BackendName, type LabConfig } from '../core/config';
import type { Dataset } from '../core/data/manifest';
import { evaluate as evaluateModel, disposeModel, modelFromValues } from '../core/eval/evaluate';
import { generateGreedy } from '../core/eval/generate';
import { extractAnswer } from '../core/eval/judge';
import { evaluateRun, trainRun, type RunHooks, type StopReason } from '../core/run/driver';
import { newRunRecord, type Provenance, type RunRecord } from '../core/run/record';
import { encodeExample } from '../core/text/examples';
import { useFusedKernels } from '../core/model/fused';
import { modelShapeKey, timeModelSteps } from '../core/train/autoSelect';
import { benchTraining, timeCoreRun } from '../core/train/bench';
import { CheckpointRepo } from '../storage/checkpoints';
import { resolveDataset } from '../storage/datasets';
import { labDb } from '../storage/db';
import { IdbRunStorage } from '../storage/runStorage';
import type {
	BackendReport,
	BenchRequest,
	GenerateResult,
	LabEvent,
	LabListener,
	LabWorkerApi,
	StartRunRequest
} from './api';
import { deviceKey, selectBackend, selectMeasured } from './backends';

/**
 * backend: auto for a run: the fastest backend for this model on this device, measured once
 * (a few steps on each) and remembered in IndexedDB (docs/performance.md "auto").
 */
function measuredAuto(config: LabConfig, dataset: Dataset): Selector {
	return async () => {
		const key = `${await deviceKey()} ${modelShapeKey(config)} app${__APP_VERSION__} tfjs${tf.version_core}`;
		const cached = (await db.backendTimings.get(key))?.timings ?? null;
		if (!cached && busy > 1) {
			// another job holds a backend: measuring would switch it under that job (selection
			// still can: the worker has no job queue per backend yet)
			const report = await selectBackend('auto');
			report.notes.unshift('auto: not measured, another run or evaluation is using a backend; first available');
			return report;
		}
		const { report, timings, complete } = await selectMeasured(
			(cutoff) => timeModelSteps(config, dataset, cutoff),
			cached
		);
		// a backend that started but failed may have failed for a passing reason: measure again next time
		if (!cached && complete) await db.backendTimings.put({ key, timings, measured: new Date().toISOString() });
		return report;
	};
}

const db = labDb();
const cleanup = new CheckpointRepo(db).cleanup(); // uncommitted chunks from a closed tab
const stops = new Map<string, StopReason>();

// The active tfjs backend is global to the worker: selections are serialised, and a probe from the
// UI never switches it while a run or evaluation is using it.
let busy = 0;
let lastReport: BackendReport | null = null;
let queue: Promise<unknown> = Promise.resolve();
function serialised<T>(work: () => Promise<T>): Promise<T> {
	const next = queue.then(work, work);
	queue = next.catch(() => undefined);
	return next;
}
type Selector = () => Promise<BackendReport>;
const useBackend = (choice: BackendChoice, select?: Selector) =>
	serialised(async () => (lastReport = await (select ? select() : selectBackend(choice))));

/** Holds the backend for `work` (a run or an evaluation); `select` replaces the plain selection. */
async function usingBackend<T>(
	choice: BackendChoice,
	work: (report: BackendReport) => Promise<T>,
	select?: Selector
): Promise<T> {
	busy += 1;
	try {
		return await work(await useBackend(choice, select));
	} finally {
		busy -= 1;
	}
}
import { RUN_LOCK_PREFIX } from '../storage/reconcile';

/** Batches events to the UI: at most one delivery per 100 ms. */
function batcher(listener: LabListener) {
	let queue: LabEvent[] = [];
	let timer: ReturnType<typeof setTimeout> | null = null;
	const flush = () => {
		timer = null;
		if (queue.length === 0) return;
		const out = queue;
		queue = [];
		try {
			listener(out);
		} catch {
			// the page went away; the run goes on and stays in IndexedDB
		}
	};
	return {
		push(e: LabEvent) {
			queue.push(e);
			timer ??= setTimeout(flush, 100);
		},
		flush
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
async function loadDatasets(config: LabConfig): Promise<Dataset[]> {
	return Promise.all([config.data.dataset, ...config.data.eval_datasets].map((k) => resolveDataset(db, k)));
}

/** Another tab's worker holds the run. */
class RunLockedError extends Error {}

/**
 * Runs `work` holding the run's Web Lock, so one trainer works on a run across tabs. When another
 * tab holds it, the UI gets an error event with code 'locked' instead.
 */
async function withRunLock(
	runId: string,
	events: ReturnType<typeof batcher>,
	work: () => Promise<void>
): Promise<void> {
	try {
		await navigator.locks.request(`${RUN_LOCK_PREFIX}${runId}`, { ifAvailable: true }, async (lock) => {
			if (!lock)
				throw new RunLockedError(
					`run ${runId} is being trained or evaluated in another tab; this tab follows its progress`
				);
			await work();
		});
	} catch (err) {
		if (!(err instanceof RunLockedError)) throw err;
		events.push({ kind: 'error', runId, message: err.message, code: 'locked' });
		events.flush();
	}
}

// A lost WebGPU device fails the trainer's next read-back with its reason (core/backend/gpuErrors.ts).
function hooksFor(runId: string, events: ReturnType<typeof batcher>): RunHooks {
	return {
		onStep: (m) => events.push({ kind: 'steps', runId, metrics: [m] }),
		onRun: (run) => events.push({ kind: 'run', run: structuredClone(run) }),
		onEvalProgress: ({ step, dataset }) => events.push({ kind: 'eval', runId, step, dataset }),
		shouldStop: () => stops.get(runId) ?? null
	};
}

async function drive(
	run: RunRecord,
	backend: BackendChoice,
	listener: LabListener,
	resumeFromLatest: boolean
): Promise<void> {
	const events = batcher(listener);
	await withRunLock(run.id, events, async () => {
		const storage = new IdbRunStorage(db, run.id);
		try {
			const [dataset, ...evalDatasets] = await loadDatasets(run.config);
			const select = backend === 'auto' ? measuredAuto(run.config, dataset) : undefined;
			await usingBackend(
				backend,
				async (report) => {
					let resume;
					if (resumeFromLatest) {
						const steps = await storage.checkpointSteps();
						if (steps.length > 0) resume = decodeCheckpoint(await storage.readCheckpoint(steps[steps.length - 1]));
						else await storage.truncateMetrics(0); // no checkpoint yet: start over
					}
					await trainRun({
						storage,
						run,
						config: run.config,
						dataset,
						evalDatasets,
						provenance: provenanceOf(report),
						resume,
						hooks: hooksFor(run.id, events),
						evaluateModel,
						flushIntervalMs: 1000
					});
				},
				select
			);
		} catch (err) {
			events.push({ kind: 'error', runId: run.id, message: (err as Error).message });
			const stored = await db.runs.get(run.id);
			if (stored) events.push({ kind: 'run', run: stored });
		} finally {
			stops.delete(run.id);
			events.flush();
		}
	});
}

const api: LabWorkerApi = {
	async probeBackend(choice) {
		if (busy > 0 && lastReport) {
			return {
				...lastReport,
				notes: [...lastReport.notes, 'a run is using this backend now; other backends are checked when it ends']
			};
		}
		return useBackend(choice);
	},

	async startRun(request: StartRunRequest, listener) {
		await cleanup;
		const config = parseConfig(request.configYaml, { file: request.configName });
		const [train, ...evalSets] = await loadDatasets(config);
		const run = newRunRecord(
			config,
			train.manifest,
			evalSets.map((d) => d.manifest)
		);
		await new IdbRunStorage(db, run.id).saveRun(run);
		void drive(run, config.runtime.backend, listener, false);
		return run.id;
	},

	async resumeRun(runId, backend, listener) {
		await cleanup;
		const run = await db.runs.get(runId);
		if (!run) throw new Error(`run ${runId} does not exist`);
		void drive(run, backend ?? run.config.runtime.backend, listener, true);
	},

	async cancelRun(runId) {
		stops.set(runId, 'cancel');
	},

	async evaluateRun(runId, listener) {
		const run = await db.runs.get(runId);
		if (!run) throw new Error(`run ${runId} does not exist`);
		const events = batcher(listener);
		void withRunLock(runId, events, async () => {
			try {
				const datasets = await loadDatasets(run.config);
				await usingBackend((run.provenance.backend || run.config.runtime.backend) as BackendChoice, () =>
					evaluateRun({
						storage: new IdbRunStorage(db, runId),
						run,
						datasets,
						hooks: hooksFor(runId, events)
					})
				);
			} catch (err) {
				events.push({ kind: 'error', runId, message: (err as Error).message });
			} finally {
				events.flush();
			}
		});
	},

	async generate(runId, step, prompt, maxNewTokens): Promise<GenerateResult> {
		const run = await db.runs.get(runId);
		if (!run) throw new Error(`run ${runId} does not exist`);
		return usingBackend((run.provenance.backend || run.config.runtime.backend) as BackendChoice, () =>
			generateFrom(runId, step, prompt, maxNewTokens)
		);
	},

	async bench(request: BenchRequest) {
		return onExactly(request.backend, request.configYaml, async (config, [dataset, ...evalDatasets]) => {
			useFusedKernels(request.fused);
			try {
				return await benchTraining(config, dataset, {
					runtime: benchRuntime(),
					steps: request.steps,
					maxSeconds: request.maxSeconds,
					evalDatasets: [dataset, ...evalDatasets],
					evalMaxItems: request.evalMaxItems
				});
			} finally {
				useFusedKernels(true);
			}
		});
	},

	async timeCoreRun(configYaml: string, backend: BackendName) {
		return onExactly(backend, configYaml, (config, [dataset]) => timeCoreRun(config, dataset));
	}
};

/** Where a bench runs: the browser, whether the page is isolated, and the wasm threads. */
function benchRuntime(): string {
	const browser = navigator.userAgent.match(/(Chrome|Firefox|Safari)\/[\d.]+/)?.[0] ?? 'browser';
	const isolation = lastReport?.isolated ? 'cross-origin isolated' : 'not isolated';
	return `${browser} worker, ${isolation}${lastReport?.wasmThreads ? `, wasm threads ${lastReport.wasmThreads}` : ''}`;
}

/** Runs `work` on exactly `backend` with a config's datasets; refuses a fallback (a bench must not mislabel). */
async function onExactly<T>(
	backend: BackendName,
	configYaml: string,
	work: (config: LabConfig, datasets: Dataset[]) => Promise<T>
): Promise<T> {
	const config = parseConfig(configYaml, { file: 'bench.yaml' });
	return usingBackend(backend, async (report) => {
		if (report.backend !== backend) throw new Error(`${backend} is not available here: ${report.notes.join('; ')}`);
		return work(config, await loadDatasets(config));
	});
}

async function generateFrom(
	runId: string,
	step: number,
	prompt: string,
	maxNewTokens: number
): Promise<GenerateResult> {
	const ck = decodeCheckpoint(await new CheckpointRepo(db).read(runId, step));
	const model = modelFromValues(ck.params, ck, ck.step);
	try {
		const ex = encodeExample(
			{ trace_version: '1.0', prompt, steps: [{ i: 0, type: 'x', content: 'x' }], final_answer: 'x' },
			model.tokenizer
		);
		const [gen] = await generateGreedy(model.params, model.gpt, [ex.ids.slice(0, ex.promptLength)], maxNewTokens);
		const completion = model.tokenizer.decode(gen.tokens);
		return { completion, answer: extractAnswer(completion), endedWithEos: gen.endedWithEos };
	} finally {
		disposeModel(model);
	}
}

Comlink.expose(api);
