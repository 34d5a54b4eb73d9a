// An experiment (docs/specification.md §11): a sweep queued in the lab. A base config, the grid
// axes over it, and one point per combination; each point becomes a run when the queue reaches
// it. The record is the queue: its points in the order they run, and whether it runs, is paused
// or was cancelled. The worker drives it (src/lib/worker/experiments.ts); pages read it.

import * as v from 'valibot';
import { RUN_ID, type RunRecord } from '../run/record';
import { isLive } from '../run/status';
import { checked, text } from '../schema';
import { expandGrid, parseGridAxis, type GridAxis } from './grid';

/** What the queue does with an experiment. */
export const EXPERIMENT_STATES = ['running', 'paused', 'cancelled'] as const;
export type ExperimentState = (typeof EXPERIMENT_STATES)[number];

/** The most runs one experiment queues (a grid beyond it is a typo more often than a plan). */
export const MAX_POINTS = 500;

const unique = (xs: string[]) => new Set(xs).size === xs.length;

/** A grid value as YAML reads it. */
const GridValueSchema = v.union([v.string(), v.number(), v.boolean(), v.null()]);

const PointSchema = v.object({
	/** Its values, e.g. "run.seed=1,train.lr=0.001". */
	name: text(),
	/** Its arm: every value but the seed. */
	arm: text(),
	/** `group.key` → value. */
	values: v.record(v.string(), GridValueSchema),
	/** Its run, once the queue has created it. */
	run_id: v.nullable(v.pipe(v.string(), v.regex(RUN_ID))),
	/** Why the run could not be created (its config is refused), or null. */
	error: v.nullable(v.string()),
	/** True when a pause (or full storage) stopped its run: the queue resumes it when the experiment runs again. */
	resume: v.boolean()
});
export type ExperimentPoint = v.InferOutput<typeof PointSchema>;

/** An experiment as stored, exported (experiment.json) and imported. */
export const ExperimentSchema = v.object({
	id: v.pipe(v.string(), v.regex(RUN_ID, 'must be 1..128 letters, digits, "-", "_" or "."')),
	name: v.pipe(text(), v.maxLength(200, 'must be at most 200 characters')),
	/** ISO time it was queued. */
	created: v.string(),
	/** The config file the base YAML came from, for messages. */
	config_name: v.string(),
	/** The base config's YAML; each point sets its values on it. */
	base_yaml: v.string(),
	/** The grid, as the user wrote it: `group.key` and its values. */
	axes: v.pipe(
		v.array(v.object({ key: v.string(), values: v.array(GridValueSchema) })),
		v.check((as) => unique(as.map((a) => a.key)), 'names a key twice')
	),
	state: v.picklist(EXPERIMENT_STATES),
	/** Why the queue paused itself (storage full), shown until it is continued; absent when paused by hand. */
	paused_reason: v.optional(v.nullable(v.string())),
	/** In queue order; each name and each run once. */
	points: v.pipe(
		v.array(PointSchema),
		v.minLength(1, 'must hold at least one point'),
		v.maxLength(MAX_POINTS, `must hold at most ${MAX_POINTS} points`),
		v.check((ps) => unique(ps.map((p) => p.name)), 'names a point twice'),
		v.check((ps) => unique(ps.flatMap((p) => (p.run_id ? [p.run_id] : []))), 'names a run under two points')
	)
});
export type ExperimentRecord = v.InferOutput<typeof ExperimentSchema>;

/** The grid from text: one axis per line, `group.key = v1, v2, …` (blank lines skipped). */
export function parseGridText(gridText: string): GridAxis[] {
	const lines = gridText
		.split('\n')
		.map((l) => l.trim())
		.filter((l) => l !== '' && !l.startsWith('#'));
	if (lines.length === 0) throw new Error('write at least one line such as run.seed = 1, 2, 3');
	const axes = lines.map((l) => parseGridAxis(l.replace(/\s*=\s*/, '=')));
	const keys = axes.map((a) => a.path.join('.'));
	const twice = keys.find((k, i) => keys.indexOf(k) !== i);
	if (twice) throw new Error(`${twice} names a key twice: list all its values on one line`);
	return axes;
}

/** A new experiment in state running, its points in grid order (the first axis varies slowest). */
export function newExperiment(
	name: string,
	configName: string,
	baseYaml: string,
	axes: GridAxis[],
	created = new Date().toISOString(),
	random: () => number = Math.random
): ExperimentRecord {
	const stamp = created.replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
	const points = expandGrid(axes);
	if (points.length > MAX_POINTS) throw new Error(`${points.length} runs: a sweep holds at most ${MAX_POINTS}`);
	const record: ExperimentRecord = {
		id: `exp-${stamp}-${random().toString(36).slice(2, 6)}`,
		name,
		created,
		config_name: configName,
		base_yaml: baseYaml,
		axes: axes.map((a) => ({ key: a.path.join('.'), values: a.values as (string | number | boolean | null)[] })),
		state: 'running',
		points: points.map((p) => ({
			name: p.name,
			arm: p.arm,
			values: p.values as Record<string, string | number | boolean | null>,
			run_id: null,
			error: null,
			resume: false
		}))
	};
	return checked(ExperimentSchema, record, 'the sweep');
}

