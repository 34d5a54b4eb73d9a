// The experiment queue's driver (docs/specification.md §11): one tab's worker at a time (the
// experiments' Web Lock) takes the oldest running experiment's next point, creates its run (the
// run and the point that names it in one transaction), trains it as an ordinary train job, and
// goes on until nothing is left. A closed tab's run is resumed by the next tab that drives; a
// pause or cancel from any tab (a message on EXPERIMENT_CHANNEL) stops the run in progress.

import { transition } from '../core/run/status';
import { configForPoint } from '../core/sweep/grid';
import { nextWork, type ExperimentRecord, type NextWork } from '../core/sweep/experiment';
import { EXPERIMENT_CHANNEL, experimentRuns, listExperiments, updatePoint } from '../storage/experiments';
import { watchRun } from '../storage/reconcile';
import { IdbRunStorage } from '../storage/runStorage';
import type { EventSink } from './events';
import { db, newRun, stops, trainJob } from './runJobs';

export const EXPERIMENTS_LOCK = 'tunix-rt-lab:experiments';

let driving = false;

/** The oldest running experiment with work, and the work. */
async function findWork(): Promise<{ e: ExperimentRecord; work: NonNullable<NextWork> } | null> {
	const entries = (await listExperiments(db)).reverse(); // oldest first
	for (const entry of entries) {
		if (!entry.ok) continue;
		const work = nextWork(entry.experiment, await experimentRuns(db, entry.experiment));
		if (work) return { e: entry.experiment, work };
	}
	return null;
}

/** Creates the point's run and records it in the point, in one transaction; false when refused. */
async function startPoint(e: ExperimentRecord, index: number): Promise<string | null> {
	const point = e.points[index];
	let runId: string;
	try {
		const run = await newRun(configForPoint(e.base_yaml, point), e.config_name);
		run.name = `${e.name} · ${point.name}`;
		runId = run.id;
		await db.transaction('rw', db.runs, db.experiments, async () => {
			await new IdbRunStorage(db, run.id).createRun(run);
			await updatePoint(db, e.id, index, { run_id: run.id });
		});
	} catch (err) {
		await updatePoint(db, e.id, index, { error: (err as Error).message });
		return null;
	}
	return runId;
}

export async function driveExperiments(events: EventSink): Promise<void> {
	if (driving) return;
	driving = true;
	try {
		await navigator.locks.request(EXPERIMENTS_LOCK, () => drive(events));
	} finally {
		driving = false;
	}
}

async function drive(events: EventSink): Promise<void> {
	/** The run being trained for an experiment now. */
	let current: { experimentId: string; index: number; runId: string } | null = null;
	let wake: () => void = () => undefined;
	const channel = new BroadcastChannel(EXPERIMENT_CHANNEL);
	// a pause or cancel stops the run in progress at its next step (a checkpoint is written)
	channel.onmessage = async () => {
		wake();
		const now = current;
		if (!now) return;
		const e = await db.experiments.get(now.experimentId);
		if (e?.state === 'running') return;
		if (e?.state === 'paused') await updatePoint(db, now.experimentId, now.index, { resume: true });
		stops.set(now.runId, 'cancel');
	};
	// a run continued twice from the same state made no progress (its datasets are gone, say): the
	// point is marked refused with the reason rather than tried forever
	const attempts = new Set<string>();
	try {
		for (;;) {
			const found = await findWork();
			if (!found) return;
			const { e, work } = found;
			if (work.action === 'wait') {
				// a run left live by a closed tab: marked interrupted once its lock is free
				await watchRun(db, e.points[work.index].run_id!);
				await new Promise<void>((resolve) => {
					wake = resolve;
					setTimeout(resolve, 1000);
				});
				continue;
			}
			const runId = work.action === 'start' ? await startPoint(e, work.index) : e.points[work.index].run_id;
			if (!runId) continue;
			const before = await db.runs.get(runId);
			const attempt = `${runId} ${before?.status} ${before?.summary.steps_done}`;
			if (work.action !== 'start' && attempts.has(attempt)) {
				const why = before?.error ?? 'it made no progress';
				await updatePoint(db, e.id, work.index, { error: `its run could not be continued: ${why}` });
				continue;
			}
			attempts.add(attempt);
			current = { experimentId: e.id, index: work.index, runId };
			try {
				// a pause or cancel that came while the run was being created (before `current` named it)
				const now = await db.experiments.get(e.id);
				if (now?.state !== 'running') {
					if (now?.state === 'cancelled' && before?.status === 'pending')
						await db.runs.update(runId, {
							status: transition('pending', 'cancel'),
							error: 'the experiment was cancelled before this run started'
						});
					continue;
				}
				if (work.action === 'resume') await updatePoint(db, e.id, work.index, { resume: false });
				await trainJob(runId, null, events, work.action === 'resume');
			} finally {
				current = null;
			}
		}
	} finally {
		channel.close();
	}
}
