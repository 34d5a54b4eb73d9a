// The Experiment page's final scores by arm as cells: shares (accuracy, format rate) in percent
// like every other page, losses to three significant digits, the best arm of each score marked,
// and "pending" for an arm whose runs have not finished while the queue still works.

import { percent, percentRange } from '../format';
import { scoreKeys, type ArmScore, type ArmSummary } from './aggregate';

/** One cell of the arm table. */
export interface ArmCell {
	/** What it says: "58.3% [45.1–71.0%]", "0.0539 [0.0512, 0.0566]", "pending" or "—". */
	text: string;
	/** The best arm of this score (highest share, lowest loss), when two or more arms have one and it alone holds it. */
	best: boolean;
}

/** One score's row: its key and a cell per arm, in the arms' order. */
export interface ArmScoreRow {
	key: string;
	cells: ArmCell[];
}

/** Whether a score is a share of items (accuracy, format rate) rather than a loss. */
const isShare = (key: string) => key.endsWith(' accuracy') || key.endsWith(' format rate');

/** A loss to three significant digits; below 0.001 as 7.7e-9. */
const loss = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toPrecision(3) : x.toExponential(1));

function cellText(key: string, s: ArmScore): string {
	if (isShare(key))
		return s.ci95 ? `${percent(s.mean, 1)} [${percentRange(s.ci95[0], s.ci95[1], 1)}]` : percent(s.mean, 1);
	return s.ci95 ? `${loss(s.mean)} [${loss(s.ci95[0])}, ${loss(s.ci95[1])}]` : loss(s.mean);
}

/** The score rows for `arms` (names, in order); `finished`: the queue has no work left (else missing is "pending"). */
export function armScoreRows(arms: readonly string[], summary: ArmSummary[], finished: boolean): ArmScoreRow[] {
	const byArm = new Map(summary.map((s) => [s.arm, s]));
	return scoreKeys(summary).map((key) => {
		const scores = arms.map((a) => {
			const s = byArm.get(a)?.scores[key];
			return s && Number.isFinite(s.mean) ? s : undefined; // no runs with the score: none to show
		});
		const means = scores.flatMap((s) => (s ? [s.mean] : []));
		const top = isShare(key) ? Math.max(...means) : Math.min(...means);
		// a best only when one arm alone holds it: arms tied at the top have no winner
		const best = means.length >= 2 && means.filter((m) => m === top).length === 1 ? top : null;
		return {
			key,
			cells: scores.map((s) => ({
				text: s ? cellText(key, s) : finished ? '—' : 'pending',
				best: s !== undefined && best !== null && s.mean === best
			}))
		};
	});
}
