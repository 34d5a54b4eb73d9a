// The chart's pure parts (src/lib/components/chartParts.ts): lines that coincide, and the tooltip's rows.
import { describe, expect, it } from 'vitest';
import { coincidentWith, tooltipRows } from '../src/lib/components/chartParts';

describe('lines that coincide', () => {
	it('marks a line with the very values of an earlier one (two runs both at 0%), not one that differs anywhere', () => {
		const zero = [0, 0, null, 0];
		expect(coincidentWith([zero, [0, 0, null, 0], [0, 0, null, 0.1], [0, 0, null, 0]])).toEqual([null, 0, null, 0]);
	});
	it('does not mark lines with no values at all', () => {
		expect(
			coincidentWith([
				[null, null],
				[null, null]
			])
		).toEqual([null, null]);
	});
});

describe('the tooltip at the cursor', () => {
	it('lists every line with a value at the step, formatted, and skips gaps', () => {
		const series = [
			{ label: 'loss', color: '#111', values: [3.5, 2.25] },
			{ label: 'held-out', color: '#222', values: [null, 1.5] }
		];
		expect(tooltipRows(series, 0, (v) => v.toFixed(2))).toEqual([{ label: 'loss', color: '#111', value: '3.50' }]);
		expect(tooltipRows(series, 1, (v) => v.toFixed(2)).map((r) => r.value)).toEqual(['2.25', '1.50']);
	});
});
