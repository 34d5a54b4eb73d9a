// The training benchmark (docs/performance.md), shared by `npm run bench` in Node and the browser
// worker: one record per runtime and backend for a config's model on a fixed batch (the longest
// traces, so every step has the same shape B × T). Timing lives here and in no pass/fail test.

import * as tf from '@tensorflow/tfjs-core';
import { countGpuCalls } from '../gpu/gpuCounters';
import { decodeCheckpoint, encodeCheckpoint } from '../checkpoint/checkpoint';
import type { LabConfig } from '../config';
import type { Dataset } from '../data/manifest';
import { disposeModel, evaluate, modelFromValues } from '../eval/evaluate';
import { longestBatch } from '../text/examples';
import { tokensPerSecond } from '../train/metrics';
import { Trainer } from '../train/trainer';

export interface BenchOptions {
	/** Where it runs, e.g. "node v20.20.2" or "chromium 156 (worker)". */
	runtime: string;
	/** Timed steps wanted after the warm-up step (their median is the figure). */
	steps: number;
	/** Stop timing after this many seconds once 5 steps are timed (slow backends). */
	maxSeconds: number;
	/** Datasets whose items are generated for eval_items_per_s. */
	evalDatasets: Dataset[];
	/** Items per dataset (null: all); slow backends take a few. */
	evalMaxItems: number | null;
}

/** One line of the bench output. */
export interface BenchRecord {
	runtime: string;
	backend: string;
	model: string;
	batch_size: number;
	seq_len: number;
	/** Median over the timed steps (the warm-up step excluded). */
	ms_per_step: number;
	/** Non-padding tokens per second at the median step (tokensPerSecond, as the trainer's). */
	tokens_per_s: number;
	/** The warm-up step: kernel compilation, shader compilation, first allocations. */
	first_step_ms: number;
	steps_measured: number;
	/** Items of evalDatasets evaluated (loss and greedy generation, batched, KV cache). */
	eval_items: number;
	eval_items_per_s: number;
	/** Weights + AdamW moments read back and encoded as safetensors. */
	checkpoint_save_ms: number;
	/** Decoded and uploaded into a new trainer. */
	checkpoint_load_ms: number;
	checkpoint_bytes: number;
	/** tf.memory() after the warm-up step and after the last timed step: flat means no leak. */
	num_tensors: number;
	num_tensors_end: number;
	bytes: number;
	bytes_end: number;
	/** GPU memory held by tfjs (webgl, webgpu), else null. */
	gpu_bytes: number | null;
	gpu_bytes_end: number | null;
	/** Whether the step ran the lab's fused kernels (webgpu, wasm), or composite tfjs ops. */
	fused_kernels: boolean;
	/** WebGPU calls per timed step (webgpu only, else null): kernel launches, queue submits, new buffers. */
	gpu_dispatches_per_step: number | null;
	gpu_submits_per_step: number | null;
	gpu_buffers_created_per_step: number | null;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function memory(): { tensors: number; bytes: number; gpu: number | null } {
	const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
	return { tensors: m.numTensors, bytes: m.numBytes, gpu: m.numBytesInGPU ?? null };
}

/**
 * The bare core's per-step wall time for a whole config (its data order, no storage, no events):
 * what the worker + UI path is compared against. Seconds since the start, one per step.
 */
export async function timeCoreRun(config: LabConfig, dataset: Dataset): Promise<number[]> {
	const trainer = new Trainer(config, dataset);
	const elapsed: number[] = [];
	try {
		await trainer.run({ onStep: (m) => void elapsed.push(m.elapsed_s) });
	} finally {
		trainer.dispose();
	}
	return elapsed;
}

/** Benchmarks training, checkpointing and evaluation of `config`'s model on the active backend. */
export async function benchTraining(config: LabConfig, dataset: Dataset, opts: BenchOptions): Promise<BenchRecord> {
	const trainer = new Trainer(config, dataset);
	let restored: Trainer | null = null;
	try {
		const batch = longestBatch(config, dataset, trainer.tokenizer);

		let t = performance.now();
		await trainer.trainOnBatch(batch); // ends when its update has run (Trainer.settle)
		const firstStepMs = performance.now() - t;
		const before = memory();
		const times: number[] = [];
		const started = performance.now();
		const gpu = countGpuCalls();
		try {
			while (times.length < opts.steps) {
				t = performance.now();
				await trainer.trainOnBatch(batch);
				times.push(performance.now() - t);
				if (times.length >= 5 && performance.now() - started > opts.maxSeconds * 1000) break;
			}
		} finally {
			gpu?.stop();
		}
		const perStep = (n: number | undefined) => (n === undefined ? null : round1(n / times.length));
		const after = memory();

		t = performance.now();
		const bytes = encodeCheckpoint(await trainer.snapshot());
		const saveMs = performance.now() - t;
		t = performance.now();
		const ck = decodeCheckpoint(bytes);
		restored = new Trainer(config, dataset, ck);
		const loadMs = performance.now() - t;

		let items = 0;
		t = performance.now();
		const model = modelFromValues(ck.params, ck, ck.step);
		try {
			for (const ds of opts.evalDatasets) {
				const r = await evaluate(model, ds, { maxNewTokens: config.eval.max_new_tokens, maxItems: opts.evalMaxItems });
				items += r.items.length;
			}
		} finally {
			disposeModel(model);
		}
		const evalS = (performance.now() - t) / 1000;

		const ms = median(times);
		const m = config.model;
		return {
			runtime: opts.runtime,
			backend: tf.getBackend(),
			model: `gpt n_layer=${m.n_layer} n_head=${m.n_head} n_embd=${m.n_embd} vocab=${trainer.tokenizer.size}`,
			batch_size: batch.B,
			seq_len: batch.T,
			ms_per_step: round1(ms),
			tokens_per_s: Math.round(tokensPerSecond(batch.inputs, ms)),
			first_step_ms: Math.round(firstStepMs),
			steps_measured: times.length,
			eval_items: items,
			eval_items_per_s: round1(items / evalS),
			checkpoint_save_ms: Math.round(saveMs),
			checkpoint_load_ms: Math.round(loadMs),
			checkpoint_bytes: bytes.length,
			num_tensors: before.tensors,
			num_tensors_end: after.tensors,
			bytes: before.bytes,
			bytes_end: after.bytes,
			gpu_bytes: before.gpu,
			gpu_bytes_end: after.gpu,
			fused_kernels: trainer.ops.kind === 'fused',
			gpu_dispatches_per_step: perStep(gpu?.counts.dispatches),
			gpu_submits_per_step: perStep(gpu?.counts.submits),
			gpu_buffers_created_per_step: perStep(gpu?.counts.buffersCreated)
		};
	} finally {
		trainer.dispose();
		restored?.dispose();
	}
}
