// Downloads and imports (docs/specification.md §9): run.json, metrics.jsonl, eval.json, checkpoints and a run bundle
// (zip). Bytes are the same as the CLI's; a zipped CLI run directory imports as a run.

import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { decodeCheckpoint } from '../core/checkpoint/checkpoint';
import {
	checkpointFileName,
	evalJsonText,
	metricsJsonlText,
	parseMetricsJsonl,
	runJsonText
} from '../core/run/artifacts';
import { EvalJsonSchema } from '../core/eval/evalJson';
import { RunRecordSchema, type RunRecord } from '../core/run/record';
import { checked } from '../core/schema';
import { can, transition } from '../core/run/status';
import { CheckpointRepo } from './checkpoints';
import type { LabDb } from './db';
import { metricRows } from './queries';

export interface RunFiles {
	'run.json': string;
	'metrics.jsonl': string;
	'eval.json'?: string;
}

export async function exportRunFiles(db: LabDb, runId: string): Promise<RunFiles> {
	const run = await db.runs.get(runId);
	if (!run) throw new Error(`run ${runId} does not exist`);
	const rows = await metricRows(db, runId);
	const training = rows.filter((r) => r.split === undefined).map((r) => r.line);
	const evaluation = rows.filter((r) => r.split !== undefined).map((r) => r.line);
	const stored = await db.evaluations.get(runId);
	const files: RunFiles = { 'run.json': runJsonText(run), 'metrics.jsonl': metricsJsonlText(training, evaluation) };
	if (stored) files['eval.json'] = evalJsonText(stored.evalJson);
	return files;
}

export function exportCheckpoint(db: LabDb, runId: string, step: number): Promise<Uint8Array> {
	return new CheckpointRepo(db).read(runId, step);
}

/**
 * A zip of the run's files and every stored checkpoint, in a folder named after the run. A
 * checkpoint that cannot be read (damaged in storage) is left out and named in EXPORT-NOTES.txt,
 * so one bad checkpoint never costs the rest.
 */
export async function exportBundle(db: LabDb, runId: string): Promise<Uint8Array> {
	const files = await exportRunFiles(db, runId);
	const entries: Record<string, Uint8Array> = {};
	for (const [name, text] of Object.entries(files)) entries[`${runId}/${name}`] = strToU8(text);
	const repo = new CheckpointRepo(db);
	const left: string[] = [];
	for (const c of await repo.list(runId)) {
		try {
			entries[`${runId}/${checkpointFileName(c.step)}`] = await repo.read(runId, c.step);
		} catch (err) {
			left.push(`${checkpointFileName(c.step)} was left out: ${(err as Error).message}`);
		}
	}
	if (left.length > 0) entries[`${runId}/EXPORT-NOTES.txt`] = strToU8(left.join('\n') + '\n');
	return zipSync(entries, { level: 0 });
}

/** The files a bundle may hold (in one folder, or at its top); anything else is skipped unread. */
const BUNDLE_ENTRY = /(^|\/)(run\.json|metrics\.jsonl|eval\.json|checkpoint-step\d+\.safetensors)$/;
/** Limits on what an import inflates, checked from the zip's directory before inflating anything. */
export const BUNDLE_LIMITS = {
	/** All entries together, inflated. */
	totalBytes: 1024 * 2 ** 20,
	/** run.json, eval.json, metrics.jsonl each. */
	textBytes: 128 * 2 ** 20,
	/** Inflated / compressed size above which an entry is a zip bomb, not a run (JSON compresses about 10×). */
	ratio: 200
};

