// The training text of a trace (docs/specification.md §3):
//   <bos>Q: {prompt}\n  Step 1: {content}\n  Step 2: …\n  A: {final_answer}<eos>
// The prompt part is everything up to and including the first "\n"; the completion is the rest.

import type { ReasoningTrace } from '../data/traces';

/** A trace's text, split where generation starts. Neither part holds the special tokens. */
export interface TemplateText {
	/** `Q: {prompt}\n` — note `prompt` may itself contain "\n": the split is at the first one. */
	prompt: string;
	/** `Step 1: …\n…A: {final_answer}` (the `<eos>` token follows it). */
	completion: string;
}

/** Steps in ascending `i`, numbered from 1. */
export function templateText(trace: ReasoningTrace): TemplateText {
	const steps = [...trace.steps].sort((x, y) => x.i - y.i);
	const full =
		`Q: ${trace.prompt}\n` + steps.map((s, k) => `Step ${k + 1}: ${s.content}\n`).join('') + `A: ${trace.final_answer}`;
	const cut = full.indexOf('\n') + 1;
	return { prompt: full.slice(0, cut), completion: full.slice(cut) };
}
