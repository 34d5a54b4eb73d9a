// The CLI's imported models (docs/pretrained.md): one folder per model under a models directory
// (`models/` by default), holding config.json, model.safetensors as imported and tokenizer.json.
// `model.init: <name>` in a config names the folder; the run records its sha256.

import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pretrainedName, type LabConfig } from '../lib/core/config';
import {
	checkModelName,
	importGpt2,
	storedFiles,
	type HfModelFiles,
	type PretrainedModel
} from '../lib/core/hf/gpt2Import';
import { writeFileAtomic } from './files';

/** The default models directory (relative to where the command runs). */
export const MODELS_DIR = 'models';

/** A Hugging Face model folder's files, as the import reads them; absent optional files are undefined. */
export function readHfFolder(dir: string): HfModelFiles {
	if (!existsSync(dir))
		throw new Error(`${dir} does not exist: give the folder holding config.json and model.safetensors`);
	const text = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined);
	for (const need of ['config.json', 'model.safetensors'])
		if (!existsSync(join(dir, need)))
			throw new Error(
				`${join(dir, need)} is missing: download it from the model's page on the Hub (Files and versions)`
			);
	return {
		'config.json': text('config.json')!,
		'model.safetensors': new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
		'tokenizer.json': text('tokenizer.json'),
		'vocab.json': text('vocab.json'),
		'merges.txt': text('merges.txt')
	};
}

/** Imports `source` as `name` into `modelsDir`; an existing model of that name with other weights is refused. */
export function importModelFolder(source: string, name: string, modelsDir = MODELS_DIR): PretrainedModel {
	checkModelName(name);
	const files = readHfFolder(source);
	const model = importGpt2(name, files);
	const dest = join(modelsDir, name);
	if (existsSync(dest)) {
		const old = loadModel(name, modelsDir);
		if (old.sha256 !== model.sha256)
			throw new Error(
				`a model named ${name} with other weights (sha256 ${old.sha256.slice(0, 12)}…) is already in ${modelsDir}: choose another --name, or delete ${dest}`
			);
		return old;
	}
	const staging = `${dest}.${process.pid}.tmp`;
	mkdirSync(staging, { recursive: true });
	for (const [file, bytes] of Object.entries(storedFiles(files, model))) writeFileAtomic(join(staging, file), bytes);
	renameSync(staging, dest); // all files or none
	return model;
}

/** The imported model `name` from `modelsDir`. */
export function loadModel(name: string, modelsDir = MODELS_DIR): PretrainedModel {
	const dir = join(modelsDir, name);
	if (!existsSync(dir)) {
		const known = existsSync(modelsDir) ? readdirSync(modelsDir).filter((f) => !f.endsWith('.tmp')) : [];
		throw new Error(
			`model "${name}" is not imported in ${modelsDir}/ (imported: ${known.join(', ') || 'none'}): run npm run import-model -- <HF folder> --name ${name}`
		);
	}
	return importGpt2(name, readHfFolder(dir));
}

/** The base model a config starts from (model.init), or undefined for a run from scratch. */
export function baseModelFor(config: LabConfig, modelsDir = MODELS_DIR): PretrainedModel | undefined {
	const name = pretrainedName(config);
	return name === null ? undefined : loadModel(name, modelsDir);
}

/** Removes stale staging folders of imports that died mid-way. */
export function removeStaleImports(modelsDir = MODELS_DIR): void {
	if (!existsSync(modelsDir)) return;
	for (const f of readdirSync(modelsDir))
		if (f.endsWith('.tmp')) rmSync(join(modelsDir, f), { recursive: true, force: true });
}
