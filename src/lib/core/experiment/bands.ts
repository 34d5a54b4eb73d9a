// An arm's curve across its runs (docs/specification.md §11): at each step, the mean of the runs'
// values and a band around it — the runs' min–max, or the 95% interval of the mean (Student's t
// across runs, the same meanInterval as the sweep summary, clipped to the quantity's range).

import { meanInterval, type Range } from './aggregate';

export const BAND_KINDS = ['ci95', 'minmax'] as const;
/** ci95: 95% interval of the mean across runs (min–max at steps with fewer than MIN_RUNS_FOR_INTERVAL runs); minmax: the lowest and highest run. */
export type BandKind = (typeof BAND_KINDS)[number];

/**
 * Below this many runs a t interval says little (over 2 runs its factor is 12.7: an accuracy band
 * of 0–57%), so the band is the runs' own min–max there.
 */
export const MIN_RUNS_FOR_INTERVAL = 3;

/** What each band is called on the page, saying when the interval falls back to min–max. */
export const BAND_LABEL: Record<BandKind, string> = {
	ci95: `95% interval (min–max below ${MIN_RUNS_FOR_INTERVAL} runs)`,
	minmax: 'min–max'
};

export interface ArmCurve {
	/** Mean across the runs that have the step; null where none has it. */
	mean: (number | null)[];
	/** The band's lower and upper edge (the mean itself where one run has the step). */
	low: (number | null)[];
	high: (number | null)[];
	/** Runs that have each step. */
	n: number[];
}

/**
 * `runs`: each run's value by step. `steps`: the x to place them on (ascending). A step that some
 * runs lack (one still training) is averaged over the runs that have it; `n` says how many.
 */
export function armCurve(
	runs: Map<number, number>[],
	steps: number[],
	kind: BandKind,
	range: Range = [-Infinity, Infinity]
): ArmCurve {
	const out: ArmCurve = { mean: [], low: [], high: [], n: [] };
	for (const step of steps) {
		const xs = runs.map((r) => r.get(step)).filter((x): x is number => x !== undefined && Number.isFinite(x));
		out.n.push(xs.length);
		if (xs.length === 0) {
			out.mean.push(null);
			out.low.push(null);
			out.high.push(null);
			continue;
		}
		const s = meanInterval(xs, range);
		out.mean.push(s.mean);
		const minmax = kind === 'minmax' || xs.length < MIN_RUNS_FOR_INTERVAL;
		const [low, high] = minmax ? [Math.min(...xs), Math.max(...xs)] : (s.ci95 ?? [s.mean, s.mean]);
		out.low.push(low);
		out.high.push(high);
	}
	return out;
}
