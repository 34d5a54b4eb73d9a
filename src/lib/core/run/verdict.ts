// The run page's first sentence: did this run train, and how well did it do? Plain words, real numbers.

import { startName } from '../config';
import type { EvalSummary } from '../eval/evalJson';
import type { LatestEvaluation } from '../eval/evalJson';
import { wilson } from '../stats/wilson';
import { lossWindow } from './lossStats';
import type { RunRecord } from './record';

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

function scoreSentences(run: RunRecord, latest: LatestEvaluation | null): string[] {
	if (!latest) return [];
	const out: string[] = [];
	const trainKey = run.config.data.dataset;
	const train = latest.datasets[trainKey];
	const base = latest.baseline?.[trainKey];
	if (train) {
		out.push(
			`The model answers ${count(train)} of ${train.n} training questions correctly${baselines(train, base, startName(run.config))}.`
		);
	}
	for (const [key, s] of Object.entries(latest.datasets)) {
		if (key === trainKey) continue;
		out.push(
			`On ${key} (not trained on) it answers ${count(s)} of ${s.n}${baselines(s, latest.baseline?.[key], startName(run.config))}.`
		);
	}
	return out;
}

/** What Resume does for a run stopped at step `reached`: from which checkpoint, and how many steps it repeats. */
function resumeFrom(run: RunRecord, reached: number): string {
	const last = run.checkpoints.at(-1)?.step ?? 0;
	const lost = reached - last;
	if (last === 0)
		return `No checkpoint was written yet, so Resume starts over from step 0${lost > 0 ? ` (the ${lost} steps trained are lost)` : ''}.`;
	return `Resume continues from the last checkpoint, step ${last}${lost > 0 ? `: the ${lost} steps since it are trained again` : ''}.`;
}

/** " (95% CI 93%–99%; untrained: 0; always answering "98": 19)": what the score is to be read against. */
function baselines(s: EvalSummary, start: EvalSummary | undefined, startCalled: string): string {
	const [low, high] = wilson(count(s), s.n);
	const parts: string[] = [`95% CI ${pct(low)}–${pct(high)}`];
	if (start) parts.push(`${startCalled}: ${count(start)}`);
	if (s.majority_accuracy !== undefined && s.majority_answer)
		parts.push(`always answering "${s.majority_answer}": ${Math.round(s.majority_accuracy * s.n)}`);
	return parts.length ? ` (${parts.join('; ')})` : '';
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
	const details = [...findings, loss, ...scoreSentences(run, latest)].filter((s): s is string => s !== null);
	const reached = Math.max(lastStep, run.summary.steps_done);
	const at = `step ${reached} of ${run.config.train.steps}`;
	const bad = health.some((h) => h.severity === 'bad');
	switch (run.status) {
		case 'completed':
			if (bad) return { tone: 'bad', headline: 'Training ran to the end, but did not train.', details, next: null };
			if (health.length) return { tone: 'warn', headline: 'Training completed, with a warning.', details, next: null };
			return { tone: 'good', headline: 'Training completed.', details, next: null };
		case 'pending':
		case 'training':
			if (bad)
				return {
					tone: 'bad',
					headline: `Training (${at}), but something is wrong.`,
					details,
					next: 'Cancel it and fix the config.'
				};
			return { tone: 'running', headline: `Training: ${at}.`, details, next: null };
		case 'evaluating':
			return { tone: 'running', headline: 'Training finished; evaluating the checkpoints.', details, next: null };
		case 'training_failed':
			return {
				tone: 'bad',
				headline: `Training failed at ${at}.`,
				details,
				next: `${run.error ?? 'No reason was recorded.'} ${resumeFrom(run, reached)}`
			};
		case 'evaluation_failed':
			return {
				tone: 'bad',
				headline: 'Training completed, but evaluation failed.',
				details,
				next: `${run.error ?? ''} Press "Evaluate again".`
			};
		case 'interrupted':
			return { tone: 'paused', headline: `Interrupted at ${at}.`, details, next: resumeFrom(run, reached) };
		case 'cancelled':
			return { tone: 'paused', headline: `Cancelled at ${at}.`, details, next: resumeFrom(run, reached) };
	}
}
