// The run lifecycle (docs/specification.md §8) as a pure transition function and the predicates
// every layer asks of a status. Nothing else writes a run's status or lists its states.
//   pending → training → evaluating → completed
//   failures: training_failed, evaluation_failed; cancelled by the user;
//   interrupted: the trainer went away mid-run (page closed, Ctrl-C, killed) — resumable.

/** Every run status, in lifecycle order. */
export const RUN_STATUSES = [
	'pending',
	'training',
	'evaluating',
	'completed',
	'training_failed',
	'evaluation_failed',
	'cancelled',
	'interrupted'
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export type RunEvent =
	| 'start' // the trainer begins
	| 'training_done' // the last step and its checkpoint are written
	| 'evaluation_done'
	| 'training_error'
	| 'evaluation_error'
	| 'cancel' // the user stopped the run
	| 'interrupt' // the trainer went away without finishing
	| 'resume' // continue training from the last checkpoint
	| 'reevaluate'; // evaluate the checkpoints again

const TABLE: Record<RunStatus, Partial<Record<RunEvent, RunStatus>>> = {
	// interrupt: a bundle zipped before its trainer started (the run trains from step 0 on resume)
	pending: { start: 'training', cancel: 'cancelled', training_error: 'training_failed', interrupt: 'interrupted' },
	training: {
		training_done: 'evaluating',
		training_error: 'training_failed',
		cancel: 'cancelled',
		interrupt: 'interrupted'
	},
	evaluating: {
		evaluation_done: 'completed',
		evaluation_error: 'evaluation_failed',
		cancel: 'cancelled',
		interrupt: 'interrupted'
	},
	completed: { reevaluate: 'evaluating' },
	training_failed: { resume: 'training' },
	evaluation_failed: { reevaluate: 'evaluating' },
	cancelled: { resume: 'training' },
	// an unfinished run's checkpoints can be evaluated without a status change (canEvaluate)
	interrupted: { resume: 'training' }
};

/** Whether a run in `status` may take `event`. */
export function can(status: RunStatus, event: RunEvent): boolean {
	return TABLE[status]?.[event] !== undefined;
}

/** A trainer is (or should be) working on the run: it is not to be deleted or started twice. */
export function isLive(status: RunStatus): boolean {
	return status === 'pending' || status === 'training' || status === 'evaluating';
}

/** The run has ended for good or for now, with its `finished` time set: completed, failed or cancelled. */
export function isTerminal(status: RunStatus): boolean {
	return (
		status === 'completed' || status === 'training_failed' || status === 'evaluation_failed' || status === 'cancelled'
	);
}

/** Training ran to its last step (it may still be evaluating, or its evaluation failed). */
export function trainingFinished(status: RunStatus): boolean {
	return status === 'evaluating' || status === 'completed' || status === 'evaluation_failed';
}

/**
 * Whether the checkpoints may be evaluated now. A run whose training finished is re-evaluated
 * (its status moves through evaluating); an unfinished one (interrupted, cancelled, failed) is
 * evaluated as it stands and stays resumable, never claiming that training completed.
 */
export function canEvaluate(status: RunStatus): boolean {
	return can(status, 'reevaluate') || can(status, 'resume');
}

export class InvalidTransitionError extends Error {
	constructor(
		readonly from: RunStatus,
		readonly event: RunEvent
	) {
		const allowed = Object.keys(TABLE[from]).join(', ') || 'none';
		super(`a run that is ${from} cannot take "${event}" (allowed: ${allowed})`);
		this.name = 'InvalidTransitionError';
	}
}

export function transition(from: RunStatus, event: RunEvent): RunStatus {
	const to = TABLE[from]?.[event];
	if (!to) throw new InvalidTransitionError(from, event);
	return to;
}
