// What the pages read from IndexedDB, each query once and each record checked against its schema
// (core/schema.ts): a damaged record comes back as damaged, with its problems, so a page shows it
// as such (with a way to delete it) instead of failing to render the whole list.

import * as v from 'valibot';
import { EvalJsonSchema, EvalLineSchema, type EvalJson, type EvalLine } from '../core/eval/evalJson';
import { RunRecordSchema } from '../core/run/record';
import { tryParse } from '../core/schema';
import { StepMetricsSchema, type StepMetrics } from '../core/train/metrics';
import type { LabDb, StoredDataset, StoredMetric, StoredRun } from './db';

/** A run as stored: run.json plus the user's notes. */
const StoredRunSchema = v.object({ ...RunRecordSchema.entries, notes: v.optional(v.string()) });

/** A stored run, checked: either the record, or what is wrong with it. */
export type RunEntry =
	| { ok: true; id: string; run: StoredRun }
	| {
			ok: false;
			id: string;
			/** The stored name when it is a string, else the id. */
			name: string;
			/** `key.path: problem` lines. */
			problems: string[];
	  };

/** Checks one stored run against the run.json schema. */
export function checkRun(stored: unknown): RunEntry {
	const id = String((stored as { id?: unknown })?.id ?? '(no id)');
	const result = tryParse(StoredRunSchema, stored);
	if (result.ok) return { ok: true, id, run: result.output as StoredRun };
	const name = (stored as { name?: unknown })?.name;
	return { ok: false, id, name: typeof name === 'string' && name.trim() ? name : id, problems: result.problems };
}

/** Every run, newest first, each checked. */
export async function listRuns(db: LabDb): Promise<RunEntry[]> {
	return (await db.runs.orderBy('created').reverse().toArray()).map(checkRun);
}

/** The run with this id, checked; null when there is none. */
export async function getRun(db: LabDb, runId: string): Promise<RunEntry | null> {
	const stored = await db.runs.get(runId);
	return stored ? checkRun(stored) : null;
}

/** Runs that can be generated from (sound, with at least one checkpoint), newest first. */
export async function runsWithCheckpoints(db: LabDb): Promise<StoredRun[]> {
	return (await listRuns(db)).flatMap((e) => (e.ok && e.run.checkpoints.length > 0 ? [e.run] : []));
}

/** Every metrics row of a run (training and evaluation lines), in step order. */
export function metricRows(db: LabDb, runId: string): Promise<StoredMetric[]> {
	return db.metrics.where('[runId+step]').between([runId, -Infinity], [runId, Infinity]).toArray();
}

/** A run's metrics in step order, training and evaluation lines; lines that fail their schema are counted, not shown. */
export async function runMetrics(
	db: LabDb,
	runId: string
): Promise<{ training: StepMetrics[]; evaluation: EvalLine[]; damaged: number }> {
	const out = { training: [] as StepMetrics[], evaluation: [] as EvalLine[], damaged: 0 };
	for (const row of await metricRows(db, runId)) {
		if (row.split === undefined && v.is(StepMetricsSchema, row.line)) out.training.push(row.line);
		else if (row.split !== undefined && v.is(EvalLineSchema, row.line)) out.evaluation.push(row.line);
		else out.damaged += 1;
	}
	return out;
}

/** The training lines of a run's metrics in step order; lines that fail their schema are counted, not shown. */
export async function trainingMetrics(db: LabDb, runId: string): Promise<{ lines: StepMetrics[]; damaged: number }> {
	const { training, damaged } = await runMetrics(db, runId);
	return { lines: training, damaged };
}

/** A run's eval.json: null when it has none, or what is wrong with the stored one. */
export async function evaluationOf(
	db: LabDb,
	runId: string
): Promise<{ ok: true; evalJson: EvalJson } | { ok: false; problems: string[] } | null> {
	const stored = await db.evaluations.get(runId);
	if (!stored) return null;
	const result = tryParse(EvalJsonSchema, stored.evalJson);
	return result.ok ? { ok: true, evalJson: result.output } : result;
}

/** The imported datasets, in key order. */
export function importedDatasets(db: LabDb): Promise<StoredDataset[]> {
	return db.datasets.toArray();
}

/** Keys of the imported datasets. */
export function importedDatasetKeys(db: LabDb): Promise<string[]> {
	return db.datasets.toCollection().primaryKeys();
}
