// tunix-rt's ReasoningTrace: schema validation with tunix-rt's limits, and JSONL parse/serialise.

import * as v from 'valibot';
import { pathText, problemsOf } from '../schema';
import { canonicalJson } from './canonicalJson';

/** Length in characters as Python counts them (code points). */
function charCount(s: string): number {
	let n = 0;
	for (const _ of s) n++;
	return n;
}

/** A string of min..max characters (code points, as tunix-rt counts). */
const chars = (min: number, max: number) =>
	v.pipe(
		v.string('must be a string'),
		v.check(
			(s) => charCount(s) >= min && charCount(s) <= max,
			(issue) => `length ${charCount(issue.input as string)} is outside ${min}..${max}`
		)
	);

const TraceStepSchema = v.strictObject(
	{
		/** Step index, an integer >= 0, unique within the trace. */
		i: v.pipe(
			v.number('must be an integer >= 0'),
			v.integer('must be an integer >= 0'),
			v.minValue(0, 'must be an integer >= 0')
		),
		/** Step kind, e.g. "calculation". */
		type: chars(1, 64),
		/** Step text. */
		content: chars(1, 20000)
	},
	'must be an object'
);

const stepCount = (issue: v.BaseIssue<unknown>) => `has ${(issue.input as unknown[]).length} steps, must have 1..1000`;

/** tunix-rt's ReasoningTrace with its limits; `trace_version` defaults to "1.0". */
export const TraceSchema = v.strictObject(
	{
		trace_version: v.optional(
			v.literal('1.0', (issue) => `must be "1.0", got ${JSON.stringify(issue.input)}`),
			'1.0'
		),
		/** The question. */
		prompt: chars(1, 50000),
		/** 1..1000 reasoning steps. */
		steps: v.pipe(
			v.array(TraceStepSchema, 'must be an array'),
			v.minLength(1, stepCount),
			v.maxLength(1000, stepCount)
		),
		/** The answer. */
		final_answer: chars(1, 50000),
		/** Free-form metadata, e.g. `{golden: "v2", case: "math_gen", idx: 0}`. */
		meta: v.optional(
			v.pipe(
				v.record(v.string(), v.unknown(), 'must be an object'),
				v.check((m) => !Array.isArray(m), 'must be an object')
			)
		)
	},
	'must be a JSON object'
);

export type ReasoningTrace = v.InferOutput<typeof TraceSchema>;
export type TraceStep = ReasoningTrace['steps'][number];

/** One validation problem: where (a field path) and what is wrong. */
export interface TraceProblem {
	path: string;
	problem: string;
}

/** Step indices used twice (a check across items, beside the schema's). */
function duplicateIndices(value: unknown): TraceProblem[] {
	const steps = (value as { steps?: unknown } | null)?.steps;
	if (!Array.isArray(steps)) return [];
	const seen = new Set<unknown>();
	const out: TraceProblem[] = [];
	steps.forEach((step, k) => {
		const i = (step as { i?: unknown } | null)?.i;
		if (!Number.isInteger(i)) return;
		if (seen.has(i)) out.push({ path: `steps[${k}].i`, problem: `duplicate step index ${i}` });
		seen.add(i);
	});
	return out;
}

/** Every problem with `value` as a ReasoningTrace; empty when it is valid. */
export function traceProblems(value: unknown): TraceProblem[] {
	const words = { missing: 'is required', unknown: () => 'unknown field' };
	const found = problemsOf(TraceSchema, value, words).map((p) => ({
		path: p.path.length === 0 ? '(trace)' : pathText(p.path),
		problem: p.problem
	}));
	return [...found, ...duplicateIndices(value)];
}

/**
 * Thrown when a JSONL file holds invalid traces; `problems` lists every one as `line N: problem`
 * (or `line N: field path: problem`), `valid` counts the lines that are valid traces.
 */
export class TraceFileError extends Error {
	constructor(
		readonly source: string,
		readonly problems: string[],
		readonly valid = 0
	) {
		const shown = problems.slice(0, 20).join('\n  ');
		const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
		super(`${source}: ${problems.length} problem(s), nothing was loaded:\n  ${shown}${more}`);
		this.name = 'TraceFileError';
	}
}

/**
 * A trace file's bytes as text. JSONL is UTF-8: a line that is not (a Latin-1 file, binary data)
 * is refused by number instead of being read with replacement characters.
 */
export function decodeTraceFile(bytes: Uint8Array, source = 'traces.jsonl'): string {
	try {
		return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
	} catch {
		const problems: string[] = [];
		let start = 0;
		for (let line = 1; start <= bytes.length; line++) {
			let end = bytes.indexOf(0x0a, start);
			if (end < 0) end = bytes.length;
			try {
				new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, end));
			} catch {
				problems.push(`line ${line}: not valid UTF-8 (save the file as UTF-8)`);
			}
			start = end + 1;
		}
		throw new TraceFileError(source, problems);
	}
}

/** A trace file read line by line: its valid traces, and each problem of the other lines. */
export interface TraceFileRead {
	/** The valid traces, in file order. */
	traces: ReasoningTrace[];
	/** Every problem, as `line N: problem` or `line N: field path: problem`. */
	problems: string[];
	/** The line numbers (1-based) left out for their problems. */
	badLines: number[];
}

/** V8's JSON.parse message without its position noise: "… in JSON at position 140 (line 1 column 141)" → "… at character 141". */
function jsonError(message: string): string {
	return message
		.replace(/ \(line \d+ column \d+\)$/, '')
		.replace(/ in JSON at position (\d+)/, (_, at) => ` at character ${Number(at) + 1}`);
}

/** Reads trace JSONL: every line is validated (blank lines skipped); nothing is thrown. */
export function readTraceJsonl(text: string): TraceFileRead {
	const out: TraceFileRead = { traces: [], problems: [], badLines: [] };
	text.split('\n').forEach((raw, idx) => {
		const line = raw.replace(/\r$/, '');
		if (line.trim() === '') return;
		let value: unknown;
		try {
			value = JSON.parse(line);
		} catch (err) {
			out.problems.push(`line ${idx + 1}: not valid JSON: ${jsonError((err as Error).message)}`);
			out.badLines.push(idx + 1);
			return;
		}
		const found = traceProblems(value);
		for (const p of found)
			out.problems.push(`line ${idx + 1}: ${p.path === '(trace)' ? '' : `${p.path}: `}${p.problem}`);
		if (found.length === 0) out.traces.push(v.parse(TraceSchema, value));
		else out.badLines.push(idx + 1);
	});
	return out;
}

/**
 * Parses trace JSONL. Every line is validated; blank lines are skipped. Returns all traces, or
 * throws a TraceFileError listing every problem as `line N: <field path>: <problem>`.
 */
export function parseTraceJsonl(text: string, source = 'traces.jsonl'): ReasoningTrace[] {
	const { traces, problems } = readTraceJsonl(text);
	if (problems.length === 0 && traces.length === 0) problems.push('the file holds no traces');
	if (problems.length > 0) throw new TraceFileError(source, problems, traces.length);
	return traces;
}

/** Canonical JSONL: each trace as canonical JSON (sorted keys, no spaces), `\n` after each line. */
export function canonicalJsonl(traces: readonly ReasoningTrace[]): string {
	return traces.map((t) => canonicalJson(t) + '\n').join('');
}
