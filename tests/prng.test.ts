import { describe, expect, it } from 'vitest';
import { Mt19937 } from '../src/lib/core/prng';

// Expected values printed by CPython 3.11's random module.
describe('Mt19937 (Python random compatible)', () => {
	it('matches random.Random(42).random()', () => {
		const r = new Mt19937(42);
		expect([r.random(), r.random(), r.random()]).toEqual([
			0.6394267984578837, 0.025010755222666936, 0.27502931836911926
		]);
	});

	it('matches getrandbits(32) for seed 0', () => {
		const r = new Mt19937(0);
		expect([r.getrandbits(32), r.getrandbits(32), r.getrandbits(32)]).toEqual([3626764237, 1654615998, 3255389356]);
	});

	it('matches shuffle, randint and choice, including a seed wider than 32 bits', () => {
		expect(new Mt19937(42).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual([7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
		const r = new Mt19937(2 ** 40 + 7);
		expect(Array.from({ length: 5 }, () => r.randint(1, 1000))).toEqual([629, 766, 835, 961, 968]);
		expect(r.choice([...'abcdefg'])).toBe('f');
	});

	it('continues identically from a saved state', () => {
		const a = new Mt19937(7);
		for (let i = 0; i < 700; i++) a.nextUint32(); // cross a twist
		const b = Mt19937.fromState(JSON.parse(JSON.stringify(a.getState())));
		expect(Array.from({ length: 1000 }, () => b.nextUint32())).toEqual(
			Array.from({ length: 1000 }, () => a.nextUint32())
		);
	});

	it('rejects bad seeds and states', () => {
		expect(() => new Mt19937(1.5)).toThrow(/safe integer/);
		expect(() => Mt19937.fromState({ mt: [1, 2], index: 0 })).toThrow(/624 words/);
	});
});