/**
 * Where a point stands: waiting, its run's status, paused (its run stopped by a pause, continued
 * with the queue), refused, or skipped by a cancel.
 */
export type PointStatus = 'queued' | 'refused' | 'skipped' | 'paused' | RunRecord['status'];

export function pointStatus(e: ExperimentRecord, p: ExperimentPoint, run: RunRecord | undefined): PointStatus {
	if (p.error !== null) return 'refused';
	if (p.run_id === null) return e.state === 'cancelled' ? 'skipped' : 'queued';
	if (run?.status === 'cancelled' && p.resume && e.state !== 'cancelled') return 'paused';
	return run?.status ?? 'skipped'; // a run deleted by hand is skipped
}

/** What a point needs from the queue: start: create its run; train: a pending run; resume: a cut-off run; wait: its run still claims to be live. */
export type PointWork = 'start' | 'train' | 'resume' | 'wait';

/**
 * The one rule for what a point needs, whatever the experiment's state (null: nothing, it has
 * ended). A run cut off by a closed tab or a pause, or cancelled before it ever started (a closed
 * tab's pending run), is continued; a run cancelled by hand after it started stays cancelled.
 */
export function pointWork(p: ExperimentPoint, run: RunRecord | undefined): PointWork | null {
	if (p.error !== null) return null;
	if (p.run_id === null) return 'start';
	if (!run) return null; // deleted by hand
	if (run.status === 'pending') return 'train';
	// a closed tab's live run is marked interrupted once its lock is free (storage/reconcile.ts)
	if (isLive(run.status)) return 'wait';
	if (run.status === 'interrupted') return 'resume';
	if (run.status === 'cancelled' && (p.resume || run.started === null)) return 'resume';
	if (run.status === 'training_failed' && p.resume) return 'resume'; // storage was full (afterRun)
	return null;
}

/** What the queue records once a point's run has stopped. */
export interface AfterRun {
	/** Continue this run when the queue goes on (point.resume). */
	resume: boolean;
	/** Pause the whole queue with this reason (null: go on with the next point). */
	pause: string | null;
}

/**
 * The queue's one rule for a run that stopped: a run stopped by a pause is continued later; a run
 * that failed because storage was full pauses the queue with the reason (every later point would
 * fail the same way) and is continued when the queue is.
 */
export function afterRun(run: RunRecord, stoppedByPause: boolean): AfterRun {
	if (run.error_kind === 'storage-full')
		return { resume: true, pause: `${run.error ?? 'Storage full'} Continue the queue once there is room.` };
	return { resume: stoppedByPause && run.status === 'cancelled', pause: null };
}

export type NextWork = { index: number; action: PointWork } | null;

/**
 * The first point that needs work, in queue order: runs already made first (so runs finish in
 * order), then the first point without a run. Null when the experiment is paused, cancelled or
 * has nothing left.
 */
export function nextWork(e: ExperimentRecord, runs: Map<string, RunRecord>): NextWork {
	if (e.state !== 'running') return null;
	const work = e.points.map((p) => pointWork(p, p.run_id ? runs.get(p.run_id) : undefined));
	const index = work.findIndex((w) => w !== null && w !== 'start');
	if (index >= 0) return { index, action: work[index]! };
	const start = work.indexOf('start');
	return start < 0 ? null : { index: start, action: 'start' };
}

/**
 * True when no point needs work: each is refused, skipped, or its run ended. A cancelled
 * experiment is finished once no run of it is live.
 */
export function experimentFinished(e: ExperimentRecord, runs: Map<string, RunRecord>): boolean {
	return e.points.every((p) => {
		const work = pointWork(p, p.run_id ? runs.get(p.run_id) : undefined);
		return work === null || (e.state === 'cancelled' && work !== 'wait');
	});
}

/** What an experiment is doing, as every page says it: its state, or finished once no point needs work. */
export type ExperimentStatus = 'running' | 'paused' | 'cancelled' | 'finished';

/** The one answer to "what is this experiment doing" (the Experiment, Runs and lab pages all ask it). */
export function experimentStatus(e: ExperimentRecord, runs: Map<string, RunRecord>): ExperimentStatus {
	return experimentFinished(e, runs) ? 'finished' : e.state;
}

/** The experiment with queued point `from` moved to `to`: only among points not started, never past one that has. */
export function reorderPoint(e: ExperimentRecord, from: number, to: number): ExperimentRecord {
	const points = [...e.points];
	const [lo, hi] = [Math.min(from, to), Math.max(from, to)];
	if (lo < 0 || hi >= points.length || points.slice(lo, hi + 1).some((p) => p.run_id !== null || p.error !== null))
		throw new Error('only runs that have not started can be moved, and only among each other');
	const [moved] = points.splice(from, 1);
	points.splice(to, 0, moved);
	return { ...e, points };
}
