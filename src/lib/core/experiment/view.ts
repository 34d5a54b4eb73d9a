// What the Experiment page shows, computed from an experiment and its runs' records and metrics
// (read from IndexedDB, or from an experiment bundle opened read-only): its arms, each arm's
// curves as a mean with a band, the final scores per arm with 95% intervals (the CLI sweep's own
// summary), the config keys that differ between arms, and the metrics table to export.

import type { EvalLine } from '../eval/evalJson';
import { debiasedEma } from '../run/lossStats';
import { flatConfig, type Cell, type RunMetrics } from '../export/metricsTable';
import type { RunRecord } from '../run/record';
import type { StepMetrics } from '../train/metrics';
import { finalScores, summariseSweep, type ArmSummary, type Range } from './aggregate';
import { armCurve, type ArmCurve, type BandKind } from './bands';
import type { ExperimentRecord } from './experiment';
import { configForPoint } from './grid';
import { parseConfig } from '../config';

/** An experiment with everything stored for its runs. */
export interface ExperimentView {
	experiment: ExperimentRecord;
	/** Its runs by id (a run deleted by hand is absent). */
	runs: Map<string, RunRecord>;
	/** Training lines by run id, in step order. */
	training: Map<string, StepMetrics[]>;
	/** Evaluation lines by run id. */
	evaluation: Map<string, EvalLine[]>;
}

export interface Arm {
	/** e.g. "train.lr=0.001" ("(all)" when only the seed varies). */
	name: string;
	/** The arm's grid values (every axis but run.seed). */
	values: Record<string, string | number | boolean | null>;
	/** Its runs that exist, in queue order. */
	runIds: string[];
	/** Its points, queued or not. */
	points: number;
}

/** The arms in the order their first point is queued. */
export function armsOf(view: ExperimentView): Arm[] {
	const arms = new Map<string, Arm>();
	for (const p of view.experiment.points) {
		const values = Object.fromEntries(Object.entries(p.values).filter(([k]) => k !== 'run.seed'));
		const arm = arms.get(p.arm) ?? { name: p.arm, values, runIds: [], points: 0 };
		arm.points += 1;
		if (p.run_id && view.runs.has(p.run_id)) arm.runIds.push(p.run_id);
		arms.set(p.arm, arm);
	}
	return [...arms.values()];
}

/**
 * The final scores per arm over its completed runs: the same summary as `npm run sweep`, with each
 * evaluation under its role (evalRoles), so arms that train on different datasets (an ablation)
 * are compared on one row per role: "add3-steps-heldout / add3-no-steps-heldout accuracy".
 */
export function finalSummary(view: ExperimentView): ArmSummary[] {
	const roles = evalRoles(view);
	const done = view.experiment.points.flatMap((p) => {
		const run = p.run_id ? view.runs.get(p.run_id) : undefined;
		return run?.status === 'completed' ? [{ name: p.name, arm: p.arm, scores: roleScores(run, roles) }] : [];
	});
	return summariseSweep(done);
}

/** A run's final scores (aggregate.ts finalScores) with each dataset's named by its role's label. */
function roleScores(run: RunRecord, roles: EvalRole[]): Record<string, number> {
	const scores = finalScores(run);
	const out: Record<string, number> = {};
	for (const [name, value] of Object.entries(scores)) {
		const role = roles.find((r) => {
			const key = r.datasetOf.get(run.id);
			return key !== undefined && (name === `${key} accuracy` || name === `${key} format rate`);
		});
		out[role ? name.replace(role.datasetOf.get(run.id)!, role.label) : name] = value;
	}
	return out;
}

/** One chart's x and each arm's curve. */
export interface ArmCurves {
	x: number[];
	arms: { arm: Arm; curve: ArmCurve }[];
}

/**
 * Curves already computed, so that a page following a training queue recomputes only the arms whose
 * runs changed: an arm's curve is kept under its inputs — what is plotted, the band, the x and the
 * identity of each run's lines (a reader hands an unchanged run's lines back as the same array).
 */
const curveMemo = new Map<string, ArmCurve>();
const identities = new WeakMap<object, number>();
let nextIdentity = 0;
const identity = (o: object) => identities.get(o) ?? (identities.set(o, ++nextIdentity), nextIdentity);

function curves(
	arms: Arm[],
	valuesOf: (runId: string) => Map<number, number>,
	kind: BandKind,
	range: Range,
	/** What is plotted (e.g. "loss 0.6"), and each run's lines it is computed from. */
	memo: { what: string; source: (runId: string) => object }
): ArmCurves {
	const perArm = arms.map((arm) => ({ arm, runs: arm.runIds.map(valuesOf) }));
	const x = [...new Set(perArm.flatMap((a) => a.runs.flatMap((r) => [...r.keys()])))].sort((a, b) => a - b);
	const xKey = `${x.length}:${x.reduce((h, step) => (Math.imul(h, 31) + step) | 0, 7)}`; // the steps, hashed
	if (curveMemo.size > 2000) curveMemo.clear(); // a page's worth, not every page ever opened
	return {
		x,
		arms: perArm.map(({ arm, runs }) => {
			const key = [memo.what, kind, range, xKey, ...arm.runIds.map((id) => identity(memo.source(id)))].join('|');
			let curve = curveMemo.get(key);
			if (!curve) curveMemo.set(key, (curve = armCurve(runs, x, kind, range)));
			return { arm, curve };
		})
	};
}

/** Each run's smoothed losses by step, kept per lines array and smoothing (see curveMemo). */
const smoothedMemo = new WeakMap<StepMetrics[], Map<number, Map<number, number>>>();

