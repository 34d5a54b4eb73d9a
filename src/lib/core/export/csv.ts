// CSV cells, written once for every CSV the lab makes (the metrics tables, the CLI sweep's summary,
// a chart's data): RFC 4180 quoting, and OWASP's neutralisation of formula injection — a text cell
// that begins with =, +, -, @, a tab or a carriage return is written with a leading ' so that a
// spreadsheet shows it as text instead of running it (docs/specification.md §9).

/** A value of one cell: text, a number, or empty. */
export type CsvCell = string | number | boolean | null | undefined;

/** Characters a spreadsheet reads as the start of a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: numbers as they are, text neutralised and quoted when it holds a comma, a quote or a line break. */
export function csvField(c: CsvCell): string {
	if (c === null || c === undefined) return '';
	if (typeof c !== 'string') return String(c);
	const s = FORMULA_START.test(c) ? `'${c}` : c;
	return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Lines of fields as CSV text, each line ended by `eol`. */
export function csvText(lines: readonly (readonly CsvCell[])[], eol = '\r\n'): string {
	return lines.map((cells) => cells.map(csvField).join(',')).join(eol) + eol;
}
