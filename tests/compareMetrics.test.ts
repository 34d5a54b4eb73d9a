// The Compare page's metrics (core/run/compareMetrics.ts): any training metric smoothed, any
// evaluation metric per dataset as measured, on the union of the runs' steps.
import { describe, expect, it } from 'vitest';
import { compareMetrics, compareSeries } from '../src/lib/core/run/compareMetrics';

const line = (step: number, loss: number) => ({
	step,
	loss,
	lr: 0.1 * step,
	grad_norm: 1,
	tokens_per_s: 10,
	elapsed_s: step
});
const evalLine = (step: number, split: string, acc: number) =>
	({ step, split, n: 4, loss: 2, perplexity: 7.4, answer_accuracy: acc, format_rate: 1, dataset: split }) as never;

describe('the Compare page’s metrics', () => {
	const runs = [
		{ training: [line(1, 4), line(2, 2)], evaluation: [evalLine(0, 'held', 0), evalLine(2, 'held', 0.5)] },
		{ training: [line(1, 3), line(2, 3), line(3, 1)], evaluation: [evalLine(0, 'held', 0.25)] }
	];
	const metrics = compareMetrics(['held']);

	it('offers the training metrics and each evaluated dataset’s loss, accuracy and format rate; log scale never for a share', () => {
		expect(metrics.map((m) => m.id)).toEqual([
			'loss',
			'lr',
			'grad_norm',
			'tokens_per_s',
			'held:loss',
			'held:answer_accuracy',
			'held:format_rate'
		]);
		expect(metrics.filter((m) => m.share).every((m) => !m.logY)).toBe(true);
	});

	it('puts every run on the union of steps, null where a run has no value, smoothing training lines only', () => {
		const raw = compareSeries(runs, metrics[0], 0);
		expect(raw).toEqual({
			x: [1, 2, 3],
			values: [
				[4, 2, null],
				[3, 3, 1]
			]
		});
		const smooth = compareSeries(runs, metrics[0], 0.5);
		expect(smooth.values[0][0]).toBe(4); // debiased: the first point is the first value
		expect(smooth.values[0][1]).toBeCloseTo((0.5 * 0.5 * 4 + 0.5 * 2) / (1 - 0.25), 12);
		const acc = compareSeries(
			runs,
			metrics.find((m) => m.id === 'held:answer_accuracy')!,
			0.9
		);
		expect(acc).toEqual({
			x: [0, 2],
			values: [
				[0, 0.5],
				[0.25, null]
			]
		});
	});
});
