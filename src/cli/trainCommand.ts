// `npm run train -- --config <yaml> --dataset <key|file.jsonl> --checkpoint-dir <dir> [--resume] [--backend wasm|cpu|webgpu]
//   [--models-dir models]` (where model.init finds an imported model: npm run import-model)
// Trains with the same core and run driver as the browser worker, writing checkpoints,
// metrics.jsonl, run.json and eval.json into the directory. Ctrl-C writes a checkpoint and exits;
// --resume continues from the newest checkpoint.

import { parseArgs } from 'node:util';
import type { Checkpoint } from '../lib/core/checkpoint/checkpoint';
import { parseConfig, setYamlValue, startName, type LabConfig } from '../lib/core/config';
import { BUILT_IN_DATASET_KEYS } from '../lib/core/data/registry';
import type { evaluate } from '../lib/core/eval/evaluate';
import { trainRun, type StopReason } from '../lib/core/run/driver';
import { prepareResume } from '../lib/core/run/prepare';
import { newRunRecord, type RunRecord } from '../lib/core/run/record';
import { can, transition } from '../lib/core/run/status';
import { isKnownDataset, loadDataset } from './datasets';
import { lockRunDir } from './dirLock';
import { ensureWritableDir, readText, removeStaleTemps } from './files';
import { UsageError, type CliIo } from './io';
import { NODE_BACKENDS, useNodeBackend, type NodeBackend } from './nodeBackend';
import { Progress } from './progress';
import { shareCi } from '../lib/core/stats/wilson';
import { encodedTraces, runTokenizer } from '../lib/core/train/trainer';
import { checkBaseModel } from '../lib/core/hf/gpt2Import';
import { baseModelFor, MODELS_DIR } from './models';
import { RunDir } from './runDir';

/** Hooks for tests (fault injection). */
export interface EvalDeps {
	evaluateModel?: typeof evaluate;
}

export interface TrainArgs {
	config: string;
	dataset?: string;
	checkpointDir: string;
	resume: boolean;
	backend?: NodeBackend;
	/** Where imported models live (model.init names one). */
	modelsDir: string;
}

