// Did the run train, or only look as if it did? Health checks on a run's numbers — the training
// losses, the evaluation history and the trivial baselines — each a finding with a plain sentence.
// The verdict leads with them, and run.json keeps them (summary.health). A finding is never green.
// The thresholds are in docs/specification.md §8 ("Health checks").

import type { EvalSummary, LatestEvaluation } from '../eval/evalJson';
import { latestEvaluation, type EvalJson } from '../eval/evalJson';
import { lossSummary, trailingMean } from './lossStats';
import { startName, type LabConfig } from '../config';
import type { HealthFinding } from './record';

/** Thresholds (docs/specification.md §8). */
export const HEALTH = {
	/** Steps before "stuck", "constant" and "unstable" can be judged. */
	minSteps: 30,
	/** Steps (after warmup) before a rise can be called divergence. */
	minDivergeSteps: 8,
	/** The final loss above the initial one by this factor is "diverged". */
	diverge: 1.05,
	/** Losses at or below this are "zero". */
	zero: 1e-6,
	/** Relative spread below which the loss is constant. */
	constant: 1e-6,
	/** A fall of less than this share of the initial loss is "stuck". */
	stuck: 0.05,
	/** The late trailing mean above the lowest one by this factor is "unstable". */
	unstable: 1.5,
	/** … and by at least this share of the fall from the initial loss to the lowest. */
	unstableShare: 0.25,
	/** Held-out loss above its lowest by this factor, at the last evaluation, is "overfitting". */
	overfit: 1.1,
	/** Training accuracy at or above this, with held-out accuracy within `memoriseMargin` of its baseline, is "memorised". */
	memoriseTrain: 0.8,
	memoriseMargin: 0.05
} as const;

const f = (x: number) => (Math.abs(x) >= 0.01 ? x.toFixed(2) : x.toPrecision(2));
const pct = (x: number) => `${Math.round(x * 100)}%`;

/**
 * Findings from the training losses (in step order); `nonFinite` when training stopped on a
 * NaN/Inf. Rising, stuck and unstable are judged after the `warmup` steps (the loss may sit still
 * while the learning rate ramps up) and only over enough steps to tell a trend from noise.
 */
export function lossFindings(losses: readonly number[], nonFinite: boolean, warmup = 0): HealthFinding[] {
	const out: HealthFinding[] = [];
	if (nonFinite)
		out.push({
			kind: 'non_finite',
			severity: 'bad',
			sentence: 'Training stopped on a loss that is not a number (NaN or infinite): the run diverged.'
		});
	if (losses.length === 0) return out;
	const head = losses.slice(0, Math.min(10, losses.length));
	if (head.every((l) => Math.abs(l) <= HEALTH.zero)) {
		out.push({
			kind: 'zero_loss',
			severity: 'bad',
			sentence: `The loss was 0 from the first step: no model starts knowing its data, so these numbers are not real (a backend fault).`
		});
		return out;
	}
	const mean = losses.reduce((s, l) => s + l, 0) / losses.length;
	const spread = Math.max(...losses) - Math.min(...losses);
	if (losses.length >= HEALTH.minSteps && spread <= HEALTH.constant * Math.abs(mean)) {
		out.push({
			kind: 'constant_loss',
			severity: 'bad',
			sentence: `The loss stayed at ${f(mean)} for all ${losses.length} steps: the weights did not learn (is the learning rate 0?).`
		});
		return out;
	}
	const after = losses.slice(Math.min(warmup, Math.max(0, losses.length - HEALTH.minDivergeSteps)));
	if (after.length < HEALTH.minDivergeSteps) return out;
	const { initial_loss: a, final_loss: b } = lossSummary(after) as { initial_loss: number; final_loss: number };
	// judged against the first step's loss as well: a run that exploded in its first steps has a
	// first window already far above where it started, and falling from there is no recovery
	const from = Math.min(losses[0], a);
	if (b > HEALTH.diverge * from) {
		out.push({
			kind: 'diverged',
			severity: 'bad',
			sentence: `The loss rose from ${f(from)} to ${f(b)}: training diverged. Lower train.lr or set train.grad_clip.`
		});
		return out;
	}
	if (after.length >= HEALTH.minSteps && (a - b) / a < HEALTH.stuck) {
		out.push({
			kind: 'stuck',
			severity: 'warn',
			sentence: `The loss barely moved (${f(a)} → ${f(b)}, less than ${pct(HEALTH.stuck)} in ${losses.length} steps): training is stuck.`
		});
	}
	if (after.length >= HEALTH.minSteps) {
		const window = Math.max(5, Math.min(50, Math.floor(after.length / 10)));
		const m = trailingMean(after, window).filter(Number.isFinite);
		const low = Math.min(...m);
		const end = m[m.length - 1];
		// a real rise: relative, and a fair part of what the run had gained (not noise near 0)
		if (end > HEALTH.unstable * low && end - low > HEALTH.unstableShare * (a - low))
			out.push({
				kind: 'unstable',
				severity: 'warn',
				sentence: `The loss rose again late in training (its ${window}-step mean went from ${f(low)} back up to ${f(end)}).`
			});
	}
	return out;
}

