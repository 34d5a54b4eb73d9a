// One number per fact about a run's steps, the same on every page: what it trained (the newest
// logged step, or where its page closed), what is saved (its newest checkpoint), of how many.

import type { RunRecord } from './record';
import { isLive } from './status';

export interface StepFacts {
	/** Steps trained: the newest logged step, the step its page closed at, or the steps done. */
	trained: number;
	/** The newest checkpoint's step (0: none yet): where Resume continues from. */
	saved: number;
	/** The config's train.steps. */
	total: number;
}

/** The run's step facts; `lastLogged`: its newest training line's step, when the caller has it. */
export function stepFacts(run: RunRecord, lastLogged = 0): StepFacts {
	// where its page closed counts until it is resumed (its metrics are then cut back to the checkpoint)
	const last = run.events?.at(-1);
	const closedAt = last?.kind === 'interrupted' ? last.step : 0;
	return {
		trained: Math.max(run.summary.steps_done, lastLogged, closedAt),
		saved: run.checkpoints.at(-1)?.step ?? 0,
		total: run.config.train.steps
	};
}

/** "714 / 2000 (saved at 500)" for a stopped run trained past its checkpoint, else "2000 / 2000". */
export function stepsText(run: RunRecord, lastLogged = 0): string {
	const f = stepFacts(run, lastLogged);
	const unsaved = !isLive(run.status) && run.status !== 'completed' && f.trained > f.saved;
	return `${f.trained} / ${f.total}${unsaved ? ` (saved at ${f.saved})` : ''}`;
}
