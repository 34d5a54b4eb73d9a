// On page load: a run found training or evaluating with no live trainer (no Web Lock held for it in
// any tab) was cut off by a closed page. It becomes interrupted, resumable from its last checkpoint.

import { transition } from '../core/run/status';
import type { LabDb } from './db';

export const RUN_LOCK_PREFIX = 'tunix-rt-lab:run:';

export async function markInterruptedRuns(
	db: LabDb,
	locks: LockManager | undefined = globalThis.navigator?.locks
): Promise<string[]> {
	const live = await db.runs.where('status').anyOf('training', 'evaluating', 'pending').toArray();
	if (live.length === 0) return [];
	const held = new Set(((await locks?.query())?.held ?? []).map((l) => l.name));
	const marked: string[] = [];
	for (const run of live) {
		if (held.has(`${RUN_LOCK_PREFIX}${run.id}`)) continue;
		const status = run.status === 'pending' ? transition(run.status, 'cancel') : transition(run.status, 'interrupt');
		const last = run.checkpoints.at(-1)?.step;
		const error =
			run.status === 'pending'
				? 'the page closed before training started'
				: `the page was closed while ${run.status === 'training' ? 'training' : 'evaluating'}; ${last ? `resume continues from step ${last}` : 'no checkpoint was written yet, so resume starts over'}`;
		await db.runs.update(run.id, { status, error });
		marked.push(run.id);
	}
	return marked;
}