export function parseTrainArgs(argv: string[]): TrainArgs {
	const { values } = parseArgs({
		args: argv,
		options: {
			config: { type: 'string' },
			dataset: { type: 'string' },
			'checkpoint-dir': { type: 'string' },
			resume: { type: 'boolean', default: false },
			backend: { type: 'string' },
			'models-dir': { type: 'string', default: MODELS_DIR }
		},
		strict: true,
		allowPositionals: false
	});
	if (!values.config) throw new UsageError('--config <file.yaml> is required');
	if (!values['checkpoint-dir']) throw new UsageError('--checkpoint-dir <dir> is required');
	if (values.backend && !NODE_BACKENDS.includes(values.backend as NodeBackend)) {
		throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}, got "${values.backend}"`);
	}
	return {
		config: values.config,
		dataset: values.dataset,
		checkpointDir: values['checkpoint-dir'],
		resume: values.resume ?? false,
		backend: values.backend as NodeBackend | undefined,
		modelsDir: values['models-dir']!
	};
}

/** Reads and validates the config; `--dataset` replaces data.dataset before validation. */
export function loadConfig(path: string, datasetOverride?: string): LabConfig {
	let text = readText(path, 'config file');
	if (datasetOverride !== undefined) {
		if (!isKnownDataset(datasetOverride)) {
			throw new UsageError(
				`--dataset: unknown dataset "${datasetOverride}" (built in: ${BUILT_IN_DATASET_KEYS.join(', ')}; or a path to an existing .jsonl file)`
			);
		}
		text = setYamlValue(text, ['data', 'dataset'], datasetOverride);
	}
	return parseConfig(text, { file: path, isKnownDataset, knownDatasets: BUILT_IN_DATASET_KEYS });
}

function pickBackend(args: TrainArgs, config: LabConfig): NodeBackend {
	if (args.backend) return args.backend;
	const wanted = config.runtime.backend;
	if (wanted === 'auto') return 'wasm';
	if (!NODE_BACKENDS.includes(wanted as NodeBackend)) {
		throw new UsageError(`runtime.backend ${wanted} is browser-only; pass --backend ${NODE_BACKENDS.join('|')}`);
	}
	return wanted as NodeBackend;
}

/**
 * The run and checkpoint to continue from, after marking a run that died mid-way as interrupted.
 * A damaged newest checkpoint is skipped for the one before (said on stderr); a run killed before
 * its first checkpoint starts over.
 */
async function loadResume(dir: RunDir, io: CliIo): Promise<{ run: RunRecord; resume: Checkpoint | undefined }> {
	const run = dir.readRun();
	if (!run) throw new Error(`--resume: ${dir.path('run.json')} is missing: not a run directory`);

	if (can(run.status, 'interrupt')) {
		run.status = transition(run.status, 'interrupt');
		run.error = 'the trainer stopped without finishing (process ended)';
	}
	if (!can(run.status, 'resume')) {
		throw new Error(`--resume: the run in ${dir.dir} is ${run.status}; nothing to resume`);
	}
	const { resume, skipped } = await prepareResume(dir, run);
	for (const s of skipped) io.err(`${dir.dir}: ${s}; trying the one before\n`);
	if (!resume) io.err(`${run.id} has no readable checkpoint yet: training it again from step 0\n`);
	else io.err(`resuming ${run.id} from step ${resume.step}\n`);
	return { run, resume };
}

export async function trainCommand(argv: string[], io: CliIo, deps: EvalDeps = {}): Promise<number> {
	const args = parseTrainArgs(argv);
	const config = loadConfig(args.config, args.dataset);
	const dir = new RunDir(args.checkpointDir);
	ensureWritableDir(dir.dir);
	// one process per run directory; nothing in it is touched before the lock is held
	const unlock = lockRunDir(dir.dir);
	try {
		return await trainInDir(args, config, dir, io, deps);
	} finally {
		unlock();
	}
}

async function trainInDir(args: TrainArgs, config: LabConfig, dir: RunDir, io: CliIo, deps: EvalDeps): Promise<number> {
	const dataset = loadDataset(config.data.dataset);
	const evalDatasets = config.data.eval_datasets.map(loadDataset);
	if (!args.resume && dir.hasRun()) {
		throw new Error(
			`${dir.dir} already holds a run: pass --resume to continue it, or choose an empty --checkpoint-dir`
		);
	}
	const base = baseModelFor(config, args.modelsDir);
	checkBaseModel(config, base);
	encodedTraces(config, dataset, runTokenizer(dataset, base)); // a trace longer than block_size is refused before anything is written
	removeStaleTemps(dir.dir); // ours alone: the lock is held
	const { run, resume } = args.resume
		? await loadResume(dir, io)
		: {
				run: newRunRecord(
					config,
					dataset.manifest,
					evalDatasets.map((d) => d.manifest)
				),
				resume: undefined
			};
	const provenance = await useNodeBackend(pickBackend(args, config));

	let stop: StopReason | null = null;
	const onSigint = () => {
		if (stop) process.exit(130);
		stop = 'interrupt';
		io.err('\nstopping: writing a checkpoint (Ctrl-C again to quit without one)\n');
	};
	process.on('SIGINT', onSigint);
	const progress = new Progress(config.train.steps, resume?.step ?? 0, io.progressStream);
	try {
		const outcome = await trainRun({
			storage: dir,
			run,
			config,
			dataset,
			evalDatasets,
			provenance,
			resume,
			base,
			evaluateModel: deps.evaluateModel,
			hooks: {
				onStep: (m) => progress.update(m.step, m.loss),
				onRun: (r) => {
					if (r.status === 'evaluating') {
						progress.end();
						io.err(
							`trained ${r.summary.steps_done} steps: loss ${r.summary.initial_loss?.toFixed(4)} → ${r.summary.final_loss?.toFixed(4)} (mean of first/last 50)\n`
						);
					}
				},
				onEvalProgress: ({ step, dataset: key }) => io.err(`evaluating step ${step} on ${key}\n`),
				shouldStop: () => stop
			}
		});
		if (outcome.ended !== 'completed') {
			progress.end();
			io.err(`stopped at step ${outcome.run.summary.steps_done}; checkpoint written. Resume with --resume.\n`);
			return 130;
		}
		for (const [key, r] of Object.entries(outcome.evaluation!.datasets)) {
			const start = outcome.evaluation!.baseline[key];
			io.err(
				`${key}: answer_accuracy ${shareCi(r.answer_accuracy, r.n)} (${startName(config)} ${start.answer_accuracy.toFixed(3)}), ` +
					`format_rate ${shareCi(r.format_rate, r.n)}, loss ${r.loss.toFixed(4)} (n = ${r.n})\n`
			);
		}
		return 0;
	} catch (err) {
		progress.end();
		if (run.status === 'evaluation_failed') {
			throw new Error(`${(err as Error).message} (npm run eval -- --run-dir ${dir.dir})`, { cause: err });
		}
		throw err;
	} finally {
		process.off('SIGINT', onSigint);
	}
}
