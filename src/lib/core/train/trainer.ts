// The training loop (docs/specification.md §5): seeded init and data order, padded batches, AdamW with warmup +
// cosine and clipping, a non-finite guard, checkpoints on a cadence, and exact resume.
// It reports through hooks only; it never touches storage or UI.

import * as tf from '@tensorflow/tfjs-core';
import {
	encodeCheckpoint,
	gptConfigOf,
	trainedShapes,
	type Checkpoint,
	type TrainerState
} from '../checkpoint/checkpoint';
import { GpuError, readBack, watchGpuErrors } from '../gpu/gpuErrors';
import { finetuneOf, type LabConfig } from '../config';
import type { Dataset } from '../data/manifest';
import { baseModelRef, baseTokenizer, checkBaseModel, type PretrainedModel } from '../hf/gpt2Import';
import { modelOps } from '../model/chooseOps';
import { Dropout } from '../model/dropout';
import { forward, initParamValues, maskedCrossEntropy, type Params } from '../model/gpt';
import { initLoraValues, loraOps } from '../model/lora';
import { paramShapes, type GptConfig } from '../model/shapes';
import type { ModelOps } from '../model/modelOps';
import { parameterCount } from '../model/shapes';
import { encodeExample, makeBatch, type Batch, type Example } from '../text/examples';
import { Tokenizer, type TextTokenizer } from '../text/tokenizer';
import { AdamW, clipCoefficient, globalNorm } from './adamw';
import { DataOrder } from './dataOrder';
import { checkResumable } from './resumable';
import { tokensPerSecond, type StepMetrics } from './metrics';
import { learningRate } from './schedule';

export interface TrainerHooks {
	onStep?(metrics: StepMetrics): void | Promise<void>;
	/** A checkpoint's safetensors bytes, at `step`. */
	onCheckpoint?(step: number, bytes: Uint8Array): void | Promise<void>;
	/** Polled between steps; when true the trainer writes a checkpoint and returns. */
	shouldStop?(): boolean;
}

/** The run stopped because the loss or gradient norm was NaN or infinite. */
export class NonFiniteError extends Error {
	constructor(
		readonly step: number,
		loss: number,
		gradNorm: number,
		/** Whether the weights the step started from were already non-finite. */
		weightsNonFinite = false
	) {
		super(
			`non-finite training value at step ${step} (loss ${loss}, grad_norm ${gradNorm}); ` +
				(weightsNonFinite
					? 'the weights this step started from are already not finite, so the checkpoint it resumed from is damaged: ' +
						'resume from an earlier checkpoint, or start the run again.'
					: 'no checkpoint was written from this step. Lower train.lr or set train.grad_clip, then resume from the last checkpoint.')
		);
		this.name = 'NonFiniteError';
	}
}

/** A trace too long for the model. */
export class SequenceTooLongError extends Error {}

/**
 * The dataset's traces as token ids, each checked to fit the model: a trace longer than
 * block_size + 1 ids (with <bos> and <eos>) fails with its number and what to change. The worker
 * and the CLI call it before a run is created, so such a run never starts.
 */
export function encodedTraces(
	config: LabConfig,
	dataset: Dataset,
	tokenizer: TextTokenizer = Tokenizer.fromTraces(dataset.traces)
): Example[] {
	return dataset.traces.map((t, i) => {
		const ex = encodeExample(t, tokenizer);
		if (ex.ids.length > config.model.block_size + 1) {
			throw new SequenceTooLongError(
				`trace ${i + 1} of ${dataset.manifest.key} is ${ex.ids.length} tokens long with <bos> and <eos>; ` +
					`model.block_size ${config.model.block_size} allows ${config.model.block_size + 1}: raise model.block_size or shorten the trace`
			);
		}
		return ex;
	});
}

const INIT_SEED_OFFSET = 1_000_003; // init draws from seed + this; the data order from seed

/** The untrained weights of a run (step 0): deterministic from the config's seed and the vocab size. */
export function initialParamValues(config: LabConfig, vocabSize: number): Map<string, Float32Array> {
	return initParamValues(gptConfigOf(config, vocabSize), config.run.seed + INIT_SEED_OFFSET);
}

