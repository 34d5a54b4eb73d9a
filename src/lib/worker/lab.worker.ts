// The training worker: the same core and run driver as the CLI, on the WebGPU, WebGL, wasm or cpu
// backend, storing runs, metrics and checkpoints in IndexedDB itself. Exposed with Comlink as
// LabWorkerApi. Every piece of work is a job of the backend queue (backends.ts, jobQueue.ts);
// the run jobs are in runJobs.ts, event batching in events.ts.

import * as Comlink from 'comlink';
import { parseConfig, type BackendName, type LabConfig } from '../core/config';
import type { Dataset } from '../core/data/manifest';
import { useFusedKernels } from '../core/model/chooseOps';
import { benchTraining, timeCoreRun } from '../core/bench/bench';
import { threadCount } from '../kernels/wasmLabKernels';
import { decodeTraceFile, TraceFileError } from '../core/data/traces';
import { importBundle } from '../storage/bundles';
import { CheckpointRepo } from '../storage/checkpoints';
import { importDataset } from '../storage/datasets';
import { hfFilesOf, importModel } from '../storage/models';
import { labDb } from '../storage/db';
import { IdbRunStorage } from '../storage/runStorage';
import type { BenchRequest, LabWorkerApi, StartRunRequest } from './api';
import { backendQueue } from './backends';
import { batcher } from './events';
import { driveExperiments } from './experiments';
import { RunJobs } from './runJobs';

/** This worker's database and run jobs: the only instances (no module exports them). */
const db = labDb();
const jobs = new RunJobs(db);
const cleanup = new CheckpointRepo(db).cleanup(); // uncommitted chunks from a closed tab

const api: LabWorkerApi = {
	async probeBackend(choice) {
		const held = backendQueue.current;
		if (held) {
			const note = `${backendQueue.jobs.join(', ')} holds ${held.backend}; other backends are checked when it ends`;
			return { ...held, notes: [...held.notes, note] };
		}
		return backendQueue.run({ label: 'backend check', choice }, async (report) => report);
	},

	async startRun(request: StartRunRequest, listener) {
		await cleanup;
		const run = await jobs.newRun(request.configYaml, request.configName);
		await new IdbRunStorage(db, run.id).createRun(run);
		void jobs.train(run.id, null, batcher(listener), null);
		return run.id;
	},

	async resumeRun(runId, backend, by, listener) {
		await cleanup;
		if (!(await db.runs.get(runId))) throw new Error(`run ${runId} does not exist`);
		void jobs.train(runId, backend, batcher(listener), by);
	},

	async driveExperiments(listener) {
		await cleanup;
		await driveExperiments(jobs, batcher(listener));
	},

	async cancelRun(runId) {
		jobs.stop(runId, 'cancel');
	},

	async evaluateRun(runId, listener) {
		if (!(await db.runs.get(runId))) throw new Error(`run ${runId} does not exist`);
		void jobs.evaluate(runId, batcher(listener));
	},

	generate: (request, onText) => jobs.generate(request, onText),

	async bench(request: BenchRequest) {
		return onExactly(request.backend, request.configYaml, async (config, [dataset, ...evalDatasets], runtime) => {
			useFusedKernels(request.fused);
			try {
				return await benchTraining(config, dataset, {
					runtime,
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

	async importBundle(bytes, fileName) {
		await cleanup;
		return importBundle(db, bytes, fileName);
	},

	async importDataset(bytes, fileName, validOnly) {
		try {
			return { ok: true, stored: await importDataset(db, fileName, decodeTraceFile(bytes, fileName), validOnly) };
		} catch (err) {
			// the problems list crosses the worker boundary as data (an Error's own fields do not)
			return err instanceof TraceFileError
				? { ok: false, problems: err.problems, valid: err.valid }
				: { ok: false, problems: [(err as Error).message], valid: 0 };
		}
	},

	async importModel(name, files) {
		return importModel(db, name, hfFilesOf(files));
	},

	async timeCoreRun(configYaml: string, backend: BackendName) {
		return onExactly(backend, configYaml, (config, [dataset]) => timeCoreRun(config, dataset));
	}
};

/**
 * Runs `work` as a bench job on exactly `backend` with a config's datasets and a description of
 * where it runs (browser, isolation, wasm threads); refuses a fallback (a bench must not mislabel).
 */
async function onExactly<T>(
	backend: BackendName,
	configYaml: string,
	work: (config: LabConfig, datasets: Dataset[], runtime: string) => Promise<T>
): Promise<T> {
	const config = parseConfig(configYaml, { file: 'bench.yaml' });
	return backendQueue.run({ label: `bench on ${backend}`, choice: backend, exclusive: true }, async (report) => {
		if (report.backend !== backend) throw new Error(`${backend} is not available here: ${report.notes.join('; ')}`);
		const browser = navigator.userAgent.match(/(Chrome|Firefox|Safari)\/[\d.]+/)?.[0] ?? 'browser';
		const isolation = report.isolated ? 'cross-origin isolated' : 'not isolated';
		const threads = report.labKernelThreads
			? `, lab wasm kernels on ${threadCount(report.labKernelThreads)}`
			: report.wasmThreads
				? `, wasm threads ${report.wasmThreads}`
				: '';
		return work(config, await jobs.loadDatasets(config), `${browser} worker, ${isolation}${threads}`);
	});
}

Comlink.expose(api);
