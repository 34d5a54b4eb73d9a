// Datasets in the browser: the built-in ones, and JSONL files the user imported (stored only when
// every line is valid).

import { makeDataset, type Dataset, type DatasetManifest } from '../core/data/manifest';
import { BUILT_IN_DATASET_KEYS, builtInDataset, isBuiltInDataset } from '../core/data/registry';
import { canonicalJsonl, parseTraceJsonl } from '../core/data/traces';
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

/** Validates every line (throws TraceFileError listing them) and stores the file under its name. */
export async function importDataset(db: LabDb, fileName: string, text: string): Promise<DatasetManifest> {
	const traces = parseTraceJsonl(text, fileName);
	const key = fileName.replace(/\.jsonl$/i, '');
	if (isBuiltInDataset(key)) throw new Error(`"${key}" is a built-in dataset name: rename the file`);
	const ds = makeDataset(key, traces, { kind: 'file', name: fileName });
	try {
		await db.datasets.put({
			key,
			manifest: ds.manifest,
			jsonl: canonicalJsonl(traces),
			imported: new Date().toISOString()
		});
	} catch (err) {
		await translateStorageError(err);
	}
	return ds.manifest;
}
