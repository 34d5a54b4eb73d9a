// The downloadable files of a run (docs/specification.md §9), serialised one way everywhere so that the browser's
// exports and the CLI's run directories are byte-compatible.

import type { EvalJson } from '../eval/runEvaluation';
import type { RunRecord } from './record';

/** run.json: the record with the fields of docs/specification.md §9 only, pretty-printed, trailing newline. */
export function runJsonText(run: RunRecord): string {
	const { id, name, status, error, created, started, finished, config, datasets, provenance, checkpoints, summary } =
		run;
	return (
		JSON.stringify(
			{ id, name, status, error, created, started, finished, config, datasets, provenance, checkpoints, summary },
			null,
			2
		) + '\n'
	);
}

/** metrics.jsonl: training lines in step order, then evaluation lines. */
export function metricsJsonlText(training: readonly object[], evaluation: readonly object[] = []): string {
	return [...training, ...evaluation].map((l) => JSON.stringify(l) + '\n').join('');
}

export function evalJsonText(e: EvalJson): string {
	return JSON.stringify(e, null, 2) + '\n';
}

/** Parses metrics.jsonl into training and evaluation lines; throws naming the bad line. */
export function parseMetricsJsonl(
	text: string,
	source = 'metrics.jsonl'
): { training: Record<string, unknown>[]; evaluation: Record<string, unknown>[] } {
	const training: Record<string, unknown>[] = [];
	const evaluation: Record<string, unknown>[] = [];
	text.split('\n').forEach((line, i) => {
		if (line.trim() === '') return;
		let v: Record<string, unknown>;
		try {
			v = JSON.parse(line);
		} catch {
			throw new Error(`${source}:${i + 1}: not valid JSON`);
		}
		if (typeof v !== 'object' || v === null || typeof v.step !== 'number')
			throw new Error(`${source}:${i + 1}: a metrics line needs a numeric "step"`);
		('split' in v ? evaluation : training).push(v);
	});
	return { training, evaluation };
}
