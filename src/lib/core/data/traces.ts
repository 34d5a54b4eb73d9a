// tunix-rt's ReasoningTrace: schema validation with tunix-rt's limits, and JSONL parse/serialise.

import { canonicalJson } from './canonicalJson';

export interface TraceStep {
	/** Step index, an integer >= 0, unique within the trace. */
	i: number;
	/** Step kind, e.g. "calculation" (1..64 characters). */
	type: string;
	/** Step text (1..20000 characters). */
	content: string;
}

export interface ReasoningTrace {
	trace_version: '1.0';
	/** The question (1..50000 characters). */
	prompt: string;
	/** 1..1000 reasoning steps. */
	steps: TraceStep[];
	/** The answer (1..50000 characters). */
	final_answer: string;
	/** Free-form metadata, e.g. `{golden: "v2", case: "math_gen", idx: 0}`. */
	meta?: Record<string, unknown>;
}

/** One validation problem: where (a field path) and what is wrong. */
export interface TraceProblem {
	path: string;
	problem: string;
}

const TOP_KEYS = new Set(['trace_version', 'prompt', 'steps', 'final_answer', 'meta']);
const STEP_KEYS = new Set(['i', 'type', 'content']);

/** Length in characters as Python counts them (code points). */
function charCount(s: string): number {
	let n = 0;
	for (const _ of s) n++;
	return n;
}

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkText(value: unknown, path: string, min: number, max: number, out: TraceProblem[]): void {
	if (typeof value !== 'string') {
		out.push({ path, problem: value === undefined ? 'is required' : 'must be a string' });
		return;
	}
	const n = charCount(value);
	if (n < min || n > max) out.push({ path, problem: `length ${n} is outside ${min}..${max}` });
}

function checkStep(step: unknown, path: string, out: TraceProblem[]): void {
	if (!isObject(step)) {
		out.push({ path, problem: 'must be an object' });
		return;
	}
	for (const key of Object.keys(step)) {
		if (!STEP_KEYS.has(key)) out.push({ path: `${path}.${key}`, problem: 'unknown field' });
	}
	if (!Number.isInteger(step.i) || (step.i as number) < 0) {
		out.push({ path: `${path}.i`, problem: step.i === undefined ? 'is required' : 'must be an integer >= 0' });
	}
	checkText(step.type, `${path}.type`, 1, 64, out);
	checkText(step.content, `${path}.content`, 1, 20000, out);
}

/** Every problem with `value` as a ReasoningTrace; empty when it is valid. */
export function traceProblems(value: unknown): TraceProblem[] {
	const out: TraceProblem[] = [];
	if (!isObject(value)) return [{ path: '(trace)', problem: 'must be a JSON object' }];
	for (const key of Object.keys(value)) {
		if (!TOP_KEYS.has(key)) out.push({ path: key, problem: 'unknown field' });
	}
	if (value.trace_version !== undefined && value.trace_version !== '1.0') {
		out.push({ path: 'trace_version', problem: `must be "1.0", got ${JSON.stringify(value.trace_version)}` });
	}
	checkText(value.prompt, 'prompt', 1, 50000, out);
	checkText(value.final_answer, 'final_answer', 1, 50000, out);
	if (value.meta !== undefined && !isObject(value.meta)) {
		out.push({ path: 'meta', problem: 'must be an object' });
	}
	const steps = value.steps;
	if (!Array.isArray(steps)) {
		out.push({ path: 'steps', problem: steps === undefined ? 'is required' : 'must be an array' });
		return out;
	}
	if (steps.length < 1 || steps.length > 1000) {
		out.push({ path: 'steps', problem: `has ${steps.length} steps, must have 1..1000` });
	}
	const seen = new Set<number>();
	steps.forEach((step, k) => {
		checkStep(step, `steps[${k}]`, out);
		if (isObject(step) && Number.isInteger(step.i)) {
			if (seen.has(step.i as number)) {
				out.push({ path: `steps[${k}].i`, problem: `duplicate step index ${step.i}` });
			}
			seen.add(step.i as number);
		}
	});
	return out;
}

/** The trace with `trace_version` filled in (tunix-rt's default) once it is known to be valid. */
function normalise(value: Record<string, unknown>): ReasoningTrace {
	return { ...(value as unknown as ReasoningTrace), trace_version: '1.0' };
}

/** Thrown when a JSONL file holds invalid traces; `problems` lists every one as `line N: path: problem`. */
export class TraceFileError extends Error {
	constructor(
		readonly source: string,
		readonly problems: string[]
	) {
		const shown = problems.slice(0, 20).join('\n  ');
		const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
		super(`${source}: ${problems.length} problem(s), nothing was loaded:\n  ${shown}${more}`);
		this.name = 'TraceFileError';
	}
}

/**
 * Parses trace JSONL. Every line is validated; blank lines are skipped. Returns all traces, or
 * throws a TraceFileError listing every problem as `line N: <field path>: <problem>`.
 */
export function parseTraceJsonl(text: string, source = 'traces.jsonl'): ReasoningTrace[] {
	const traces: ReasoningTrace[] = [];
	const problems: string[] = [];
	const lines = text.split('\n');
	lines.forEach((raw, idx) => {
		const line = raw.replace(/\r$/, '');
		if (line.trim() === '') return;
		let value: unknown;
		try {
			value = JSON.parse(line);
		} catch (err) {
			problems.push(`line ${idx + 1}: (json): not valid JSON (${(err as Error).message})`);
			return;
		}
		const found = traceProblems(value);
		for (const p of found) problems.push(`line ${idx + 1}: ${p.path}: ${p.problem}`);
		if (found.length === 0) traces.push(normalise(value as Record<string, unknown>));
	});
	if (problems.length === 0 && traces.length === 0) problems.push('line 1: (file): holds no traces');
	if (problems.length > 0) throw new TraceFileError(source, problems);
	return traces;
}

/** Canonical JSONL: each trace as canonical JSON (sorted keys, no spaces), `\n` after each line. */
export function canonicalJsonl(traces: readonly ReasoningTrace[]): string {
	return traces.map((t) => canonicalJson(t) + '\n').join('');
}
