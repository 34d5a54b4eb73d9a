// The UI thread's handle on the training worker: one worker per page, one event hub that fans the
// worker's batched events out to whoever listens, and which runs this page's worker is driving.

import * as Comlink from 'comlink';
import { isLive } from '../core/run/status';
import type { BackendChoice } from '../core/config';
import type { BundleImport } from '../storage/bundles';
import type { ModelImport } from '../storage/models';
import type { DatasetImportResult, LabEvent, LabWorkerApi, StartRunRequest } from './api';

let worker: Comlink.Remote<LabWorkerApi> | null = null;
const subscribers = new Set<(e: LabEvent) => void>();
const ownRuns = new Set<string>();

export function labWorker(): Comlink.Remote<LabWorkerApi> {
	worker ??= Comlink.wrap<LabWorkerApi>(new Worker(new URL('./lab.worker.ts', import.meta.url), { type: 'module' }));
	return worker;
}

const hub = Comlink.proxy((events: LabEvent[]) => {
	for (const e of events) {
		if (e.kind === 'error' && e.code === 'locked') ownRuns.delete(e.runId);
		// this tab's job on the run is over: if another tab trains it later, this one follows
		if (e.kind === 'run' && !isLive(e.run.status)) ownRuns.delete(e.run.id);
		// a run the experiment queue started in this tab's worker
		else if (e.kind === 'run') ownRuns.add(e.run.id);
		for (const fn of subscribers) fn(e);
	}
});

/** Listen to every run event of this page's worker; returns the unsubscribe function. */
export function onLabEvent(fn: (e: LabEvent) => void): () => void {
	subscribers.add(fn);
	return () => subscribers.delete(fn);
}

/** True when this page's worker started or resumed the run (so it is not another tab's). */
export function isOwnRun(runId: string): boolean {
	return ownRuns.has(runId);
}

export async function startRun(request: StartRunRequest): Promise<string> {
	const id = await labWorker().startRun(request, hub);
	ownRuns.add(id);
	return id;
}

export async function resumeRun(
	runId: string,
	backend: BackendChoice | null,
	by: 'user' | 'lab' = 'user'
): Promise<void> {
	ownRuns.add(runId);
	await labWorker().resumeRun(runId, backend, by, hub);
}

export async function evaluateRun(runId: string): Promise<void> {
	ownRuns.add(runId);
	await labWorker().evaluateRun(runId, hub);
}

let drivingExperiments = false;

/**
 * Lets this tab's worker run the queued experiments (it waits while another tab drives them, and
 * takes over when that tab closes). Called on page load when experiments wait, and after a sweep
 * is queued or resumed; a call while driving does nothing.
 */
export function driveExperiments(): void {
	if (drivingExperiments) return;
	drivingExperiments = true;
	labWorker()
		.driveExperiments(hub)
		.catch((err: Error) => {
			const e: LabEvent = { kind: 'queue-error', message: `the experiment queue stopped: ${err.message}` };
			for (const fn of subscribers) fn(e);
		})
		.finally(() => (drivingExperiments = false));
}

/** A file's bytes to the worker without a copy (the page keeps no use for them). */
const handOver = (bytes: Uint8Array) => Comlink.transfer(bytes, [bytes.buffer]);

/** Imports a run or experiment bundle in the worker; resolves with what was stored. */
export async function importBundle(file: File): Promise<BundleImport> {
	const bytes = new Uint8Array(await file.arrayBuffer());
	return labWorker().importBundle(handOver(bytes), file.name);
}

/** Imports a trace JSONL file in the worker. */
/** Imports a trace file; with `validOnly`, its valid lines only (the others are left out, and said so). */
export async function importDataset(file: File, validOnly = false): Promise<DatasetImportResult> {
	const bytes = new Uint8Array(await file.arrayBuffer());
	return labWorker().importDataset(handOver(bytes), file.name, validOnly);
}

/** The files of a model folder the import reads; others (README, pytorch_model.bin, …) are left out. */
export const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt'] as const;

/** Imports a model from the files a user chose or dropped (a folder's, or some of them) in the worker. */
export async function importModel(name: string, files: File[]): Promise<ModelImport> {
	const wanted = files.filter((f) => (MODEL_FILES as readonly string[]).includes(f.name));
	const bytes: Record<string, Uint8Array> = {};
	for (const f of wanted) bytes[f.name] = new Uint8Array(await f.arrayBuffer());
	return labWorker().importModel(
		name,
		Comlink.transfer(
			bytes,
			Object.values(bytes).map((b) => b.buffer)
		)
	);
}

/**
 * Imports a model from a URL folder (e.g. https://huggingface.co/distilgpt2/resolve/main): its
 * config.json, model.safetensors and tokenizer.json (or vocab.json + merges.txt). The lab's
 * Content-Security-Policy allows only its own site unless the deployer allows more (docs/deploy.md).
 */
export async function importModelFromUrl(
	name: string,
	folder: string,
	onFile: (file: string) => void
): Promise<ModelImport> {
	const base = folder.replace(/\/+$/, '');
	const get = async (file: string, optional = false): Promise<File | null> => {
		onFile(file);
		let response: Response;
		try {
			response = await fetch(`${base}/${file}`);
		} catch (err) {
			throw new Error(
				`${base}/${file} could not be fetched (${(err as Error).message}): is the address right, and does this lab's Content-Security-Policy allow that site (docs/deploy.md)?`,
				{ cause: err }
			);
		}
		if (!response.ok) {
			if (optional) return null;
			throw new Error(`${base}/${file}: the server answered ${response.status} ${response.statusText}`);
		}
		return new File([await response.blob()], file);
	};
	const files = [await get('config.json'), await get('model.safetensors')];
	const tokenizer = await get('tokenizer.json', true);
	if (tokenizer) files.push(tokenizer);
	else files.push(await get('vocab.json'), await get('merges.txt'));
	return importModel(
		name,
		files.filter((f): f is File => f !== null)
	);
}

export async function cancelRun(runId: string): Promise<void> {
	await labWorker().cancelRun(runId);
}
