// Health checks (src/lib/core/run/health.ts): each finding from the numbers that show it, none
// from a run that trained well, and the verdict's colour follows them.
import { describe, expect, it } from 'vitest';
import type { EvalJson, EvalSummary } from '../src/lib/core/eval/evalJson';
import { evalFindings, lossFindings, runHealth } from '../src/lib/core/run/health';
import { latestEvaluation } from '../src/lib/core/eval/evalJson';
import { smokeConfig } from './helpers';

const falling = (n: number, from = 3.8, to = 0.5) =>
	Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
const kinds = (f: { kind: string }[]) => f.map((x) => x.kind);

const summary = (dataset: string, step: number, loss: number, acc: number, majority = 0.1): EvalSummary => ({
	dataset,
	step,
	judge: 'answer_correctness@v1',
	n: 100,
	loss,
	perplexity: Math.exp(loss),
	answer_accuracy: acc,
	format_rate: 1,
	majority_answer: '98',
	majority_accuracy: majority,
	per_case: {}
});

/** eval.json with a history: per step, [train loss, train acc, held-out loss, held-out acc]. */
function evalJson(points: [number, number, number, number, number][], majority = 0.1): EvalJson {
	const history = points.map(([step, tl, ta, hl, ha]) => ({
		step,
		datasets: { train: summary('train', step, tl, ta, majority), held: summary('held', step, hl, ha, majority) }
	}));
	return { run_id: 'r', step: points.at(-1)![0], judge: 'answer_correctness@v1', datasets: {}, baseline: {}, history };
}

describe('health checks', () => {
	it('finds nothing wrong with a run whose loss fell and whose held-out score beats its baselines', () => {
		const e = evalJson([
			[0, 3.8, 0, 3.8, 0],
			[100, 1.0, 0.6, 1.2, 0.4],
			[200, 0.5, 0.9, 1.0, 0.6]
		]);
		const config = smokeConfig({ data: { dataset: 'train' }, train: { warmup_steps: 10 } });
		expect(runHealth(falling(200), false, e, config)).toEqual([]);
	});

	it('no false alarm from a few noisy steps, a warmup that has not moved the loss yet, or noise near 0', () => {
		expect(lossFindings([3.81, 3.812], false)).toEqual([]); // 2 steps: too few to call a rise
		expect(lossFindings([3.81, 3.8, 3.79, 3.81, 3.82, 3.8, 3.81, 3.811], false)).toEqual([]); // within 5%
		const warm = [...Array(60).fill(3.81), ...falling(40, 3.81, 3.0)];
		expect(lossFindings(warm, false, 60)).toEqual([]); // flat during a 60-step warmup, then falling
		const converged = [...falling(200, 3.8, 0.012), ...Array.from({ length: 50 }, (_, i) => 0.012 + (i % 2) * 0.01)];
		expect(lossFindings(converged, false)).toEqual([]); // 0.012 ↔ 0.022 near the end is noise, not a rise
	});

	it('a loss of 0 from the first step is not real', () => {
		expect(kinds(lossFindings(Array(40).fill(0), false))).toEqual(['zero_loss']);
	});

	it('a loss that never moves, one that rose, one that barely fell, one that rose again late', () => {
		expect(kinds(lossFindings(Array(40).fill(2.5), false))).toEqual(['constant_loss']);
		const diverged = lossFindings([...falling(20, 3.8, 3.0), ...falling(20, 3.0, 34)], false);
		expect(kinds(diverged)).toEqual(['diverged']);
		expect(diverged[0].sentence).toMatch(/The loss rose from 3\.\d+ to \d+\.\d+: training diverged/);
		// exploded within its first steps (3.8 → 25 by step 3), then fell a little: its first and last
		// windows both sit far above where it started, and it is red, not "loss fell 7%"
		const exploded = lossFindings([3.8, 12, 25, ...falling(200, 25, 22.4)], false);
		expect(kinds(exploded)).toEqual(['diverged']);
		expect(exploded[0].sentence).toMatch(/The loss rose from 3\.80 to 22\.\d+: training diverged/);
		expect(kinds(lossFindings(falling(100, 3.8, 3.7), false))).toEqual(['stuck']);
		expect(kinds(lossFindings([...falling(100, 3.8, 0.5), ...falling(50, 0.5, 1.5)], false))).toEqual(['unstable']);
	});

	it('a NaN stop is a finding of its own', () => {
		expect(kinds(lossFindings(falling(10), true))).toEqual(['non_finite']);
	});

	it('held-out loss rising while training loss falls is overfitting', () => {
		const e = evalJson([
			[0, 3.8, 0, 3.8, 0],
			[100, 1.0, 0.5, 1.5, 0.3],
			[200, 0.3, 0.7, 2.4, 0.3]
		]);
		const f = evalFindings(e, latestEvaluation(e), 'train');
		expect(kinds(f)).toEqual(['overfitting']);
		expect(f[0].sentence).toMatch(
			/held-out loss on held was lowest at step 100 \(1\.50\) and rose to 2\.40 by step 200/
		);
	});

	it('a run that answers no more training questions than untrained says so', () => {
		const e = evalJson(
			[
				[0, 3.8, 0, 3.8, 0],
				[8, 3.3, 0, 3.3, 0]
			],
			0 // no common answer
		);
		const f = evalFindings(e, latestEvaluation(e), 'train');
		expect(kinds(f)).toEqual(['no_gain']);
		expect(f[0].sentence).toMatch(/^It answers no more training questions than before training \(0%, untrained 0%\)/);
	});

	it('training questions right but held-out ones no better than untrained: memorised; and the majority answer', () => {
		const e = evalJson([
			[0, 3.8, 0, 3.8, 0.04],
			[200, 0.1, 1.0, 3.0, 0.06]
		]);
		const f = evalFindings(e, latestEvaluation(e), 'train');
		expect(kinds(f)).toEqual(['memorised', 'below_majority']);
		expect(f[0].sentence).toBe(
			'Memorised, does not generalise: 100% of training questions right, but 6% on held, no better than always answering "98" (10%).'
		);
		expect(f[1].sentence).toMatch(/no better than always answering "98" \(the most common answer: 10%\)/);
	});
});
