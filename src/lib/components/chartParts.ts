// Pure pieces of LineChart.svelte: which lines coincide (drawn dashed so the one beneath shows),
// and the text of the tooltip at the cursor. No DOM here, so the unit tests reach them.

/** For each series, the index of an earlier series with the very same values (null where none). */
export function coincidentWith(values: (number | null)[][]): (number | null)[] {
	const same = (a: (number | null)[], b: (number | null)[]) =>
		a.length === b.length && a.some((v) => v !== null) && a.every((v, i) => v === b[i]);
	return values.map((v, i) => {
		const j = values.findIndex((w, k) => k < i && same(v, w));
		return j < 0 ? null : j;
	});
}

/** One tooltip row: a series' label, colour and its value at the cursor, formatted. */
export interface TooltipRow {
	label: string;
	color: string;
	value: string;
}

/** The rows of the tooltip at x index `idx`: every series with a value there, as `format` writes it. */
export function tooltipRows(
	series: { label: string; color: string; values: (number | null)[] }[],
	idx: number,
	format: (v: number) => string
): TooltipRow[] {
	return series.flatMap((s) => {
		const v = s.values[idx];
		return v === null || v === undefined ? [] : [{ label: s.label, color: s.color, value: format(v) }];
	});
}
