// `npm run torch -- prepare|finish|parity …`: a lab run carried to PyTorch and back (docs/torch.md).
//   prepare --out <dir> (--config <yaml> | --from <lab run dir> [--step N]) [--models-dir models]
//       a run directory that torch/train.py trains: run.json, the checkpoint to start from, the
//       training traces as the lab's token ids (torch-handoff.json), the history up to that step
//   finish --run-dir <dir> [--bundle <file.zip>] [--backend wasm|cpu] [--models-dir models]
//       after torch/train.py: run.json (checkpoints, summary, provenance, a "resumed in PyTorch"
//       event), the lab's evaluation, and a bundle the lab imports as the run
//   parity --run-dir <lab run dir> [--steps N] [--nproc K] [--python python3] [--against <dir>]
//       replays the run's first N steps in PyTorch from its step-0 weights and writes parity.json

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { strToU8, zipSync } from 'fflate';
import { decodeCheckpoint, encodeCheckpoint } from '../lib/core/checkpoint/checkpoint';
import { finetuneOf, pretrainedName, type LabConfig } from '../lib/core/config';
import { resumedEvent } from '../lib/core/run/events';
import { runHealth } from '../lib/core/run/health';
import { lossSummary } from '../lib/core/run/lossStats';
import { compareParity, paritySentence, type TorchRuntime } from '../lib/core/run/parity';
import { newRunRecord, type RunRecord } from '../lib/core/run/record';
import { checkpointFileName, runJsonText } from '../lib/core/run/runFiles';
import { can, transition } from '../lib/core/run/status';
import { evaluateRun } from '../lib/core/run/driver';
import { parseMetricsJsonl } from '../lib/core/run/runFiles';
import { encodedTraces, runTokenizer, Trainer } from '../lib/core/train/trainer';
import { loadDataset, runDatasets } from './datasets';
import { ensureWritableDir, writeFileAtomic } from './files';
import { UsageError, type CliIo } from './io';
import { baseModelFor, MODELS_DIR } from './models';
import { NODE_BACKENDS, useNodeBackend, type NodeBackend } from './nodeBackend';
import { RunDir } from './runDir';
import { loadConfig } from './trainCommand';

const USAGE = `usage: npm run torch -- prepare --out <dir> (--config <yaml> | --from <lab run dir> [--step N])
       npm run torch -- finish --run-dir <dir> [--bundle <file.zip>]
       npm run torch -- parity --run-dir <lab run dir> [--steps N] [--nproc K] [--python python3]`;

/** torch/train.py: in the repository this module runs from (found upwards: the CLI runs bundled), else the working directory's. */
export function torchTrainer(): string {
	for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir))
		if (existsSync(join(dir, 'torch', 'train.py')) && existsSync(join(dir, 'package.json')))
			return join(dir, 'torch', 'train.py');
	const here = resolve('torch', 'train.py');
	if (!existsSync(here)) throw new Error(`torch/train.py is not found: run npm run torch from the repository's folder`);
	return here;
}

/** What torch/train.py reads beside run.json (torch/train.py's docstring). */
interface Handoff {
	/** The checkpoint file (in the run directory) training starts from. */
	checkpoint: string;
	/** The training traces as token ids, in dataset order, with their prompt length. */
	examples: { ids: number[]; prompt_length: number }[];
	/** The padding id. */
	pad: number;
	/** The model's vocabulary size. */
	vocab_size: number;
	/** Whether LoRA adapters train (the checkpoint holds only them). */
	lora: boolean;
	/** A LoRA run's frozen base: the imported model's model.safetensors (absolute path). */
	base_model: string | null;
}

export async function torchCommand(argv: string[], io: CliIo): Promise<number> {
	const [sub, ...rest] = argv;
	if (sub === 'prepare') return prepareCommand(rest, io);
	if (sub === 'finish') return finishCommand(rest, io);
	if (sub === 'parity') return parityCommand(rest, io);
	throw new UsageError(USAGE);
}

// ---------------------------------------------------------------------------------------- prepare

