// Imported models in IndexedDB (docs/pretrained.md): model.safetensors as imported, in chunks of at
// most 8 MB with a sha256 each, written first; the model's row is written last, so a model is
// listed only once all of it is stored. A model is stored once per name and never changes: runs
// record its sha256.

import {
	checkModelName,
	importGpt2,
	storedFiles,
	type HfModelFiles,
	type PretrainedModel
} from '../core/hf/gpt2Import';
import { parameterCount } from '../core/model/shapes';
import { BpeTokenizer } from '../core/text/bpe';
import { CHUNK_BYTES, sha256Hex } from './checkpoints';
import type { LabDb, StoredModel } from './db';
import { CorruptCheckpointError, translateStorageError } from './errors';

/** What an import did: stored the model, or found these very weights under the name already. */
export interface ModelImport {
	model: StoredModel;
	outcome: 'new' | 'same';
}

/** The files the import reads, by name, from what a folder or a file list held (text as UTF-8). */
export function hfFilesOf(files: Record<string, Uint8Array>): HfModelFiles {
	const text = (name: string) => {
		if (!files[name]) return undefined;
		try {
			return new TextDecoder('utf-8', { fatal: true }).decode(files[name]);
		} catch {
			throw new Error(`${name} is not UTF-8 text: is it the file from the model's folder on the Hub?`);
		}
	};
	for (const need of ['config.json', 'model.safetensors'])
		if (!files[need])
			throw new Error(
				`${need} is missing: choose the model's folder, or its config.json, model.safetensors and tokenizer.json together`
			);
	return {
		'config.json': text('config.json')!,
		'model.safetensors': files['model.safetensors'],
		'tokenizer.json': text('tokenizer.json'),
		'vocab.json': text('vocab.json'),
		'merges.txt': text('merges.txt')
	};
}

/**
 * Checks a model folder's files (core/hf/gpt2Import.ts) and stores them under `name`. The same
 * weights again change nothing; other weights under a taken name are refused.
 */
export async function importModel(db: LabDb, name: string, files: HfModelFiles): Promise<ModelImport> {
	checkModelName(name);
	const model = importGpt2(name, files);
	const taken = await db.models.get(name);
	if (taken?.sha256 === model.sha256) return { model: taken, outcome: 'same' };
	if (taken)
		throw new Error(
			`a model named ${name} with other weights (sha256 ${taken.sha256.slice(0, 12)}…) is already imported: choose another name, or delete it first`
		);
	const kept = storedFiles(files, model);
	const weights = kept['model.safetensors'];
	const checksums: string[] = [];
	const count = Math.max(1, Math.ceil(weights.length / CHUNK_BYTES));
	try {
		await db.modelChunks.where('name').equals(name).delete(); // an import that died mid-way
		for (let k = 0; k < count; k++) {
			const data = weights.slice(k * CHUNK_BYTES, Math.min(weights.length, (k + 1) * CHUNK_BYTES));
			checksums.push(await sha256Hex(data));
			await db.modelChunks.put({ name, index: k, data });
		}
		const row: StoredModel = {
			name,
			sha256: model.sha256,
			gpt: model.gpt,
			parameters: parameterCount(model.gpt),
			dtype: model.dtype,
			configJson: files['config.json'],
			tokenizerJson: new TextDecoder().decode(kept['tokenizer.json']),
			bytes: weights.length,
			chunkCount: count,
			checksums,
			imported: new Date().toISOString()
		};
		await db.models.put(row);
		return { model: row, outcome: 'new' };
	} catch (err) {
		return translateStorageError(err);
	}
}

/** The stored row of model `name`, or undefined. */
export function getModel(db: LabDb, name: string): Promise<StoredModel | undefined> {
	return db.models.get(name);
}

/** The imported models, by name. */
export function listModels(db: LabDb): Promise<StoredModel[]> {
	return db.models.orderBy('name').toArray();
}

/** Removes a model and its weights (runs that started from it keep their records and checkpoints). */
export async function deleteModel(db: LabDb, name: string): Promise<void> {
	await db.transaction('rw', [db.models, db.modelChunks], async () => {
		await db.models.delete(name);
		await db.modelChunks.where('name').equals(name).delete();
	});
}

/** The stored row of `name`, or an error saying how to import it. */
async function storedModel(db: LabDb, name: string): Promise<StoredModel> {
	const row = await db.models.get(name);
	if (!row) {
		const known = (await db.models.toCollection().primaryKeys()).join(', ');
		throw new Error(
			`model "${name}" is not imported in this browser (imported: ${known || 'none'}): import it on the Models page first`
		);
	}
	return row;
}

/**
 * The files kept of the imported model `name` (config.json, model.safetensors as imported,
 * tokenizer.json), every weight chunk and the whole file checked against their sha256.
 */
export async function storedModelFiles(db: LabDb, name: string): Promise<HfModelFiles> {
	const row = await storedModel(db, name);
	const chunks = await db.modelChunks.where('name').equals(name).sortBy('index');
	if (chunks.length !== row.chunkCount)
		throw new CorruptCheckpointError(
			`model ${name}: ${chunks.length} of ${row.chunkCount} weight chunks are stored; delete it and import it again`
		);
	const weights = new Uint8Array(row.bytes);
	let at = 0;
	for (const [k, chunk] of chunks.entries()) {
		if ((await sha256Hex(chunk.data)) !== row.checksums[k])
			throw new CorruptCheckpointError(
				`model ${name}: weight chunk ${k + 1} is damaged; delete it and import it again`
			);
		weights.set(chunk.data, at);
		at += chunk.data.length;
	}
	if ((await sha256Hex(weights)) !== row.sha256)
		throw new CorruptCheckpointError(
			`model ${name}: its weights no longer match their sha256; delete it and import it again`
		);
	return { 'config.json': row.configJson, 'model.safetensors': weights, 'tokenizer.json': row.tokenizerJson };
}

/** The imported model `name`, its weights read back and checked (what training and generation use). */
export async function loadModel(db: LabDb, name: string): Promise<PretrainedModel> {
	return importGpt2(name, await storedModelFiles(db, name));
}

/** Only the tokenizer and shape of `name` (a config check before a run exists: no weights read). */
export async function modelTokenizer(
	db: LabDb,
	name: string
): Promise<{ tokenizer: BpeTokenizer; model: StoredModel }> {
	const model = await storedModel(db, name);
	return { tokenizer: new BpeTokenizer(JSON.parse(model.tokenizerJson)), model };
}
