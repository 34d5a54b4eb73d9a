import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { goldenV2, goldenV2Heldout } from '../src/lib/core/data/golden';
import { evaluateRun, trainRun, type TrainRunInput } from '../src/lib/core/run/driver';
import type { RunRecord } from '../src/lib/core/run/record';
import { CheckpointRepo } from '../src/lib/storage/checkpoints';
import { LabDb, type StoredRun } from '../src/lib/storage/db';
import { StorageFullError } from '../src/lib/core/run/storageFull';
import { afterRun, pointWork } from '../src/lib/core/experiment/experiment';
import { CorruptCheckpointError, isQuotaError, RunDeletedError } from '../src/lib/storage/errors';
import { renameRun, setRunNotes } from '../src/lib/storage/runs';
import { latestEvaluation } from '../src/lib/core/eval/evalJson';
import { IdbRunStorage } from '../src/lib/storage/runStorage';
import { backend, smokeConfig } from './helpers';

let n = 0;
const freshDb = () => new LabDb(`test-${Date.now()}-${n++}`);
const bytes = (len: number) => Uint8Array.from({ length: len }, (_, i) => (i * 31) % 251);

afterEach(() => vi.unstubAllGlobals());

describe('checkpoint commit protocol', () => {
	it('stores in checksummed chunks and reads back the same bytes', async () => {
		const repo = new CheckpointRepo(freshDb());
		const data = bytes(1000);
		const meta = await repo.write('r', 4, data, { chunkBytes: 300 });
		expect(meta.chunkCount).toBe(4);
		expect(meta.checksums).toHaveLength(4);
		expect(await repo.read('r', 4)).toEqual(data);
		expect((await repo.list('r')).map((c) => c.step)).toEqual([4]);
	});

	it('a write aborted after k of M chunks is invisible, and cleanup removes its chunks', async () => {
		const db = freshDb();
		const repo = new CheckpointRepo(db);
		await repo.write('r', 4, bytes(900), { chunkBytes: 300 });
		const crash = new Error('tab closed');
		await expect(
			repo.write('r', 8, bytes(1500), {
				chunkBytes: 300,
				beforeChunk: (k) => {
					if (k === 2) throw crash;
				}
			})
		).rejects.toBe(crash);
		expect((await repo.list('r')).map((c) => c.step)).toEqual([4]);
		await expect(repo.read('r', 8)).rejects.toThrow(/no checkpoint at step 8/);
		expect(await db.chunks.count()).toBe(3 + 2);
		expect(await repo.cleanup()).toBe(2);
		expect(await db.chunks.count()).toBe(3);
		expect(await repo.read('r', 4)).toEqual(bytes(900));
	});

	it('detects a checksum mismatch', async () => {
		const db = freshDb();
		const repo = new CheckpointRepo(db);
		await repo.write('r', 4, bytes(600), { chunkBytes: 300 });
		const chunk = (await db.chunks.get(['r', 4, 1]))!;
		chunk.data[7] ^= 0xff;
		await db.chunks.put(chunk);
		const err = await repo.read('r', 4).catch((e) => e);
		expect(err).toBeInstanceOf(CorruptCheckpointError);
		expect(err.message).toBe('checkpoint step 4 of run r is corrupt: chunk 1 does not match its checksum');
	});
});

describe('schema', () => {
	it('upgrades from version 1 to the current version and keeps the runs', async () => {
		const name = `upgrade-${Date.now()}`;
		const v1 = new Dexie(name);
		v1.version(1).stores({
			runs: 'id, created, status',
			metrics: '++id, runId, [runId+step]',
			checkpoints: '[runId+step], runId, committed',
			chunks: '[runId+step+index], [runId+step]'
		});
		await v1.table('runs').bulkPut([
			{ id: 'a', created: '2026-01-01', status: 'completed', name: 'old run' },
			{ id: 'b', created: '2026-01-02', status: 'interrupted', name: 'other' }
		]);
		v1.close();
		const v2 = new LabDb(name); // the current schema (v5)
		const runs = (await v2.runs.orderBy('created').toArray()) as StoredRun[];
		expect(runs.map((r) => [r.id, r.status, r.notes])).toEqual([
			['a', 'completed', ''],
			['b', 'interrupted', '']
		]);
		expect(v2.verno).toBe(5);
		expect(await v2.runs.where('name').equals('other').count()).toBe(1);
		expect(await v2.backendTimings.count()).toBe(0); // v3's table exists, empty
		expect(await v2.models.count()).toBe(0); // and v5's
	});
});

