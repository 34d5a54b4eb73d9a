// A training step's metrics: one line of metrics.jsonl, written by the trainer and checked on import.
// No tfjs here: pages import the schema.

import * as v from 'valibot';
import { finite, int } from '../schema';
import { PAD } from '../text/tokenizer';

/** One training line of metrics.jsonl (docs/specification.md §9). */
export const StepMetricsSchema = v.object({
	/** Completed optimizer steps (1-based). */
	step: int(1, 1e9),
	/** Masked mean cross-entropy of this step's batch. */
	loss: finite(),
	/** Learning rate used for this step. */
	lr: finite(),
	/** Global gradient norm before clipping. */
	grad_norm: finite(),
	/** Non-padding tokens processed per second in this step (tokensPerSecond). */
	tokens_per_s: finite(),
	/** Training wall time so far (seconds), across resumes. */
	elapsed_s: finite()
});
export type StepMetrics = v.InferOutput<typeof StepMetricsSchema>;

/** Throughput, the one definition (trainer and bench): non-padding input tokens per second of `ms`. */
export function tokensPerSecond(inputs: Int32Array, ms: number): number {
	let tokens = 0;
	for (const id of inputs) if (id !== PAD) tokens++;
	return tokens / Math.max(1e-9, ms / 1000);
}
