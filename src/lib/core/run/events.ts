// A run's events (run.json `events`): interruptions and resumes, and whether the lab resumes an
// interrupted run by itself when its page reloads or the lab reopens (docs/specification.md §9).

import type { Resumer, RunHistoryEvent, RunRecord } from './record';

/** The page training the run closed after `reached` steps. */
export const interruptedEvent = (reached: number): RunHistoryEvent => ({
	at: new Date().toISOString(),
	kind: 'interrupted',
	step: reached
});

/** Training continued from the checkpoint at `step` (0: from the start), by `by`. */
export const resumedEvent = (step: number, by: Resumer): RunHistoryEvent => ({
	at: new Date().toISOString(),
	kind: 'resumed',
	step,
	by
});

/** A run the lab resumed by itself from one checkpoint this often, each time closed again before the next, is left to the user. */
const AUTO_RESUMES_PER_CHECKPOINT = 3;

/**
 * Whether the lab resumes `run` by itself on opening: only a run interrupted by a closed page
 * (a paused, cancelled or failed run waits for the user), and not one that the lab already resumed
 * from the same checkpoint AUTO_RESUMES_PER_CHECKPOINT times (a page that crashes while training
 * it would otherwise reload into the crash for ever).
 */
export function autoResume(run: RunRecord): { resume: true; from: number } | { resume: false; why: string } {
	const events = run.events ?? [];
	if (run.status !== 'interrupted' || events.at(-1)?.kind !== 'interrupted')
		return { resume: false, why: 'it was not interrupted by a closed page' };
	const from = run.checkpoints.at(-1)?.step ?? 0;
	const tries = events.filter((e) => e.kind === 'resumed' && e.by === 'lab' && e.step === from).length;
	if (tries >= AUTO_RESUMES_PER_CHECKPOINT)
		return {
			resume: false,
			why: `the lab resumed it from step ${from} ${tries} times and each time the page closed before the next checkpoint: press Resume to try again`
		};
	return { resume: true, from };
}

/** The newest resume, with the interruption before it (what the run page says after a reload). */
export function lastResume(run: RunRecord): { resumed: RunHistoryEvent; interrupted: RunHistoryEvent | null } | null {
	const events = run.events ?? [];
	const i = events.findLastIndex((e) => e.kind === 'resumed');
	if (i < 0) return null;
	const before = events.slice(0, i).findLast((e) => e.kind === 'interrupted') ?? null;
	return { resumed: events[i], interrupted: before };
}
