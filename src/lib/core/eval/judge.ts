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

export function judgeAnswer(completion: string, expected: string): { extracted: string | null; correct: boolean } {
	const extracted = extractAnswer(completion);
	return { extracted, correct: extracted !== null && normaliseAnswer(extracted) === normaliseAnswer(expected) };
}

/** At least one "Step k:" line, an "A: " line, and <eos> within max_new_tokens. */
export function isWellFormatted(completion: string, endedWithEos: boolean): boolean {
	return endedWithEos && /^Step \d+:/m.test(completion) && /^A: /m.test(completion);
}
