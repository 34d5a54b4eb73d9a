import { describe, expect, it } from 'vitest';
import { lossStats, lossSummary, trailingMean } from '../src/lib/core/run/lossStats';

describe('loss statistics', () => {
	it('trailing means', () => {
		expect(trailingMean([1, 2, 3, 4], 2)).toEqual([NaN, 1.5, 2.5, 3.5]);
	});

	it('finds the worst rise of the windowed mean after warmup, and the initial/final ratio', () => {
		// falls from 4 to 1, with a bump of the 2-step mean from 2 to 3 between steps 5 and 7
		const losses = [4, 4, 3, 3, 2, 2, 4, 2, 1, 1];
		const s = lossStats(losses, 2, 2, 3);
		expect(s.initial).toBe(4);
		expect(s.final).toBe(1);
		expect(s.ratio).toBe(0.25);
		expect(s.worstRise).toEqual({ rise: 0.5, fromStep: 6, toStep: 7 });
		// within a 1-step span only neighbouring means compare
		expect(lossStats([4, 3, 2, 1], 0, 1, 1).worstRise.rise).toBeLessThan(0);
		expect(() => lossStats([1], 0, 2)).toThrow(/at least 2 steps/);
	});

	it('run summary: first/last 50, or halves of a short run', () => {
		const long = Array.from({ length: 200 }, (_, i) => (i < 50 ? 2 : i >= 150 ? 0.5 : 1));
		expect(lossSummary(long)).toEqual({ initial_loss: 2, final_loss: 0.5 });
		expect(lossSummary([4, 3, 2, 1])).toEqual({ initial_loss: 3.5, final_loss: 1.5 });
		expect(lossSummary([])).toEqual({ initial_loss: null, final_loss: null });
	});
});
