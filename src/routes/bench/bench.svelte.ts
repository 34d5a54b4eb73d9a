// State of the benchmark page: which backends to measure, the records so far, and the bare-core
// timing of a config (the reference for the worker + UI overhead, docs/performance.md).

import { BACKENDS, type BackendName } from '$lib/core/config';
import type { BenchRecord } from '$lib/core/bench/bench';
import { labWorker } from '$lib/worker/client';

export class BenchPage {
	/** Backends ticked for the next bench. */
	chosen = $state(Object.fromEntries(BACKENDS.map((b) => [b, true])) as Record<BackendName, boolean>);
	/** Timed steps wanted per backend. */
	steps = $state(20);
	/** Seconds of timing per backend, once 5 steps are timed. */
	maxSeconds = $state(60);
	/** Evaluation items per dataset on backends other than wasm (slow ones take long). */
	evalItems = $state(8);
	/** The lab's fused kernels (WebGPU's WGSL, wasm's lab_kernels.c); off measures composite tfjs ops (the "before" figure). */
	fused = $state(true);
	records = $state<BenchRecord[]>([]);
	errors = $state<string[]>([]);
	/** The backend being measured, or null. */
	running = $state<string | null>(null);
	finished = $state(false);
	/** Seconds after each step of the bare-core run, or null. */
	coreElapsed = $state<number[] | null>(null);

	async run(configYaml: string): Promise<void> {
		this.records = [];
		this.errors = [];
		this.finished = false;
		for (const backend of BACKENDS.filter((b) => this.chosen[b])) {
			this.running = backend;
			try {
				const record = await labWorker().bench({
					backend,
					configYaml,
					steps: this.steps,
					maxSeconds: this.maxSeconds,
					evalMaxItems: backend === 'wasm' ? null : this.evalItems,
					fused: this.fused
				});
				this.records = [...this.records, record];
			} catch (err) {
				this.errors = [...this.errors, `${backend}: ${(err as Error).message}`];
			}
		}
		this.running = null;
		this.finished = true;
	}

	async timeCore(configYaml: string, backend: BackendName): Promise<void> {
		this.coreElapsed = null;
		this.running = `bare core on ${backend}`;
		try {
			this.coreElapsed = await labWorker().timeCoreRun(configYaml, backend);
		} catch (err) {
			this.errors = [...this.errors, `core run: ${(err as Error).message}`];
		} finally {
			this.running = null;
		}
	}

	get jsonl(): string {
		return this.records.map((r) => JSON.stringify(r)).join('\n');
	}
}
