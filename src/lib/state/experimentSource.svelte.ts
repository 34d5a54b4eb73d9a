// Where the Experiment page reads an experiment from, chosen once from its address: `?bundle=<path>`
// is an experiment bundle opened read-only from this site; else `?id=` is an experiment in this
// browser's storage, followed live. Either way the page reads one view: the experiment, its runs
// and their metrics.

import type { LabDb } from '../storage/db';
import { ExperimentViewReader, type ExperimentViewRead } from '../storage/experiments';
import { experimentViewOf } from './bundleUrl';
import { BundleSource } from './bundleSource.svelte';
import { Fixed, Live, type Read } from './live.svelte';

/** An experiment's view, or what is wrong with its stored record. */
export type ExperimentRead = NonNullable<ExperimentViewRead>;

export class ExperimentSource {
	/** The bundle the experiment is shown from, or null: it is stored in this browser. */
	readonly bundle: BundleSource | null;
	/** True for a bundle: the page changes nothing (no queue controls, no exports, no delete). */
	readonly readOnly: boolean;
	/** The experiment id the address names (`?id=`; '' when it names none). */
	readonly id: string;
	/** The experiment's view: undefined while loading, null when there is none (or the bundle holds a run). */
	readonly read: Read<ExperimentRead | null>;

	/** `url`: the page's address; `appRoot`: the app's root URL, which a bundle path is relative to. */
	constructor(db: LabDb, url: URL, appRoot: URL) {
		const bundleParam = url.searchParams.get('bundle');
		this.id = url.searchParams.get('id') ?? '';
		this.bundle = bundleParam ? new BundleSource(bundleParam, appRoot) : null;
		this.readOnly = this.bundle !== null;
		const bundle = this.bundle;
		const reader = new ExperimentViewReader(db, this.id); // re-reads only the runs whose metrics changed
		this.read = bundle
			? new Fixed(
					() => bundleView(bundle),
					() => bundle.error
				)
			: new Live(() => reader.read());
	}

	/** Stops following the stored experiment. */
	stop(): void {
		this.read.stop();
	}
}

/** An experiment bundle's view: undefined while it loads, null for a run bundle. */
function bundleView(source: BundleSource): ExperimentRead | null | undefined {
	if (!source.bundle) return undefined;
	const view = experimentViewOf(source.bundle);
	return view ? { ok: true, view } : null;
}
