// A run's summary fields from its evaluation (run.json's final, baseline and best scores).

import type { EvalJson, EvalResult, EvalSummary, ScoreSummary } from '../eval/evalJson';
import { summarise } from '../eval/evaluate';
import type { RunSummary } from './record';

const score = (s: EvalSummary): ScoreSummary => ({
	loss: s.loss,
	perplexity: s.perplexity,
	answer_accuracy: s.answer_accuracy,
	format_rate: s.format_rate,
	n: s.n
});

/** run.json summary fields from an evaluation. */
export function evalRunSummary(e: EvalJson): Pick<RunSummary, 'final_scores' | 'baseline_scores' | 'best_scores'> {
	const best: NonNullable<RunSummary['best_scores']> = {};
	for (const h of e.history) {
		for (const [key, s] of Object.entries(h.datasets)) {
			if (!best[key] || s.answer_accuracy > best[key].answer_accuracy)
				best[key] = { step: h.step, answer_accuracy: s.answer_accuracy };
		}
	}
	const map = (r: Record<string, EvalResult>) =>
		Object.fromEntries(Object.entries(r).map(([k, v]) => [k, score(summarise(v))]));
	return { final_scores: map(e.datasets), baseline_scores: map(e.baseline), best_scores: best };
}
