// eval.json and its parts (docs/specification.md §7, §9) as schemas: what the evaluation writes,
// and what an import or a run directory is checked against. No tfjs here: pages import it.

import * as v from 'valibot';
import { DatasetManifestSchema } from '../data/manifest';
import { finite, int } from '../schema';
import { JUDGE } from './judge';

/** exp(loss), or null when it overflows a float64 (loss > 709; JSON has no Infinity). */
const perplexity = () => v.nullable(finite());

/** Per-dataset headline scores, e.g. for the baseline and the final checkpoint. */
export const ScoreSummarySchema = v.object({
	loss: finite(),
	perplexity: perplexity(),
	answer_accuracy: v.pipe(finite(), v.minValue(0), v.maxValue(1)),
	format_rate: v.pipe(finite(), v.minValue(0), v.maxValue(1)),
	n: int(0, 1e9)
});
export type ScoreSummary = v.InferOutput<typeof ScoreSummarySchema>;

const share = () => v.pipe(finite(), v.minValue(0, 'must be in [0, 1]'), v.maxValue(1, 'must be in [0, 1]'));

/** Headline numbers for a set of items. */
const EvalScoresSchema = v.object({
	/** Items scored. */
	n: int(0, 1e9),
	/** Completion-token cross-entropy, token-weighted (teacher forced). */
	loss: finite(),
	perplexity: ScoreSummarySchema.entries.perplexity,
	/** Share of items whose extracted answer equals final_answer (normalised). */
	answer_accuracy: share(),
	/** Share of generations with a Step line, an A: line and <eos>. */
	format_rate: share(),
	/** 95% Wilson interval of answer_accuracy over the n items (files from before it lack it). */
	answer_accuracy_ci95: v.optional(v.tuple([share(), share()])),
	/** 95% Wilson interval of format_rate. */
	format_rate_ci95: v.optional(v.tuple([share(), share()]))
});
export type EvalScores = v.InferOutput<typeof EvalScoresSchema>;

const EvalItemSchema = v.object({
	/** Index of the trace in the dataset. */
	index: int(0, 1e9),
	case: v.nullable(v.string()),
	prompt: v.string(),
	expected: v.string(),
	/** The generated completion (text after the prompt line, special tokens removed). */
	generated: v.string(),
	/** Text after the last "A: ", or null. */
	extracted: v.nullable(v.string()),
	/** What the judge compared: the extracted and the expected answer, normalised (older files lack it). */
	judged: v.optional(v.object({ answer: v.nullable(v.string()), expected: v.string() })),
	correct: v.boolean(),
	well_formatted: v.boolean(),
	/** This item's completion loss (mean over its completion tokens). */
	loss: finite()
});
export type EvalItem = v.InferOutput<typeof EvalItemSchema>;

export const EvalSummarySchema = v.object({
	...EvalScoresSchema.entries,
	dataset: v.string(),
	step: int(0, 1e9),
	judge: v.literal(JUDGE),
	/** The most common expected answer (normalised) among the scored items: the trivial baseline. */
	majority_answer: v.optional(v.string()),
	/** Its share: the accuracy of always giving it. */
	majority_accuracy: v.optional(share()),
	per_case: v.record(v.string(), EvalScoresSchema)
});
export type EvalSummary = v.InferOutput<typeof EvalSummarySchema>;

export const EvalResultSchema = v.object({
	...EvalSummarySchema.entries,
	manifest: DatasetManifestSchema,
	items: v.array(EvalItemSchema)
});
export type EvalResult = v.InferOutput<typeof EvalResultSchema>;

/** eval.json (docs/specification.md §9). */
export const EvalJsonSchema = v.object({
	run_id: v.string(),
	/** The final evaluated checkpoint's step. */
	step: int(0, 1e9),
	judge: v.literal(JUDGE),
	/** The final checkpoint's full results, by dataset key. */
	datasets: v.record(v.string(), EvalResultSchema),
	/** The untrained weights' full results, by dataset key. */
	baseline: v.record(v.string(), EvalResultSchema),
	/** One entry per evaluated checkpoint (the baseline is step 0), ascending. */
	history: v.pipe(
		v.array(v.object({ step: int(0, 1e9), datasets: v.record(v.string(), EvalSummarySchema) })),
		v.minLength(1, 'must hold at least the baseline (step 0)')
	)
});
export type EvalJson = v.InferOutput<typeof EvalJsonSchema>;

export /** An evaluation line of metrics.jsonl: one dataset's scores at one evaluated step. */
const EvalLineSchema = v.looseObject({
	...EvalSummarySchema.entries,
	step: int(0, 1e9),
	/** The dataset key. */
	split: v.string(),
	dataset: v.optional(v.string())
});
export type EvalLine = v.InferOutput<typeof EvalLineSchema>;

/** The newest evaluated checkpoint of a run, with its per-dataset summaries. */
export interface LatestEvaluation {
	runId: string;
	step: number;
	datasets: Record<string, EvalSummary>;
	baseline: Record<string, EvalSummary> | null;
}

export function latestEvaluation(e: EvalJson): LatestEvaluation {
	const last = e.history[e.history.length - 1];
	const base = e.history.find((h) => h.step === 0);
	return { runId: e.run_id, step: last.step, datasets: last.datasets, baseline: base?.datasets ?? null };
}