/** Findings from the evaluation: overfitting, memorisation, and answers no better than the majority answer. */
export function evalFindings(
	evalJson: EvalJson | null,
	latest: LatestEvaluation | null,
	trainKey: string,
	/** What step 0 is called: untrained, or pretrained. */
	start: 'pretrained' | 'untrained' = 'untrained'
): HealthFinding[] {
	if (!evalJson || !latest) return [];
	const out: HealthFinding[] = [];
	const heldOut = Object.keys(latest.datasets).filter((k) => k !== trainKey);
	for (const key of heldOut) {
		const curve = evalJson.history
			.filter((h) => h.datasets[key])
			.map((h) => ({ step: h.step, loss: h.datasets[key].loss }));
		const trainCurve = evalJson.history.filter((h) => h.datasets[trainKey]).map((h) => h.datasets[trainKey].loss);
		const best = curve.reduce((m, c) => (c.loss < m.loss ? c : m), curve[0]);
		const last = curve[curve.length - 1];
		const trainFell = trainCurve.length >= 2 && trainCurve[trainCurve.length - 1] < trainCurve[0];
		if (curve.length >= 3 && last.loss > HEALTH.overfit * best.loss && trainFell && best.step > 0)
			out.push({
				kind: 'overfitting',
				severity: 'warn',
				sentence: `Overfitting: held-out loss on ${key} was lowest at step ${best.step} (${f(best.loss)}) and rose to ${f(last.loss)} by step ${last.step} while the training loss kept falling.`,
				step: best.step
			});
	}
	const train = latest.datasets[trainKey];
	const trainBase = latest.baseline?.[trainKey];
	if (train && trainBase && latest.step > 0 && train.answer_accuracy <= trainBase.answer_accuracy)
		out.push({
			kind: 'no_gain',
			severity: 'warn',
			sentence: `It answers no more training questions than before training (${pct(train.answer_accuracy)}, ${start} ${pct(trainBase.answer_accuracy)}): the loss fell, but not yet enough to answer.`
		});
	for (const key of heldOut) {
		const s = latest.datasets[key];
		const base = latest.baseline?.[key];
		const startScore = base?.answer_accuracy ?? 0;
		const floor = Math.max(startScore, s.majority_accuracy ?? 0);
		// the floor named for what it is: the model before training, or always giving the most common answer
		const floorIs =
			startScore >= (s.majority_accuracy ?? 0)
				? `the ${start} model's ${pct(startScore)}`
				: `always answering "${s.majority_answer}" (${pct(floor)})`;
		if (train && train.answer_accuracy >= HEALTH.memoriseTrain && s.answer_accuracy <= floor + HEALTH.memoriseMargin)
			out.push({
				kind: 'memorised',
				severity: 'warn',
				sentence: `Memorised, does not generalise: ${pct(train.answer_accuracy)} of training questions right, but ${pct(s.answer_accuracy)} on ${key}, no better than ${floorIs}.`
			});
	}
	for (const [key, s] of Object.entries(latest.datasets)) {
		if (!belowMajority(s)) continue;
		out.push({
			kind: 'below_majority',
			severity: 'warn',
			sentence: `On ${key} it answers ${pct(s.answer_accuracy)} right, no better than always answering "${s.majority_answer}" (the most common answer: ${pct(s.majority_accuracy!)}).`
		});
	}
	return out;
}

/** Every finding for a run: its training losses, whether it stopped on a NaN, and its evaluation. */
export function runHealth(
	losses: readonly number[],
	nonFinite: boolean,
	evalJson: EvalJson | null,
	config: Pick<LabConfig, 'data' | 'train' | 'model'>
): HealthFinding[] {
	const latest = evalJson ? latestEvaluation(evalJson) : null;
	return [
		...lossFindings(losses, nonFinite, config.train.warmup_steps),
		...evalFindings(evalJson, latest, config.data.dataset, startName(config))
	];
}

/**
 * Whether a score is no better than always giving the dataset's most common answer — when there
 * is one: an answer given by at least two of the scored items.
 */
function belowMajority(s: EvalSummary): boolean {
	if (s.majority_accuracy === undefined || Math.round(s.majority_accuracy * s.n) < 2) return false;
	return s.answer_accuracy <= s.majority_accuracy;
}
