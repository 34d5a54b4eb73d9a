// Addition curricula (issue: learning that computes): multi-digit sums whose trace steps do the
// column addition a person would, one column per step with its carry, beside the same items with
// the answer only. Deterministic (the Python-compatible MT19937), versioned, hashed like golden-v2.
//
//   train:   3-digit + 3-digit pairs whose pair hash falls in the train part (80%)
//   heldout: 3-digit + 3-digit pairs from the other part (never a training pair)
//   length:  4-digit + 4-digit pairs (one digit more than trained)
//
// The `steps` variant spells out each column ("Step 2: 2+5+1=8 c0": digits, carry in, sum, carry
// out); `no_steps` has one step that is the answer itself, so the traces keep tunix-rt's shape
// (at least one step) while giving the model no working to learn from.

import { Mt19937 } from '../prng';
import { makeDataset, type Dataset } from './manifest';
import type { ReasoningTrace } from './traces';

export const ARITHMETIC_GENERATOR = 'tunix-rt-lab addition v1';

export type Variant = 'steps' | 'no_steps';
export type Split = 'train' | 'heldout' | 'length';

/** Sizes of each split (items). */
const SIZES: Record<Split, number> = { train: 4000, heldout: 500, length: 500 };
/** Operand digits of each split. */
const DIGITS: Record<Split, number> = { train: 3, heldout: 3, length: 4 };
const SEEDS: Record<Split, number> = { train: 101, heldout: 202, length: 303 };

/** Whether a pair belongs to the held-out part (a fixed hash of the pair, 20% of pairs). */
function heldOutPair(a: number, b: number): boolean {
	return (Math.imul(a, 2654435761) ^ Math.imul(b, 40503)) >>> 0 < 0.2 * 2 ** 32;
}

/** The column additions of a + b, right to left: "d_a+d_b+carry=sum c<carry out>". */
export function columnSteps(a: number, b: number): string[] {
	const da = String(a).split('').reverse().map(Number);
	const db = String(b).split('').reverse().map(Number);
	const steps: string[] = [];
	let carry = 0;
	for (let k = 0; k < Math.max(da.length, db.length); k++) {
		const s = (da[k] ?? 0) + (db[k] ?? 0) + carry;
		steps.push(`${da[k] ?? 0}+${db[k] ?? 0}+${carry}=${s} c${s >= 10 ? 1 : 0}`);
		carry = s >= 10 ? 1 : 0;
	}
	return steps;
}

function trace(a: number, b: number, variant: Variant, split: Split, idx: number): ReasoningTrace {
	const sum = String(a + b);
	const steps =
		variant === 'steps'
			? columnSteps(a, b).map((content, i) => ({ i, type: 'column', content }))
			: [{ i: 0, type: 'answer', content: sum }];
	return {
		trace_version: '1.0',
		prompt: `${a}+${b}`,
		steps,
		final_answer: sum,
		meta: { curriculum: 'addition-v1', case: split, idx }
	};
}

/** The operand pairs of a split: distinct, drawn from the split's part of the pair space. */
function pairs(split: Split): [number, number][] {
	const rng = new Mt19937(SEEDS[split]);
	const lo = 10 ** (DIGITS[split] - 1);
	const hi = 10 ** DIGITS[split] - 1;
	const seen = new Set<string>();
	const out: [number, number][] = [];
	while (out.length < SIZES[split]) {
		const a = rng.randint(lo, hi);
		const b = rng.randint(lo, hi);
		const key = `${a}+${b}`;
		if (seen.has(key)) continue;
		if (split === 'train' && heldOutPair(a, b)) continue;
		if (split === 'heldout' && !heldOutPair(a, b)) continue;
		seen.add(key);
		out.push([a, b]);
	}
	return out;
}

/** One curriculum dataset; the same items (pairs) in both variants. */
export function additionDataset(variant: Variant, split: Split): Dataset {
	const key = datasetKey(variant, split);
	const traces = pairs(split).map(([a, b], i) => trace(a, b, variant, split, i));
	return makeDataset(key, traces, {
		kind: 'generator',
		generator: `${ARITHMETIC_GENERATOR} ${variant} ${split}`,
		seed: SEEDS[split],
		count: traces.length
	});
}

/** e.g. "add3-steps", "add3-no-steps-heldout", "add4-steps-length". */
export function datasetKey(variant: Variant, split: Split): string {
	const v = variant === 'steps' ? 'steps' : 'no-steps';
	return split === 'train' ? `add3-${v}` : split === 'heldout' ? `add3-${v}-heldout` : `add4-${v}-length`;
}

/** Every curriculum dataset by key, built when asked for. */
export const ADDITION_DATASETS: Record<string, () => Dataset> = Object.fromEntries(
	(['steps', 'no_steps'] as const).flatMap((v) =>
		(['train', 'heldout', 'length'] as const).map((s) => [datasetKey(v, s), () => additionDataset(v, s)])
	)
);
