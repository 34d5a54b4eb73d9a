// After a reload (or when the lab reopens), a run that the closed page was training resumes by
// itself from its last checkpoint, as W&B and TensorBoard users expect (core/run/events.ts says
// which runs). The choice to turn it off is kept per browser; an experiment's runs are its
// queue's to resume.

import { autoResume } from '../core/run/events';
import { trainedBackend } from '../core/run/record';
import { labDb } from '../storage/db';
import { inExperiment } from '../storage/experiments';
import { getRun } from '../storage/queries';
import { setOnInterrupted } from '../storage/reconcile';
import { resumeRun } from '../worker/client';

const KEY = 'tunix-rt-lab:auto-resume';

/** Whether interrupted runs resume by themselves in this browser (on unless turned off). */
export function autoResumeOn(): boolean {
	return globalThis.localStorage?.getItem(KEY) !== 'off';
}

/** Turns automatic resuming on or off in this browser. */
export function setAutoResumeOn(on: boolean): void {
	globalThis.localStorage?.setItem(KEY, on ? 'on' : 'off');
}

/** Resumes `runId`, just marked interrupted by this page, when the lab should (see above). */
async function resumeIfDue(runId: string): Promise<void> {
	if (!autoResumeOn()) return;
	const db = labDb();
	const entry = await getRun(db, runId);
	if (!entry?.ok || !autoResume(entry.run).resume || (await inExperiment(db, runId))) return;
	await resumeRun(runId, trainedBackend(entry.run), 'lab');
}

/** Installs the above for every run this page finds cut off (the layout calls it once). */
export function startAutoResume(): void {
	setOnInterrupted((runId) => void resumeIfDue(runId).catch(() => undefined));
}
