// The size ladder's arithmetic (core/bench/ladder.ts): the rungs are the shapes the issue names,
// and a step's product FLOPs equal nanoGPT's count (6 per parameter of a product per token, plus
// attention's 12 · L · C · T per token), written out here independently.
import { describe, expect, it } from 'vitest';
import { LADDER, rungNamed, rungParameters, stepFlops, stepProducts } from '../src/lib/core/bench/ladder';

describe('the size ladder', () => {
	it('has the full-run model, ~10M, distilgpt2 and GPT-2 small, as Hugging Face counts them', () => {
		expect(LADDER.map((r) => r.name)).toEqual(['S', 'M', 'L', 'XL']);
		expect(rungParameters(rungNamed('S'))).toBe(111_104); // configs/train_golden_v2.yaml's model
		expect(rungParameters(rungNamed('M'))).toBeGreaterThan(10e6);
		expect(rungParameters(rungNamed('M'))).toBeLessThan(11e6);
		expect(rungParameters(rungNamed('L'))).toBe(81_912_576); // distilgpt2
		expect(rungParameters(rungNamed('xl'))).toBe(124_439_808); // gpt2
		expect(() => rungNamed('XXL')).toThrow(/no rung "XXL": the ladder has S, M, L, XL/);
	});

	it("counts a step's products as nanoGPT does: 6 · (block and head weights) · tokens + 12 · L · C · T · tokens", () => {
		for (const r of LADDER) {
			const tokens = r.batch * r.seq;
			const weights = 12 * r.n_embd ** 2 * r.n_layer + r.vocab * r.n_embd; // the products' matrices, head tied
			const want = 6 * weights * tokens + 12 * r.n_layer * r.n_embd * r.seq * tokens;
			expect(stepFlops(r), r.name).toBe(want);
		}
		// every linear has its forward and two backward products; attention six; the head three
		expect(stepProducts(rungNamed('S'))).toHaveLength(4 * 3 + 6 + 3);
	});
});
