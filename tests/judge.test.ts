import { describe, expect, it } from 'vitest';
import { extractAnswer, isWellFormatted, judgeAnswer, normaliseAnswer } from '../src/lib/core/eval/judge';

describe('answer_correctness@v1', () => {
	it('ignores extra whitespace and case', () => {
		expect(judgeAnswer('Step 1: x\nA:   Apple   APPLE\t apple  ', 'apple apple apple')).toEqual({
			extracted: 'Apple APPLE apple',
			correct: true,
			judged: { answer: 'apple apple apple', expected: 'apple apple apple' }
		});
		expect(normaliseAnswer('  A  b\n c ')).toBe('a b c');
	});

	it('is wrong without an "A: "', () => {
		const none = { extracted: null, correct: false, judged: { answer: null, expected: '5' } };
		expect(judgeAnswer('Step 1: Calculating 2 + 3 = 5\n5', '5')).toEqual(none);
		expect(judgeAnswer('A:5', '5')).toEqual(none); // "A: " needs the space
	});

	it('takes the text after the last "A: "', () => {
		expect(extractAnswer('A: 4\nStep 2: no\nA: 5')).toBe('5');
		expect(judgeAnswer('A: 5\nA: 6', '5').correct).toBe(false);
	});

	it('compares non-ASCII text', () => {
		expect(judgeAnswer('A: Ärger ÉTÉ', 'ärger été').correct).toBe(true);
		expect(judgeAnswer('A: 数字 ', '数字').correct).toBe(true);
		expect(judgeAnswer('A: café', 'cafe').correct).toBe(false);
	});

	it('is wrong for an empty output or an empty answer', () => {
		expect(judgeAnswer('', '5')).toEqual({ extracted: null, correct: false, judged: { answer: null, expected: '5' } });
		expect(judgeAnswer('A: ', '5')).toEqual({ extracted: '', correct: false, judged: { answer: '', expected: '5' } });
	});
});

describe('format check', () => {
	it('needs a Step line, an A: line and <eos>', () => {
		expect(isWellFormatted('Step 1: x\nA: 5', true)).toBe(true);
		expect(isWellFormatted('Step 1: x\nA: 5', false)).toBe(false);
		expect(isWellFormatted('A: 5', true)).toBe(false);
		expect(isWellFormatted('Step 1: x\n5', true)).toBe(false);
		expect(isWellFormatted('Step one: x\nA: 5', true)).toBe(false);
		expect(isWellFormatted('', true)).toBe(false);
	});
});
