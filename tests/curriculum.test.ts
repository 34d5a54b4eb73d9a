// The addition curricula (src/lib/core/data/arithmetic.ts): fixed by their hashes, held-out pairs
// never trained on, the length set one digit longer, both variants over the same items, and every
// step's arithmetic right.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../src/cli/io';
import { trainCommand } from '../src/cli/trainCommand';
import { wilson } from '../src/lib/core/stats/wilson';
import { additionDataset, columnSteps } from '../src/lib/core/data/arithmetic';
import { builtInDataset } from '../src/lib/core/data/registry';
import { canonicalJsonl, parseTraceJsonl } from '../src/lib/core/data/traces';

describe('addition curricula', () => {
	it('are fixed by their sha256 (a change to the generator must change these on purpose)', () => {
		const hashes = Object.fromEntries(
			[
				'add3-steps',
				'add3-steps-heldout',
				'add4-steps-length',
				'add3-no-steps',
				'add3-no-steps-heldout',
				'add4-no-steps-length'
			].map((k) => [k, builtInDataset(k).manifest.sha256.slice(0, 16)])
		);
		expect(hashes).toEqual({
			'add3-steps': 'dee55250c0e60bed',
			'add3-steps-heldout': '9baa6e3dccac086e',
			'add4-steps-length': '4009b8d3bc69cb46',
			'add3-no-steps': '982744527d9b21bd',
			'add3-no-steps-heldout': 'ba9b7e58f59a57fa',
			'add4-no-steps-length': 'e341a524c88c7670'
		});
	});

	it('never share an operand pair between train and held-out; the length set has one digit more', () => {
		const train = additionDataset('steps', 'train').traces;
		const held = additionDataset('steps', 'heldout').traces;
		const length = additionDataset('steps', 'length').traces;
		expect([train.length, held.length, length.length]).toEqual([4000, 500, 500]);
		const seen = new Set(train.map((t) => t.prompt));
		expect(held.filter((t) => seen.has(t.prompt))).toEqual([]);
		expect(new Set(held.map((t) => t.prompt)).size).toBe(500);
		expect(train.every((t) => /^\d{3}\+\d{3}$/.test(t.prompt))).toBe(true);
		expect(length.every((t) => /^\d{4}\+\d{4}$/.test(t.prompt))).toBe(true);
	});

	it('both variants hold the same items; steps add up column by column to the answer', () => {
		const steps = additionDataset('steps', 'heldout').traces;
		const bare = additionDataset('no_steps', 'heldout').traces;
		expect(bare.map((t) => [t.prompt, t.final_answer])).toEqual(steps.map((t) => [t.prompt, t.final_answer]));
		expect(bare.every((t) => t.steps.length === 1 && t.steps[0].content === t.final_answer)).toBe(true);
		for (const t of steps) {
			const [a, b] = t.prompt.split('+').map(Number);
			expect(t.final_answer).toBe(String(a + b));
			// the written digits, last carry first, are the answer
			const cols = t.steps.map((s) => /=(\d+) c(\d)$/.exec(s.content)!);
			const digits = cols
				.map((m) => Number(m[1]) % 10)
				.reverse()
				.join('');
			const lastCarry = cols.at(-1)![2] === '1' ? '1' : '';
			expect(lastCarry + digits).toBe(t.final_answer);
		}
		expect(columnSteps(695, 967)).toEqual(['5+7+0=12 c1', '9+6+1=16 c1', '6+9+1=16 c1']);
	});

	it('are valid tunix-rt traces (they export and import back)', () => {
		const ds = builtInDataset('add3-no-steps-heldout');
		expect(parseTraceJsonl(canonicalJsonl(ds.traces))).toHaveLength(500);
	});

	it('a CI-sized run learns to add: held-out accuracy far above untrained, by its interval', async () => {
		// configs/add3_ci.yaml: 800 steps on add3-steps, 200 held-out sums. Measured on 2026-11-29:
		// 193/200 = 96.5% (95% CI 93.0–98.3%), untrained 0/200. The floor, 80%, is the lower bound of
		// the interval that must hold; any run that learned the columns clears it, one that did not
		// (untrained: interval 0–1.9%) cannot.
		const dir = join(mkdtempSync(join(tmpdir(), 'tunix-add3-')), 'run');
		const quiet = { out: () => undefined, err: () => undefined, progressStream: { write: () => true, isTTY: false } };
		const args = ['--config', 'configs/add3_ci.yaml', '--checkpoint-dir', dir, '--backend', 'wasm'];
		expect(await runCommand(trainCommand, args, quiet)).toBe(0);
		const e = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8'));
		const held = e.datasets['add3-steps-heldout'];
		const base = e.baseline['add3-steps-heldout'];
		const [low] = wilson(Math.round(held.answer_accuracy * held.n), held.n);
		const [, baseHigh] = wilson(Math.round(base.answer_accuracy * base.n), base.n);
		expect(held.n).toBe(200);
		expect(low, `held-out ${held.answer_accuracy} (lower bound ${low})`).toBeGreaterThanOrEqual(0.8);
		expect(low).toBeGreaterThan(baseHigh);
	}, 900_000);
});