describe('storage full', () => {
	const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

	it('recognises quota errors, direct and wrapped by Dexie', () => {
		expect(isQuotaError(quota())).toBe(true);
		expect(isQuotaError(new Dexie.AbortError('Transaction aborted', quota()))).toBe(true);
		expect(isQuotaError(new Dexie.OpenFailedError('open failed', quota()))).toBe(true);
		expect(isQuotaError(new Dexie.AbortError('Transaction aborted', new Error('other')))).toBe(false);
	});

	for (const [what, make] of [
		['direct', quota],
		['wrapped in AbortError', () => new Dexie.AbortError('Transaction aborted', quota())],
		['wrapped in OpenFailedError', () => new Dexie.OpenFailedError('open failed', quota())]
	] as const) {
		it(`a checkpoint write that hits the quota (${what}) says how full storage is, and earlier checkpoints survive`, async () => {
			vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 52_400_000, quota: 52_428_800 }) } });
			const db = freshDb();
			const repo = new CheckpointRepo(db);
			await repo.write('r', 4, bytes(600), { chunkBytes: 300 });
			vi.spyOn(db.chunks, 'put').mockRejectedValueOnce(make());
			const err = await repo.write('r', 8, bytes(600), { chunkBytes: 300 }).catch((e) => e);
			expect(err).toBeInstanceOf(StorageFullError);
			expect(err.message).toMatch(/^Storage full: 52\.4 MB used of 52\.4 MB\. Delete old runs/);
			expect(await repo.read('r', 4)).toEqual(bytes(600));
			expect((await repo.list('r')).map((c) => c.step)).toEqual([4]);
		});
	}

	it('ends the run as training_failed with the message, keeping committed checkpoints', async () => {
		await backend('cpu');
		vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 9_000_000, quota: 10_000_000 }) } });
		const db = freshDb();
		const run = newRun('quota-run');
		const storage = new IdbRunStorage(db, run.id);
		await storage.createRun(run);
		const realPut = db.chunks.put.bind(db.chunks);
		let puts = 0;
		vi.spyOn(db.chunks, 'put').mockImplementation((...args) =>
			++puts > 1
				? (Dexie.Promise.reject(new Dexie.AbortError('Transaction aborted', quota())) as ReturnType<typeof realPut>)
				: realPut(...args)
		);
		const err = await trainStored(storage, run).catch((e) => e);
		expect(err).toBeInstanceOf(StorageFullError);
		const stored = (await db.runs.get(run.id))!;
		expect(stored.status).toBe('training_failed');
		expect(stored.error).toBe(
			'Storage full: 9.0 MB used of 10.0 MB. Delete old runs or checkpoints (or lower checkpoint.keep_last), then resume.'
		);
		expect(await storage.checkpointSteps()).toEqual([4]);
		// the experiment queue acts on the kind: it pauses with the reason and continues this run later
		expect(stored.error_kind).toBe('storage-full');
		expect(afterRun(stored, false)).toEqual({
			resume: true,
			pause: expect.stringMatching(/^Storage full: 9\.0 MB used .* Continue the queue once there is room\.$/)
		});
		expect(pointWork({ name: 'p', values: {}, arm: 'a', run_id: stored.id, error: null, resume: true }, stored)).toBe(
			'resume'
		);
	});
});

/** trainRun of a stored run on golden-v2, with its own config and provenance; `over` adds the rest. */
function trainStored(storage: IdbRunStorage, run: RunRecord, over: Partial<TrainRunInput> = {}) {
	const base = { storage, run, config: run.config, dataset: goldenV2(), evalDatasets: [], provenance: run.provenance };
	return trainRun({ ...base, ...over });
}

