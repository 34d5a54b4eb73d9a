// Validation from schemas (docs/architecture.md "Schemas"): every record that crosses a trust
// boundary — config YAML, trace JSONL, run.json, eval.json, metrics lines, bundle imports — is
// checked by a valibot schema, and its TypeScript type is derived from that schema. This file
// holds the field builders with the lab's messages and turns valibot's issues into plain problems
// (`key.path: problem`) that callers place in a file (`file:line:col`, `line N`).

import * as v from 'valibot';

/** One problem: where in the value (keys and indices) and what is wrong. */
export interface Problem {
	path: (string | number)[];
	problem: string;
}

const shown = (x: unknown) =>
	typeof x === 'number' && !Number.isFinite(x) ? String(x) : (JSON.stringify(x) ?? 'undefined');
const got = (what: string) => (issue: v.BaseIssue<unknown>) => `${what}, got ${shown(issue.input)}`;

/** An integer in min..max. */
export const int = (min: number, max: number) =>
	v.pipe(
		v.number(got('must be an integer')),
		v.integer(got('must be an integer')),
		v.minValue(min, got(`must be in ${min}..${max}`)),
		v.maxValue(max, got(`must be in ${min}..${max}`))
	);

/** An integer in min..max, or null. */
export const intOrNull = (min: number, max: number) =>
	v.nullable(
		v.pipe(
			v.number(got('must be an integer or null')),
			v.integer(got('must be an integer or null')),
			v.minValue(min, got(`must be in ${min}..${max}`)),
			v.maxValue(max, got(`must be in ${min}..${max}`))
		)
	);

/** A finite number in [min, max], or (min, max] when `minExclusive`. */
export const num = (min: number, max: number, minExclusive = false) => {
	const range = got(`must be in ${minExclusive ? '(' : '['}${min}, ${max}]`);
	return v.pipe(
		v.number(got('must be a number')),
		v.finite(got('must be a finite number')),
		minExclusive ? v.gtValue(min, range) : v.minValue(min, range),
		v.maxValue(max, range)
	);
};

/** Any finite number (a metric). */
export const finite = () => v.pipe(v.number(got('must be a number')), v.finite(got('must be a finite number')));

/** A string that is not blank. */
export const text = () =>
	v.pipe(
		v.string(got('must be a non-empty string')),
		v.check((s) => s.trim() !== '', 'must be a non-empty string')
	);

/** A list of non-empty strings. */
export const textList = () =>
	v.array(
		v.pipe(
			v.string('must be a list of non-empty strings'),
			v.check((s) => s !== '', 'must be a list of non-empty strings')
		),
		got('must be a list of strings')
	);

export const bool = () => v.boolean(got('must be true or false'));

/** One of a fixed list of strings. */
export const oneOf = <const T extends readonly string[]>(values: T) =>
	v.picklist(values, got(`must be one of ${values.join(', ')}`));

/** A mapping with exactly these keys: a missing key and an unknown key are problems of their own. */
export const record = <const E extends v.ObjectEntries>(entries: E) =>
	v.strictObject(entries, got('must be a mapping'));

/** The keys a schema expects at `path` (for "unknown key (expected: …)"), or null. */
function expectedKeys(schema: v.GenericSchema, path: (string | number)[]): string[] | null {
	let s = schema as v.GenericSchema & {
		entries?: Record<string, v.GenericSchema>;
		wrapped?: v.GenericSchema;
		item?: v.GenericSchema;
	};
	for (const key of path) {
		while (s.wrapped) s = s.wrapped as typeof s;
		if (s.entries) s = s.entries[key as string] as typeof s;
		else if (s.item) s = s.item as typeof s;
		else return null;
		if (!s) return null;
	}
	while (s.wrapped) s = s.wrapped as typeof s;
	return s.entries ? Object.keys(s.entries) : null;
}

/** How a format words a missing and an unknown key. */
export interface KeyWords {
	/** Default "missing key". */
	missing?: string;
	/** Default "unknown key (expected: a, b)". */
	unknown?: (expected: string[] | null) => string;
}

const defaultUnknown = (keys: string[] | null) => `unknown key${keys ? ` (expected: ${keys.join(', ')})` : ''}`;

/** Every problem with `value` as `schema`, in the schema's key order; empty when it is valid. */
export function problemsOf(schema: v.GenericSchema, value: unknown, words: KeyWords = {}): Problem[] {
	return validate(schema, value, words).problems;
}

/** The schema's output for `value` when valid, and every problem. */
function validate<S extends v.GenericSchema>(
	schema: S,
	value: unknown,
	words: KeyWords = {}
): { output?: v.InferOutput<S>; problems: Problem[] } {
	const result = v.safeParse(schema, value, { abortPipeEarly: true });
	if (result.success) return { output: result.output, problems: [] };
	const problems = result.issues.map((issue): Problem => {
		const path = (issue.path ?? []).map((p) => p.key as string | number);
		const parent = path.slice(0, -1);
		if (issue.type === 'strict_object' && issue.expected === 'never')
			return { path, problem: (words.unknown ?? defaultUnknown)(expectedKeys(schema, parent)) };
		if ((issue.type === 'strict_object' || issue.type === 'object') && issue.input === undefined && path.length > 0)
			return { path, problem: words.missing ?? 'missing key' };
		return { path, problem: issue.message };
	});
	return { problems };
}

/** A path as people write it: `summary.final_scores["golden-v2"].n`, `steps[3].i`. */
export function pathText(path: (string | number)[]): string {
	if (path.length === 0) return '(root)';
	return path
		.map((k, i) =>
			typeof k === 'number'
				? `[${k}]`
				: /^[A-Za-z_][\w]*$/.test(k)
					? `${i === 0 ? '' : '.'}${k}`
					: `[${JSON.stringify(k)}]`
		)
		.join('');
}

/** Thrown when a record fails its schema; the message names where it came from and every problem. */
export class SchemaError extends Error {
	constructor(
		/** What was being read, e.g. "run.json in bundle.zip". */
		readonly source: string,
		/** `key.path: problem` lines. */
		readonly problems: string[]
	) {
		const list = problems.slice(0, 12).join('; ');
		const more = problems.length > 12 ? `; … and ${problems.length - 12} more` : '';
		super(`${source} is not valid: ${list}${more}`);
		this.name = 'SchemaError';
	}
}

/**
 * `value` as the schema's output type, or a SchemaError naming `source` and every problem. The
 * value itself is returned (key order and extra keys kept, so a file re-exports byte for byte);
 * the lab's schemas transform nothing, so it is the schema's output as well.
 */
export function checked<S extends v.GenericSchema>(schema: S, value: unknown, source: string): v.InferOutput<S> {
	const result = tryParse(schema, value);
	if (!result.ok) throw new SchemaError(source, result.problems);
	return value as v.InferOutput<S>;
}

/** `value` checked once: the schema's output, or every problem as a `key.path: problem` line. */
export function tryParse<S extends v.GenericSchema>(
	schema: S,
	value: unknown
): { ok: true; output: v.InferOutput<S> } | { ok: false; problems: string[] } {
	const { output, problems } = validate(schema, value);
	if (problems.length > 0) return { ok: false, problems: problems.map((p) => `${pathText(p.path)}: ${p.problem}`) };
	return { ok: true, output: output as v.InferOutput<S> };
}
