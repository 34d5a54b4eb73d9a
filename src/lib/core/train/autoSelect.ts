// backend: auto, chosen by measurement (docs/performance.md "auto"): before a run, a few training
// steps of *this* model on each backend that starts, and the fastest wins. The worker does the
// switching and caching; the timing and the wording live here, once.

import { finetuneOf, pretrainedName, type LabConfig } from '../config';
import type { Dataset } from '../data/manifest';
import { longestBatch } from '../text/examples';
import { Trainer } from './trainer';
import type { PretrainedModel } from '../hf/gpt2Import';

/** One backend's measured step time. */
export interface BackendTiming {
	backend: string;
	/** Median wall time of the timed steps (ms), after one warm-up step. */
	ms_per_step: number;
}

/** Steps timed per backend after the warm-up (their median is the figure). */
export const AUTO_TIMED_STEPS = 3;

/** A backend whose warm-up step is this many times slower than the best timed step is not timed further. */
export const AUTO_GIVE_UP_FACTOR = 10;

/**
 * The active backend's step time for `config`'s model on its longest batch (ms): the median of
 * `steps` after a warm-up step. A warm-up slower than `cutoffMs` is returned as the figure
 * instead (a backend that far behind cannot win; timing it further would only cost minutes).
 */
export async function timeModelSteps(
	config: LabConfig,
	dataset: Dataset,
	cutoffMs = Infinity,
	steps = AUTO_TIMED_STEPS,
	base?: PretrainedModel
): Promise<number> {
	const trainer = new Trainer(config, dataset, undefined, base);
	try {
		const batch = longestBatch(config, dataset, trainer.tokenizer);
		const t0 = performance.now();
		await trainer.trainOnBatch(batch); // warm-up: kernel and shader compilation, first allocations
		const warmUp = performance.now() - t0;
		if (warmUp > cutoffMs) return warmUp;
		const times: number[] = [];
		for (let i = 0; i < steps; i++) {
			const t = performance.now();
			await trainer.trainOnBatch(batch);
			times.push(performance.now() - t);
		}
		return [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
	} finally {
		trainer.dispose();
	}
}

/** The fastest backend of the timings. */
export function fastest(timings: BackendTiming[]): BackendTiming {
	if (timings.length === 0) throw new Error('no backend could be timed');
	return timings.reduce((best, t) => (t.ms_per_step < best.ms_per_step ? t : best));
}

/** "auto: webgpu 38 ms/step, wasm 120 ms/step → webgpu" (the UI and the run's provenance). */
export function autoNote(timings: BackendTiming[], cached: boolean): string {
	const list = timings.map((t) => `${t.backend} ${formatMs(t.ms_per_step)}/step`).join(', ');
	return `auto: ${list} → ${fastest(timings).backend}${cached ? ' (measured earlier on this device for this model)' : ''}`;
}

/** The model and batch shape a measurement holds for (with the device, the cache key). */
export function modelShapeKey(config: LabConfig): string {
	const m = config.model;
	const tuned =
		pretrainedName(config) === null
			? ''
			: ` ${m.init} ${finetuneOf(config)}${config.lora ? ` r${config.lora.rank}` : ''}`;
	return `L${m.n_layer} H${m.n_head} C${m.n_embd} block${m.block_size} B${config.train.batch_size} ${config.data.dataset}${tuned}`;
}

function formatMs(ms: number): string {
	return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
