// How the lab writes numbers for people: counts, durations, fixed and significant digits, shares
// as percentages, sizes, dates and chart ticks. Pages and components format through these only, so
// one quantity reads the same everywhere. Pure: no DOM, no Svelte.

/** A value written with `format`, or `none` (a dash by default) where there is no value (null or undefined). */
export function orNone<T>(x: T | null | undefined, format: (x: T) => string, none = '—'): string {
	return x === null || x === undefined ? none : format(x);
}

/** The noun for a count: `one` for exactly 1, else `many` (by default `one` + "s"). */
export function noun(n: number, one: string, many = `${one}s`): string {
	return n === 1 ? one : many;
}

/** A count with its noun, digits grouped in English: "1 run", "2,000 steps". */
export function plural(n: number, one: string, many = `${one}s`): string {
	return `${n.toLocaleString('en')} ${noun(n, one, many)}`;
}

/** A rough duration for an estimate: "1.5 h", "12 min", or whole seconds, at least "1 s". */
export function roughDuration(seconds: number): string {
	if (seconds >= 3600) return `${fixed(seconds / 3600, 1)} h`;
	if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
	return `${Math.max(1, Math.round(seconds))} s`;
}

/** A duration to the minute or second, for time left: "1 h 5 min", "2 min 3 s", "45 s". */
export function preciseDuration(seconds: number): string {
	if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
	if (seconds >= 60) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
	return `${Math.round(seconds)} s`;
}

/** `x` with exactly `digits` decimals: fixed(0.61234, 2) = "0.61". */
export function fixed(x: number, digits: number): string {
	return x.toFixed(digits);
}

/** `x` to `digits` significant digits: significant(1.23456, 3) = "1.23". */
export function significant(x: number, digits: number): string {
	return x.toPrecision(digits);
}

/** A share (0..1) as a percentage with `digits` decimals: percent(0.125, 1) = "12.5%". */
export function percent(share: number, digits = 0): string {
	return `${fixed(share * 100, digits)}%`;
}

/** Two shares as a range of percentages: percentRange(0.12, 0.48) = "12–48%". */
export function percentRange(low: number, high: number, digits = 0): string {
	return `${fixed(low * 100, digits)}–${percent(high, digits)}`;
}

/** A share (0..1) as a number of percent, rounded to `digits` decimals (a chart's value): 0.1234 → 12.3. */
export function percentValue(share: number, digits = 1): number {
	return Math.round(share * 10 ** (digits + 2)) / 10 ** digits;
}

/**
 * Bytes in megabytes (10⁶ bytes) with `digits` decimals: megabytes(1234567, 2) = "1.23 MB".
 * Without `digits`: whole megabytes from 10 MB up, one decimal below.
 */
export function megabytes(bytes: number, digits?: number): string {
	const mb = bytes / 1e6;
	return `${fixed(mb, digits ?? (mb >= 10 ? 0 : 1))} MB`;
}

/** Bytes as MB, or as kB below 1 MB (a small model's weights are not "0.0 MB"). */
export const byteSize = (bytes: number) =>
	bytes < 1e6 ? `${Math.max(1, Math.round(bytes / 1e3))} kB` : megabytes(bytes);

/** A moment (ISO 8601) as date and time in the reader's locale. */
export function dateTime(iso: string): string {
	return new Date(iso).toLocaleString();
}

/** A moment (ISO 8601) as the time of day in the reader's locale. */
export function clockTime(iso: string): string {
	return new Date(iso).toLocaleTimeString();
}

/** A linear axis tick: `digits` significant digits, no trailing zeros (5e-4 stays 0.0005, not 0.001). */
export function axisTick(v: number, digits = 4): string {
	return String(+significant(v, digits));
}

/** A log axis tick: three significant digits down to 0.001, a power of ten below it (1e-9), never 0 for a small value. */
export function logAxisTick(v: number): string {
	if (v === 0) return '0';
	return Math.abs(v) >= 1e-3 ? axisTick(v, 3) : v.toExponential(0);
}
