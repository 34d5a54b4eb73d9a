// Where the run page reads a run from, chosen once from its address: `?bundle=<path>` (with `&id=`
// for one run of an experiment bundle) is a bundle opened read-only from this site; else `?id=` is a
// run in this browser's storage, followed live (this tab, the worker, other tabs). Either way the
// page reads the same three things: the run's record, its training metrics and its eval.json.

import type { LabDb } from '../storage/db';
import { evaluationOf, getRun, trainingMetrics, type RunEntry } from '../storage/queries';
import { BundleSource } from './bundleSource.svelte';
import { Fixed, Live, type Read } from './live.svelte';

/** A run's training lines, and how many stored lines failed their schema. */
export type TrainingRead = Awaited<ReturnType<typeof trainingMetrics>>;
/** A run's eval.json, or what is wrong with the stored one. */
export type EvaluationRead = NonNullable<Awaited<ReturnType<typeof evaluationOf>>>;

export class RunSource {
	/** The bundle the run is shown from, or null: the run is stored in this browser. */
	readonly bundle: BundleSource | null;
	/** True for a bundle: the page changes nothing (no training, no downloads, no edits). */
	readonly readOnly: boolean;
	/** The run id the address names (`?id=`), or null. */
	readonly wanted: string | null;
	/** The run's record: undefined while loading, null when there is none (or the bundle lacks it). */
	readonly entry: Read<RunEntry | null>;
	/** The run's training metrics, in step order (null: the bundle lacks the run). */
	readonly metrics: Read<TrainingRead | null>;
	/** The run's eval.json (null: none yet). */
	readonly evaluation: Read<EvaluationRead | null>;

	/** The bundle's run: the one named, else the first when none is named; null when absent or not a bundle. */
	private readonly fromBundle = $derived.by(() => {
		const runs = this.bundle?.bundle?.runs;
		if (!runs) return null;
		return runs.find((b) => b.run.id === this.wanted) ?? (this.wanted ? null : runs[0]);
	});
	/** The run's id: the one named, or the bundle's run when none is ('' when neither). */
	readonly runId = $derived.by(() => this.fromBundle?.run.id ?? this.wanted ?? '');

	/** `url`: the page's address; `appRoot`: the app's root URL, which a bundle path is relative to. */
	constructor(db: LabDb, url: URL, appRoot: URL) {
		const bundleParam = url.searchParams.get('bundle');
		this.wanted = url.searchParams.get('id');
		this.bundle = bundleParam ? new BundleSource(bundleParam, appRoot) : null;
		this.readOnly = this.bundle !== null;
		if (this.bundle) {
			const failed = () => this.error;
			this.entry = new Fixed(() => this.bundleEntry(), failed);
			this.metrics = new Fixed(
				() => this.fromBundle && { lines: this.fromBundle.metrics.training, damaged: 0 },
				failed
			);
			this.evaluation = new Fixed(
				() => this.fromBundle?.evalJson && ({ ok: true, evalJson: this.fromBundle.evalJson } as const),
				failed
			);
		} else {
			const runId = this.runId;
			this.entry = new Live(() => getRun(db, runId));
			this.metrics = new Live(() => trainingMetrics(db, runId));
			this.evaluation = new Live(() => evaluationOf(db, runId));
		}
	}

	/** Why the bundle could not be opened; null while it loads, once it has, and for a stored run. */
	get error(): string | null {
		return this.bundle?.error ?? null;
	}

	/** Stops following the stored run. */
	stop(): void {
		this.entry.stop();
		this.metrics.stop();
		this.evaluation.stop();
	}

	/** The bundle's run as a stored run's entry: undefined while the bundle loads. */
	private bundleEntry(): RunEntry | null | undefined {
		if (!this.bundle?.bundle) return undefined;
		return this.fromBundle ? { ok: true, id: this.runId, run: this.fromBundle.run } : null;
	}
}
