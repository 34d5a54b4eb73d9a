// What every runtime does before it hands a run to the driver (docs/architecture.md "One run, two
// runtimes"): check the datasets against the run's record, and pick the checkpoint a resume
// continues from (a run that never started is failed by the driver's failUnstartedRun). The CLI and the worker only load bytes and call these.

import type { Checkpoint } from '../checkpoint/checkpoint';
import type { Dataset } from '../data/manifest';
import { newestReadableCheckpoint, type RunStorage } from './driver';
import type { RunRecord } from './record';

/**
 * A run's datasets as loaded now (training set first, then config.data.eval_datasets), each
 * checked to hash to the sha256 its record holds: a run continues or is evaluated only on the data
 * it used. Returns them unchanged.
 */
export function checkRunDatasets(run: RunRecord, loaded: Dataset[]): Dataset[] {
	loaded.forEach((d, i) => {
		const key = d.manifest.key;
		const then = i === 0 ? run.datasets.train : run.datasets.eval.find((m) => m.key === key);
		if (then && then.sha256 !== d.manifest.sha256)
			throw new Error(
				`dataset "${key}" is not the one this run used (sha256 ${then.sha256.slice(0, 12)}… then, ` +
					`${d.manifest.sha256.slice(0, 12)}… now): bring back the original data to continue or evaluate this run`
			);
	});
	return loaded;
}

/** Where a resume starts. */
export interface ResumePoint {
	/** The newest checkpoint that reads back whole; none: the run trains again from step 0. */
	resume: Checkpoint | undefined;
	/** Damaged checkpoints passed over, one sentence each ("checkpoint step 8 is damaged (…)"). */
	skipped: string[];
}

/**
 * The checkpoint a resume continues from: the newest readable one (damaged newer ones are skipped
 * and named). With none, the run starts over: its metrics and checkpoint list are emptied.
 */
export async function prepareResume(storage: RunStorage, run: RunRecord): Promise<ResumePoint> {
	const { checkpoint, skipped } = await newestReadableCheckpoint(storage);
	if (!checkpoint) {
		await storage.truncateMetrics(0);
		run.checkpoints = [];
	}
	return { resume: checkpoint ?? undefined, skipped };
}
