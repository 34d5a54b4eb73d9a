// Every run's metrics as one table (docs/specification.md §9 "Metrics table"): one row per (run,
// step) with the run's config keys as columns, its training line at that step and every dataset's
// evaluation at that step (step 0 is the untrained or pretrained baseline: the `weights` column says which). The lab writes it as CSV (RFC 4180)
// and JSONL for a run, an experiment or the whole lab; the CLI's sweeps write the same table.

import { startName, type LabConfig } from '../config';
import type { EvalLine } from '../eval/evalJson';
import { csvText } from './csv';
import type { StepMetrics } from '../train/metrics';

/** One run's part of the table. */
export interface RunMetrics {
	run: { id: string; name: string; status: string; config: LabConfig; provenance?: { backend: string } };
	/** Training lines in step order. */
	training: StepMetrics[];
	/** Evaluation lines (metrics.jsonl lines with `split`). */
	evaluation: EvalLine[];
	/** The experiment and arm the run belongs to, when it belongs to one. */
	experiment?: { name: string; arm: string };
}

/** A cell: a number, a string, or empty. */
export type Cell = number | string | boolean | null;

export interface MetricsTable {
	columns: string[];
	rows: Record<string, Cell>[];
}

const TRAINING_KEYS = ['loss', 'lr', 'grad_norm', 'tokens_per_s', 'elapsed_s'] as const;
const EVAL_KEYS = ['n', 'loss', 'answer_accuracy', 'format_rate'] as const;

/** A config as `group.key` → value (lists as JSON text), in the config's own order. */
export function flatConfig(config: LabConfig): Record<string, Cell> {
	const out: Record<string, Cell> = {};
	for (const [group, keys] of Object.entries(config))
		for (const [key, value] of Object.entries(keys as Record<string, unknown>))
			out[`${group}.${key}`] =
				value === null || ['number', 'string', 'boolean'].includes(typeof value)
					? (value as Cell)
					: JSON.stringify(value);
	return out;
}

/** The table of `runs`, columns in a fixed order: who, config, step, training, then evaluations. */
export function metricsTable(runs: RunMetrics[]): MetricsTable {
	const configKeys = new Set<string>();
	const evalKeys = new Set<string>();
	const rows: Record<string, Cell>[] = [];
	const withExperiment = runs.some((r) => r.experiment);
	for (const r of runs) {
		const { 'run.name': _name, ...config } = flatConfig(r.run.config); // the run's name is run_name
		for (const k of Object.keys(config)) configKeys.add(k);
		const steps = new Map<number, Record<string, Cell>>();
		const at = (step: number) => {
			let row = steps.get(step);
			if (!row) steps.set(step, (row = { step }));
			return row;
		};
		for (const line of r.training) for (const k of TRAINING_KEYS) at(line.step)[k] = line[k];
		for (const line of r.evaluation)
			for (const k of EVAL_KEYS) {
				const column = `scores.${line.split}.${k}`; // not eval.*: the config has eval.* keys
				evalKeys.add(column);
				at(line.step)[column] = line[k];
			}
		const who: Record<string, Cell> = withExperiment
			? { experiment: r.experiment?.name ?? null, arm: r.experiment?.arm ?? null }
			: {};
		Object.assign(who, {
			run_id: r.run.id,
			run_name: r.run.name,
			status: r.run.status,
			backend: r.run.provenance?.backend || null // the backend it trained on ('' before it started)
		});
		// the weights a row's evaluation scored: step 0 is the untrained (or pretrained) model
		const weights = (step: number) => (step === 0 ? startName(r.run.config) : 'trained');
		for (const step of [...steps.keys()].sort((a, b) => a - b))
			rows.push({ ...who, ...config, ...steps.get(step), weights: weights(step) });
	}
	const columns = [
		...(withExperiment ? ['experiment', 'arm'] : []),
		'run_id',
		'run_name',
		'status',
		'backend',
		...configKeys,
		'step',
		'weights',
		...TRAINING_KEYS,
		...[...evalKeys].sort()
	];
	return { columns, rows };
}

/** The table as CSV: a header line, then one line per row (CRLF line ends, as RFC 4180 says); text neutralised (csv.ts). */
export function tableCsv(t: MetricsTable): string {
	return csvText([t.columns, ...t.rows.map((row) => t.columns.map((c) => row[c]))]);
}

/** The table as JSONL: one object per row, every column present (null when empty). */
export function tableJsonl(t: MetricsTable): string {
	return (
		t.rows.map((row) => JSON.stringify(Object.fromEntries(t.columns.map((c) => [c, row[c] ?? null])))).join('\n') + '\n'
	);
}
