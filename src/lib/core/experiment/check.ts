// A sweep checked before it is queued (the lab page, on every keystroke): the grid parses, it has
// at most MAX_POINTS points, the experiment record it would make passes its schema, every point's
// config parses and its model fits a tab, and — where every point has an estimate — how long the whole sweep would take.

import { ConfigError, parseConfig, type LabConfig } from '../config';
import { checkFits } from '../train/footprint';
import { MAX_POINTS, newExperiment, parseGridText } from './experiment';
import { configForPoint, expandGrid, type GridAxis, type GridPoint } from './grid';

/** What a sweep check is given. */
export interface SweepInput {
	/** The base config YAML the grid's values are set in. */
	baseYaml: string;
	/** The grid: one axis per line, `group.key = v1, v2, …`. */
	gridText: string;
	/** The config's file name, in problems (`quick.yaml:3:5: …`) and the experiment record. */
	configName: string;
	/** Dataset keys a point's config may name. */
	datasetKeys: readonly string[];
	/** Seconds one run of this config takes, or null when unknown. */
	estimate: (config: LabConfig) => number | null;
}

/** A sweep that cannot be queued as written, and why. */
export interface SweepError {
	error: string;
}

/** A sweep that parses: its axes, its size, the points whose config is refused, and its duration. */
export interface SweepPlan {
	axes: GridAxis[];
	/** Points (one run each). */
	runs: number;
	/** Distinct arms (points that differ in more than the seed). */
	arms: number;
	/** `point name: problem; problem` for each point whose config is refused. */
	problems: string[];
	/** Seconds for every run one after another; null when a run's time is unknown. */
	seconds: number | null;
}

export type SweepCheck = SweepError | SweepPlan;

/** Checks a sweep: `{ error }` when the grid cannot be run as written, else its plan. */
export function checkSweep(input: SweepInput): SweepCheck {
	try {
		const axes = parseGridText(input.gridText);
		const points = expandGrid(axes);
		if (points.length > MAX_POINTS)
			return { error: `${points.length} runs: a sweep holds at most ${MAX_POINTS}; list fewer values` };
		newExperiment('check', input.configName, input.baseYaml, axes); // its schema's checks
		const { problems, seconds } = checkPoints(input, points);
		const arms = new Set(points.map((p) => p.arm)).size;
		return { axes, runs: points.length, arms, problems, seconds };
	} catch (e) {
		return { error: (e as Error).message };
	}
}

/** Parses every point's config: the problems of those refused, and the sum of the estimates. */
function checkPoints(input: SweepInput, points: GridPoint[]): { problems: string[]; seconds: number | null } {
	const problems: string[] = [];
	let seconds: number | null = 0;
	for (const p of points) {
		try {
			const c = parseConfig(configForPoint(input.baseYaml, p), {
				file: input.configName,
				isKnownDataset: (k) => input.datasetKeys.includes(k),
				knownDatasets: input.datasetKeys
			});
			checkFits(c);
			const est = input.estimate(c);
			seconds = est === null || seconds === null ? null : seconds + est;
		} catch (e) {
			problems.push(`${p.name}: ${e instanceof ConfigError ? e.problems.join('; ') : (e as Error).message}`);
		}
	}
	return { problems, seconds };
}