async function prepareCommand(argv: string[], io: CliIo): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			out: { type: 'string' },
			config: { type: 'string' },
			from: { type: 'string' },
			step: { type: 'string' },
			'models-dir': { type: 'string', default: MODELS_DIR }
		},
		strict: true
	});
	if (!values.out) throw new UsageError(`--out <new run directory> is required\n${USAGE}`);
	if (!values.config === !values.from)
		throw new UsageError(`give either --config <yaml> or --from <lab run dir>\n${USAGE}`);
	if (values.step !== undefined && !values.from) throw new UsageError('--step goes with --from');
	const step = values.step === undefined ? null : Number(values.step);
	if (step !== null && (!Number.isInteger(step) || step < 0))
		throw new UsageError(`--step must be a checkpoint's step (0: the start), got "${values.step}"`);
	const from = values.from ? new RunDir(values.from) : null;
	const run = from ? readRunOf(from) : newRun(loadConfig(values.config!));
	const at = await prepare(run, from, step, new RunDir(values.out), values['models-dir']!);
	io.err(
		`prepared ${values.out} from ${at === 0 ? 'the start (step 0)' : `the checkpoint at step ${at}`}; now:\n` +
			`  torchrun --standalone --nproc_per_node <N> torch/train.py --run-dir ${values.out}\n` +
			`  npm run torch -- finish --run-dir ${values.out}\n`
	);
	return 0;
}

function readRunOf(dir: RunDir): RunRecord {
	const run = dir.readRun();
	if (!run)
		throw new Error(`${dir.path('run.json')} does not exist: --from takes a lab run directory (an unzipped bundle)`);
	return run;
}

function newRun(config: LabConfig): RunRecord {
	const dataset = loadDataset(config.data.dataset);
	return newRunRecord(
		config,
		dataset.manifest,
		config.data.eval_datasets.map((k) => loadDataset(k).manifest)
	);
}

/**
 * Writes the run directory torch/train.py trains: from `run`'s checkpoint at `step` (null: its
 * newest; 0: the start), its history up to there. Returns the step it starts from.
 */
async function prepare(
	run: RunRecord,
	from: RunDir | null,
	step: number | null,
	out: RunDir,
	modelsDir: string
): Promise<number> {
	if (out.hasRun()) throw new Error(`${out.dir} already holds a run: give --out a new directory`);
	const config = run.config;
	if (pretrainedName(config) === null && finetuneOf(config) === 'lora') throw new Error('a LoRA run needs model.init');
	const dataset = loadDataset(config.data.dataset);
	const base = baseModelFor(config, modelsDir);
	const steps = from ? from.steps() : [];
	const at = step ?? steps.at(-1) ?? 0;
	if (at > 0 && !steps.includes(at))
		throw new Error(`${from!.dir} has no checkpoint at step ${at} (it has ${steps.join(', ') || 'none'})`);
	ensureWritableDir(out.dir);
	let bytes: Uint8Array;
	if (at === 0) {
		// step 0: the weights, zero moments and data order a run starts from (what trainRun would train)
		await useNodeBackend('cpu');
		const trainer = new Trainer(config, dataset, undefined, base);
		try {
			bytes = encodeCheckpoint(await trainer.snapshot());
		} finally {
			trainer.dispose();
		}
	} else bytes = await from!.readCheckpoint(at);
	const ck = decodeCheckpoint(bytes); // hashes checked: a damaged checkpoint is refused here
	if (ck.m.size === 0) throw new Error(`the checkpoint at step ${at} holds no optimizer state: it cannot be continued`);
	const tokenizer = runTokenizer(dataset, base, at === 0 ? undefined : ck);
	const handoff: Handoff = {
		checkpoint: checkpointFileName(at),
		examples: encodedTraces(config, dataset, tokenizer).map((e) => ({ ids: e.ids, prompt_length: e.promptLength })),
		pad: tokenizer.pad,
		vocab_size: base?.gpt.vocab_size ?? tokenizer.size,
		lora: finetuneOf(config) === 'lora',
		base_model:
			base && finetuneOf(config) === 'lora' ? resolve(modelsDir, pretrainedName(config)!, 'model.safetensors') : null
	};
	writeFileAtomic(out.path(handoff.checkpoint), bytes);
	writeFileAtomic(out.path('torch-handoff.json'), JSON.stringify(handoff));
	const history = from && at > 0 ? from.allMetrics().training.filter((m) => m.step <= at) : [];
	if (history.length > 0) await out.appendMetrics(history);
	await out.saveRun(continued(run, from, at));
	return at;
}

/**
 * The record of the run PyTorch trains: a new run (its own id, so that it imports beside the lab's
 * original) with the original's name, history and provenance, pending until it trains.
 */
function continued(run: RunRecord, from: RunDir | null, at: number): RunRecord {
	if (!from) return run;
	const next = newRunRecord(run.config, run.datasets.train, run.datasets.eval);
	return {
		...next,
		name: `${run.name} · PyTorch`,
		provenance: {
			...run.provenance,
			backend_notes: [...run.provenance.backend_notes, `continued from lab run ${run.id} at step ${at}`]
		},
		checkpoints: run.checkpoints.filter((c) => c.step === at),
		summary: { ...next.summary, steps_done: at },
		events: run.events
	};
}

