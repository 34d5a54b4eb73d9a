// A sweep's summary: per arm (every grid value but the seed), the mean of each score across its
// runs with a 95% interval (Student's t over the runs: the spread between seeds, clipped to the
// score's range), and n runs.

import { csvText, type CsvCell } from '../export/csv';
import type { RunRecord } from '../run/record';

/** One finished run of a sweep: its arm and its final scores. */
export interface SweepRun {
	name: string;
	arm: string;
	/** Final scores, e.g. { 'golden-v2-heldout answer_accuracy': 0.93, 'final_loss': 0.05 }. */
	scores: Record<string, number>;
}

/** One arm's summary of one score. */
export interface ArmScore {
	mean: number;
	/** 95% interval of the mean across runs (t distribution); null with one run. */
	ci95: [number, number] | null;
	/** Runs in the arm. */
	n: number;
}

export interface ArmSummary {
	arm: string;
	runs: string[];
	scores: Record<string, ArmScore>;
}

/** Two-sided 97.5% quantiles of Student's t for 1–30 degrees of freedom (then the normal's). */
const T975 = [
	12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
	2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042
];
const t975 = (df: number) => (df <= 30 ? T975[df - 1] : 1.96);

/** The values a quantity can take: an interval is clipped to it (a loss is never below 0). */
export type Range = [number, number];

/** The range of a score by its name: accuracies and rates are shares, losses are not negative. */
export function scoreRange(key: string): Range {
	if (/(accuracy|format rate|answer_accuracy|format_rate)$/.test(key)) return [0, 1];
	if (/loss$/.test(key)) return [0, Infinity];
	return [-Infinity, Infinity];
}

/**
 * Mean and 95% t-interval of the mean of `xs`, clipped to `range` (the t interval is symmetric
 * and can cross a bound the quantity cannot: an accuracy above 1, a loss below 0).
 */
export function meanInterval(xs: number[], range: Range = [-Infinity, Infinity]): ArmScore {
	const n = xs.length;
	const mean = xs.reduce((a, b) => a + b, 0) / n;
	if (n < 2) return { mean, ci95: null, n };
	const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
	const half = (t975(n - 1) * sd) / Math.sqrt(n);
	return { mean, ci95: [Math.max(range[0], mean - half), Math.min(range[1], mean + half)], n };
}

/**
 * A finished run's final scores, as the sweep summary names them: the final training loss and,
 * per evaluation dataset, accuracy and format rate (the CLI's summary and the Experiment page).
 */
export function finalScores(run: RunRecord): Record<string, number> {
	const out: Record<string, number> = {};
	if (run.summary.final_loss !== null) out['final training loss'] = run.summary.final_loss;
	for (const [key, s] of Object.entries(run.summary.final_scores ?? {})) {
		out[`${key} accuracy`] = s.answer_accuracy;
		out[`${key} format rate`] = s.format_rate;
	}
	return out;
}

/** Runs grouped by arm (in first-seen order), each score summarised across the arm's runs. */
export function summariseSweep(runs: SweepRun[]): ArmSummary[] {
	const arms = new Map<string, SweepRun[]>();
	for (const r of runs) arms.set(r.arm, [...(arms.get(r.arm) ?? []), r]);
	return [...arms].map(([arm, rs]) => {
		const keys = [...new Set(rs.flatMap((r) => Object.keys(r.scores)))];
		const scores = Object.fromEntries(
			keys.map((k) => [
				k,
				meanInterval(
					rs.map((r) => r.scores[k]).filter((x) => Number.isFinite(x)),
					scoreRange(k)
				)
			])
		);
		return { arm, runs: rs.map((r) => r.name), scores };
	});
}

const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4).replace(/\.?0+$/, ''));

/** One summary cell as the CLI's summary.md and the Experiment page print it: mean [low, high]. */
export const scoreCell = (s: ArmScore | undefined) =>
	!s ? '—' : s.ci95 ? `${num(s.mean)} [${num(s.ci95[0])}, ${num(s.ci95[1])}]` : `${num(s.mean)}`;

/** The score keys of a summary, in first-seen order. */
export const scoreKeys = (summary: ArmSummary[]) => [...new Set(summary.flatMap((a) => Object.keys(a.scores)))];

/** The summary as a Markdown table: one row per arm, mean [95% interval] per score, n runs. */
export function sweepMarkdown(summary: ArmSummary[]): string {
	const keys = scoreKeys(summary);
	const cell = scoreCell;
	const rows = summary.map(
		(a) => `| ${a.arm} | ${a.runs.length} | ${keys.map((k) => cell(a.scores[k])).join(' | ')} |`
	);
	return [
		`| arm | runs | ${keys.join(' | ')} |`,
		`| --- | --- | ${keys.map(() => '---').join(' | ')} |`,
		...rows,
		'',
		'Each cell: the mean across the arm’s runs [95% interval of the mean, Student’s t across runs].',
		''
	].join('\n');
}

/** The summary as CSV: one row per (arm, score) with mean, interval bounds and n. */
export function sweepCsv(summary: ArmSummary[]): string {
	const lines: CsvCell[][] = [['arm', 'score', 'mean', 'ci95_low', 'ci95_high', 'n']];
	for (const a of summary)
		for (const [k, s] of Object.entries(a.scores)) lines.push([a.arm, k, s.mean, s.ci95?.[0], s.ci95?.[1], s.n]);
	return csvText(lines, '\n');
}
