// On page load: a run found training or evaluating with no live trainer was cut off by a closed
// page. It becomes interrupted, resumable from its last checkpoint.
// "No live trainer" is decided by the run's Web Lock, held by whichever worker drives the run: this
// page queues a request for it, and when it is granted (at once, or once a dying page's worker has
// released it) while the run still says training, nobody is training it.

import { interruptedEvent } from '../core/run/events';
import { isLive, RUN_STATUSES, transition } from '../core/run/status';
import type { LabDb } from './db';

export const RUN_LOCK_PREFIX = 'tunix-rt-lab:run:';

/** Called with each run this page found cut off and marked interrupted (the layout resumes it). */
let onInterrupted: ((runId: string) => void) | null = null;

/** Sets what happens to a run this page finds cut off by a closed page (once, from the layout). */
export function setOnInterrupted(handler: (runId: string) => void): void {
	onInterrupted = handler;
}

/** The last training step stored for the run (what it had trained when its page closed). */
async function reachedStep(db: LabDb, runId: string): Promise<number> {
	const last = await db.metrics
		.where('[runId+step]')
		.between([runId, 0], [runId, Infinity])
		.reverse()
		.filter((r) => r.split === undefined)
		.first();
	return last?.step ?? 0;
}

async function markIfStillLive(db: LabDb, runId: string): Promise<boolean> {
	const marked = await markInterrupted(db, runId);
	if (marked) onInterrupted?.(runId);
	return marked;
}

async function markInterrupted(db: LabDb, runId: string): Promise<boolean> {
	const run = await db.runs.get(runId);
	if (!run || !isLive(run.status)) return false;
	const reached = await reachedStep(db, runId);
	const last = run.checkpoints.at(-1)?.step;
	const error =
		run.status === 'pending'
			? 'the page closed before training started'
			: `the page was closed while ${run.status}; ${last ? `resume continues from step ${last}` : 'no checkpoint was written yet, so resume starts over'}`;
	const interrupted = run.status !== 'pending';
	await db.runs.update(run.id, {
		status: transition(run.status, interrupted ? 'interrupt' : 'cancel'),
		error,
		...(interrupted ? { events: [...(run.events ?? []), interruptedEvent(reached)] } : {})
	});
	return interrupted;
}

/** Runs this page already waits on. */
const watched = new Set<string>();

/**
 * Queues a request for the run's lock (once per page); when it is granted while the run still
 * claims to be live, its trainer is gone and it is marked interrupted (the UI follows via
 * liveQuery). A page following a run that another tab trains calls it, so closing that tab never
 * leaves the follower on "training in another tab".
 */
export async function watchRun(
	db: LabDb,
	runId: string,
	locks: LockManager | undefined = globalThis.navigator?.locks
): Promise<void> {
	if (watched.has(runId)) return;
	if (!locks) {
		await markIfStillLive(db, runId);
		return;
	}
	watched.add(runId);
	void locks
		.request(`${RUN_LOCK_PREFIX}${runId}`, () => markIfStillLive(db, runId))
		.catch(() => undefined)
		.finally(() => watched.delete(runId));
}

/** watchRun for every run that claims to be live (on page load). */
export async function watchLiveRuns(
	db: LabDb,
	locks: LockManager | undefined = globalThis.navigator?.locks
): Promise<void> {
	const live = await db.runs.where('status').anyOf(RUN_STATUSES.filter(isLive)).toArray();
	for (const run of live) await watchRun(db, run.id, locks);
}
