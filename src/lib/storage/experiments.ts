// Experiments in IndexedDB (core/experiment/experiment.ts): queued from the lab page, driven by one
// tab's worker at a time (worker/experiments.ts), read by the Experiment page. Every change is a
// read-modify-write in one transaction, then a message on EXPERIMENT_CHANNEL so the driving worker
// (in whichever tab) acts on a pause or cancel at once.

import {
	ExperimentSchema,
	reorderPoint,
	type ExperimentPoint,
	type ExperimentRecord,
	type ExperimentState
} from '../core/experiment/experiment';
import { checked, tryParse } from '../core/schema';
import type { ExperimentView } from '../core/experiment/view';
import { experimentFinished, experimentStatus, type ExperimentStatus } from '../core/experiment/experiment';
import type { EvalLine } from '../core/eval/evalJson';
import type { StepMetrics } from '../core/train/metrics';
import type { LabDb, StoredRun } from './db';
import { checkRun, runMetrics } from './queries';

/** Pages post here after changing an experiment; the driving worker listens. */
export const EXPERIMENT_CHANNEL = 'tunix-rt-lab:experiments';

/** Tells the driving worker (any tab) that experiments changed. */
export function announceExperiments(): void {
	if (typeof BroadcastChannel === 'undefined') return;
	const channel = new BroadcastChannel(EXPERIMENT_CHANNEL);
	channel.postMessage('changed');
	channel.close();
}

/** A stored experiment, checked: the record, or what is wrong with it. */
export type ExperimentEntry =
	{ ok: true; id: string; experiment: ExperimentRecord } | { ok: false; id: string; problems: string[] };

function checkExperiment(stored: unknown): ExperimentEntry {
	const id = String((stored as { id?: unknown })?.id ?? '(no id)');
	const result = tryParse(ExperimentSchema, stored);
	return result.ok ? { ok: true, id, experiment: result.output } : { ok: false, id, problems: result.problems };
}

/** Every experiment, newest first, each checked. */
export async function listExperiments(db: LabDb): Promise<ExperimentEntry[]> {
	return (await db.experiments.orderBy('created').reverse().toArray()).map(checkExperiment);
}

/** Whether the run is one of an experiment's (its queue resumes it, not the lab page). */
export async function inExperiment(db: LabDb, runId: string): Promise<boolean> {
	return (await db.experiments.toArray()).some((e) =>
		((e as { points?: { run_id?: string | null }[] }).points ?? []).some((p) => p.run_id === runId)
	);
}

/** A listed experiment: a sound one with what it is doing (experimentStatus), or a damaged one. */
export type ExperimentListing =
	| { ok: true; id: string; experiment: ExperimentRecord; status: ExperimentStatus }
	| { ok: false; id: string; problems: string[]; status: null };

/** Every experiment, newest first, with what it is doing where its record is sound. */
export async function listExperimentsWithStatus(db: LabDb): Promise<ExperimentListing[]> {
	const entries = await listExperiments(db);
	return Promise.all(
		entries.map(async (entry): Promise<ExperimentListing> =>
			entry.ok
				? { ...entry, status: experimentStatus(entry.experiment, await experimentRuns(db, entry.experiment)) }
				: { ...entry, status: null }
		)
	);
}

export async function getExperiment(db: LabDb, id: string): Promise<ExperimentEntry | null> {
	const stored = await db.experiments.get(id);
	return stored ? checkExperiment(stored) : null;
}

/** The sound runs of an experiment, by id (a run deleted by hand is absent). */
export async function experimentRuns(db: LabDb, e: ExperimentRecord): Promise<Map<string, StoredRun>> {
	const ids = e.points.flatMap((p) => (p.run_id ? [p.run_id] : []));
	const runs = new Map<string, StoredRun>();
	for (const stored of await db.runs.bulkGet(ids)) {
		const entry = stored ? checkRun(stored) : null;
		if (entry?.ok) runs.set(entry.id, entry.run);
	}
	return runs;
}

export async function createExperiment(db: LabDb, e: ExperimentRecord): Promise<void> {
	await db.experiments.add(checked(ExperimentSchema, e, `experiment ${e.id}`));
	announceExperiments();
}

/** Applies `change` to the stored experiment in one transaction; throws when it is gone. */
export async function updateExperiment(
	db: LabDb,
	id: string,
	change: (e: ExperimentRecord) => ExperimentRecord
): Promise<ExperimentRecord> {
	const next = await db.transaction('rw', db.experiments, async () => {
		const entry = await getExperiment(db, id);
		if (!entry) throw new Error(`experiment ${id} was deleted`);
		if (!entry.ok) throw new Error(`experiment ${id} is damaged: ${entry.problems.join('; ')}`);
		const changed = change(entry.experiment);
		await db.experiments.put(changed);
		return changed;
	});
	announceExperiments();
	return next;
}

