// The experiment queue's driver (docs/specification.md §11): one tab's worker at a time (the
// experiments' Web Lock) takes the oldest running experiment's next point, creates its run (the
// run and the point that names it in one transaction), trains it as an ordinary train job, and
// goes on until nothing is left. A closed tab's run is resumed by the next tab that drives; a
// pause or cancel from any tab (a message on EXPERIMENT_CHANNEL) stops the run in progress at its
// next step, through the job's own stop (queueStop), which nothing else clears.

import type { StopReason } from '../core/run/driver';
import { transition } from '../core/run/status';
import {
	afterRun,
	nextWork,
	type ExperimentPoint,
	type ExperimentRecord,
	type NextWork
} from '../core/experiment/experiment';
import { configForPoint } from '../core/experiment/grid';
import {
	EXPERIMENT_CHANNEL,
	experimentRuns,
	listExperiments,
	pauseExperiment,
	updatePoint
} from '../storage/experiments';
import { watchRun } from '../storage/reconcile';
import { IdbRunStorage } from '../storage/runStorage';
import type { EventSink } from './events';
import type { LabDb } from '../storage/db';
import type { RunJobs } from './runJobs';

export const EXPERIMENTS_LOCK = 'tunix-rt-lab:experiments';

/** Whether this worker drives the queue now, and whether it was asked again meanwhile. */
let driving = false;
let askedAgain = false;

/** The oldest running experiment with work, and the work. */
async function findWork(db: LabDb): Promise<{ e: ExperimentRecord; work: NonNullable<NextWork> } | null> {
	const entries = (await listExperiments(db)).reverse(); // oldest first
	for (const entry of entries) {
		if (!entry.ok) continue;
		const work = nextWork(entry.experiment, await experimentRuns(db, entry.experiment));
		if (work) return { e: entry.experiment, work };
	}
	return null;
}

/** Sets a point's fields; an experiment deleted meanwhile is no error (there is nothing to record). */
async function recordPoint(db: LabDb, e: ExperimentRecord, point: ExperimentPoint, fields: Partial<ExperimentPoint>) {
	if (!(await db.experiments.get(e.id))) return;
	await updatePoint(db, e.id, point.name, fields);
}

/**
 * Creates the point's run and records it in the point, in one transaction (refused when the point
 * was started, moved away or deleted meanwhile); null when its config is refused or it is gone.
 */
async function startPoint(jobs: RunJobs, e: ExperimentRecord, point: ExperimentPoint): Promise<string | null> {
	const db = jobs.db;
	let run;
	try {
		run = await jobs.newRun(configForPoint(e.base_yaml, point), e.config_name);
	} catch (err) {
		await recordPoint(db, e, point, { error: (err as Error).message });
		return null;
	}
	run.name = `${e.name} · ${point.name}`;
	try {
		await db.transaction('rw', db.runs, db.experiments, async () => {
			await updatePoint(db, e.id, point.name, { run_id: run.id }, true);
			await new IdbRunStorage(db, run.id).createRun(run);
		});
	} catch {
		return null; // the experiment or the point changed under us: the next pass reads it afresh
	}
	return run.id;
}

export async function driveExperiments(jobs: RunJobs, events: EventSink): Promise<void> {
	if (driving) {
		askedAgain = true; // work queued while the driver finishes: it looks once more
		return;
	}
	driving = true;
	try {
		await navigator.locks.request(EXPERIMENTS_LOCK, () => drive(jobs, events));
	} finally {
		driving = false;
	}
}

const pause = (ms: number, wake: (resolve: () => void) => void) =>
	new Promise<void>((resolve) => {
		wake(resolve);
		setTimeout(resolve, ms);
	});

async function drive(jobs: RunJobs, events: EventSink): Promise<void> {
	const db = jobs.db;
	/** The run being trained for an experiment now, and why the queue stopped it (if it did). */
	let current: { experimentId: string; runId: string; stop: StopReason | null; paused: boolean } | null = null;
	let wake: () => void = () => undefined;
	/** Set by every message on the channel: something changed since the last look. */
	const seen = { changed: false };
	const channel = new BroadcastChannel(EXPERIMENT_CHANNEL);
	// a pause, cancel or delete stops the run in progress at its next step (a checkpoint is written)
	channel.onmessage = async () => {
		seen.changed = true;
		wake();
		const now = current;
		if (!now) return;
		const e = await db.experiments.get(now.experimentId);
		if (e?.state === 'running') return;
		now.paused = e?.state === 'paused';
		now.stop = now.paused ? 'pause' : 'cancel';
	};
	// a run continued twice from the same state made no progress (its datasets are gone, say): the
	// point is marked refused with the reason rather than tried forever
	const attempts = new Set<string>();
	try {
		for (;;) {
			seen.changed = false;
			askedAgain = false;
			const found = await findWork(db);
			if (!found) {
				if (seen.changed || askedAgain) continue; // something was queued while we looked
				return;
			}
			const { e, work } = found;
			const point = e.points[work.index];
			if (work.action === 'wait') {
				// a run left live by a closed tab: marked interrupted once its lock is free
				await watchRun(db, point.run_id!);
				await pause(1000, (r) => (wake = r));
				continue;
			}
			const runId = work.action === 'start' ? await startPoint(jobs, e, point) : point.run_id;
			if (!runId) continue;
			const before = await db.runs.get(runId);
			const attempt = `${runId} ${before?.status} ${before?.summary.steps_done}`;
			if (work.action !== 'start' && attempts.has(attempt)) {
				const why = before?.error ?? 'it made no progress';
				await recordPoint(db, e, point, { error: `its run could not be continued: ${why}` });
				continue;
			}
			const job = { experimentId: e.id, runId, stop: null as StopReason | null, paused: false };
			current = job;
			let ran = false;
			try {
				// a pause, cancel or delete that came while the run was being created (before `current` named it)
				const now = await db.experiments.get(e.id);
				if (now?.state !== 'running') {
					if (now?.state !== 'paused' && before?.status === 'pending')
						await db.runs.update(runId, {
							status: transition('pending', 'cancel'),
							error: 'its experiment was cancelled before this run started',
							finished: new Date().toISOString()
						});
					continue;
				}
				ran = await jobs.train(runId, null, events, work.action === 'resume' ? 'queue' : null, () => job.stop);
			} finally {
				current = null;
			}
			if (!ran) {
				// another tab or this one (a Resume on the run page) trains it: wait, do not count it
				await pause(1000, (r) => (wake = r));
				continue;
			}
			attempts.add(attempt);
			const after = await db.runs.get(runId);
			if (!after) continue;
			// the resume flag says why the run stopped (a pause: continue it later); storage full pauses the queue
			const { resume, pause: reason } = afterRun(after, job.paused);
			if (resume !== point.resume) await recordPoint(db, e, point, { resume });
			if (reason) {
				attempts.clear(); // the next Continue is a new attempt
				await pauseExperiment(db, e.id, reason); // pages hear of it on the experiments channel
			}
		}
	} finally {
		channel.close();
	}
}
