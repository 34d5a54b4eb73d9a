import { describe, expect, it } from 'vitest';
import { InvalidTransitionError, transition, type RunEvent, type RunStatus } from '../src/lib/core/run/status';

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
});