function newRun(id: string): RunRecord {
	const config = smokeConfig();
	return {
		id,
		name: config.run.name,
		status: 'pending',
		error: null,
		error_kind: null,
		created: new Date().toISOString(),
		started: null,
		finished: null,
		config,
		datasets: { train: goldenV2().manifest, eval: [goldenV2Heldout().manifest] },
		provenance: {
			backend: 'cpu',
			backend_notes: [],
			adapter: null,
			tfjs_version: '4.22.0',
			app_version: 'test',
			runtime: 'node'
		},
		checkpoints: [],
		summary: { initial_loss: null, final_loss: null, steps_done: 0 }
	};
}

/** The newest evaluation summary stored for a run, or null. */
async function getLatestEvaluation(db: LabDb, runId: string) {
	const stored = await db.evaluations.get(runId);
	return stored ? latestEvaluation(stored.evalJson) : null;
}

describe('a run stored in IndexedDB', () => {
	it('trains, evaluates and is readable through getLatestEvaluation', async () => {
		await backend('cpu');
		const db = freshDb();
		const run = newRun('idb-run');
		const storage = new IdbRunStorage(db, run.id);
		await storage.createRun(run);
		const outcome = await trainStored(storage, run, {
			evalDatasets: [goldenV2Heldout()],
			flushIntervalMs: 0
		});
		expect(outcome.ended).toBe('completed');
		const stored = (await db.runs.get(run.id))!;
		expect(stored.status).toBe('completed');
		expect(stored.checkpoints.map((c) => c.step)).toEqual([4, 8]);
		expect((await storage.readMetrics()).map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		expect(
			await db.metrics
				.where('runId')
				.equals(run.id)
				.filter((m) => m.split !== undefined)
				.count()
		).toBe(6);
		const latest = await getLatestEvaluation(db, run.id);
		expect(latest!.step).toBe(8);
		expect(Object.keys(latest!.datasets)).toEqual(['golden-v2', 'golden-v2-heldout']);
		expect(latest!.baseline!['golden-v2'].step).toBe(0);
		expect(await getLatestEvaluation(db, 'nope')).toBeNull();
	});
});

describe('evaluating an unfinished run', () => {
	it('scores its checkpoints and leaves it resumable (never completed); with none it stays as it was', async () => {
		await backend('cpu');
		const db = freshDb();
		const run = newRun('cut-short');
		const storage = new IdbRunStorage(db, run.id);
		await storage.createRun(run);
		let steps = 0;
		const outcome = await trainStored(storage, run, {
			evalDatasets: [goldenV2Heldout()],
			hooks: { onStep: () => void (steps += 1), shouldStop: () => (steps >= 5 ? 'interrupt' : null) }
		});
		expect(outcome.ended).toBe('interrupted');
		const datasets = [goldenV2(), goldenV2Heldout()];
		const evalJson = await evaluateRun({ storage, run, datasets });
		expect(evalJson.history.map((h) => h.step)).toEqual([0, 4, 5]); // a stop writes a checkpoint
		const stored = (await db.runs.get(run.id))!;
		expect(stored.status).toBe('interrupted');
		expect(stored.finished).toBeNull();
		expect(stored.summary.final_scores?.['golden-v2'].n).toBeGreaterThan(0);

		const empty = newRun('no-checkpoints');
		empty.status = 'cancelled';
		const emptyStorage = new IdbRunStorage(db, empty.id);
		await emptyStorage.createRun(empty);
		await expect(evaluateRun({ storage: emptyStorage, run: empty, datasets })).rejects.toThrow(
			'evaluation failed: the run has no stored checkpoints to evaluate. The run is unchanged (cancelled); resume it to train on'
		);
		expect((await db.runs.get(empty.id))!.status).toBe('cancelled');
	});
});

/** What deleteRun removes, without its checks (a delete whose status check raced a resume). */
function removeEverything(db: LabDb, runId: string) {
	return db.transaction('rw', [db.runs, db.metrics, db.evaluations, db.checkpoints, db.chunks], async () => {
		await db.checkpoints.where('runId').equals(runId).delete();
		await db.chunks.where('[runId+step]').between([runId, -Infinity], [runId, Infinity]).delete();
		await db.metrics.where('runId').equals(runId).delete();
		await db.runs.delete(runId);
	});
}

describe('checkpoint commits and other tabs (issue: nothing lost)', () => {
	const shortRun = (id: string) => {
		const run = newRun(id);
		run.config = { ...run.config, checkpoint: { every_steps: 2, keep_last: 2 } };
		return run;
	};

	it('a checkpoint, its metrics, the record that lists it and the pruning appear together or not at all', async () => {
		await backend('cpu');
		const db = freshDb();
		const run = shortRun('one-unit');
		const storage = new IdbRunStorage(db, run.id);
		await storage.createRun(run);
		const realUpdate = db.runs.update.bind(db.runs);
		let failed = false;
		// the tab dies inside the commit of step 8: the transaction aborts
		vi.spyOn(db.runs, 'update').mockImplementation(((key: string, changes: Partial<RunRecord>) => {
			if (!failed && changes.checkpoints?.some((c) => c.step === 8)) {
				failed = true;
				return Dexie.Promise.reject(new Error('tab closed'));
			}
			return realUpdate(key, changes);
		}) as typeof db.runs.update);
		const consistent: boolean[] = [];
		const err = await trainStored(storage, run, {
			hooks: {
				// after every commit: the stored record, checkpoints and metrics agree
				onRun: () =>
					void (async () => {
						const stored = (await db.runs.get(run.id))!;
						const steps = (await new CheckpointRepo(db).list(run.id)).map((c) => c.step);
						const metricSteps = (await storage.readMetrics()).map((m) => m.step);
						consistent.push(
							JSON.stringify(stored.checkpoints.map((c) => c.step)) === JSON.stringify(steps) &&
								metricSteps.length >= (steps.at(-1) ?? 0)
						);
					})()
			}
		}).catch((e) => e);
		expect(err).toBeInstanceOf(Error);
		expect(err.message).toBe('tab closed');
		const stored = (await db.runs.get(run.id))!;
		expect(stored.status).toBe('training_failed');
		expect((await new CheckpointRepo(db).list(run.id)).map((c) => c.step)).toEqual([4, 6]);
		expect(stored.checkpoints.map((c) => c.step)).toEqual([4, 6]); // "Resume from step 6" is true
		expect((await storage.readMetrics()).map((m) => m.step).slice(0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
		expect(await db.checkpoints.where({ runId: run.id, step: 8 }).count()).toBe(0);
		expect(await new CheckpointRepo(db).cleanup()).toBeGreaterThan(0); // step 8's chunks were orphans
		expect(consistent.length).toBeGreaterThan(0);
		expect(consistent.every(Boolean)).toBe(true);
	});

	it('a rename in another tab survives the trainer; a run deleted while it trains does not come back', async () => {
		await backend('cpu');
		const db = freshDb();
		const created = shortRun('renamed');
		await new IdbRunStorage(db, created.id).createRun(created);
		const run = (await db.runs.get(created.id))!; // as a job reads it: with the user's notes
		const storage = new IdbRunStorage(db, run.id);
		await trainStored(storage, run, {
			hooks: {
				onStep: (m) =>
					void (m.step === 3 && Promise.all([renameRun(db, run.id, 'my name'), setRunNotes(db, run.id, 'my notes')]))
			}
		});
		expect((await db.runs.get(run.id))!.name).toBe('my name');
		expect((await db.runs.get(run.id))!.notes).toBe('my notes');
		expect((await db.runs.get(run.id))!.status).toBe('completed');

		const doomed = shortRun('deleted');
		const doomedStorage = new IdbRunStorage(db, doomed.id);
		await doomedStorage.createRun(doomed);
		// another tab's delete lands mid-run (its status check saw a run that was not training yet)
		const err = await trainStored(doomedStorage, doomed, {
			flushIntervalMs: 0,
			hooks: { onStep: (m) => void (m.step === 3 && removeEverything(db, doomed.id)) }
		}).catch((e) => e);
		expect(err).toBeInstanceOf(RunDeletedError);
		expect(await db.runs.get(doomed.id)).toBeUndefined();
		expect(await new CheckpointRepo(db).list(doomed.id)).toEqual([]);
		expect(await db.metrics.where('runId').equals(doomed.id).count()).toBe(0);
	});
});
