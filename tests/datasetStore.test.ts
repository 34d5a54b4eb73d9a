// Imported datasets in IndexedDB (storage/datasets.ts): a file's valid lines imported alone on
// request, saying which were left out; renamed and deleted only while no run or experiment names
// them (those runs could no longer resume or evaluate).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { goldenV2 } from '../src/lib/core/data/golden';
import { canonicalJsonl, TraceFileError } from '../src/lib/core/data/traces';
import { newRunRecord } from '../src/lib/core/run/record';
import { LabDb, type StoredRun } from '../src/lib/storage/db';
import { deleteDataset, importDataset, renameDataset } from '../src/lib/storage/datasets';
import { smokeConfig } from './helpers';

let n = 0;
const freshDb = () => new LabDb(`datasets-${Date.now()}-${n++}`);
const two = canonicalJsonl(goldenV2().traces.slice(0, 2));

describe('imported datasets', () => {
	it('refuses a file with bad lines, or imports its valid lines alone when asked, naming those left out', async () => {
		const db = freshDb();
		const text = `${two}{broken\n\n${JSON.stringify({ prompt: 'p' })}\n`;
		const refused = await importDataset(db, 'mixed.jsonl', text).catch((e) => e);
		expect(refused).toBeInstanceOf(TraceFileError);
		expect((refused as TraceFileError).valid).toBe(2);
		expect(await db.datasets.count()).toBe(0);
		const stored = await importDataset(db, 'mixed.jsonl', text, true);
		expect(stored).toMatchObject({ outcome: 'new', leftOut: [3, 5], manifest: { key: 'mixed', count: 2 } });
		// a file with no valid line is refused either way
		await expect(importDataset(db, 'none.jsonl', '{broken\n', true)).rejects.toThrow(TraceFileError);
	});

	it('renames and deletes a dataset no run names, and refuses while one does', async () => {
		const db = freshDb();
		await importDataset(db, 'mine.jsonl', two);
		await expect(renameDataset(db, 'mine', 'Golden-V2')).rejects.toThrow(
			/built-in dataset golden-v2: choose another name/
		);
		expect(await renameDataset(db, 'mine', 'my traces')).toBe('my-traces');
		expect((await db.datasets.get('my-traces'))?.manifest.key).toBe('my-traces');
		const config = smokeConfig({ data: { dataset: 'my-traces' } });
		const run = { ...newRunRecord(config, (await db.datasets.get('my-traces'))!.manifest, []), name: 'uses it' };
		await db.runs.put(run as StoredRun);
		await expect(deleteDataset(db, 'my-traces')).rejects.toThrow(
			/my-traces cannot be deleted: a run or experiment names it \(uses it\) and could no longer be resumed or evaluated/
		);
		await expect(renameDataset(db, 'my-traces', 'other')).rejects.toThrow(/cannot be renamed/);
		await db.runs.delete(run.id);
		await deleteDataset(db, 'my-traces');
		expect(await db.datasets.count()).toBe(0);
		await expect(deleteDataset(db, 'golden-v2')).rejects.toThrow(/built in/);
	});
});
