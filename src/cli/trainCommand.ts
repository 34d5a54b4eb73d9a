// `npm run train -- --config <yaml> --dataset <key|file.jsonl> --checkpoint-dir <dir> [--resume] [--backend wasm|cpu|webgpu]`
// Trains with the same core as the browser worker and writes checkpoints, metrics.jsonl and
// run.json into the directory. Ctrl-C writes a checkpoint and exits; --resume continues.

import { parseArgs } from 'node:util';
import { decodeCheckpoint, type Checkpoint } from '../lib/core/checkpoint/checkpoint';
import { parseConfig, type LabConfig } from '../lib/core/config';
import { BUILT_IN_DATASET_KEYS } from '../lib/core/data/registry';
import { lossSummary, type RunRecord } from '../lib/core/run/record';
import { transition, type RunEvent } from '../lib/core/run/status';
import { Trainer, type StepMetrics } from '../lib/core/train/trainer';
import { isKnownDataset, loadDataset } from './datasets';
import { ensureWritableDir, readText, removeStaleTemps } from './files';
import { NODE_BACKENDS, useNodeBackend, type NodeBackend } from './nodeBackend';
import { evaluateRunDir, makeEvaluator, type EvalDeps } from './evaluateRunDir';
import { Progress } from './progress';
import { RunDir } from './runDir';
import type { CliIo } from './io';
import { UsageError } from './io';

export interface TrainArgs {
	config: string;
	dataset?: string;
	checkpointDir: string;
	resume: boolean;
	backend?: NodeBackend;
}

