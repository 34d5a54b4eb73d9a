// The run page's first sentence: did this run train, and how well did it do? Plain words, real numbers.

import { startName } from '../config';
import type { EvalSummary } from '../eval/evalJson';
import type { LatestEvaluation } from '../eval/evalJson';
import { wilson } from '../stats/wilson';
import { lossWindow } from './lossStats';
import type { HealthFinding, RunRecord } from './record';
import { stepFacts } from './steps';

export interface Verdict {
	/** Drives the indicator's colour: good (green) only for a completed run with no health finding. */
	tone: 'good' | 'warn' | 'bad' | 'paused' | 'running';
	headline: string;
	details: string[];
	/** What to do next, when the run is not completed. */
	next: string | null;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const count = (s: EvalSummary) => Math.round(s.answer_accuracy * s.n);

function lossSentence(run: RunRecord): string | null {
	const { initial_loss: a, final_loss: b, steps_done } = run.summary;
	if (a === null || b === null) return null;
	const fell = (a - b) / a;
	const f = (x: number) => (x >= 0.01 ? x.toFixed(2) : x.toPrecision(2));
	const what = `Training loss (mean of the first and of the last ${lossWindow(steps_done)} steps)`;
	return fell > 0 ? `${what} fell ${pct(fell)}: ${f(a)} → ${f(b)}.` : `${what} did not fall: ${f(a)} → ${f(b)}.`;
}

/**
 * The one line a run with an evaluation leads with: what it learned and where each score stands
 * against what it is to be read against (the model before training, always giving the most common
 * answer), and whether it overfits; each number once. Null without an evaluation.
 */
export function outcomeLine(run: RunRecord, latest: LatestEvaluation | null, health: HealthFinding[]): string | null {
	if (!latest) return null;
	const start = startName(run.config);
	const trainKey = run.config.data.dataset;
	const parts: string[] = [];
	const train = latest.datasets[trainKey];
	if (train) parts.push(trainPart(train, latest.baseline?.[trainKey], start));
	for (const [key, s] of Object.entries(latest.datasets))
		if (key !== trainKey) parts.push(heldOutPart(key, s, latest.baseline?.[key], start));
	const over = health.find((h) => h.kind === 'overfitting');
	if (over) parts.push(over.step !== undefined ? `overfits after step ${over.step}` : 'overfits');
	if (parts.length === 0) return null;
	const line = parts.join('; ');
	return `${line[0].toUpperCase()}${line.slice(1)}.`;
}

/** Memorising the training set: answering at least this share of its questions. */
const LEARNED = 0.8;
/** A score within this of always giving the most common answer is read as that baseline. */
const NEAR_MAJORITY = 0.05;

function trainPart(s: EvalSummary, base: EvalSummary | undefined, start: string): string {
	const was = base ? ` (${start}: ${pct(base.answer_accuracy)})` : '';
	if (s.answer_accuracy >= LEARNED) return `learned the training set (${pct(s.answer_accuracy)})`;
	if (!base || s.answer_accuracy > base.answer_accuracy)
		return `answers ${pct(s.answer_accuracy)} of the training set${was}`;
	return `does not answer the training set yet (${pct(s.answer_accuracy)}${base ? `; ${start}: ${pct(base.answer_accuracy)}` : ''})`;
}

function heldOutPart(key: string, s: EvalSummary, base: EvalSummary | undefined, start: string): string {
	const majority = s.majority_accuracy;
	// a majority answer only counts when at least two items share it (health.ts's rule)
	if (majority !== undefined && Math.round(majority * s.n) >= 2 && s.answer_accuracy <= majority + NEAR_MAJORITY)
		return `${key} ${pct(s.answer_accuracy)} ≈ always answering "${s.majority_answer}" (${pct(majority)})`;
	if (!base) return `${key} ${pct(s.answer_accuracy)}`;
	const than = s.answer_accuracy > base.answer_accuracy ? '' : 'no better than ';
	return `${key} ${pct(s.answer_accuracy)} (${than}${start}: ${pct(base.answer_accuracy)})`;
}

/** Each score's count and 95% interval, the numbers behind the outcome line. */
function intervalSentences(run: RunRecord, latest: LatestEvaluation | null): string[] {
	if (!latest) return [];
	const trainKey = run.config.data.dataset;
	return Object.entries(latest.datasets).map(([key, s]) => {
		const [low, high] = wilson(count(s), s.n);
		const what = key === trainKey ? `Training set (${key})` : `${key} (not trained on)`;
		return `${what}: ${count(s)} of ${s.n} right, 95% CI ${pct(low)}–${pct(high)}.`;
	});
}

/** What Resume does for a run stopped at step `reached`: from which checkpoint, and how many steps it repeats. */
function resumeFrom(run: RunRecord, reached: number): string {
	const last = run.checkpoints.at(-1)?.step ?? 0;
	const lost = reached - last;
	if (last === 0)
		return `No checkpoint was written yet, so Resume starts over from step 0${lost > 0 ? ` (the ${lost} steps trained are lost)` : ''}.`;
	return `Resume continues from the last checkpoint, step ${last}${lost > 0 ? `: the ${lost} steps since it are trained again` : ''}.`;
}

/**
 * The verdict on a run: its status in words, led by its health findings (core/run/health.ts;
 * `health` defaults to the ones stored in run.json). A completed run is green only when no
 * finding is left: "completed" says training ran to its last step, not that it trained well.
 */
export function verdict(
	run: RunRecord,
	latest: LatestEvaluation | null,
	health = run.summary.health ?? [],
	/** The newest logged step (metrics), which may be past the newest checkpoint. */
	lastStep = run.summary.steps_done
): Verdict {
	const loss = lossSentence(run);
	const findings = health.map((h) => h.sentence);
	const outcome = outcomeLine(run, latest, health);
	const intervals = intervalSentences(run, latest);
	// a completed run leads with its outcome; any other states its status first and the outcome after
	const details = [...findings, loss, ...intervals].filter((s): s is string => s !== null);
	const withOutcome = outcome ? [outcome, ...details] : details;
	const reached = stepFacts(run, lastStep).trained; // the same number as every page (core/run/steps.ts)
	const at = `step ${reached} of ${run.config.train.steps}`;
	const bad = health.some((h) => h.severity === 'bad');
	switch (run.status) {
		case 'completed':
			if (bad)
				return {
					tone: 'bad',
					headline: 'Training ran to the end, but did not train.',
					details: withOutcome,
					next: null
				};
			if (outcome) return { tone: health.length ? 'warn' : 'good', headline: outcome, details, next: null };
			if (health.length) return { tone: 'warn', headline: 'Training completed, with a warning.', details, next: null };
			return { tone: 'good', headline: 'Training completed.', details, next: null };
		case 'pending':
		case 'training':
			if (bad)
				return {
					tone: 'bad',
					headline: `Training (${at}), but something is wrong.`,
					details: withOutcome,
					next: 'Cancel it and fix the config.'
				};
			return { tone: 'running', headline: `Training: ${at}.`, details: withOutcome, next: null };
		case 'evaluating':
			return {
				tone: 'running',
				headline: 'Training finished; evaluating the checkpoints.',
				details: withOutcome,
				next: null
			};
		case 'training_failed':
			return {
				tone: 'bad',
				headline: `Training failed at ${at}.`,
				details: withOutcome,
				next: `${run.error ?? 'No reason was recorded.'} ${resumeFrom(run, reached)}`
			};
		case 'evaluation_failed':
			return {
				tone: 'bad',
				headline: 'Training completed, but evaluation failed.',
				details: withOutcome,
				next: `${run.error ?? ''} Press "Evaluate again".`
			};
		case 'interrupted':
			return {
				tone: 'paused',
				headline: `Interrupted at ${at}.`,
				details: withOutcome,
				next: resumeFrom(run, reached)
			};
		case 'cancelled':
			return { tone: 'paused', headline: `Cancelled at ${at}.`, details: withOutcome, next: resumeFrom(run, reached) };
	}
}
