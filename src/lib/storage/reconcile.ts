// On page load: a run found training or evaluating with no live trainer was cut off by a closed
// page. It becomes interrupted, resumable from its last checkpoint.
// "No live trainer" is decided by the run's Web Lock, held by whichever worker drives the run: this
// page queues a request for it, and when it is granted (at once, or once a dying page's worker has
// released it) while the run still says training, nobody is training it.

import { isLive, RUN_STATUSES, transition } from '../core/run/status';
import type { LabDb } from './db';

export const RUN_LOCK_PREFIX = 'tunix-rt-lab:run:';

async function markIfStillLive(db: LabDb, runId: string): Promise<boolean> {
	const run = await db.runs.get(runId);
	if (!run || !isLive(run.status)) return false;
	const last = run.checkpoints.at(-1)?.step;
	const error =
		run.status === 'pending'
			? 'the page closed before training started'
			: `the page was closed while ${run.status}; ${last ? `resume continues from step ${last}` : 'no checkpoint was written yet, so resume starts over'}`;
	await db.runs.update(run.id, {
		status: transition(run.status, run.status === 'pending' ? 'cancel' : 'interrupt'),
		error
	});
	return true;
}

/**
 * For every run that claims to be live, queues a request for its lock; whenever one is granted
 * while the run still claims to be live, it is marked interrupted (the UI follows via liveQuery).
 */
export async function watchLiveRuns(
	db: LabDb,
	locks: LockManager | undefined = globalThis.navigator?.locks
): Promise<void> {
	const live = await db.runs.where('status').anyOf(RUN_STATUSES.filter(isLive)).toArray();
	for (const run of live) {
		if (!locks) await markIfStillLive(db, run.id);
		else void locks.request(`${RUN_LOCK_PREFIX}${run.id}`, () => markIfStillLive(db, run.id)).catch(() => undefined);
	}
}