// ----------------------------------------------------------------------------------------- finish

/** torch/train.py's torch.json: where and what it trained. */
interface TorchJson extends TorchRuntime {
	/** The step it started from and the step it reached. */
	from_step: number;
	to_step: number;
	/** gloo, nccl, or null for one process. */
	process_group: string | null;
}

function readTorchJson(dir: RunDir): TorchJson {
	const p = dir.path('torch.json');
	if (!existsSync(p)) throw new Error(`${p} is missing: train the directory with torch/train.py first`);
	return JSON.parse(readFileSync(p, 'utf8')) as TorchJson;
}

async function finishCommand(argv: string[], io: CliIo): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			'run-dir': { type: 'string' },
			bundle: { type: 'string' },
			backend: { type: 'string', default: 'wasm' },
			'models-dir': { type: 'string', default: MODELS_DIR }
		},
		strict: true
	});
	if (!values['run-dir']) throw new UsageError(`--run-dir <dir> is required\n${USAGE}`);
	if (!NODE_BACKENDS.includes(values.backend as NodeBackend))
		throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}, got "${values.backend}"`);
	const dir = new RunDir(values['run-dir']);
	const run = readRunOf(dir);
	const torch = readTorchJson(dir);
	const config = run.config;
	if (!can(run.status, 'start') && !can(run.status, 'resume'))
		throw new Error(
			`${dir.dir}: the run is ${run.status}; finish takes a run that torch/train.py trained since prepare (it was finished already?)`
		);
	record(run, dir, torch);
	const done = torch.to_step >= config.train.steps;
	await useNodeBackend(values.backend as NodeBackend);
	if (done) {
		run.status = transition(run.status, 'training_done');
		run.error = null;
	} else {
		run.status = transition(run.status, 'interrupt');
		run.error = `trained to step ${torch.to_step} of ${config.train.steps} in PyTorch; resume continues from step ${torch.to_step}`;
	}
	await dir.saveRun(run);
	await evaluateRun({
		storage: dir,
		run,
		datasets: runDatasets(run),
		base: baseModelFor(config, values['models-dir']),
		hooks: { onEvalProgress: ({ step, dataset }) => io.err(`evaluating step ${step} on ${dataset}\n`) }
	});
	const bundle = values.bundle ?? `${resolve(dir.dir)}.zip`;
	writeFileAtomic(bundle, runBundle(dir, run));
	io.err(`${run.id} is ${run.status}: ${dir.dir} (run.json, eval.json); import ${bundle} in the lab (Runs → Import)\n`);
	return 0;
}

/** The run record after torch/train.py: its checkpoints (keep_last), summary, provenance and event. */
function record(run: RunRecord, dir: RunDir, torch: TorchJson): void {
	const config = run.config;
	const training = dir.allMetrics().training;
	const steps = dir.steps();
	const keep = new Set(steps.slice(-config.checkpoint.keep_last));
	for (const s of steps) if (!keep.has(s)) rmSync(dir.path(checkpointFileName(s)));
	run.checkpoints = [...keep].map((step) => {
		const file = checkpointFileName(step);
		const st = statSync(dir.path(file));
		return { step, file, bytes: st.size, created: st.mtime.toISOString() };
	});
	const losses = training.map((m) => m.loss);
	run.summary = {
		...run.summary,
		...lossSummary(losses),
		steps_done: torch.to_step,
		health: runHealth(losses, false, null, config)
	};
	const where = `PyTorch ${torch.torch_version} (${torch.world_size} process${torch.world_size === 1 ? '' : 'es'}${torch.process_group ? `, ${torch.process_group}` : ''}, ${torch.device})`;
	run.provenance = {
		...run.provenance,
		runtime: where,
		model_ops: 'PyTorch, float32',
		backend_notes: [
			...run.provenance.backend_notes,
			`steps ${torch.from_step + 1}–${torch.to_step} trained in ${where}`
		]
	};
	if (torch.from_step > 0) run.events = [...(run.events ?? []), resumedEvent(torch.from_step, 'torch')];
	run.started ??= new Date().toISOString();
	// prepared runs are pending (new) or as they were (continued): now they have trained
	if (can(run.status, 'start')) run.status = transition(run.status, 'start');
	else if (can(run.status, 'resume')) run.status = transition(run.status, 'resume');
}

/** The run as a bundle the lab imports: its files in a folder named after the run id. */
function runBundle(dir: RunDir, run: RunRecord): Uint8Array {
	const entries: Record<string, Uint8Array> = { [`${run.id}/run.json`]: strToU8(runJsonText(run)) };
	for (const f of ['metrics.jsonl', 'eval.json'])
		if (existsSync(dir.path(f))) entries[`${run.id}/${f}`] = new Uint8Array(readFileSync(dir.path(f)));
	for (const c of run.checkpoints) entries[`${run.id}/${c.file}`] = new Uint8Array(readFileSync(dir.path(c.file)));
	return zipSync(entries, { level: 6 });
}

// ----------------------------------------------------------------------------------------- parity

async function parityCommand(argv: string[], io: CliIo): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			'run-dir': { type: 'string' },
			steps: { type: 'string' },
			nproc: { type: 'string', default: '1' },
			python: { type: 'string', default: 'python3' },
			against: { type: 'string' },
			'models-dir': { type: 'string', default: MODELS_DIR }
		},
		strict: true
	});
	if (!values['run-dir']) throw new UsageError(`--run-dir <lab run dir> is required\n${USAGE}`);
	const lab = new RunDir(values['run-dir']);
	const run = readRunOf(lab);
	const trained = lab.allMetrics().training;
	if (trained.length === 0)
		throw new Error(`${lab.path('metrics.jsonl')} holds no training steps: there is nothing to replay`);
	const steps = values.steps === undefined ? Math.min(20, trained.length) : Number(values.steps);
	if (!Number.isInteger(steps) || steps < 1)
		throw new UsageError(`--steps must be a positive integer, got "${values.steps}"`);
	const nproc = Number(values.nproc);
	if (!Number.isInteger(nproc) || nproc < 1)
		throw new UsageError(`--nproc must be a positive integer, got "${values.nproc}"`);
	const c = run.config;
	if (c.model.dropout > 0 || (finetuneOf(c) === 'lora' && (c.lora?.dropout ?? 0) > 0))
		throw new Error(
			'parity needs a run without dropout (model.dropout and lora.dropout 0): the lab and PyTorch draw dropout masks differently, so their losses differ by design'
		);
	let replay = values.against ? new RunDir(values.against) : null;
	let work: string | null = null;
	if (!replay) {
		work = mkdtempSync(join(tmpdir(), 'lab-parity-'));
		replay = new RunDir(join(work, basename(lab.dir)));
		await prepare(run, lab, 0, replay, values['models-dir']!);
		io.err(`replaying steps 1–${steps} of ${run.id} in PyTorch on ${nproc} process${nproc === 1 ? '' : 'es'}\n`);
		runTorch(values.python!, nproc, replay.dir, steps);
	}
	try {
		const parity = compareParity(trained, readTorchMetrics(replay), steps, readTorchJson(replay));
		writeFileAtomic(lab.path('parity.json'), JSON.stringify(parity, null, 2) + '\n');
		run.parity = parity;
		await lab.saveRun(run);
		io.err(`${paritySentence(parity)}\nwrote ${lab.path('parity.json')}\n`);
		return parity.passed ? 0 : 1;
	} finally {
		if (work) rmSync(work, { recursive: true, force: true });
	}
}

function readTorchMetrics(dir: RunDir) {
	const p = dir.path('metrics.jsonl');
	return existsSync(p) ? parseMetricsJsonl(readFileSync(p, 'utf8'), p).training : [];
}

/** Runs torch/train.py on `nproc` processes (torchrun's launcher, the same Python) until `steps`. */
function runTorch(python: string, nproc: number, runDir: string, steps: number): void {
	const train = [torchTrainer(), '--run-dir', runDir, '--steps', String(steps), '--quiet'];
	// --redirects/--tee 1: torchrun 1.13 on Python 3.11 fails on its defaults ("0") before it starts
	// a process (docs/torch.md); stdout goes to its log and the console, as the defaults would
	const launch = [
		'-m',
		'torch.distributed.run',
		'--standalone',
		`--nproc_per_node=${nproc}`,
		'--redirects',
		'1',
		'--tee',
		'1'
	];
	const args = nproc === 1 ? train : [...launch, ...train];
	const result = spawnSync(python, args, {
		stdio: ['ignore', 'inherit', 'inherit'],
		env: { ...process.env, OMP_NUM_THREADS: '1' }
	});
	if (result.error)
		throw new Error(
			`could not start ${python} (${result.error.message}): install PyTorch (pip install torch, or Debian's python3-torch) or pass --python`
		);
	if (result.status !== 0)
		throw new Error(`torch/train.py ended with exit code ${result.status} (its output is above)`);
}
