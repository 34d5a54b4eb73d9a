// `npm run export-hf -- --run-dir <dir> --out <folder> [--step N] [--merged] [--models-dir models]`
// Writes a run's checkpoint as a Hugging Face model folder (docs/export.md): config.json,
// model.safetensors, the tokenizer files and a README for transformers; for a LoRA run a PEFT
// adapter, and with --merged the full weights under merged/ as well.

import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeCheckpoint } from '../lib/core/checkpoint/checkpoint';
import { EvalJsonSchema } from '../lib/core/eval/evalJson';
import { byteSize } from '../lib/core/format';
import { exportHf } from '../lib/core/export/hfFolder';
import { checked } from '../lib/core/schema';
import { writeFileAtomic } from './files';
import { UsageError, type CliIo } from './io';
import { baseModelFor, MODELS_DIR } from './models';
import { RunDir } from './runDir';

const USAGE =
	'usage: npm run export-hf -- --run-dir <run directory> --out <new folder> [--step N] [--merged] [--models-dir <dir>]';

/** The run's eval.json history, when it has one (the README quotes its scores). */
function evalHistory(dir: RunDir) {
	const p = dir.path('eval.json');
	if (!existsSync(p)) return undefined;
	return checked(EvalJsonSchema, JSON.parse(readFileSync(p, 'utf8')), p).history;
}

export async function exportHfCommand(argv: string[], io: CliIo): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			'run-dir': { type: 'string' },
			out: { type: 'string' },
			step: { type: 'string' },
			merged: { type: 'boolean', default: false },
			'models-dir': { type: 'string', default: MODELS_DIR }
		},
		strict: true
	});
	if (!values['run-dir'] || !values.out) throw new UsageError(USAGE);
	const out = values.out;
	if (existsSync(out) && readdirSync(out).length > 0)
		throw new UsageError(`--out ${out} is not empty: give a new folder (nothing there is overwritten)`);
	const dir = new RunDir(values['run-dir']);
	const run = dir.readRun();
	if (!run) throw new Error(`${dir.path('run.json')} does not exist: not a run directory`);
	const steps = dir.steps();
	if (steps.length === 0) throw new Error(`${dir.dir} holds no checkpoint yet: train first (npm run train)`);
	const step = values.step === undefined ? steps[steps.length - 1] : Number(values.step);
	if (!steps.includes(step))
		throw new UsageError(`--step ${values.step}: ${dir.dir} keeps checkpoints at steps ${steps.join(', ')}`);
	const checkpoint = decodeCheckpoint(await dir.readCheckpoint(step));
	const base = baseModelFor(checkpoint.config, values['models-dir']);
	const files = exportHf(
		{ checkpoint, run: { id: run.id, name: run.name }, history: evalHistory(dir), base },
		{ merged: values.merged }
	);
	if (values.merged && !Object.keys(files).some((f) => f.startsWith('merged/')))
		io.err('--merged: this run trained every weight, so the folder is the full model already\n');
	for (const [name, bytes] of Object.entries(files)) {
		mkdirSync(dirname(join(out, name)), { recursive: true });
		writeFileAtomic(join(out, name), bytes);
	}
	const total = Object.values(files).reduce((n, b) => n + b.byteLength, 0);
	const kind = 'adapter_config.json' in files ? 'a PEFT adapter' : 'a transformers model';
	io.err(
		`wrote ${kind} of ${run.name} at step ${step} to ${out} (${Object.keys(files).length} files, ${byteSize(total)})\n`
	);
	io.out(JSON.stringify({ out, step, files: Object.keys(files).sort() }) + '\n');
	return 0;
}
