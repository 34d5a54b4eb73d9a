// golden-v2 and golden-v2-heldout: a port of tunix-rt's deterministic generator
// (Python `random.Random(seed)`), trace for trace and byte for byte.

import { Mt19937 } from '../prng';
import { makeDataset, type Dataset } from './manifest';
import type { ReasoningTrace } from './traces';

const WORDS = ['apple', 'banana', 'cherry', 'date', 'elderberry'] as const;
export const GOLDEN_GENERATOR = 'tunix-rt golden-v2';

function mathTrace(rng: Mt19937, idx: number): ReasoningTrace {
	const a = rng.randint(1, 100);
	const b = rng.randint(1, 100);
	return {
		trace_version: '1.0',
		prompt: `What is ${a} + ${b}?`,
		steps: [{ i: 0, type: 'calculation', content: `Calculating ${a} + ${b} = ${a + b}` }],
		final_answer: String(a + b),
		meta: { golden: 'v2', case: 'math_gen', idx }
	};
}

function textTrace(rng: Mt19937, idx: number): ReasoningTrace {
	const w = rng.choice(WORDS);
	const n = rng.randint(2, 5);
	return {
		trace_version: '1.0',
		prompt: `Repeat '${w}' ${n} times`,
		steps: [{ i: 0, type: 'reasoning', content: `Repeating ${w} ${n} times` }],
		final_answer: Array(n).fill(w).join(' '),
		meta: { golden: 'v2', case: 'text_gen', idx }
	};
}

/** The generator: `count / 2` math traces, then the rest text traces, from one `Random(seed)`. */
export function generateGolden(seed: number, count: number): ReasoningTrace[] {
	const rng = new Mt19937(seed);
	const nMath = Math.floor(count / 2);
	const traces: ReasoningTrace[] = [];
	for (let i = 0; i < nMath; i++) traces.push(mathTrace(rng, i));
	for (let i = nMath; i < count; i++) traces.push(textTrace(rng, i));
	return traces;
}

export function goldenV2(): Dataset {
	return makeDataset('golden-v2', generateGolden(42, 100), {
		kind: 'generator',
		generator: GOLDEN_GENERATOR,
		seed: 42,
		count: 100
	});
}

/** Seed 43, count 100, keeping the first occurrence of each prompt that golden-v2 does not have. */
export function goldenV2Heldout(): Dataset {
	const seen = new Set(generateGolden(42, 100).map((t) => t.prompt));
	const kept: ReasoningTrace[] = [];
	for (const t of generateGolden(43, 100)) {
		if (seen.has(t.prompt)) continue;
		seen.add(t.prompt);
		kept.push(t);
	}
	return makeDataset('golden-v2-heldout', kept, {
		kind: 'generator',
		generator: `${GOLDEN_GENERATOR} heldout`,
		seed: 43,
		count: 100
	});
}
