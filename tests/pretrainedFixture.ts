// Test GPT-2 models in Hugging Face layout (scripts/gpt2Writer.ts), written once per options.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HfModelFiles } from '../src/lib/core/hf/gpt2Import';
import { writeTestGpt2, type TestGpt2Options } from '../scripts/gpt2Writer';

/** A folder holding the model these options describe. */
export function makeTestGpt2(o: TestGpt2Options = {}): string {
	return writeTestGpt2(mkdtempSync(join(tmpdir(), 'tunix-gpt2-')), o);
}

/** The files of a model folder, as the import reads them. */
export function hfFiles(dir: string): HfModelFiles {
	const text = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined);
	return {
		'config.json': text('config.json')!,
		'model.safetensors': new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
		'tokenizer.json': text('tokenizer.json'),
		'vocab.json': text('vocab.json'),
		'merges.txt': text('merges.txt')
	};
}
