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
} from '../core/run/runFiles';
import { EvalJsonSchema } from '../core/eval/evalJson';
import { RunRecordSchema, type RunRecord } from '../core/run/record';
import { checked } from '../core/schema';
import { can, transition } from '../core/run/status';
import { ExperimentSchema, type ExperimentRecord } from '../core/experiment/experiment';
import type { EvalLine, EvalJson } from '../core/eval/evalJson';
import type { StepMetrics } from '../core/train/metrics';
import { CheckpointRepo } from './checkpoints';
import type { LabDb } from './db';
import { withLock } from './locks';
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
	return zipSync(await runEntries(db, runId), { level: 0 });
}

/** A run's bundle entries in a folder named after the run (a damaged checkpoint noted, not included). */
async function runEntries(db: LabDb, runId: string): Promise<Record<string, Uint8Array>> {
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
	return entries;
}

/** The files a bundle may hold (in one folder, or at its top); anything else is skipped unread. */
const BUNDLE_ENTRY = /(^|\/)(run\.json|metrics\.jsonl|eval\.json|checkpoint-step\d+\.safetensors)$|^experiment\.json$/;
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
	const unsafe = Object.keys(files).find((name) => !safeEntryPath(name));
	if (unsafe)
		throw new Error(
			`${fileName}: the entry "${unsafe}" has a path a bundle never writes (.., \\ or a leading /): refused`
		);
	return files;
}

/** Whether entry `f` sits directly in folder `prefix` ("" or "name/"). */
const inFolder = (f: string, prefix: string) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/');

