// The Runs page's table (core/run/runsTable.ts): columns for every evaluated dataset with intervals,
// filter on every cell, sorts with empty cells last, groups by experiment.
import { describe, expect, it } from 'vitest';
import { goldenV2 } from '../src/lib/core/data/golden';
import { newRunRecord, type RunRecord } from '../src/lib/core/run/record';
import { filterRuns, groupRuns, runColumns, sortRuns, type TableRun } from '../src/lib/core/run/runsTable';
import { smokeConfig } from './helpers';

const score = (acc: number, n: number) => ({ loss: 1, perplexity: 2.7, answer_accuracy: acc, format_rate: 1, n });
function aRun(name: string, created: string, loss: number | null, acc?: number): RunRecord {
	const run = newRunRecord(smokeConfig(), goldenV2().manifest, []);
	return {
		...run,
		name,
		created,
		summary: {
			...run.summary,
			final_loss: loss,
			...(acc === undefined ? {} : { final_scores: { 'golden-v2-heldout': score(acc, 53) } })
		}
	};
}

describe('the runs table', () => {
	const runs: TableRun[] = [
		{ run: aRun('lr sweep · train.lr=0.01 run.seed=1', '2026-12-05T03:00:00Z', 0.5, 31 / 53), experiment: 'lr sweep' },
		{ run: aRun('golden-v2-full', '2026-12-05T02:00:00Z', 0.05, 2 / 53), experiment: null },
		{ run: aRun('interrupted one', '2026-12-05T01:00:00Z', null), experiment: null },
		{ run: aRun('lr sweep · train.lr=0.003 run.seed=1', '2026-12-05T00:00:00Z', 0.9, 10 / 53), experiment: 'lr sweep' }
	];
	const columns = runColumns(runs);

	it('has a column per evaluated dataset, its accuracy with a 95% interval', () => {
		expect(columns.map((c) => c.id)).toEqual([
			'name',
			'experiment',
			'dataset',
			'status',
			'steps',
			'backend',
			'final_loss',
			'score:golden-v2-heldout',
			'created'
		]);
		const acc = columns.find((c) => c.id === 'score:golden-v2-heldout')!;
		expect(acc.text(runs[0])).toBe('58% (45–71%)');
		expect(acc.text(runs[2])).toBe('—');
	});

	it('filters on every word across the cells, and sorts with empty cells last either way', () => {
		expect(filterRuns(runs, columns, 'LR 0.003').map((r) => r.run.name)).toEqual([
			'lr sweep · train.lr=0.003 run.seed=1'
		]);
		expect(filterRuns(runs, columns, '').length).toBe(4);
		const names = (sorted: TableRun[]) => sorted.map((r) => r.run.name);
		expect(names(sortRuns(runs, columns, { column: 'final_loss', descending: false }))).toEqual([
			'golden-v2-full',
			'lr sweep · train.lr=0.01 run.seed=1',
			'lr sweep · train.lr=0.003 run.seed=1',
			'interrupted one'
		]);
		expect(names(sortRuns(runs, columns, { column: 'final_loss', descending: true })).at(-1)).toBe('interrupted one');
		expect(names(sortRuns(runs, columns, { column: 'created', descending: false }))[0]).toBe(
			'lr sweep · train.lr=0.003 run.seed=1'
		);
	});

	it('groups by experiment in order of appearance, runs of none last', () => {
		expect(groupRuns(runs).map((g) => [g.experiment, g.runs.length])).toEqual([
			['lr sweep', 2],
			[null, 2]
		]);
	});
});
