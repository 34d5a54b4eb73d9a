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

/** What an imported dataset may be called: letters, digits, '.', '_', '-' (no look-alikes of other names). */
const DATASET_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A dataset key from a file name: NFKC, trimmed, spaces as '-'; refused when it would look like another. */
export function datasetKeyOf(fileName: string): string {
	const key = fileName
		.replace(/\.jsonl$/i, '')
		.normalize('NFKC')
		.trim()
		.replace(/\s+/g, '-');
	if (!DATASET_KEY.test(key))
		throw new Error(
			`"${fileName}": a dataset is named after its file, and the name may hold only letters, digits, ".", "_" and "-" ` +
				'(1 to 64, no invisible characters): rename the file'
		);
	const builtIn = BUILT_IN_DATASET_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
	if (builtIn) throw new Error(`"${key}" is the name of the built-in dataset ${builtIn}: rename the file`);
	return key;
}

/** What an import stored, and how. */
export interface DatasetImport {
	manifest: DatasetManifest;
	/** 'new'; 'same' when these exact traces were imported before; 'renamed' when the name held other traces. */
	outcome: 'new' | 'same' | 'renamed';
}

/**
 * Validates every line (throws TraceFileError listing them) and stores the traces under the file's
 * name. A dataset never changes once stored (runs refer to it by key and sha256): the same traces
 * again change nothing, and other traces under a taken name are stored as `name-<sha256 prefix>`.
 */
export async function importDataset(db: LabDb, fileName: string, text: string): Promise<DatasetImport> {
	const traces = parseTraceJsonl(text, fileName);
	const wanted = datasetKeyOf(fileName);
	const jsonl = canonicalJsonl(traces); // once: it is hashed and stored (a 50 MB file takes seconds)
	const found = makeDataset(wanted, traces, { kind: 'file', name: fileName }, jsonl).manifest;
	const taken = await db.datasets.get(wanted);
	if (taken?.manifest.sha256 === found.sha256) return { manifest: taken.manifest, outcome: 'same' };
	const key = taken ? `${wanted}-${found.sha256.slice(0, 8)}` : wanted;
	const again = await db.datasets.get(key);
	if (again) return { manifest: again.manifest, outcome: 'same' };
	const manifest = { ...found, key };
	try {
		await db.datasets.add({ key, manifest, jsonl, imported: new Date().toISOString() });
	} catch (err) {
		await translateStorageError(err);
	}
	return { manifest, outcome: taken ? 'renamed' : 'new' };
}
