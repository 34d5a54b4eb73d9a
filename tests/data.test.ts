import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/lib/core/data/canonicalJson';
import { goldenV2, goldenV2Heldout } from '../src/lib/core/data/golden';
import { builtInDataset } from '../src/lib/core/data/registry';
import {
	canonicalJsonl,
	decodeTraceFile,
	parseTraceJsonl,
	readTraceJsonl,
	traceProblems,
	TraceFileError
} from '../src/lib/core/data/traces';
import { sha256Text } from '../src/lib/core/sha256';

describe('golden-v2', () => {
	const g = goldenV2();
	it('has the specified hash and test vectors', () => {
		expect(g.manifest.sha256).toBe('d1ad2444012524832046d8fa3c14e58558c3ce540b86295b08ddc9e7f262b1e9');
		expect(sha256Text(canonicalJsonl(g.traces))).toBe(g.manifest.sha256);
		expect(g.traces).toHaveLength(100);
		expect(g.traces[0].prompt).toBe('What is 82 + 15?');
		expect(g.traces[0].final_answer).toBe('97');
		expect(g.traces[0].steps).toEqual([{ i: 0, type: 'calculation', content: 'Calculating 82 + 15 = 97' }]);
		expect(g.traces[1].prompt).toBe('What is 4 + 95?');
		expect(g.traces[49].prompt).toBe('What is 32 + 21?');
		expect(g.traces[50].prompt).toBe("Repeat 'date' 5 times");
		expect(g.traces[50].final_answer).toBe('date date date date date');
		expect(g.traces[99].prompt).toBe("Repeat 'apple' 3 times");
		expect(g.traces[99].meta).toEqual({ golden: 'v2', case: 'text_gen', idx: 99 });
	});

	it('held-out has the specified hash, 53 traces and no training prompt', () => {
		const h = goldenV2Heldout();
		expect(h.manifest.sha256).toBe('590dc58c81a250fe6da2d8e47a488cf7b18401814241cfd4517763ef214849d9');
		expect(h.traces).toHaveLength(53);
		expect(h.traces[0].prompt).toBe('What is 5 + 37?');
		expect(h.traces.filter((t) => t.meta?.case === 'math_gen')).toHaveLength(50);
		const train = new Set(g.traces.map((t) => t.prompt));
		expect(h.traces.some((t) => train.has(t.prompt))).toBe(false);
	});

	it('registry knows both keys and names them for an unknown one', () => {
		expect(builtInDataset('golden-v2-heldout').manifest.count).toBe(53);
		expect(() => builtInDataset('golden-v3')).toThrow(/unknown dataset "golden-v3".*golden-v2, golden-v2-heldout/);
	});
});

describe('canonical JSON', () => {
	it('matches Python json.dumps(sort_keys, compact separators, ensure_ascii)', () => {
		// printed by CPython 3.11
		const v = { b: [1, 'é\u2028😀\x7f'], a: { z: null, y: true, é: 1.5 } };
		expect(canonicalJson(v)).toBe(
			'{"a":{"y":true,"z":null,"\\u00e9":1.5},"b":[1,"\\u00e9\\u2028\\ud83d\\ude00\\u007f"]}'
		);
	});
});

describe('trace JSONL', () => {
	const good = JSON.stringify(goldenV2().traces[0]);

	it('round-trips the canonical form', () => {
		const text = canonicalJsonl(goldenV2().traces);
		expect(canonicalJsonl(parseTraceJsonl(text))).toBe(text);
	});

	it('reports every problem by line and field path, and returns nothing', () => {
		const lines = [
			good,
			'{not json',
			JSON.stringify({ prompt: '', steps: [], final_answer: 'x' }),
			JSON.stringify({
				prompt: 'p',
				steps: [
					{ i: 0, type: 't', content: 'c' },
					{ i: 0, type: '', content: 'c' }
				],
				final_answer: 'a',
				extra: 1
			}),
			'',
			JSON.stringify({
				prompt: 'p',
				steps: [{ i: -1, type: 'x'.repeat(65), content: 'c' }],
				final_answer: 'a',
				trace_version: '2.0'
			})
		];
		let err: TraceFileError | undefined;
		try {
			parseTraceJsonl(lines.join('\n'), 'bad.jsonl');
		} catch (e) {
			err = e as TraceFileError;
		}
		expect(err).toBeInstanceOf(TraceFileError);
		expect(err!.problems).toEqual([
			expect.stringMatching(/^line 2: not valid JSON: (?!.*line 1 column)/),
			'line 3: prompt: length 0 is outside 1..50000',
			'line 3: steps: has 0 steps, must have 1..1000',
			'line 4: steps[1].type: length 0 is outside 1..64',
			'line 4: extra: unknown field',
			'line 4: steps[1].i: duplicate step index 0',
			'line 6: trace_version: must be "1.0", got "2.0"',
			'line 6: steps[0].i: must be an integer >= 0',
			'line 6: steps[0].type: length 65 is outside 1..64'
		]);
		expect(err!.message).toMatch(/^bad\.jsonl: 9 problem\(s\), nothing was loaded/);
		// the lines without problems are counted, and read alone they are what an import of them keeps
		expect(err!.valid).toBe(1);
		const read = readTraceJsonl(lines.join('\n'));
		expect(read.badLines).toEqual([2, 3, 4, 6]);
		expect(read.traces).toHaveLength(1);
	});

	it('counts characters as Python does (code points) for the limits', () => {
		const astral = '😀'.repeat(64); // 128 UTF-16 units, 64 code points
		expect(traceProblems({ prompt: 'p', steps: [{ i: 0, type: astral, content: 'c' }], final_answer: 'a' })).toEqual(
			[]
		);
	});

	it('refuses bytes that are not UTF-8 by line, instead of reading replacement characters', () => {
		const good = new TextEncoder().encode('{"a": 1}\n');
		const latin1 = Uint8Array.from([...good, 0x7b, 0x22, 0xe9, 0x22, 0x7d, 0x0a]); // {"é"} in Latin-1
		expect(() => decodeTraceFile(latin1, 'latin1.jsonl')).toThrow(TraceFileError);
		expect(() => decodeTraceFile(latin1, 'latin1.jsonl')).toThrow(/line 2: not valid UTF-8/);
		expect(decodeTraceFile(good)).toBe('{"a": 1}\n');
	});

	it('refuses an empty file', () => {
		expect(() => parseTraceJsonl('\n\n', 'empty.jsonl')).toThrow(/holds no traces/);
	});
});
