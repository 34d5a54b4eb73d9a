// Did the loss fall, and did it fall steadily? Numbers for the results note and the run page.

/** Trailing means: out[i] is the mean of losses[i - window + 1 .. i] (NaN before a full window). */
export function trailingMean(losses: readonly number[], window: number): number[] {
	const out: number[] = [];
	let sum = 0;
	losses.forEach((l, i) => {
		sum += l;
		if (i >= window) sum -= losses[i - window];
		out.push(i >= window - 1 ? sum / window : NaN);
	});
	return out;
}

/** How many steps lossSummary averages at each end: up to 50, each half of a short run. */
export function lossWindow(steps: number, maxWindow = 50): number {
	return Math.max(1, Math.min(maxWindow, Math.floor(steps / 2)));
}

/**
 * The run's initial and final loss, the one definition (run.json summary, CLI, results notes):
 * mean of the first and of the last `maxWindow` losses
 * (of each half, for runs shorter than 2·maxWindow).
 */
export function lossSummary(
	losses: readonly number[],
	maxWindow = 50
): { initial_loss: number | null; final_loss: number | null } {
	if (losses.length === 0) return { initial_loss: null, final_loss: null };
	const window = lossWindow(losses.length, maxWindow);
	const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
	return { initial_loss: mean(losses.slice(0, window)), final_loss: mean(losses.slice(-window)) };
}

export interface LossStats {
	/** lossSummary's initial loss: mean of the first `window` losses. */
	initial: number;
	/** lossSummary's final loss: mean of the last `window` losses. */
	final: number;
	/** final / initial. */
	ratio: number;
	/**
	 * The largest relative rise of the `window`-step mean within any `span`-step stretch after
	 * warmup: max over steps a < b <= a + span of mean(b) / mean(a) - 1 (≤ 0 when it never rose).
	 */
	worstRise: { rise: number; fromStep: number; toStep: number };
}

/** `losses[i]` is the loss of step i + 1. */
export function lossStats(losses: readonly number[], warmupSteps: number, window = 50, span = 100): LossStats {
	if (losses.length < window) throw new Error(`need at least ${window} steps, got ${losses.length}`);
	const m = trailingMean(losses, window);
	let worst = { rise: -Infinity, fromStep: 0, toStep: 0 };
	const first = Math.max(window - 1, warmupSteps); // index of the first full window ending after warmup
	for (let a = first; a < m.length; a++) {
		for (let b = a + 1; b <= Math.min(m.length - 1, a + span); b++) {
			const rise = m[b] / m[a] - 1;
			if (rise > worst.rise) worst = { rise, fromStep: a + 1, toStep: b + 1 };
		}
	}
	const { initial_loss: initial, final_loss: final } = lossSummary(losses, window) as {
		initial_loss: number;
		final_loss: number;
	};
	return { initial, final, ratio: final / initial, worstRise: worst };
}

/**
 * TensorBoard-style smoothing: an exponential moving average with weight `w` in [0, 1), debiased
 * so the first points are not pulled towards zero. Non-finite values are passed through.
 */
export function debiasedEma(values: readonly number[], w: number): number[] {
	let last = 0;
	let n = 0;
	return values.map((v) => {
		if (!Number.isFinite(v)) return v;
		last = last * w + (1 - w) * v;
		n += 1;
		return w === 0 ? v : last / (1 - w ** n);
	});
}
