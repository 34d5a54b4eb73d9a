// Datasets in the browser: the built-in ones, and JSONL files the user imported (stored only when
// every line is valid).

import { makeDataset, type Dataset, type DatasetManifest } from '../core/data/manifest';
import { BUILT_IN_DATASET_KEYS, builtInDataset, isBuiltInDataset } from '../core/data/registry';
import { canonicalJsonl, parseTraceJsonl, readTraceJsonl } from '../core/data/traces';
import { getYamlValue } from '../core/config';
import type { LabDb } from './db';
import { translateStorageError } from './errors';

export async function resolveDataset(db: LabDb, key: string): Promise<Dataset> {
	if (isBuiltInDataset(key)) return builtInDataset(key);
	const stored = await db.datasets.get(key);
	if (!stored) {
		const imported = (await db.datasets.toCollection().primaryKeys()).join(', ');
		throw new Error(
			`unknown dataset "${key}" (built in: ${BUILT_IN_DATASET_KEYS.join(', ')}${imported ? `; imported: ${imported}` : ''})`
		);
	}
	return makeDataset(stored.key, parseTraceJsonl(stored.jsonl, stored.key), stored.manifest.source);
}

/** What an imported dataset may be called: letters, digits, '.', '_', '-' (no look-alikes of other names). */
const DATASET_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A dataset key from a file name (or a new name, `from` 'name'): NFKC, trimmed, spaces as '-';
 * refused when it would look like another.
 */
export function datasetKeyOf(fileName: string, from: 'file' | 'name' = 'file'): string {
	const fix = from === 'file' ? 'rename the file' : 'choose another name';
	const key = fileName
		.replace(/\.jsonl$/i, '')
		.normalize('NFKC')
		.trim()
		.replace(/\s+/g, '-');
	if (!DATASET_KEY.test(key))
		throw new Error(
			`"${fileName}": ${from === 'file' ? 'a dataset is named after its file, and ' : ''}the name may hold only letters, digits, ".", "_" and "-" ` +
				`(1 to 64, no invisible characters): ${fix}`
		);
	const builtIn = BUILT_IN_DATASET_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
	if (builtIn) throw new Error(`"${key}" is the name of the built-in dataset ${builtIn}: ${fix}`);
	return key;
}

/** What an import stored, and how. */
export interface DatasetImport {
	manifest: DatasetManifest;
	/** 'new'; 'same' when these exact traces were imported before; 'renamed' when the name held other traces. */
	outcome: 'new' | 'same' | 'renamed';
	/** The lines left out for their problems (an import of the valid lines only), 1-based. */
	leftOut: number[];
}

/**
 * Validates every line (throws TraceFileError listing them) and stores the traces under the file's
 * name; with `validOnly`, the valid lines are stored and the others left out (said in the result).
 * A dataset never changes once stored (runs refer to it by key and sha256): the same traces
 * again change nothing, and other traces under a taken name are stored as `name-<sha256 prefix>`.
 */
export async function importDataset(
	db: LabDb,
	fileName: string,
	text: string,
	validOnly = false
): Promise<DatasetImport> {
	const read = readTraceJsonl(text);
	if (!validOnly || read.traces.length === 0) parseTraceJsonl(text, fileName); // throws, listing every problem
	const { traces, badLines: leftOut } = read;
	const wanted = datasetKeyOf(fileName);
	const jsonl = canonicalJsonl(traces); // once: it is hashed and stored (a 50 MB file takes seconds)
	const found = makeDataset(wanted, traces, { kind: 'file', name: fileName }, jsonl).manifest;
	const taken = await db.datasets.get(wanted);
	if (taken?.manifest.sha256 === found.sha256) return { manifest: taken.manifest, outcome: 'same', leftOut };
	const key = taken ? `${wanted}-${found.sha256.slice(0, 8)}` : wanted;
	const again = await db.datasets.get(key);
	if (again) return { manifest: again.manifest, outcome: 'same', leftOut };
	const manifest = { ...found, key };
	try {
		await db.datasets.add({ key, manifest, jsonl, imported: new Date().toISOString() });
	} catch (err) {
		await translateStorageError(err);
	}
	return { manifest, outcome: taken ? 'renamed' : 'new', leftOut };
}

/** The runs that train or evaluate on dataset `key` (their configs name it), and experiments whose grid may: their names. */
export async function datasetUsers(db: LabDb, key: string): Promise<string[]> {
	const runs = (await db.runs.toArray())
		.filter((r) => r.config?.data?.dataset === key || (r.config?.data?.eval_datasets ?? []).includes(key))
		.map((r) => r.name);
	// a queued point not started yet names it only in the experiment's base config or its grid values
	const names = (dataset: unknown, evalSets: unknown) =>
		dataset === key || (Array.isArray(evalSets) && evalSets.includes(key));
	const experiments = (await db.experiments.toArray())
		.filter(
			(e) =>
				names(
					getYamlValue(e.base_yaml ?? '', ['data', 'dataset']),
					toJs(getYamlValue(e.base_yaml ?? '', ['data', 'eval_datasets']))
				) || (e.points ?? []).some((p) => names(p.values?.['data.dataset'], p.values?.['data.eval_datasets']))
		)
		.map((e) => `experiment ${e.name}`);
	return [...runs, ...experiments];
}

/** A YAML node's plain value (a sequence node as an array). */
const toJs = (node: unknown): unknown =>
	node && typeof node === 'object' && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : node;

/** Why dataset `key` may not be changed: a built-in one, or runs that name it (they could no longer resume or evaluate). */
async function refuseChange(db: LabDb, key: string, what: string): Promise<void> {
	if (isBuiltInDataset(key)) throw new Error(`${key} is built in: it cannot be ${what}`);
	if (!(await db.datasets.get(key))) throw new Error(`dataset ${key} does not exist (deleted in another tab?)`);
	const users = await datasetUsers(db, key);
	if (users.length > 0)
		throw new Error(
			`${key} cannot be ${what}: ${users.length === 1 ? 'a run or experiment names' : `${users.length} runs or experiments name`} it (${users.slice(0, 3).join(', ')}${users.length > 3 ? ', …' : ''}) ` +
				'and could no longer be resumed or evaluated. Delete those runs first, or export the dataset and import it under another name.'
		);
}

/** Deletes an imported dataset no run uses (refused, with the reason, otherwise). */
export async function deleteDataset(db: LabDb, key: string): Promise<void> {
	await db.transaction('rw', db.datasets, db.runs, db.experiments, async () => {
		await refuseChange(db, key, 'deleted');
		await db.datasets.delete(key);
	});
}

/** Renames an imported dataset no run uses; `to` follows the import's naming rule and must be free. */
export async function renameDataset(db: LabDb, key: string, to: string): Promise<string> {
	const next = datasetKeyOf(to, 'name');
	await db.transaction('rw', db.datasets, db.runs, db.experiments, async () => {
		await refuseChange(db, key, 'renamed');
		if (next === key) return;
		if (await db.datasets.get(next)) throw new Error(`a dataset named ${next} exists already: choose another name`);
		const stored = (await db.datasets.get(key))!;
		await db.datasets.add({ ...stored, key: next, manifest: { ...stored.manifest, key: next } });
		await db.datasets.delete(key);
	});
	return next;
}
