// An experiment (docs/specification.md §11): a sweep queued in the lab. A base config, the grid
// axes over it, and one point per combination; each point becomes a run when the queue reaches
// it. The record is the queue: its points in the order they run, and whether it runs, is paused
// or was cancelled. The worker drives it (src/lib/worker/experiments.ts); pages read it.

import * as v from 'valibot';
import { RUN_ID, type RunRecord } from '../run/record';
import { isLive, isTerminal } from '../run/status';
import { text } from '../schema';
import { expandGrid, parseGridAxis, type GridAxis } from './grid';

/** What the queue does with an experiment. */
export const EXPERIMENT_STATES = ['running', 'paused', 'cancelled'] as const;
export type ExperimentState = (typeof EXPERIMENT_STATES)[number];

/** A grid value as YAML reads it. */
const GridValueSchema = v.union([v.string(), v.number(), v.boolean()]);

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
	/** True when a pause stopped its run: the queue resumes it when the experiment runs again. */
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
	axes: v.array(v.object({ key: v.string(), values: v.array(GridValueSchema) })),
	state: v.picklist(EXPERIMENT_STATES),
	/** In queue order. */
	points: v.pipe(v.array(PointSchema), v.minLength(1, 'must hold at least one point'))
});
export type ExperimentRecord = v.InferOutput<typeof ExperimentSchema>;

/** The most runs one experiment queues (a grid beyond it is a typo more often than a plan). */
export const MAX_POINTS = 500;

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
	return {
		id: `exp-${stamp}-${random().toString(36).slice(2, 6)}`,
		name,
		created,
		config_name: configName,
		base_yaml: baseYaml,
		axes: axes.map((a) => ({ key: a.path.join('.'), values: a.values as (string | number | boolean)[] })),
		state: 'running',
		points: points.map((p) => ({
			name: p.name,
			arm: p.arm,
			values: p.values as Record<string, string | number | boolean>,
			run_id: null,
			error: null,
			resume: false
		}))
	};
}

/** Where a point stands: waiting, its run's status, refused, or skipped by a cancel. */
export type PointStatus = 'queued' | 'refused' | 'skipped' | RunRecord['status'];

export function pointStatus(e: ExperimentRecord, p: ExperimentPoint, run: RunRecord | undefined): PointStatus {
	if (p.error !== null) return 'refused';
	if (p.run_id === null) return e.state === 'cancelled' ? 'skipped' : 'queued';
	return run?.status ?? 'skipped'; // a run deleted by hand is skipped
}

/** What the queue does next for an experiment: start a point, continue one, or nothing. */
/** start: create its run; train: a pending run; resume: a cut-off run; wait: a run still says it is live. */
export type NextWork = { index: number; action: 'start' | 'train' | 'resume' | 'wait' } | null;

/**
 * The first point that needs work, in queue order: one whose run a closed tab or a pause cut off
 * (continued first, so runs finish in order), else the first never started. A run cancelled by
 * hand stays cancelled. Null when the experiment is paused, cancelled or has nothing left.
 */
export function nextWork(e: ExperimentRecord, runs: Map<string, RunRecord>): NextWork {
	if (e.state !== 'running') return null;
	for (const [index, p] of e.points.entries()) {
		if (p.run_id === null) continue;
		const run = runs.get(p.run_id);
		if (!run) continue;
		if (run.status === 'pending') return { index, action: 'train' };
		// a closed tab's run is marked interrupted once its lock is free (storage/reconcile.ts)
		if (isLive(run.status)) return { index, action: 'wait' };
		if (run.status === 'interrupted' || (run.status === 'cancelled' && p.resume)) return { index, action: 'resume' };
	}
	const index = e.points.findIndex((p) => p.run_id === null && p.error === null);
	return index < 0 ? null : { index, action: 'start' };
}

/** True when every point has ended: refused, skipped, or its run completed, failed or cancelled by hand. */
export function experimentFinished(e: ExperimentRecord, runs: Map<string, RunRecord>): boolean {
	return e.points.every((p) => {
		const status = pointStatus(e, p, p.run_id ? runs.get(p.run_id) : undefined);
		if (status === 'refused' || status === 'skipped') return true;
		if (status === 'queued' || status === 'interrupted' || isLive(status)) return false;
		return isTerminal(status) && !(status === 'cancelled' && p.resume && e.state !== 'cancelled');
	});
}

/** The experiment with queued point `from` moved to `to` (only points not yet started move). */
export function reorderPoint(e: ExperimentRecord, from: number, to: number): ExperimentRecord {
	const points = [...e.points];
	if (points[from]?.run_id !== null || points[to]?.run_id !== null)
		throw new Error('only runs that have not started can be moved in the queue');
	const [moved] = points.splice(from, 1);
	points.splice(to, 0, moved);
	return { ...e, points };
}
