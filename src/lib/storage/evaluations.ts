// Read side of evaluations for the UI.

import { latestEvaluation, type LatestEvaluation } from '../core/eval/evalJson';
import type { LabDb } from './db';

/** getLatestEvaluation(runId): the newest evaluation summary of a run, or null when none exists. */
export async function getLatestEvaluation(db: LabDb, runId: string): Promise<LatestEvaluation | null> {
	const stored = await db.evaluations.get(runId);
	return stored ? latestEvaluation(stored.evalJson) : null;
}
