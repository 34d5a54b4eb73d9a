// The 95% Wilson score interval for a share k/n: how far a measured accuracy can be trusted. It
// stays inside [0, 1] and is sensible at 0/n and n/n, where the normal approximation is not.

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/** The 95% Wilson interval [low, high] of k successes in n trials; [0, 1] when n is 0. */
export function wilson(k: number, n: number, z = Z95): [number, number] {
	if (n <= 0) return [0, 1];
	const p = k / n;
	const z2 = z * z;
	const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
	const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
	return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** "0.230 (95% CI 0.158–0.322)": a share with its interval, for a terminal. */
export function shareCi(share: number, n: number): string {
	const [low, high] = wilson(Math.round(share * n), n);
	return `${share.toFixed(3)} (95% CI ${low.toFixed(3)}–${high.toFixed(3)})`;
}

/** "23% (15–33%, n = 100)": a share with its interval and n, for people. */
export function shareWithInterval(share: number, n: number): string {
	const [low, high] = wilson(Math.round(share * n), n);
	const pct = (x: number) => `${Math.round(x * 100)}`;
	return `${pct(share)}% (95% CI ${pct(low)}–${pct(high)}%, n = ${n})`;
}