/**
 * What a run trains, at step 0: the random init (from scratch), the pretrained weights (full
 * fine-tuning), or fresh LoRA adapters (B = 0, so the model is the pretrained one).
 */
export function startValues(config: LabConfig, vocabSize: number, base?: PretrainedModel): Map<string, Float32Array> {
	if (!base) return initialParamValues(config, vocabSize);
	if (finetuneOf(config) === 'lora' && config.lora)
		return initLoraValues(gptConfigOf(config, vocabSize), config.lora, config.run.seed + INIT_SEED_OFFSET);
	return base.params;
}

/** The tokenizer of a run: the base model's, the checkpoint's vocabulary, or the dataset's characters. */
export function runTokenizer(
	dataset: Dataset,
	base?: PretrainedModel,
	resume?: Pick<Checkpoint, 'vocab'>
): TextTokenizer {
	if (base) return baseTokenizer(base);
	return resume ? new Tokenizer(resume.vocab) : Tokenizer.fromTraces(dataset.traces);
}

export class Trainer {
	readonly tokenizer: TextTokenizer;
	readonly gpt: GptConfig;
	private readonly examples: Example[];
	/** What trains: every weight, or LoRA's adapters. */
	private readonly params = new Map<string, tf.Variable>();
	/** LoRA only: the pretrained weights, frozen (constants of the forward pass). */
	private readonly frozen: Params = {};
	private readonly optimizer: AdamW;
	private readonly order: DataOrder;
	private elapsedBefore: number;
	/** The tfjs backend the weights live on; nothing may switch it while the trainer works. */
	private readonly backend = tf.getBackend();
	/** The model's ops on that backend, chosen once (the run's provenance names them). */
	readonly ops: ModelOps = modelOps(this.backend);
	step: number;

	/**
	 * `base`: the imported model that config's model.init names (docs/pretrained.md); the run
	 * fine-tunes it, every weight or LoRA adapters, with its own tokenizer.
	 */
	constructor(
		readonly config: LabConfig,
		readonly dataset: Dataset,
		resume?: Checkpoint,
		private readonly base?: PretrainedModel
	) {
		checkBaseModel(config, base, resume?.base);
		this.tokenizer = runTokenizer(dataset, base, resume);
		if (resume) checkResumable(config, dataset, resume);
		this.gpt = gptConfigOf(config, base?.gpt.vocab_size ?? this.tokenizer.size);
		this.examples = encodedTraces(config, dataset, this.tokenizer);
		if (base && finetuneOf(config) === 'lora')
			for (const [name, shape] of paramShapes(this.gpt)) this.frozen[name] = tf.tensor(base.params.get(name)!, shape);
		const values = resume?.params ?? startValues(config, this.gpt.vocab_size, base);
		for (const [name, shape] of trainedShapes(config, this.gpt.vocab_size)) {
			const init = tf.tensor(values.get(name)!, shape);
			this.params.set(name, tf.variable(init, true));
			init.dispose();
		}
		watchGpuErrors();
		this.optimizer = new AdamW(this.params, config.train.weight_decay, this.ops);
		if (resume && resume.m.size > 0) {
			for (const [name, shape] of trainedShapes(config, this.gpt.vocab_size)) {
				tf.tidy(() => {
					this.optimizer.m.get(name)!.assign(tf.tensor(resume.m.get(name)!, shape));
					this.optimizer.v.get(name)!.assign(tf.tensor(resume.v.get(name)!, shape));
				});
			}
			this.optimizer.t = resume.trainerState.adam_t;
		}
		this.order = resume
			? new DataOrder(this.examples.length, resume.trainerState)
			: new DataOrder(this.examples.length, { seed: config.run.seed });
		this.step = resume?.step ?? 0;
		this.elapsedBefore = resume?.trainerState.elapsed_s ?? 0;
	}

	/** Trains until `train.steps` or until `shouldStop`. Returns whether it stopped early. */
	async run(hooks: TrainerHooks = {}): Promise<{ step: number; stopped: boolean }> {
		const { train, checkpoint } = this.config;
		const started = performance.now();
		let lastCheckpoint = this.step;
		while (this.step < train.steps) {
			if (hooks.shouldStop?.()) {
				if (lastCheckpoint !== this.step) await hooks.onCheckpoint?.(this.step, await this.checkpointBytes(started));
				return { step: this.step, stopped: true };
			}
			const metrics = await this.trainStep(started);
			await hooks.onStep?.(metrics);
			if (this.step % checkpoint.every_steps === 0 || this.step === train.steps) {
				await hooks.onCheckpoint?.(this.step, await this.checkpointBytes(started));
				lastCheckpoint = this.step;
			}
		}
		return { step: this.step, stopped: false };
	}

