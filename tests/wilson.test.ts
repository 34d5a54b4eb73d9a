// The Wilson interval against values computed independently in Python (the textbook formula with
// z = statistics.NormalDist().inv_cdf(0.975)), rounded to 4 places.
import { describe, expect, it } from 'vitest';
import { shareWithInterval, wilson } from '../src/lib/core/stats/wilson';

describe('Wilson 95% interval', () => {
	it('matches the reference values, including 0/n and n/n', () => {
		const cases: [number, number, number, number][] = [
			[23, 100, 0.1584, 0.3215],
			[0, 53, 0, 0.0676],
			[53, 53, 0.9324, 1],
			[2, 53, 0.0104, 0.1275],
			[95, 100, 0.8882, 0.9785]
		];
		for (const [k, n, low, high] of cases) {
			const [l, h] = wilson(k, n);
			expect(l, `${k}/${n} low`).toBeCloseTo(low, 4);
			expect(h, `${k}/${n} high`).toBeCloseTo(high, 4);
		}
		expect(wilson(0, 0)).toEqual([0, 1]);
	});

	it('reads as a share with its interval and n', () => {
		expect(shareWithInterval(0.23, 100)).toBe('23% (95% CI 16–32%, n = 100)');
	});
});
