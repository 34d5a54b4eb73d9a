// A run's events and the lab's own resume after a reload (core/run/events.ts, storage/reconcile.ts):
// a closed page's run is marked interrupted with the step it reached, the lab resumes only runs a
// closed page cut off, and gives up after resuming from one checkpoint three times.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { goldenV2 } from '../src/lib/core/data/golden';
import { autoResume, interruptedEvent, lastResume, resumedEvent } from '../src/lib/core/run/events';
import { newRunRecord, type RunRecord } from '../src/lib/core/run/record';
import { stepFacts, stepsText } from '../src/lib/core/run/steps';
import { LabDb, type StoredRun } from '../src/lib/storage/db';
import { setOnInterrupted, watchRun } from '../src/lib/storage/reconcile';
import { smokeConfig } from './helpers';

const aRun = (patch: Partial<RunRecord>): RunRecord => ({
	...newRunRecord(smokeConfig(), goldenV2().manifest, []),
	...patch
});
const checkpoint = (step: number) => ({
	step,
	file: `checkpoint-step${step}.safetensors`,
	bytes: 1,
	created: '2026-12-05T00:00:00Z'
});

describe('the lab resuming a run by itself', () => {
	it('resumes a run a closed page interrupted, from its newest checkpoint', () => {
		const run = aRun({
			status: 'interrupted',
			checkpoints: [checkpoint(5), checkpoint(10)],
			events: [interruptedEvent(12)]
		});
		expect(autoResume(run)).toEqual({ resume: true, from: 10 });
	});

	it('leaves a cancelled, failed or paused run, and one from before events, to the user', () => {
		for (const status of ['cancelled', 'training_failed', 'completed'] as const)
			expect(autoResume(aRun({ status, events: [interruptedEvent(3)] })).resume).toBe(false);
		expect(autoResume(aRun({ status: 'interrupted' })).resume).toBe(false);
		// resumed by the user since it was interrupted, then cancelled: not the lab's to resume
		const run = aRun({ status: 'interrupted', events: [interruptedEvent(3), resumedEvent(0, 'user')] });
		expect(autoResume(run).resume).toBe(false);
	});

	it('gives up after resuming from one checkpoint three times, each closed before the next checkpoint', () => {
		const events = [interruptedEvent(7)];
		for (let i = 0; i < 2; i++) events.push(resumedEvent(5, 'lab'), interruptedEvent(7));
		const run = aRun({ status: 'interrupted', checkpoints: [checkpoint(5)], events });
		expect(autoResume(run)).toEqual({ resume: true, from: 5 });
		events.push(resumedEvent(5, 'lab'), interruptedEvent(8));
		const refused = autoResume({ ...run, events });
		expect(refused.resume).toBe(false);
		if (!refused.resume) expect(refused.why).toMatch(/resumed it from step 5 3 times.*press Resume/);
		// a newer checkpoint counts afresh
		expect(autoResume({ ...run, events, checkpoints: [checkpoint(5), checkpoint(10)] })).toEqual({
			resume: true,
			from: 10
		});
	});

	it('says what the newest resume continued from and where the page closed', () => {
		const run = aRun({ events: [interruptedEvent(9), resumedEvent(5, 'lab')] });
		expect(lastResume(run)).toMatchObject({ resumed: { step: 5, by: 'lab' }, interrupted: { step: 9 } });
		expect(lastResume(aRun({}))).toBeNull();
	});
});

describe('a run cut off by a closed page', () => {
	it('is marked interrupted with the step it reached, and handed to the lab to resume', async () => {
		const db = new LabDb(`events-${Date.now()}`);
		const run = aRun({ id: 'cut-off', status: 'training', checkpoints: [checkpoint(5)] });
		await db.runs.put(run as StoredRun);
		for (const step of [1, 2, 3, 4, 5, 6, 7]) await db.metrics.put({ runId: run.id, step, loss: 3, lr: 1e-3 } as never);
		await db.metrics.put({ runId: run.id, step: 5, split: 'golden-v2', loss: 2 } as never);
		const handed: string[] = [];
		setOnInterrupted((id) => handed.push(id));
		await watchRun(db, run.id, undefined);
		const stored = (await db.runs.get(run.id))!;
		expect(stored.status).toBe('interrupted');
		expect(stored.events).toEqual([expect.objectContaining({ kind: 'interrupted', step: 7 })]);
		expect(handed).toEqual([run.id]);
		// a pending run is cancelled instead, and nobody resumes it
		await db.runs.put(aRun({ id: 'never-started', status: 'pending' }) as StoredRun);
		await watchRun(db, 'never-started', undefined);
		expect((await db.runs.get('never-started'))!.status).toBe('cancelled');
		expect(handed).toEqual([run.id]);
	});
});

describe('one number per fact about a run’s steps', () => {
	it('says what was trained, what is saved, of how many, the same for every page', () => {
		const run = aRun({
			status: 'interrupted',
			checkpoints: [checkpoint(500)],
			events: [interruptedEvent(714)],
			summary: { ...aRun({}).summary, steps_done: 500 }
		});
		expect(stepFacts(run)).toEqual({ trained: 714, saved: 500, total: run.config.train.steps });
		expect(stepsText(run)).toBe(`714 / ${run.config.train.steps} (saved at 500)`);
		// resumed since: its metrics were cut back to the checkpoint, so the closed page's step no longer counts
		const resumed = { ...run, status: 'cancelled' as const, events: [interruptedEvent(714), resumedEvent(500, 'lab')] };
		expect(stepFacts(resumed, 600)).toEqual({ trained: 600, saved: 500, total: run.config.train.steps });
		// a finished run, or one at its checkpoint, says its steps once
		const done = { ...run, status: 'completed' as const, events: [] };
		expect(stepsText(done)).toBe(`500 / ${run.config.train.steps}`);
	});
});
