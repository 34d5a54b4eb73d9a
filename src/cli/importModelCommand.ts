// `npm run import-model -- <Hugging Face model folder> [--name <name>] [--models-dir models]`
// Checks a GPT-2-family model (config.json, model.safetensors, tokenizer.json or vocab.json +
// merges.txt) and keeps it under the models directory, where `model.init: <name>` finds it.

import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { megabytes } from '../lib/core/format';
import { parameterCount } from '../lib/core/model/shapes';
import { UsageError, type CliIo } from './io';
import { importModelFolder, MODELS_DIR, removeStaleImports } from './models';

export async function importModelCommand(argv: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseArgs({
		args: argv,
		options: { name: { type: 'string' }, 'models-dir': { type: 'string', default: MODELS_DIR } },
		allowPositionals: true,
		strict: true
	});
	if (positionals.length !== 1)
		throw new UsageError('usage: npm run import-model -- <model folder> [--name <name>] [--models-dir <dir>]');
	const source = positionals[0];
	const modelsDir = values['models-dir']!;
	removeStaleImports(modelsDir);
	const model = importModelFolder(source, values.name ?? basename(resolve(source)), modelsDir);
	const { n_layer, n_head, n_embd, block_size, vocab_size } = model.gpt;
	io.err(
		`imported ${model.name}: GPT-2 ${n_layer} × ${n_embd} (${n_head} heads, ${block_size} positions, vocabulary ${vocab_size}), ` +
			`${parameterCount(model.gpt).toLocaleString('en')} parameters, ${model.dtype}, ${megabytes(4 * parameterCount(model.gpt))} as float32; sha256 ${model.sha256}\n` +
			`train from it with model.init: ${model.name} (and model.n_layer: ${n_layer}, n_head: ${n_head}, n_embd: ${n_embd}, block_size: ${block_size})\n`
	);
	io.out(JSON.stringify({ name: model.name, sha256: model.sha256, parameters: parameterCount(model.gpt) }) + '\n');
	return 0;
}
