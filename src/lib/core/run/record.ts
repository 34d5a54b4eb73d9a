// run.json (docs/specification.md §9): what a run is, what it trained on, where, and how it ended.

import type { LabConfig } from '../config';
import type { DatasetManifest } from '../data/manifest';
import type { RunStatus } from './status';

export interface Provenance {
	/** The backend actually used. */
	backend: string;
	/** Why other backends were skipped, or why this one was chosen. */
	backend_notes: string[];
	/** WebGPU adapter vendor/architecture when present. */
	adapter?: { vendor: string; architecture: string } | null;
	tfjs_version: string;
	app_version: string;
	/** Browser user agent, or "node vX" for the CLI. */
	runtime: string;
}

export interface CheckpointEntry {
	step: number;
	/** File name (CLI) or storage key (browser). */
	file: string;
	bytes: number;
	created: string;
}

/** Per-dataset headline scores, e.g. for the baseline and the final checkpoint. */
export interface ScoreSummary {
	loss: number;
	perplexity: number;
	answer_accuracy: number;
	format_rate: number;
	n: number;
}

export interface RunSummary {
	/** Mean loss of the first logged steps (up to 50). */
	initial_loss: number | null;
	/** Mean loss of the last logged steps (up to 50). */
	final_loss: number | null;
	steps_done: number;
	/** Final checkpoint's scores per dataset key. */
	final_scores?: Record<string, ScoreSummary>;
	/** Untrained (step 0) scores per dataset key. */
	baseline_scores?: Record<string, ScoreSummary>;
	/** Best answer_accuracy seen per dataset key, with its step. */
	best_scores?: Record<string, { step: number; answer_accuracy: number }>;
}

export interface RunRecord {
	id: string;
	name: string;
	status: RunStatus;
	/** Human-readable reason when failed, cancelled or interrupted. */
	error: string | null;
	created: string;
	started: string | null;
	finished: string | null;
	config: LabConfig;
	datasets: { train: DatasetManifest; eval: DatasetManifest[] };
	provenance: Provenance;
	checkpoints: CheckpointEntry[];
	summary: RunSummary;
}

/** Mean of the first and of the last `maxWindow` losses (of each half, for runs shorter than 2·maxWindow). */
export function lossSummary(
	losses: readonly number[],
	maxWindow = 50
): { initial_loss: number | null; final_loss: number | null } {
	if (losses.length === 0) return { initial_loss: null, final_loss: null };
	const window = Math.max(1, Math.min(maxWindow, Math.floor(losses.length / 2))); // short runs: halves
	const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
	return { initial_loss: mean(losses.slice(0, window)), final_loss: mean(losses.slice(-window)) };
}

/** A run id: creation time and a random suffix, e.g. run-20261129-053012-k3x9. */
export function newRunId(created: string, random: () => number = Math.random): string {
	const stamp = created.replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
	return `run-${stamp}-${random().toString(36).slice(2, 6)}`;
}

/** A new run record in state pending. */
export function newRunRecord(config: LabConfig, train: DatasetManifest, evalSets: DatasetManifest[]): RunRecord {
	const created = new Date().toISOString();
	return {
		id: newRunId(created),
		name: config.run.name,
		status: 'pending',
		error: null,
		created,
		started: null,
		finished: null,
		config,
		datasets: { train, eval: evalSets },
		provenance: { backend: '', backend_notes: [], adapter: null, tfjs_version: '', app_version: '', runtime: '' },
		checkpoints: [],
		summary: { initial_loss: null, final_loss: null, steps_done: 0 }
	};
}
