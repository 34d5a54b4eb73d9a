// Run management for the UI: rename, notes, delete (with everything that belongs to the run).

import { can } from '../core/run/status';
import type { LabDb } from './db';
import { RUN_LOCK_PREFIX } from './reconcile';

/** Longest run name accepted (a longer one would only widen every table it appears in). */
export const MAX_RUN_NAME = 200;

/** Sets the name, and only the name: the trainer never writes it (IdbRunStorage.saveRun). */
export async function renameRun(db: LabDb, runId: string, name: string): Promise<void> {
	const clean = name.trim();
	if (!clean) throw new Error('a run name cannot be empty or only spaces');
	if ([...clean].length > MAX_RUN_NAME) throw new Error(`a run name is at most ${MAX_RUN_NAME} characters`);
	if ((await db.runs.update(runId, { name: clean })) === 0) throw new Error(`run ${runId} no longer exists`);
}

export async function setRunNotes(db: LabDb, runId: string, notes: string): Promise<void> {
	await db.runs.update(runId, { notes });
}

/**
 * Deletes the run, its metrics, evaluation, checkpoints and their chunks, holding the run's Web Lock
 * (the one a trainer holds): a run that a tab trains or evaluates, or is about to, is refused.
 */
export async function deleteRun(db: LabDb, runId: string): Promise<void> {
	const locks = globalThis.navigator?.locks;
	if (!locks) return removeRun(db, runId);
	await locks.request(`${RUN_LOCK_PREFIX}${runId}`, { ifAvailable: true }, async (lock) => {
		if (!lock) throw new Error('the run is being trained or evaluated in a tab: cancel it there first, then delete it');
		await removeRun(db, runId);
	});
}

async function removeRun(db: LabDb, runId: string): Promise<void> {
	const run = await db.runs.get(runId);
	// a trainer is mid-run (one that may be interrupted)
	if (run && can(run.status, 'interrupt')) throw new Error('cancel the run before deleting it');
	await db.transaction('rw', [db.runs, db.metrics, db.evaluations, db.checkpoints, db.chunks], async () => {
		await db.checkpoints.where('runId').equals(runId).delete();
		await db.chunks.where('[runId+step]').between([runId, -Infinity], [runId, Infinity]).delete();
		await db.metrics.where('runId').equals(runId).delete();
		await db.evaluations.delete(runId);
		await db.runs.delete(runId);
	});
}
