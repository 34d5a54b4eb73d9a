// The downloadable files of a run (docs/specification.md §9), serialised one way everywhere so that the browser's
// exports and the CLI's run directories are byte-compatible.

import { EvalLineSchema, type EvalLine } from '../eval/evalJson';
import type { EvalJson } from '../eval/runEvaluation';
import { checked } from '../schema';
import { StepMetricsSchema, type StepMetrics } from '../train/metrics';
import type { RunRecord } from './record';

/** A checkpoint's file name in a run directory and a bundle (docs/specification.md §9). */
export const checkpointFileName = (step: number) => `checkpoint-step${step}.safetensors`;

/** run.json: the record with the fields of docs/specification.md §9 only, pretty-printed, trailing newline. */
export function runJsonText(run: RunRecord): string {
	const { id, name, status, error, error_kind, created, started, finished } = run;
	const { config, datasets, provenance, checkpoints, summary, events, parity } = run;
	return (
		JSON.stringify(
			{
				id,
				name,
				status,
				error,
				error_kind,
				created,
				started,
				finished,
				config,
				datasets,
				provenance,
				checkpoints,
				summary,
				events,
				parity
			},
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

/** Parses metrics.jsonl into training and evaluation lines, each checked; throws naming the bad line and field. */
export function parseMetricsJsonl(
	text: string,
	source = 'metrics.jsonl'
): { training: StepMetrics[]; evaluation: EvalLine[] } {
	const training: StepMetrics[] = [];
	const evaluation: EvalLine[] = [];
	text.split('\n').forEach((line, i) => {
		if (line.trim() === '') return;
		let value: unknown;
		try {
			value = JSON.parse(line);
		} catch {
			throw new Error(`${source}:${i + 1}: not valid JSON`);
		}
		const isEval = typeof value === 'object' && value !== null && 'split' in value;
		const where = `${source}:${i + 1} (${isEval ? 'an evaluation line' : 'a training line'})`;
		if (isEval) evaluation.push(checked(EvalLineSchema, value, where));
		else training.push(checked(StepMetricsSchema, value, where));
	});
	return { training, evaluation };
}