/** A run's training losses smoothed (debiased EMA) by step. */
function smoothedLosses(lines: StepMetrics[], smoothing: number): Map<number, number> {
	const bySmoothing = smoothedMemo.get(lines) ?? new Map<number, Map<number, number>>();
	smoothedMemo.set(lines, bySmoothing);
	let out = bySmoothing.get(smoothing);
	if (!out) {
		const smoothed = debiasedEma(
			lines.map((m) => m.loss),
			smoothing
		);
		out = new Map(lines.map((m, i) => [m.step, smoothed[i]]));
		bySmoothing.set(smoothing, out);
	}
	return out;
}

/** The lines of a run that has none yet (one object, so its curves are kept too). */
const NO_LINES: StepMetrics[] = [];
const NO_EVAL: EvalLine[] = [];

/**
 * Training loss by step, per arm; each run's losses smoothed first (debiased EMA, the run page's
 * smoothing; 0 = raw), so the band shows the spread between runs rather than step-to-step noise.
 */
export function lossCurves(view: ExperimentView, kind: BandKind, smoothing = 0): ArmCurves {
	const lines = (id: string) => view.training.get(id) ?? NO_LINES;
	return curves(armsOf(view), (id) => smoothedLosses(lines(id), smoothing), kind, [0, Infinity], {
		what: `loss ${smoothing}`,
		source: lines
	});
}

/**
 * A dataset role that arms share: the training set, or the i-th evaluation set. Arms usually name
 * the same datasets; when they differ (an ablation of the traces), each arm's own set in that role
 * is compared, and the label lists them.
 */
export interface EvalRole {
	/** e.g. "golden-v2-heldout", or "add3-steps-heldout / add3-no-steps-heldout". */
	label: string;
	/** Each run's dataset key in this role. */
	datasetOf: Map<string, string>;
}

/** The roles with evaluations: the training set first, then the evaluation sets in config order. */
export function evalRoles(view: ExperimentView): EvalRole[] {
	// in arm order, so a label lists the arms' datasets as the legend lists the arms
	const runs = armsOf(view).flatMap((a) => a.runIds.map((id) => view.runs.get(id)!));
	const count = Math.max(0, ...runs.map((r) => 1 + r.config.data.eval_datasets.length));
	const roles: EvalRole[] = [];
	for (let i = 0; i < count; i++) {
		const datasetOf = new Map<string, string>();
		for (const r of runs) {
			const key = i === 0 ? r.config.data.dataset : r.config.data.eval_datasets[i - 1];
			if (key !== undefined && view.evaluation.get(r.id)?.some((l) => l.split === key)) datasetOf.set(r.id, key);
		}
		if (datasetOf.size > 0) roles.push({ label: [...new Set(datasetOf.values())].join(' / '), datasetOf });
	}
	return roles;
}

/** Answer accuracy in a role by evaluated step (0 = untrained), per arm. */
export function accuracyCurves(view: ExperimentView, role: EvalRole, kind: BandKind): ArmCurves {
	const lines = (id: string) => view.evaluation.get(id) ?? NO_EVAL;
	const of = (id: string) =>
		new Map(
			lines(id)
				.filter((l) => l.split === role.datasetOf.get(id))
				.map((l) => [l.step, l.answer_accuracy])
		);
	return curves(armsOf(view), of, kind, [0, 1], { what: `accuracy ${role.label}`, source: lines });
}

/** Keys that never tell arms apart: the seed is a repeat, the name a label. */
const NOT_A_DIFFERENCE = new Set(['run.seed', 'run.name']);

/**
 * The config keys that differ between arms, with each arm's value: from the configs its runs
 * actually used (its first run), or its grid values while none has started. The grid's keys are
 * always listed; other keys when the runs' configs differ in them (an imported experiment).
 */
export function armDiff(view: ExperimentView): { keys: string[]; arms: (Arm & { config: Record<string, Cell> })[] } {
	const arms = armsOf(view).map((arm) => {
		const run = arm.runIds.length ? view.runs.get(arm.runIds[0]) : undefined;
		return { ...arm, config: run ? flatConfig(run.config) : plannedConfig(view.experiment, arm) };
	});
	const keys = view.experiment.axes.map((a) => a.key).filter((k) => !NOT_A_DIFFERENCE.has(k));
	const seen = [...new Set(arms.flatMap((a) => Object.keys(a.config)))];
	for (const k of seen)
		if (!keys.includes(k) && !NOT_A_DIFFERENCE.has(k) && new Set(arms.map((a) => String(a.config[k]))).size > 1)
			keys.push(k);
	return { keys, arms };
}

/** An arm's config before any of its runs exists: the experiment's base with its grid values. */
function plannedConfig(e: ExperimentRecord, arm: Arm): Record<string, Cell> {
	const point = e.points.find((p) => p.arm === arm.name);
	try {
		return point ? flatConfig(parseConfig(configForPoint(e.base_yaml, point))) : (arm.values as Record<string, Cell>);
	} catch {
		return arm.values as Record<string, Cell>; // a config its run would refuse: the grid values say what differs
	}
}

/** The experiment's runs for the metrics table, each with its arm. */
export function tableRuns(view: ExperimentView): RunMetrics[] {
	return view.experiment.points.flatMap((p) => {
		const run = p.run_id ? view.runs.get(p.run_id) : undefined;
		if (!run) return [];
		return [
			{
				run,
				training: view.training.get(run.id) ?? [],
				evaluation: view.evaluation.get(run.id) ?? [],
				experiment: { name: view.experiment.name, arm: p.arm }
			}
		];
	});
}
