// `npm run eval -- --checkpoint <file> --dataset golden-v2 [--dataset golden-v2-heldout] [--out eval.json]
//   [--max-items N|all]` (default: the checkpoint config's eval.max_items)
// `npm run eval -- --run-dir <dir>`: (re-)evaluate a whole run directory (baseline + kept checkpoints).

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeCheckpoint } from '../lib/core/checkpoint/checkpoint';
import { evalJsonText } from '../lib/core/run/runFiles';
import { shareCi } from '../lib/core/stats/wilson';
import { RunEvaluator, type EvalJson } from '../lib/core/eval/runEvaluation';
import { loadDataset, runDatasets } from './datasets';
import { evaluateRun } from '../lib/core/run/driver';
import { baseModelFor, MODELS_DIR } from './models';
import { startName } from '../lib/core/config';
import type { EvalDeps } from './trainCommand';
import { writeFileAtomic } from './files';
import { UsageError, type CliIo } from './io';
import { NODE_BACKENDS, useNodeBackend, type NodeBackend } from './nodeBackend';
import { RunDir } from './runDir';

function report(e: EvalJson, io: CliIo, start: string): void {
	for (const [key, r] of Object.entries(e.datasets)) {
		const base = e.baseline[key];
		const cases = Object.entries(r.per_case)
			.map(([c, s]) => `${c} ${s.answer_accuracy.toFixed(3)}`)
			.join(', ');
		const some = r.n < r.manifest.count ? ' (--max-items all scores every item)' : '';
		io.err(
			`${key} @ step ${e.step} on ${r.n} of ${r.manifest.count} items${some}: answer_accuracy ${shareCi(r.answer_accuracy, r.n)} (${start} ${base?.answer_accuracy.toFixed(3)}), ` +
				`format_rate ${shareCi(r.format_rate, r.n)}, loss ${r.loss.toFixed(4)}, perplexity ${r.perplexity?.toFixed(3) ?? 'overflow (loss > 709)'}; per case: ${cases}\n`
		);
	}
}

/** --max-items: a positive integer, or "all". */
function parseMaxItems(text: string): number | null {
	if (text === 'all') return null;
	const n = Number(text);
	if (!Number.isInteger(n) || n < 1)
		throw new UsageError(`--max-items must be a positive integer or "all", got "${text}"`);
	return n;
}

export async function evalCommand(argv: string[], io: CliIo, deps: EvalDeps = {}): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			checkpoint: { type: 'string' },
			dataset: { type: 'string', multiple: true },
			out: { type: 'string' },
			'run-dir': { type: 'string' },
			'max-items': { type: 'string' },
			backend: { type: 'string', default: 'wasm' },
			'models-dir': { type: 'string', default: MODELS_DIR }
		},
		strict: true
	});
	if (!NODE_BACKENDS.includes(values.backend as NodeBackend)) {
		throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}, got "${values.backend}"`);
	}
	if (!values.checkpoint === !values['run-dir'])
		throw new UsageError('give either --checkpoint <file> or --run-dir <dir>');

	if (values['run-dir']) {
		if (values['max-items'] !== undefined)
			throw new UsageError(
				"--max-items goes with --checkpoint; a run directory is scored with its config's eval.max_items"
			);
		const dir = new RunDir(values['run-dir']);
		const run = dir.readRun();
		if (!run) throw new Error(`${dir.path('run.json')} does not exist: not a run directory`);
		await useNodeBackend(values.backend as NodeBackend);
		const result = await evaluateRun({
			storage: dir,
			run,
			datasets: runDatasets(run),
			base: baseModelFor(run.config, values['models-dir']),
			evaluateModel: deps.evaluateModel,
			hooks: { onEvalProgress: ({ step, dataset }) => io.err(`evaluating step ${step} on ${dataset}\n`) }
		});
		report(result, io, startName(run.config));
		io.err(`wrote ${dir.path('eval.json')}; run ${run.id} is ${run.status}\n`);
		return 0;
	}

	const file = values.checkpoint!;
	if (!existsSync(file)) throw new Error(`checkpoint ${file} does not exist`);
	let ck;
	try {
		ck = decodeCheckpoint(new Uint8Array(readFileSync(file)));
	} catch (err) {
		throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
	}
	const keys = values.dataset ?? [ck.config.data.dataset, ...ck.config.data.eval_datasets];
	const maxItems = values['max-items'] === undefined ? ck.config.eval.max_items : parseMaxItems(values['max-items']);
	const datasets = keys.map(loadDataset);
	await useNodeBackend(values.backend as NodeBackend);
	const runId = new RunDir(dirname(file)).readRun()?.id ?? basename(file);
	const ev = new RunEvaluator({
		runId,
		config: { ...ck.config, eval: { ...ck.config.eval, max_items: maxItems } },
		vocab: ck.vocab,
		base: baseModelFor(ck.config, values['models-dir']),
		datasets,
		evaluateModel: deps.evaluateModel,
		onProgress: ({ step, dataset }) => io.err(`evaluating step ${step} on ${dataset}\n`)
	});
	const t0 = performance.now();
	await ev.baseline();
	const t1 = performance.now();
	await ev.checkpoint(ck);
	const t2 = performance.now();
	const result = ev.result();
	report(result, io, startName(ck.config));
	io.err(`timing: baseline ${((t1 - t0) / 1000).toFixed(2)} s, checkpoint ${((t2 - t1) / 1000).toFixed(2)} s\n`);
	if (values.out) {
		writeFileAtomic(values.out, evalJsonText(result));
		io.err(`wrote ${values.out}\n`);
	} else {
		io.out(JSON.stringify(result) + '\n');
	}
	return 0;
}
