// Run management for the UI: rename, notes, delete (with everything that belongs to the run).

import { can } from '../core/run/status';
import type { LabDb } from './db';

export async function renameRun(db: LabDb, runId: string, name: string): Promise<void> {
	const clean = name.trim();
	if (!clean) throw new Error('a run name cannot be empty');
	await db.runs.update(runId, { name: clean });
}

export async function setRunNotes(db: LabDb, runId: string, notes: string): Promise<void> {
	await db.runs.update(runId, { notes });
}

/** Deletes the run, its metrics, evaluation, checkpoints and their chunks. */
export async function deleteRun(db: LabDb, runId: string): Promise<void> {
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
