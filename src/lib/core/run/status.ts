// The run lifecycle (docs/specification.md §8) as a pure transition function. Nothing else writes a run's status.
//   pending → training → evaluating → completed
//   failures: training_failed, evaluation_failed; cancelled by the user;
//   interrupted: the trainer went away mid-run (page closed, Ctrl-C, killed) — resumable.

export type RunStatus =
	| 'pending'
	| 'training'
	| 'evaluating'
	| 'completed'
	| 'training_failed'
	| 'evaluation_failed'
	| 'cancelled'
	| 'interrupted';

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
	pending: { start: 'training', cancel: 'cancelled', training_error: 'training_failed' },
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
	interrupted: { resume: 'training', reevaluate: 'evaluating' }
};

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