/** Whether a zip entry's path is one a bundle writes: relative, with no `..`, `.` or empty segment and no backslash. */
function safeEntryPath(name: string): boolean {
	return !name.includes('\\') && name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** One run of a bundle, every file checked against its schema. */
export interface BundleRun {
	run: RunRecord;
	metrics: { training: StepMetrics[]; evaluation: EvalLine[] };
	evalJson: EvalJson | null;
	/** Checkpoints that decode, by step ascending. */
	checkpoints: { step: number; file: string; bytes: Uint8Array }[];
}

/** A bundle's contents: one run (a run bundle), or an experiment and its runs (an experiment bundle). */
export interface Bundle {
	runs: BundleRun[];
	experiment: ExperimentRecord | null;
}

/** Reads one run folder of a bundle (`prefix` is "" or "folder/"), checking every file. */
function readRunFolder(files: Record<string, Uint8Array>, prefix: string, fileName: string): BundleRun {
	const text = (name: string) => (files[prefix + name] ? strFromU8(files[prefix + name]) : null);
	const json = (name: string) => {
		try {
			return JSON.parse(text(name)!);
		} catch (err) {
			throw new Error(`${fileName}: ${prefix}${name} is not valid JSON`, { cause: err });
		}
	};
	const run: RunRecord = checked(RunRecordSchema, json('run.json'), `${fileName}: ${prefix}run.json`);
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
	// a run zipped before or while it trained is interrupted here, and resumable: it says so
	if (can(run.status, 'interrupt')) {
		const when = run.status === 'pending' ? 'before its training started' : `at step ${run.summary.steps_done}`;
		run.status = transition(run.status, 'interrupt');
		run.error = `this copy was taken ${when}, while another browser or process worked on it; Resume continues it here`;
	}
	run.checkpoints = checkpoints.map((c) => ({
		step: c.step,
		file: c.file,
		bytes: c.bytes.length,
		created: run.finished ?? run.created
	}));
	return { run, metrics, evalJson, checkpoints };
}

/**
 * A bundle read and checked, nothing stored: a run bundle (ours, or a zipped CLI run directory),
 * or an experiment bundle (experiment.json beside one folder per run). Throws naming the file and
 * the problem. The read-only viewer (`/run/?bundle=`) shows this; importBundle stores it.
 */
export function readBundle(zip: Uint8Array, fileName: string): Bundle {
	const files = unzipBundle(zip, fileName);
	const runPaths = Object.keys(files)
		.filter((p) => p === 'run.json' || p.endsWith('/run.json'))
		.sort();
	if (runPaths.length === 0)
		throw new Error(`${fileName}: no run.json inside: a run bundle holds run.json, metrics.jsonl and checkpoints`);
	const prefixes = runPaths.map((p) => p.slice(0, -'run.json'.length));
	const stray = Object.keys(files).find((f) => f !== 'experiment.json' && !prefixes.some((p) => inFolder(f, p)));
	if (stray)
		throw new Error(
			`${fileName}: ${stray} is not in a run's folder (beside a run.json): refused, nothing was read from it`
		);
	const runs = prefixes.map((p) => readRunFolder(files, p, fileName));
	const ids = runs.map((r) => r.run.id);
	if (new Set(ids).size !== ids.length) throw new Error(`${fileName}: a run id appears in two folders`);
	const manifest = files['experiment.json'];
	if (!manifest) {
		if (runs.length > 1)
			throw new Error(`${fileName}: ${runs.length} runs but no experiment.json: import one run bundle at a time`);
		return { runs, experiment: null };
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(strFromU8(manifest));
	} catch (err) {
		throw new Error(`${fileName}: experiment.json is not valid JSON`, { cause: err });
	}
	const experiment = checked(ExperimentSchema, parsed, `${fileName}: experiment.json`);
	for (const p of experiment.points)
		if (p.run_id && !ids.includes(p.run_id))
			throw new Error(`${fileName}: experiment.json names run ${p.run_id}, which the bundle lacks`);
	// an imported experiment is a record of what ran: its queue does not start again here
	if (experiment.state === 'running') experiment.state = 'paused';
	return { runs, experiment };
}

/** What an import stored: a run, or an experiment with its runs. */
export type BundleImport = { kind: 'run' | 'experiment'; id: string };

/** Imports run one at a time across tabs. */
const IMPORT_LOCK = 'tunix-rt-lab:imports';

/**
 * Imports a run or experiment bundle: everything is checked, then stored at once, or nothing is.
 * Imports run one at a time across tabs, so a second import of the same bundle (a double click,
 * another tab) finds the first's runs stored and is refused before it writes anything.
 */
export async function importBundle(db: LabDb, zip: Uint8Array, fileName: string): Promise<BundleImport> {
	const bundle = readBundle(zip, fileName);
	return withLock(IMPORT_LOCK, () => storeBundle(db, bundle, fileName));
}

/** Stores a checked bundle unless one of its runs or its experiment is already stored. */
async function storeBundle(db: LabDb, { runs, experiment }: Bundle, fileName: string): Promise<BundleImport> {
	for (const { run } of runs) {
		const existing = await db.runs.get(run.id);
		if (existing)
			throw new Error(
				`${fileName}: run ${run.id} ("${existing.name}") is already in this browser; nothing was imported. ` +
					'Delete it on the Runs page first to import this copy.'
			);
	}
	if (experiment && (await db.experiments.get(experiment.id)))
		throw new Error(`${fileName}: experiment ${experiment.id} is already in this browser; nothing was imported`);

	// checkpoints first (each committed on its own), then everything else in one transaction; if
	// anything fails, the checkpoints written are removed again: nothing of the bundle stays
	const repo = new CheckpointRepo(db);
	const written: [string, number][] = [];
	try {
		for (const { run, checkpoints } of runs)
			for (const c of checkpoints) {
				await repo.write(run.id, c.step, c.bytes);
				written.push([run.id, c.step]);
			}
		await db.transaction('rw', [db.runs, db.metrics, db.evaluations, db.experiments], async () => {
			for (const { run, metrics, evalJson } of runs) {
				const id = run.id;
				await db.metrics.bulkAdd([
					...metrics.training.map((line) => ({ runId: id, step: line.step, line })),
					...metrics.evaluation.map((line) => ({ runId: id, step: line.step, split: line.split, line }))
				]);
				if (evalJson) await db.evaluations.put({ runId: id, evalJson });
				await db.runs.put({ ...run, notes: `imported from ${fileName}` });
			}
			if (experiment) await db.experiments.add(experiment);
		});
	} catch (err) {
		for (const [runId, step] of written) await repo.delete(runId, step).catch(() => undefined);
		throw new Error(`${fileName}: nothing was imported: ${(err as Error).message}`, { cause: err });
	}
	return experiment ? { kind: 'experiment', id: experiment.id } : { kind: 'run', id: runs[0].run.id };
}

/**
 * An experiment bundle: experiment.json and each of its runs' bundle folders (run.json,
 * metrics.jsonl, eval.json, checkpoints), in one zip that imports back with importBundle.
 */
export async function exportExperimentBundle(db: LabDb, experimentId: string): Promise<Uint8Array> {
	const stored = await db.experiments.get(experimentId);
	if (!stored) throw new Error(`experiment ${experimentId} does not exist`);
	const experiment = checked(ExperimentSchema, stored, `experiment ${experimentId}`);
	const entries: Record<string, Uint8Array> = {};
	for (const [i, p] of experiment.points.entries()) {
		if (!p.run_id) continue;
		if (await db.runs.get(p.run_id)) Object.assign(entries, await runEntries(db, p.run_id));
		// a run deleted by hand: the bundle says so instead of naming a run it lacks
		else experiment.points[i] = { ...p, run_id: null, error: `its run ${p.run_id} was deleted before the export` };
	}
	entries['experiment.json'] = strToU8(JSON.stringify(experiment, null, 2) + '\n');
	const total = Object.values(entries).reduce((n, b) => n + b.length, 0);
	if (total > BUNDLE_LIMITS.totalBytes)
		throw new Error(
			`this experiment's bundle would hold ${(total / 2 ** 20).toFixed(0)} MB, more than the ` +
				`${BUNDLE_LIMITS.totalBytes / 2 ** 20} MB an import accepts: lower checkpoint.keep_last, or export its runs one by one`
		);
	return zipSync(entries, { level: 6 });
}
