// The Runs page as a runs table (issue: every screen true): its columns, what each shows and sorts
// by, the filter, and grouping by experiment. Pure: the page renders what this returns.

import { dateTime, percent, significant } from '../format';
import { wilson } from '../stats/wilson';
import type { RunRecord } from './record';
import { stepFacts, stepsText } from './steps';

/** A run as the table sees it: the record and the experiment it belongs to (null: none). */
export interface TableRun {
	run: RunRecord;
	/** The experiment's name, when the run is one of an experiment's. */
	experiment: string | null;
}

/** One column: what its cells say and how they sort. */
export interface RunColumn {
	/** Stable id (the column picker and the sort remember it). */
	id: string;
	/** The header. */
	label: string;
	/** A cell's text. */
	text(r: TableRun): string;
	/** What sorts: a number (null last) or text. */
	sortValue(r: TableRun): number | string | null;
	/** Shown unless the user hides it. */
	shownByDefault: boolean;
}

/** A share with its 95% Wilson interval: "58% (45–71%)". */
function scoreText(accuracy: number, n: number): string {
	const [low, high] = wilson(Math.round(accuracy * n), n);
	return `${percent(accuracy)} (${percent(low).slice(0, -1)}–${percent(high)})`;
}

/** The answer accuracy column of dataset `key` (the training set's or an evaluation set's). */
function scoreColumn(key: string): RunColumn {
	const of = (r: TableRun) => r.run.summary.final_scores?.[key];
	return {
		id: `score:${key}`,
		label: `${key} accuracy`,
		text: (r) => {
			const s = of(r);
			return s ? scoreText(s.answer_accuracy, s.n) : '—';
		},
		sortValue: (r) => of(r)?.answer_accuracy ?? null,
		shownByDefault: true
	};
}

const FIXED: RunColumn[] = [
	{
		id: 'name',
		label: 'Name',
		text: (r) => r.run.name,
		sortValue: (r) => r.run.name.toLowerCase(),
		shownByDefault: true
	},
	{
		id: 'experiment',
		label: 'Experiment',
		text: (r) => r.experiment ?? '—',
		sortValue: (r) => r.experiment?.toLowerCase() ?? null,
		shownByDefault: true
	},
	{
		id: 'dataset',
		label: 'Dataset',
		text: (r) => r.run.datasets.train.key,
		sortValue: (r) => r.run.datasets.train.key,
		shownByDefault: true
	},
	{ id: 'status', label: 'Status', text: (r) => r.run.status, sortValue: (r) => r.run.status, shownByDefault: true },
	{
		id: 'steps',
		label: 'Steps',
		text: (r) => stepsText(r.run),
		sortValue: (r) => stepFacts(r.run).trained,
		shownByDefault: true
	},
	{
		id: 'backend',
		label: 'Backend',
		text: (r) => r.run.provenance.backend || '—',
		sortValue: (r) => r.run.provenance.backend || null,
		shownByDefault: true
	},
	{
		id: 'final_loss',
		label: 'Final loss',
		text: (r) => (r.run.summary.final_loss === null ? '—' : significant(r.run.summary.final_loss, 3)),
		sortValue: (r) => r.run.summary.final_loss,
		shownByDefault: true
	}
];

const CREATED: RunColumn = {
	id: 'created',
	label: 'Created',
	text: (r) => dateTime(r.run.created),
	sortValue: (r) => r.run.created,
	shownByDefault: true
};

/** The columns for these runs: the fixed ones, one accuracy column per evaluated dataset, then Created. */
export function runColumns(runs: readonly TableRun[]): RunColumn[] {
	const keys = [...new Set(runs.flatMap((r) => Object.keys(r.run.summary.final_scores ?? {})))].sort();
	return [...FIXED, ...keys.map(scoreColumn), CREATED];
}

/** The runs whose cells (any column's text, and the id) contain every word of `query`, case-insensitive. */
export function filterRuns(runs: readonly TableRun[], columns: readonly RunColumn[], query: string): TableRun[] {
	const words = query.toLowerCase().split(/\s+/).filter(Boolean);
	if (words.length === 0) return [...runs];
	return runs.filter((r) => {
		const text = [r.run.id, ...columns.map((c) => c.text(r))].join(' ').toLowerCase();
		return words.every((w) => text.includes(w));
	});
}

/** A sort: by a column, ascending or descending. */
export interface RunSort {
	column: string;
	descending: boolean;
}

/** The runs sorted by the column (empty cells last either way); ties keep their order (newest first). */
export function sortRuns(runs: readonly TableRun[], columns: readonly RunColumn[], sort: RunSort): TableRun[] {
	const column = columns.find((c) => c.id === sort.column);
	if (!column) return [...runs];
	const sign = sort.descending ? -1 : 1;
	return runs
		.map((r, i) => ({ r, i, v: column.sortValue(r) }))
		.sort((a, b) => {
			if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
			const d = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v));
			return d !== 0 ? sign * d : a.i - b.i;
		})
		.map(({ r }) => r);
}

/** Runs grouped by experiment, in order of first appearance; runs of no experiment under null, last. */
export function groupRuns(runs: readonly TableRun[]): { experiment: string | null; runs: TableRun[] }[] {
	const groups = new Map<string | null, TableRun[]>();
	for (const r of runs) groups.set(r.experiment, [...(groups.get(r.experiment) ?? []), r]);
	const named = [...groups].filter(([k]) => k !== null);
	const none = groups.get(null);
	return [
		...named.map(([experiment, rs]) => ({ experiment, runs: rs })),
		...(none ? [{ experiment: null, runs: none }] : [])
	];
}