/** The bundle's entries, inflated only when they are bundle files within the limits. */
function unzipBundle(zip: Uint8Array, fileName: string): Record<string, Uint8Array> {
	const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
	let total = 0;
	let refusal: string | null = null;
	let files: Record<string, Uint8Array>;
	try {
		files = unzipSync(zip, {
			filter: (f) => {
				if (refusal || !BUNDLE_ENTRY.test(f.name)) return false;
				total += f.originalSize;
				const text = !f.name.endsWith('.safetensors');
				if (total > BUNDLE_LIMITS.totalBytes) refusal = `it inflates to more than ${mb(BUNDLE_LIMITS.totalBytes)}`;
				else if (text && f.originalSize > BUNDLE_LIMITS.textBytes)
					refusal = `${f.name} inflates to ${mb(f.originalSize)} (at most ${mb(BUNDLE_LIMITS.textBytes)})`;
				else if (f.originalSize > 2 ** 20 && f.originalSize / Math.max(1, f.size) > BUNDLE_LIMITS.ratio)
					refusal = `${f.name} inflates ${Math.round(f.originalSize / f.size)}× (a run bundle's files inflate far less)`;
				return refusal === null;
			}
		});
	} catch (err) {
		throw new Error(`${fileName}: not a zip file (${(err as Error).message})`, { cause: err });
	}
	if (refusal) throw new Error(`${fileName}: refused without inflating it: ${refusal}`);
	return files;
}

/** Imports a bundle (ours, or a zipped CLI run directory) as a run; returns its id. */
export async function importBundle(db: LabDb, zip: Uint8Array, fileName: string): Promise<string> {
	const files = unzipBundle(zip, fileName);
	const runPath = Object.keys(files).find((p) => p === 'run.json' || p.endsWith('/run.json'));
	if (!runPath)
		throw new Error(`${fileName}: no run.json inside: a run bundle holds run.json, metrics.jsonl and checkpoints`);
	const prefix = runPath.slice(0, -'run.json'.length);
	const text = (name: string) => (files[prefix + name] ? strFromU8(files[prefix + name]) : null);
	const json = (name: string) => {
		try {
			return JSON.parse(text(name)!);
		} catch (err) {
			throw new Error(`${fileName}: ${prefix}${name} is not valid JSON`, { cause: err });
		}
	};
	// everything is checked before anything is stored
	const run: RunRecord = checked(RunRecordSchema, json('run.json'), `${fileName}: ${prefix}run.json`);
	const existing = await db.runs.get(run.id);
	if (existing)
		throw new Error(
			`${fileName}: run ${run.id} ("${existing.name}") is already in this browser; nothing was imported. ` +
				'Delete it on the Runs page first to import this copy.'
		);
	const metrics = parseMetricsJsonl(text('metrics.jsonl') ?? '', `${fileName}: ${prefix}metrics.jsonl`);
	const evalJson =
		text('eval.json') === null ? null : checked(EvalJsonSchema, json('eval.json'), `${fileName}: ${prefix}eval.json`);
	const checkpoints = Object.keys(files)
		.map((p) => (p.startsWith(prefix) ? /^checkpoint-step(\d+)\.safetensors$/.exec(p.slice(prefix.length)) : null))
		.filter((m): m is RegExpExecArray => m !== null)
		.map((m) => ({ step: Number(m[1]), bytes: files[prefix + m[0]], file: m[0] }))
		.sort((a, b) => a.step - b.step);
	for (const c of checkpoints) {
		try {
			decodeCheckpoint(c.bytes);
		} catch (err) {
			throw new Error(`${fileName}: ${prefix}${c.file}: ${(err as Error).message}`, { cause: err });
		}
	}

	// a run zipped while it trained is interrupted here
	if (can(run.status, 'interrupt')) run.status = transition(run.status, 'interrupt');
	const id = run.id;
	run.checkpoints = checkpoints.map((c) => ({
		step: c.step,
		file: c.file,
		bytes: c.bytes.length,
		created: run.finished ?? run.created
	}));

	const repo = new CheckpointRepo(db);
	for (const c of checkpoints) await repo.write(id, c.step, c.bytes);
	await db.transaction('rw', db.runs, db.metrics, db.evaluations, async () => {
		await db.metrics.bulkAdd([
			...metrics.training.map((line) => ({ runId: id, step: line.step, line })),
			...metrics.evaluation.map((line) => ({ runId: id, step: line.step, split: line.split, line }))
		]);
		if (evalJson) await db.evaluations.put({ runId: id, evalJson });
		await db.runs.put({ ...run, notes: `imported from ${fileName}` });
	});
	return id;
}
