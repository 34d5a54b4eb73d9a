// What the Compare page overlays (issue: every screen true): any training metric, smoothed, or any
// evaluation metric per dataset, for several runs on one step axis. Pages draw what this returns.

import type { EvalLine } from '../eval/evalJson';
import type { StepMetrics } from '../train/metrics';
import { debiasedEma } from './lossStats';

/** A metric the Compare page can draw. */
export interface CompareMetric {
	/** Stable id (the select's value and the address's ?metric=). */
	id: string;
	/** What the chart and the select call it. */
	label: string;
	/** The y axis label. */
	unit: string;
	/** A training line's field, or an evaluation line's field on one dataset. */
	source:
		| { kind: 'training'; field: 'loss' | 'lr' | 'grad_norm' | 'tokens_per_s' }
		| { kind: 'eval'; dataset: string; field: 'loss' | 'answer_accuracy' | 'format_rate' };
	/** A log scale suits it (losses); never for shares of 0–100%. */
	logY: boolean;
	/** Values are shares (drawn 0–1, shown as percentages). */
	share: boolean;
}

const TRAINING: CompareMetric[] = [
	{
		id: 'loss',
		label: 'Training loss',
		unit: 'loss (nats/token)',
		source: { kind: 'training', field: 'loss' },
		logY: true,
		share: false
	},
	{
		id: 'lr',
		label: 'Learning rate',
		unit: 'learning rate',
		source: { kind: 'training', field: 'lr' },
		logY: false,
		share: false
	},
	{
		id: 'grad_norm',
		label: 'Gradient norm',
		unit: 'gradient norm',
		source: { kind: 'training', field: 'grad_norm' },
		logY: true,
		share: false
	},
	{
		id: 'tokens_per_s',
		label: 'Tokens per second',
		unit: 'tokens/s',
		source: { kind: 'training', field: 'tokens_per_s' },
		logY: false,
		share: false
	}
];

/** The metrics for runs evaluated on `datasets`: the training ones, then each dataset's loss, accuracy and format rate. */
export function compareMetrics(datasets: readonly string[]): CompareMetric[] {
	return [
		...TRAINING,
		...datasets.flatMap((d): CompareMetric[] => [
			{
				id: `${d}:loss`,
				label: `${d} · evaluation loss`,
				unit: 'loss (nats/token)',
				source: { kind: 'eval', dataset: d, field: 'loss' },
				logY: true,
				share: false
			},
			{
				id: `${d}:answer_accuracy`,
				label: `${d} · answer accuracy`,
				unit: 'accuracy',
				source: { kind: 'eval', dataset: d, field: 'answer_accuracy' },
				logY: false,
				share: true
			},
			{
				id: `${d}:format_rate`,
				label: `${d} · format rate`,
				unit: 'format rate',
				source: { kind: 'eval', dataset: d, field: 'format_rate' },
				logY: false,
				share: true
			}
		])
	];
}

/** One run's metrics as stored. */
export interface RunCurves {
	training: readonly StepMetrics[];
	evaluation: readonly EvalLine[];
}

/**
 * Every run's values of `metric` on one step axis (the union of their steps; null where a run has
 * none). Training metrics are smoothed with the debiased EMA at `smoothing` (0: raw);
 * evaluations, a few points each, are drawn as they are.
 */
export function compareSeries(
	runs: readonly RunCurves[],
	metric: CompareMetric,
	smoothing: number
): { x: number[]; values: (number | null)[][] } {
	const points = runs.map((r): [number, number][] => {
		const src = metric.source;
		if (src.kind === 'training') {
			const ys = debiasedEma(
				r.training.map((m) => m[src.field]),
				smoothing
			);
			return r.training.map((m, i) => [m.step, ys[i]]);
		}
		return r.evaluation.filter((e) => e.split === src.dataset).map((e) => [e.step, e[src.field]]);
	});
	const x = [...new Set(points.flatMap((p) => p.map(([s]) => s)))].sort((a, b) => a - b);
	const values = points.map((p) => {
		const byStep = new Map(p);
		return x.map((s) => byStep.get(s) ?? null);
	});
	return { x, values };
}
