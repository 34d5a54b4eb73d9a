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

/** The prompt part of a trace with this prompt: `Q: {prompt}\n`, up to its first "\n". */
export function promptText(prompt: string): string {
	const q = `Q: ${prompt}\n`;
	return q.slice(0, q.indexOf('\n') + 1);
}

/** Steps in ascending `i`, numbered from 1. */
export function templateText(trace: ReasoningTrace): TemplateText {
	const steps = [...trace.steps].sort((x, y) => x.i - y.i);
	const full =
		`Q: ${trace.prompt}\n` + steps.map((s, k) => `Step ${k + 1}: ${s.content}\n`).join('') + `A: ${trace.final_answer}`;
	const prompt = promptText(trace.prompt);
	return { prompt, completion: full.slice(prompt.length) };
}
