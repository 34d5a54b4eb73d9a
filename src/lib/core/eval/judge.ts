// Judge answer_correctness@v1 and the format check (docs/specification.md §7).

export const JUDGE = 'answer_correctness@v1';

/** Trimmed, inner whitespace collapsed to one space, lower-cased. */
export function normaliseAnswer(s: string): string {
	return s.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The text after the last "A: " of a completion, trimmed and collapsed; null when there is none. */
export function extractAnswer(completion: string): string | null {
	const at = completion.lastIndexOf('A: ');
	if (at < 0) return null;
	return completion
		.slice(at + 3)
		.trim()
		.replace(/\s+/g, ' ');
}

/**
 * The judge's verdict on one completion, with what it compared: the extracted answer and the
 * expected one, both normalised (`judged`), so a reader sees exactly why an item counts as wrong.
 */
export function judgeAnswer(
	completion: string,
	expected: string
): { extracted: string | null; correct: boolean; judged: { answer: string | null; expected: string } } {
	const extracted = extractAnswer(completion);
	const judged = {
		answer: extracted === null ? null : normaliseAnswer(extracted),
		expected: normaliseAnswer(expected)
	};
	return { extracted, correct: judged.answer !== null && judged.answer === judged.expected, judged };
}

/** At least one "Step k:" line, an "A: " line, and <eos> within max_new_tokens. */
export function isWellFormatted(completion: string, endedWithEos: boolean): boolean {
	return endedWithEos && /^Step \d+:/m.test(completion) && /^A: /m.test(completion);
}
