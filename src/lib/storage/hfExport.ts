// A stored run's checkpoint, or an imported model, as a zipped Hugging Face folder
// (core/export/hfFolder.ts, docs/export.md): what the run page's and the Models page's "for
// Hugging Face" downloads save. The folder inside the zip is named after the run and step.

import { zipSync } from 'fflate';
import { decodeCheckpoint } from '../core/checkpoint/checkpoint';
import { exportHf, type ExportFiles } from '../core/export/hfFolder';
import type { LabDb } from './db';
import { exportCheckpoint } from './bundles';
import { loadModel, storedModelFiles } from './models';

/** A zip and the name to save it under. */
export interface ZipFile {
	name: string;
	bytes: Uint8Array;
}

/** `files` inside one folder named `folder`, stored uncompressed (weights do not compress). */
function zipFolder(folder: string, files: ExportFiles): Uint8Array {
	return zipSync(Object.fromEntries(Object.entries(files).map(([n, b]) => [`${folder}/${n}`, b])), { level: 0 });
}

/**
 * The run's checkpoint at `step` as a Hugging Face folder: the model, or for a LoRA run the PEFT
 * adapter (and with `merged` the full weights under merged/). A run from an imported model needs
 * that model still imported (its tokenizer, and the weights the adapters sit on).
 */
export async function exportRunHf(db: LabDb, runId: string, step: number, merged: boolean): Promise<ZipFile> {
	const run = await db.runs.get(runId);
	if (!run) throw new Error(`run ${runId} does not exist`);
	const checkpoint = decodeCheckpoint(await exportCheckpoint(db, runId, step));
	const base = checkpoint.base ? await loadModel(db, checkpoint.base.name) : undefined;
	const history = (await db.evaluations.get(runId))?.evalJson.history;
	const files = exportHf({ checkpoint, run: { id: run.id, name: run.name }, history, base }, { merged });
	const folder = `${run.name}-${run.id}-step${step}-hf`;
	return { name: `${folder}.zip`, bytes: zipFolder(folder, files) };
}

/** An imported model's stored files (config.json, model.safetensors as imported, tokenizer.json). */
export async function exportModelHf(db: LabDb, name: string): Promise<ZipFile> {
	const files = await storedModelFiles(db, name);
	const text = new TextEncoder();
	const out: ExportFiles = {
		'config.json': text.encode(files['config.json']),
		'model.safetensors': files['model.safetensors'],
		'tokenizer.json': text.encode(files['tokenizer.json']!)
	};
	return { name: `${name}-hf.zip`, bytes: zipFolder(name, out) };
}
