import { describe, expect, it } from 'vitest';
import { debiasedEma } from '../src/lib/core/run/lossStats';
import type { RunRecord } from '../src/lib/core/run/record';
import { lossFindings } from '../src/lib/core/run/health';
import { verdict } from '../src/lib/core/run/verdict';
import type { LatestEvaluation } from '../src/lib/core/eval/evalJson';
import { smokeConfig } from './helpers';

const s = (acc: number, n: number) => ({
	dataset: 'x',
	step: 0,
	judge: 'answer_correctness@v1' as const,
	n,
	loss: 1,
	perplexity: Math.E,
	answer_accuracy: acc,
	format_rate: 1,
	per_case: {}
});

function run(status: RunRecord['status'], extra: Partial<RunRecord> = {}): RunRecord {
	return {
		id: 'r',
		name: 'r',
		status,
		error: null,
		error_kind: null,
		created: '',
		started: null,
		finished: null,
		config: { ...smokeConfig(), data: { ...smokeConfig().data, dataset: 'golden-v2' } },
		datasets: { train: { key: 'golden-v2', count: 100, sha256: '', source: { kind: 'file', name: '' } }, eval: [] },
		provenance: { backend: 'wasm', backend_notes: [], adapter: null, tfjs_version: '', app_version: '', runtime: '' },
		checkpoints: [],
		summary: { initial_loss: 2.26, final_loss: 0.08, steps_done: 8 },
		...extra
	};
}

describe('verdict', () => {
	const latest: LatestEvaluation = {
		runId: 'r',
		step: 8,
		datasets: { 'golden-v2': s(0.98, 100), 'golden-v2-heldout': s(31 / 53, 53) },
		baseline: { 'golden-v2': s(0, 100), 'golden-v2-heldout': s(0, 53) }
	};

	it('says in words that a completed run trained, and how well', () => {
		const v = verdict(run('completed'), latest);
		expect(v.tone).toBe('good');
		expect([v.headline, ...v.details].join(' ')).toBe(
			'Learned the training set (98%); golden-v2-heldout 58% (untrained: 0%). Training loss (mean of the first and of the last 4 steps) fell 96%: 2.26 → 0.08. Training set (golden-v2): 98 of 100 right, 95% CI 93%–99%. golden-v2-heldout (not trained on): 31 of 53 right, 95% CI 45%–71%.'
		);
		expect(v.next).toBeNull();
	});

	it('leads a memorised, overfitting run with what happened, each number once', () => {
		const held = { ...s(1 / 53, 53), majority_answer: '7', majority_accuracy: 3 / 53 };
		const memorised = { ...latest, datasets: { 'golden-v2': s(1, 100), 'golden-v2-heldout': held } };
		const findings = [
			{ kind: 'overfitting' as const, severity: 'warn' as const, sentence: 'Overfitting: …', step: 500 },
			{ kind: 'memorised' as const, severity: 'warn' as const, sentence: 'Memorised, …' }
		];
		const v = verdict(run('completed'), memorised, findings);
		expect(v.tone).toBe('warn');
		expect(v.headline).toBe(
			'Learned the training set (100%); golden-v2-heldout 2% ≈ always answering "7" (6%); overfits after step 500.'
		);
		// a run that has not learned says so, against where it started
		const early = { ...latest, datasets: { 'golden-v2': s(0, 100), 'golden-v2-heldout': s(0, 53) } };
		expect(verdict(run('completed'), early, []).headline).toBe(
			'Does not answer the training set yet (0%; untrained: 0%); golden-v2-heldout 0% (no better than untrained: 0%).'
		);
		// an interrupted run states its status first, its outcome after
		const stopped = verdict(run('interrupted'), memorised, findings);
		expect(stopped.headline).toBe('Interrupted at step 8 of 8.');
		expect(stopped.details[0]).toMatch(/^Learned the training set \(100%\)/);
	});

	it('names the failure and the next step', () => {
		const v = verdict(run('training_failed', { error: 'Storage full: 50.0 MB used of 50.0 MB.' }), null);
		expect(v.tone).toBe('bad');
		expect(v.headline).toBe('Training failed at step 8 of 8.');
		expect(v.next).toBe(
			'Storage full: 50.0 MB used of 50.0 MB. No checkpoint was written yet, so Resume starts over from step 0 (the 8 steps trained are lost).'
		);
		// what an interruption costs: the steps since the last checkpoint
		expect(verdict(run('interrupted'), null).next).toBe(
			'No checkpoint was written yet, so Resume starts over from step 0 (the 8 steps trained are lost).'
		);
		const cut = run('interrupted', { checkpoints: [{ step: 50, file: 'c', bytes: 1, created: '' }] });
		const v62 = verdict(cut, null, [], 62);
		expect(v62.headline).toBe('Interrupted at step 62 of 8.');
		expect(v62.next).toBe(
			'Resume continues from the last checkpoint, step 50: the 12 steps since it are trained again.'
		);
		expect(
			verdict(run('completed', { summary: { initial_loss: 1, final_loss: 1.5, steps_done: 8 } }), null).details[0]
		).toBe('Training loss (mean of the first and of the last 4 steps) did not fall: 1.00 → 1.50.');
	});
});

describe('debiased EMA', () => {
	it('starts at the first value and follows a constant exactly', () => {
		expect(debiasedEma([5, 5, 5], 0.9)).toEqual([5, 5, 5].map((x) => expect.closeTo(x, 12)));
		expect(debiasedEma([1, 2, 3], 0)).toEqual([1, 2, 3]);
		const sm = debiasedEma([10, 0, 0, 0], 0.5);
		expect(sm[0]).toBeCloseTo(10, 12);
		expect(sm[1]).toBeCloseTo(10 / 3, 12); // (0.5·10·0.5 + 0) / (1 − 0.25)
	});
});

describe('verdict colour follows the health checks', () => {
	it('a completed run with a bad finding is not green; with a warning it is amber', () => {
		const zero = {
			kind: 'zero_loss' as const,
			severity: 'bad' as const,
			sentence: 'The loss was 0 from the first step.'
		};
		const stuck = { kind: 'stuck' as const, severity: 'warn' as const, sentence: 'The loss barely moved.' };
		const bad = verdict(run('completed'), null, [zero]);
		expect(bad.tone).toBe('bad');
		expect(bad.headline).toBe('Training ran to the end, but did not train.');
		expect(bad.details[0]).toBe('The loss was 0 from the first step.');
		expect(verdict(run('completed'), null, [stuck]).tone).toBe('warn');
		expect(verdict(run('completed'), null, []).tone).toBe('good');
		expect(verdict(run('training'), null, [zero]).tone).toBe('bad');
	});

	it('a run that exploded within its first steps and then fell a little is red', () => {
		const losses = [3.8, 12, 25, ...Array.from({ length: 200 }, (_, i) => 25 - (2.6 * i) / 199)];
		const exploded = run('completed', { summary: { initial_loss: 24.26, final_loss: 22.46, steps_done: 203 } });
		const v = verdict(exploded, null, lossFindings(losses, false));
		expect(v.tone).toBe('bad');
		expect(v.details[0]).toMatch(/rose from 3\.80 to 22\.\d+: training diverged/);
	});
});