	/** One optimizer step on the next batch. */
	async trainStep(runStarted = performance.now()): Promise<StepMetrics> {
		const indices = this.order.next(this.config.train.batch_size);
		return this.trainOnBatch(
			makeBatch(
				indices.map((i) => this.examples[i]),
				this.config.data.loss_on,
				this.tokenizer.pad
			),
			runStarted
		);
	}

	/** One optimizer step on a given batch (the benchmark feeds a fixed one). */
	async trainOnBatch(batch: Batch, runStarted = performance.now()): Promise<StepMetrics> {
		try {
			return await this.updateOnBatch(batch, runStarted);
		} catch (err) {
			throw err instanceof GpuError && tooLarge(err) ? this.withModelSize(err, batch) : err;
		}
	}

	/** A WebGPU error with what the step needed: most are a buffer or allocation too large for the device. */
	private withModelSize(err: GpuError, batch: Batch): Error {
		const n = parameterCount(this.gpt);
		const mb = (floats: number) => `${((floats * 4) / 2 ** 20).toFixed(1)} MB`;
		const { vocab_size: V, n_embd: C, n_head: nh } = this.gpt;
		return new Error(
			`${err.message.replace(/ Resume on .*$/, '')} The model has ${n.toLocaleString('en')} parameters ` +
				`(${mb(n)} of weights, ${mb(3 * n)} with the AdamW moments); a batch of ${batch.B} × ${batch.T} tokens ` +
				`needs logits of ${mb(batch.B * batch.T * V)} and attention scores of ${mb(batch.B * nh * batch.T * batch.T)} per layer ` +
				`(n_embd ${C}). Lower model.n_embd, model.n_layer or train.batch_size, or use the wasm backend.`,
			{ cause: err }
		);
	}

	private async updateOnBatch(batch: Batch, runStarted: number): Promise<StepMetrics> {
		const t0 = performance.now();
		const s = this.step; // 0-based index of this update
		const inputs = tf.tensor2d(batch.inputs, [batch.B, batch.T], 'int32');
		const targets = tf.tensor2d(batch.targets, [batch.B, batch.T], 'int32');
		const mask = tf.tensor2d(batch.mask, [batch.B, batch.T], 'float32');
		const dropoutSeed = `${this.config.run.seed}:${s}`;
		const [params, ops] = this.passOf(dropoutSeed);
		const { value: loss, grads: byVariable } = tf.variableGrads(
			() =>
				maskedCrossEntropy(
					forward(params, inputs, this.gpt, { training: true, dropoutSeed, ops }),
					targets,
					mask,
					this.ops
				),
			[...this.params.values()]
		);
		// variableGrads keys gradients by the variables' own (generated) names
		const grads: tf.NamedTensorMap = {};
		for (const [name, v] of this.params) grads[name] = byVariable[v.name];
		const norm = globalNorm(grads, this.ops);
		const both = tf.stack([loss, norm]);
		const read = both.data();
		// disposed once read, even when a GPU error fails the step first (tfjs caches the values on it)
		read.finally(() => both.dispose()).catch(() => undefined);
		const [lossValue, normValue] = await readBack(read, `training step ${s + 1}`)
			.catch((err) => {
				tf.dispose(grads);
				throw err;
			})
			.finally(() => tf.dispose([inputs, targets, mask, loss, norm]));
		if (!Number.isFinite(lossValue) || !Number.isFinite(normValue)) {
			tf.dispose(grads);
			throw new NonFiniteError(s + 1, lossValue, normValue, await this.weightsNonFinite());
		}
		const lr = learningRate(s, this.config.train);
		this.optimizer.step(grads, lr, clipCoefficient(normValue, this.config.train.grad_clip));
		tf.dispose(grads);
		// a step ends when its update has run: GPU backends would otherwise queue updates without
		// bound behind the loss read-back, and the step times would measure only the queueing
		await readBack(this.settle(), `the optimizer update of step ${s + 1}`);
		this.assertSameBackend(s + 1);
		this.step = s + 1;
		const now = performance.now();
		return {
			step: this.step,
			loss: lossValue,
			lr,
			grad_norm: normValue,
			tokens_per_s: tokensPerSecond(batch.inputs, now - t0),
			elapsed_s: this.elapsedBefore + (now - runStarted) / 1000
		};
	}

