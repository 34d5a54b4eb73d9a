import { describe, expect, it } from 'vitest';
import {
	can,
	canEvaluate,
	InvalidTransitionError,
	isLive,
	isTerminal,
	RUN_STATUSES,
	transition,
	type RunEvent,
	type RunStatus
} from '../src/lib/core/run/status';

describe('run lifecycle', () => {
	it('goes pending → training → evaluating → completed', () => {
		let s: RunStatus = 'pending';
		for (const e of ['start', 'training_done', 'evaluation_done'] as RunEvent[]) s = transition(s, e);
		expect(s).toBe('completed');
	});

	it('keeps failures apart and lets them be retried the right way', () => {
		expect(transition('training', 'training_error')).toBe('training_failed');
		expect(transition('evaluating', 'evaluation_error')).toBe('evaluation_failed');
		expect(transition('evaluation_failed', 'reevaluate')).toBe('evaluating');
		expect(transition('training_failed', 'resume')).toBe('training');
		expect(transition('training', 'interrupt')).toBe('interrupted');
		expect(transition('interrupted', 'resume')).toBe('training');
		expect(transition('training', 'cancel')).toBe('cancelled');
		expect(transition('completed', 'reevaluate')).toBe('evaluating');
	});

	it('refuses transitions that make no sense, saying what is allowed', () => {
		expect(() => transition('completed', 'start')).toThrow(InvalidTransitionError);
		expect(() => transition('completed', 'resume')).toThrow(
			'a run that is completed cannot take "resume" (allowed: reevaluate)'
		);
		expect(() => transition('evaluation_failed', 'resume')).toThrow(/allowed: reevaluate/);
		expect(() => transition('pending', 'evaluation_done')).toThrow(InvalidTransitionError);
	});

	it("answers every layer's question from the one table", () => {
		expect(RUN_STATUSES.filter(isLive)).toEqual(['pending', 'training', 'evaluating']);
		expect(RUN_STATUSES.filter(isTerminal)).toEqual(['completed', 'training_failed', 'evaluation_failed', 'cancelled']);
		expect(RUN_STATUSES.filter((s) => can(s, 'resume'))).toEqual(['training_failed', 'cancelled', 'interrupted']);
		// an interrupted run is evaluated as it stands, not moved to evaluating → completed
		expect(can('interrupted', 'reevaluate')).toBe(false);
		expect(RUN_STATUSES.filter(canEvaluate)).toEqual([
			'completed',
			'training_failed',
			'evaluation_failed',
			'cancelled',
			'interrupted'
		]);
		// every state that is not live keeps a way forward
		for (const s of RUN_STATUSES.filter((s) => !isLive(s)))
			expect(can(s, 'resume') || can(s, 'reevaluate'), s).toBe(true);
	});
});
