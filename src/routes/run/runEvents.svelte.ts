// What this tab's worker reports about one run, as rune state: its newest training step (ahead of
// the next IndexedDB read), what its evaluation is at, why its job waits, and its record as last
// reported (so the status badge moves with the progress line, not after the next read).

import type { RunRecord } from '$lib/core/run/record';
import type { StepMetrics } from '$lib/core/train/metrics';
import type { LabEvent } from '$lib/worker/api';
import { onLabEvent } from '$lib/worker/client';

export class RunEvents {
	/** The newest training step reported. */
	live = $state<StepMetrics | null>(null);
	/** What the evaluation is at, e.g. "Evaluating step 40 on golden-v2". */
	evalNote = $state<string | null>(null);
	/** Why this tab's worker has not started the run's job yet (another job holds the backend). */
	waitNote = $state<string | null>(null);
	/** The run as this tab's worker last reported it: ahead of IndexedDB for a moment after each change. */
	reported = $state<RunRecord | null>(null);
	private readonly off: () => void;

	/** `runId`: the run followed; `onError`: told a job's failure. */
	constructor(runId: () => string, onError: (message: string) => void) {
		this.off = onLabEvent((e: LabEvent) => {
			if ('runId' in e && e.runId !== runId()) return;
			if (e.kind === 'steps') this.live = e.metrics[e.metrics.length - 1];
			else if (e.kind === 'eval') this.evalNote = `Evaluating step ${e.step} on ${e.dataset}`;
			else if (e.kind === 'waiting') this.waitNote = e.message;
			else if (e.kind === 'run') {
				this.waitNote = null;
				this.reported = e.run;
			} else if (e.kind === 'error') onError(e.message);
		});
	}

	/** Stops listening. */
	stop(): void {
		this.off();
	}
}