	/** The character tokenizer's vocabulary (what checkpoints store), or [] with a base model's tokenizer. */
	get vocab(): string[] {
		return this.tokenizer instanceof Tokenizer ? [...this.tokenizer.vocab] : [];
	}

	/** A training pass's weights and ops: the trained ones, or the frozen model with LoRA's adapters around it. */
	private passOf(dropoutSeed: string): [Params, ModelOps] {
		const trained = Object.fromEntries(this.params);
		const lora = this.config.lora;
		if (finetuneOf(this.config) !== 'lora' || !lora) return [trained, this.ops];
		const inputDrop = new Dropout(lora.dropout, true, `${dropoutSeed}:lora`);
		return [this.frozen, loraOps(this.ops, trained, lora, inputDrop)];
	}

	/** Whether any weight is NaN or ±Infinity (asked only after a non-finite step, to say why). */
	private async weightsNonFinite(): Promise<boolean> {
		const any = tf.tidy(() =>
			tf.any(tf.stack([...this.params.values()].map((p) => tf.any(tf.logicalNot(tf.isFinite(p))))))
		);
		const [bad] = await any.data();
		any.dispose();
		return bad !== 0;
	}

	/**
	 * Fails the step when tfjs's global backend changed while it awaited: the weights would move to
	 * another backend mid-run. The worker's job queue (worker/jobQueue.ts) makes this impossible.
	 */
	private assertSameBackend(step: number): void {
		const now = tf.getBackend();
		if (now !== this.backend)
			throw new Error(
				`the TensorFlow.js backend changed from ${this.backend} to ${now} during training step ${step}: ` +
					`another job switched it. Resume the run; it continues from its last checkpoint`
			);
	}

	/**
	 * Resolves once the backend has run all queued work. GPU backends queue the optimizer update
	 * behind the loss read-back; reading a parameter written by it waits for the whole queue.
	 */
	private async settle(): Promise<void> {
		await [...this.params.values()].at(-1)!.data();
	}

	/** Weights, moments and trainer state as a Checkpoint record. */
	async snapshot(runStarted = performance.now()): Promise<Checkpoint> {
		const read = async (vars: Map<string, tf.Variable>) => {
			const out = new Map<string, Float32Array>();
			for (const [name, v] of vars) out.set(name, (await v.data()) as Float32Array);
			return out;
		};
		const trainerState: TrainerState = {
			...this.order.state(),
			schedule: {
				step: this.step,
				lr: this.config.train.lr,
				min_lr: this.config.train.min_lr,
				warmup_steps: this.config.train.warmup_steps,
				steps: this.config.train.steps
			},
			adam_t: this.optimizer.t,
			elapsed_s: this.elapsedBefore + (performance.now() - runStarted) / 1000
		};
		return {
			step: this.step,
			config: this.config,
			vocab: this.vocab,
			...(this.base ? { base: baseModelRef(this.base) } : {}),
			trainerState,
			dataset: this.dataset.manifest,
			params: await read(this.params),
			m: await read(this.optimizer.m),
			v: await read(this.optimizer.v)
		};
	}

	private async checkpointBytes(runStarted: number): Promise<Uint8Array> {
		return encodeCheckpoint(await readBack(this.snapshot(runStarted), `the checkpoint of step ${this.step}`));
	}

	dispose(): void {
		for (const v of this.params.values()) v.dispose();
		tf.dispose(Object.values(this.frozen));
		this.optimizer.dispose();
	}
}

/** Whether a WebGPU error says an allocation did not fit the device. */
function tooLarge(err: GpuError): boolean {
	return err.kind === 'out-of-memory' || /exceeds the max(imum)? buffer size|out of memory/i.test(err.deviceMessage);
}
