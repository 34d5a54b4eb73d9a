import { describe, expect, it } from 'vitest';
import { goldenV2 } from '../src/lib/core/data/golden';
import type { ReasoningTrace } from '../src/lib/core/data/traces';
import { encodeExample, makeBatch } from '../src/lib/core/text/examples';
import { templateText } from '../src/lib/core/text/template';
import { BOS, EOS, PAD, Tokenizer, UNK } from '../src/lib/core/text/tokenizer';

const trace: ReasoningTrace = {
	trace_version: '1.0',
	prompt: 'What is 2 + 3?',
	steps: [
		{ i: 1, type: 'check', content: 'It is 5' },
		{ i: 0, type: 'calculation', content: 'Calculating 2 + 3 = 5' }
	],
	final_answer: '5'
};

describe('template', () => {
	it('renders steps in order of i, numbered from 1, split after the first newline', () => {
		expect(templateText(trace)).toEqual({
			prompt: 'Q: What is 2 + 3?\n',
			completion: 'Step 1: Calculating 2 + 3 = 5\nStep 2: It is 5\nA: 5'
		});
	});
});

describe('tokenizer', () => {
	it('puts specials first, then the characters by code point', () => {
		const tok = Tokenizer.fromTraces([trace]);
		expect(tok.vocab.slice(0, 6)).toEqual(['<pad>', '<bos>', '<eos>', '<unk>', '\n', ' ']);
		const chars = tok.vocab.slice(4);
		expect([...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!)).toEqual(chars);
		expect(tok.decode(tok.encode('What is 5?'))).toBe('What is 5?');
		expect(tok.encode('é')).toEqual([UNK]);
	});

	it('golden-v2 has a small vocabulary', () => {
		const tok = Tokenizer.fromTraces(goldenV2().traces);
		expect(tok.size).toBeGreaterThan(30);
		expect(tok.size).toBeLessThan(60);
	});
});

describe('examples and batches', () => {
	const tok = Tokenizer.fromTraces([trace]);
	const ex = encodeExample(trace, tok);

	it('wraps the text in <bos> … <eos> and marks where the completion starts', () => {
		expect(ex.ids[0]).toBe(BOS);
		expect(ex.ids.at(-1)).toBe(EOS);
		expect(ex.promptLength).toBe(1 + 'Q: What is 2 + 3?\n'.length);
		expect(tok.decode(ex.ids.slice(ex.promptLength))).toBe('Step 1: Calculating 2 + 3 = 5\nStep 2: It is 5\nA: 5');
	});

	it('masks prompt targets and padding (completion), or only padding (all)', () => {
		const short = encodeExample({ ...trace, steps: [trace.steps[1]] }, tok);
		const b = makeBatch([ex, short], 'completion');
		expect(b.T).toBe(ex.ids.length - 1);
		const completionTargets = ex.ids.length - ex.promptLength; // incl. <eos>
		const shortTargets = short.ids.length - short.promptLength;
		expect(b.count).toBe(completionTargets + shortTargets);
		// row 1 is padded after its end, and padding never counts
		const row1 = Array.from(b.mask.slice(b.T, 2 * b.T));
		expect(row1.slice(short.ids.length - 1).every((m) => m === 0)).toBe(true);
		expect(Array.from(b.inputs.slice(b.T + short.ids.length - 1, 2 * b.T)).every((id) => id === PAD)).toBe(true);
		// the first counted target is the completion's first token; the last is <eos>
		expect(b.targets[ex.promptLength - 1]).toBe(ex.ids[ex.promptLength]);
		expect(b.mask[ex.promptLength - 2]).toBe(0);
		expect(b.mask[ex.promptLength - 1]).toBe(1);
		expect(b.targets[ex.ids.length - 2]).toBe(EOS);

		const all = makeBatch([ex, short], 'all');
		expect(all.count).toBe(ex.ids.length - 1 + short.ids.length - 1);
	});
});
