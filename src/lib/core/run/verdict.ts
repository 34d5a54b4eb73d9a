// The run page's first sentence: did this run train, and how well did it do? Plain words, real numbers.

import type { EvalSummary } from '../eval/evalJson';
import type { LatestEvaluation } from '../eval/evalJson';
import type { RunRecord } from './record';

export interface Verdict {
	/** completed / failed / interrupted / running: drives the indicator's colour. */
	tone: 'good' | 'bad' | 'paused' | 'running';
	headline: string;
	details: string[];
	/** What to do next, when the run is not completed. */
	next: string | null;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const count = (s: EvalSummary) => Math.round(s.answer_accuracy * s.n);

function lossSentence(run: RunRecord): string | null {
	const { initial_loss: a, final_loss: b } = run.summary;
	if (a === null || b === null) return null;
	const fell = (a - b) / a;
	const f = (x: number) => (x >= 0.01 ? x.toFixed(2) : x.toPrecision(2));
	return fell > 0 ? `Loss fell ${pct(fell)} (${f(a)} → ${f(b)}).` : `Loss did not fall (${f(a)} → ${f(b)}).`;
}

function scoreSentences(run: RunRecord, latest: LatestEvaluation | null): string[] {
	if (!latest) return [];
	const out: string[] = [];
	const trainKey = run.config.data.dataset;
	const train = latest.datasets[trainKey];
	const base = latest.baseline?.[trainKey];
	if (train) {
		out.push(
			`The model answers ${count(train)} of ${train.n} training questions correctly${base ? ` (untrained: ${count(base)})` : ''}.`
		);
	}
	for (const [key, s] of Object.entries(latest.datasets)) {
		if (key === trainKey) continue;
		const b = latest.baseline?.[key];
		out.push(`On ${key} (not trained on) it answers ${count(s)} of ${s.n}${b ? ` (untrained: ${count(b)})` : ''}.`);
	}
	return out;
}

export function verdict(run: RunRecord, latest: LatestEvaluation | null): Verdict {
	const loss = lossSentence(run);
	const details = [loss, ...scoreSentences(run, latest)].filter((s): s is string => s !== null);
	const at = `step ${run.summary.steps_done} of ${run.config.train.steps}`;
	switch (run.status) {
		case 'completed':
			return { tone: 'good', headline: 'Training completed.', details, next: null };
		case 'pending':
		case 'training':
			return { tone: 'running', headline: `Training: ${at}.`, details, next: null };
		case 'evaluating':
			return { tone: 'running', headline: 'Training finished; evaluating the checkpoints.', details, next: null };
		case 'training_failed':
			return {
				tone: 'bad',
				headline: `Training failed at ${at}.`,
				details,
				next: `${run.error ?? 'No reason was recorded.'} Resume continues from the last checkpoint.`
			};
		case 'evaluation_failed':
			return {
				tone: 'bad',
				headline: 'Training completed, but evaluation failed.',
				details,
				next: `${run.error ?? ''} Press "Evaluate again".`
			};
		case 'interrupted':
			return {
				tone: 'paused',
				headline: `Interrupted at ${at}.`,
				details,
				next: `${run.error ?? ''} Press Resume to continue.`.trim()
			};
		case 'cancelled':
			return {
				tone: 'paused',
				headline: `Cancelled at ${at}.`,
				details,
				next: 'Resume continues from the last checkpoint.'
			};
	}
}