export function parseTrainArgs(argv: string[]): TrainArgs {
	const { values } = parseArgs({
		args: argv,
		options: {
			config: { type: 'string' },
			dataset: { type: 'string' },
			'checkpoint-dir': { type: 'string' },
			resume: { type: 'boolean', default: false },
			backend: { type: 'string' }
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
		backend: values.backend as NodeBackend | undefined
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
		text = text.replace(/^(\s*dataset:\s*)(\S.*)$/m, (_, head: string) => `${head}${JSON.stringify(datasetOverride)}`);
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

const now = () => new Date().toISOString();

function newRunId(): string {
	const stamp = now().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
	return `run-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

function step(run: RunRecord, event: RunEvent, error: string | null = run.error): void {
	run.status = transition(run.status, event);
	run.error = error;
}

export async function trainCommand(argv: string[], io: CliIo, deps: EvalDeps = {}): Promise<number> {
	const args = parseTrainArgs(argv);
	const config = loadConfig(args.config, args.dataset);
	const dataset = loadDataset(config.data.dataset);
	const evalManifests = config.data.eval_datasets.map((k) => loadDataset(k).manifest);
	const dir = new RunDir(args.checkpointDir);
	ensureWritableDir(dir.dir);
	removeStaleTemps(dir.dir);

	let resume: Checkpoint | undefined;
	let run: RunRecord;
	let metrics: StepMetrics[] = [];
	if (args.resume) {
		const steps = dir.checkpointSteps();
		if (steps.length === 0)
			throw new Error(`--resume: ${dir.dir} holds no checkpoint-step*.safetensors to resume from`);
		const last = steps[steps.length - 1];
		try {
			resume = decodeCheckpoint(dir.readCheckpoint(last));
		} catch (err) {
			throw new Error(`${dir.path(`checkpoint-step${last}.safetensors`)}: ${(err as Error).message}`, { cause: err });
		}
		const previous = dir.readRun();
		if (!previous) throw new Error(`--resume: ${dir.path('run.json')} is missing`);
		run = previous;
		if (run.status === 'training' || run.status === 'evaluating')
			step(run, 'interrupt', 'the trainer stopped without finishing (process ended)');
		if (run.status !== 'interrupted' && run.status !== 'cancelled' && run.status !== 'training_failed') {
			throw new Error(`--resume: the run in ${dir.dir} is ${run.status}; nothing to resume`);
		}
		metrics = (dir.readMetrics() as unknown as StepMetrics[]).filter((m) => 'loss' in m && m.step <= last);
		io.err(`resuming ${run.id} from step ${last}\n`);
	} else {
		if (dir.hasRun()) {
			throw new Error(
				`${dir.dir} already holds a run: pass --resume to continue it, or choose an empty --checkpoint-dir`
			);
		}
		const created = now();
		run = {
			id: newRunId(),
			name: config.run.name,
			status: 'pending',
			error: null,
			created,
			started: null,
			finished: null,
			config,
			datasets: { train: dataset.manifest, eval: evalManifests },
			provenance: { backend: '', backend_notes: [], adapter: null, tfjs_version: '', app_version: '', runtime: '' },
			checkpoints: [],
			summary: { initial_loss: null, final_loss: null, steps_done: 0 }
		};
	}

	const backend = pickBackend(args, config);
	run.provenance = await useNodeBackend(backend);
	const trainer = new Trainer(config, dataset, resume);
	step(run, run.status === 'pending' ? 'start' : 'resume', null);
	run.started ??= now();
	dir.writeRun(run);

	let stopRequested = false;
	const onSigint = () => {
		if (stopRequested) process.exit(130);
		stopRequested = true;
		io.err('\nstopping: writing a checkpoint (Ctrl-C again to quit without one)\n');
	};
	process.on('SIGINT', onSigint);
	const progress = new Progress(config.train.steps, trainer.step, io.progressStream);
	// eval.during_training: baseline now, then each every_checkpoints-th checkpoint as it is written
	const duringTraining = config.eval.during_training
		? makeEvaluator(run, [...trainer.tokenizer.vocab], io, deps)
		: undefined;
	if (duringTraining) await duringTraining.baseline();
	let checkpointsWritten = 0;
	const summarise = () => {
		run.summary = { ...run.summary, ...lossSummary(metrics.map((m) => m.loss)), steps_done: trainer.step };
	};
	try {
		const result = await trainer.run({
			onStep: (m) => {
				metrics.push(m);
				progress.update(m.step, m.loss);
			},
			onCheckpoint: async (s, bytes) => {
				const written = dir.writeCheckpoint(s, bytes);
				run.checkpoints = run.checkpoints.filter((c) => c.step !== s);
				run.checkpoints.push({ step: s, ...written, created: now() });
				for (const old of run.checkpoints.slice(0, -config.checkpoint.keep_last)) dir.deleteCheckpoint(old.step);
				run.checkpoints = run.checkpoints.slice(-config.checkpoint.keep_last);
				dir.writeMetrics(metrics);
				summarise();
				dir.writeRun(run);
				checkpointsWritten += 1;
				if (duringTraining && checkpointsWritten % config.eval.every_checkpoints === 0)
					await duringTraining.checkpoint(decodeCheckpoint(bytes));
			},
			shouldStop: () => stopRequested
		});
		progress.end();
		summarise();
		if (result.stopped) {
			step(run, 'interrupt', `stopped by Ctrl-C at step ${result.step}; continue with --resume`);
			dir.writeRun(run);
			io.err(`stopped at step ${result.step}; checkpoint written. Resume with --resume.\n`);
			return 130;
		}
		step(run, 'training_done');
		dir.writeRun(run);
		io.err(
			`trained ${result.step} steps: loss ${run.summary.initial_loss?.toFixed(4)} → ${run.summary.final_loss?.toFixed(4)} (mean of first/last 50)\n`
		);
	} catch (err) {
		progress.end();
		dir.writeMetrics(metrics);
		summarise();
		step(run, 'training_error', (err as Error).message);
		run.finished = now();
		dir.writeRun(run);
		throw err;
	} finally {
		process.off('SIGINT', onSigint);
		trainer.dispose();
	}
	const evaluation = await evaluateRunDir(dir, run, io, deps, duringTraining);
	for (const [key, r] of Object.entries(evaluation.datasets)) {
		const base = evaluation.baseline[key];
		io.err(
			`${key}: answer_accuracy ${r.answer_accuracy.toFixed(3)} (untrained ${base.answer_accuracy.toFixed(3)}), format_rate ${r.format_rate.toFixed(3)}, loss ${r.loss.toFixed(4)}\n`
		);
	}
	return 0;
}