/**
 * Sets the fields of the point named `name` (names are unique; an index could have moved). With
 * `unstarted`, refuses unless the point has no run and no error yet and the experiment is running (the queue starting it).
 */
export function updatePoint(db: LabDb, id: string, name: string, fields: Partial<ExperimentPoint>, unstarted = false) {
	return updateExperiment(db, id, (e) => {
		const point = e.points.find((p) => p.name === name);
		if (!point) throw new Error(`experiment ${id} has no point ${name}`);
		if (unstarted && (point.run_id !== null || point.error !== null))
			throw new Error(`point ${name} of experiment ${id} was started already`);
		// a pause or cancel that came while the queue chose this point: no new work starts
		if (unstarted && e.state !== 'running') throw new Error(`experiment ${id} is ${e.state}: point ${name} waits`);
		return { ...e, points: e.points.map((p) => (p === point ? { ...p, ...fields } : p)) };
	});
}

/** Runs, pauses (the run in progress stops at its next step, to be resumed) or cancels the queue; clears why it paused itself. */
export function setExperimentState(db: LabDb, id: string, state: ExperimentState) {
	return updateExperiment(db, id, (e) => {
		if (e.state === 'cancelled') throw new Error('a cancelled experiment stays cancelled; queue its grid again');
		const { paused_reason: _reason, ...rest } = e; // a pause's reason holds until the queue is changed
		return { ...rest, state };
	});
}

/** Moves a queued point within the queue. */
export function moveExperimentPoint(db: LabDb, id: string, from: number, to: number) {
	return updateExperiment(db, id, (e) => reorderPoint(e, from, to));
}

/** Deletes the experiment record; its runs stay (each is an ordinary run; the one in progress is stopped). */
export async function deleteExperiment(db: LabDb, id: string): Promise<void> {
	await db.experiments.delete(id);
	announceExperiments();
}

/** An experiment's view, or what is wrong with its stored record (null: there is none). */
export type ExperimentViewRead = { ok: true; view: ExperimentView } | { ok: false; problems: string[] } | null;

/** An experiment with its runs and their metrics (lines that fail their schema are left out). */
export function experimentView(db: LabDb, id: string): Promise<ExperimentViewRead> {
	return new ExperimentViewReader(db, id).read();
}

/**
 * Reads an experiment's view again and again, for a page that follows it while its queue trains:
 * a run's metrics are read again only when they changed since the last read (their count and newest
 * line), so a new step of one run costs one run's lines, not every run's (100 runs × 3,000 steps).
 */
export class ExperimentViewReader {
	/** Each run's metrics as last read, with the stamp they were read at. */
	private readonly cache = new Map<string, { stamp: string; training: StepMetrics[]; evaluation: EvalLine[] }>();
	/** Runs whose metrics were read (not taken from the cache) by the last read(): what a test counts. */
	lastReadRuns: string[] = [];

	constructor(
		private readonly db: LabDb,
		private readonly id: string
	) {}

	async read(): Promise<ExperimentViewRead> {
		const entry = await getExperiment(this.db, this.id);
		if (!entry) return null;
		if (!entry.ok) return { ok: false, problems: entry.problems };
		const runs = await experimentRuns(this.db, entry.experiment);
		const training = new Map<string, StepMetrics[]>();
		const evaluation = new Map<string, EvalLine[]>();
		this.lastReadRuns = [];
		for (const runId of runs.keys()) {
			const metrics = await this.runMetrics(runId);
			training.set(runId, metrics.training);
			evaluation.set(runId, metrics.evaluation);
		}
		return { ok: true, view: { experiment: entry.experiment, runs, training, evaluation } };
	}

	/** A run's metrics: from the cache while its lines are the same, else read. */
	private async runMetrics(runId: string) {
		const lines = this.db.metrics.where('runId').equals(runId);
		const stamp = `${await lines.count()}:${(await lines.last())?.id ?? 0}`;
		const cached = this.cache.get(runId);
		if (cached?.stamp === stamp) return cached;
		this.lastReadRuns.push(runId);
		const read = { stamp, ...(await runMetrics(this.db, runId)) };
		this.cache.set(runId, read);
		return read;
	}
}

/** True when some experiment is running and has work left (the layout then starts the queue). */
export async function experimentsWaiting(db: LabDb): Promise<boolean> {
	for (const entry of await listExperiments(db)) {
		if (!entry.ok || entry.experiment.state !== 'running') continue;
		if (!experimentFinished(entry.experiment, await experimentRuns(db, entry.experiment))) return true;
	}
	return false;
}

/** The queue paused itself: it stops, saying why (storage full), until it is continued. */
export function pauseExperiment(db: LabDb, id: string, reason: string) {
	return updateExperiment(db, id, (e) =>
		e.state === 'running' ? { ...e, state: 'paused', paused_reason: reason } : e
	);
}
