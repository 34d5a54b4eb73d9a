// evaluate(checkpoint, dataset) → EvalResult (docs/specification.md §7): teacher-forced completion loss and
// perplexity (token-weighted over the dataset, the <eos> target included), greedy generations
// judged by answer_correctness@v1, the format rate, and the same per meta.case.

import * as tf from '@tensorflow/tfjs-core';
import { readBack, watchGpuErrors } from '../gpu/gpuErrors';
import { gptConfigOf, type Checkpoint } from '../checkpoint/checkpoint';
import { finetuneOf } from '../config';
import { baseTokenizer, checkBaseModel, type PretrainedModel } from '../hf/gpt2Import';
import { mergeLora } from '../model/lora';
import type { Dataset } from '../data/manifest';
import type { EvalItem, EvalResult, EvalScores, EvalSummary } from './evalJson';
import type { ReasoningTrace } from '../data/traces';
import { forward, tokenNll, type Params } from '../model/gpt';
import { paramShapes, type GptConfig } from '../model/shapes';
import { encodeExample, makeBatch, type Example } from '../text/examples';
import { Tokenizer, type TextTokenizer } from '../text/tokenizer';
import { generate } from './generate';
import { wilson } from '../stats/wilson';
import { isWellFormatted, judgeAnswer, JUDGE, normaliseAnswer } from './judge';

export interface EvalOptions {
	/** Generation limit per item. */
	maxNewTokens: number;
	/** Score only the first N items (null: all). */
	maxItems: number | null;
	/** Items per forward pass (loss and generation). */
	batchSize?: number;
}

/** What an evaluation needs of a model: weights as tensors, its shape and vocabulary. */
export interface EvalModel {
	params: Params;
	gpt: GptConfig;
	tokenizer: TextTokenizer;
	step: number;
}

/** Clip an example to what the model can see (block_size + 1 ids); longer items are cut. */
function clip(ex: Example, cfg: GptConfig): Example {
	return ex.ids.length > cfg.block_size + 1 ? { ...ex, ids: ex.ids.slice(0, cfg.block_size + 1) } : ex;
}

/** Per item: summed completion NLL and the number of completion targets. */
async function completionLosses(model: EvalModel, examples: Example[]): Promise<{ sum: number; count: number }[]> {
	const batch = makeBatch(examples, 'completion', model.tokenizer.pad);
	const nll = tf.tidy(() => {
		const logits = forward(model.params, tf.tensor2d(batch.inputs, [batch.B, batch.T], 'int32'), model.gpt);
		const perToken = tf.mul(
			tokenNll(logits, tf.tensor2d(batch.targets, [batch.B, batch.T], 'int32')),
			tf.tensor2d(batch.mask, [batch.B, batch.T])
		);
		return tf.sum(perToken, 1); // (B)
	});
	const sums = await nll.data();
	nll.dispose();
	return examples.map((_, b) => {
		let count = 0;
		for (let t = 0; t < batch.T; t++) count += batch.mask[b * batch.T + t];
		return { sum: sums[b], count };
	});
}

function scores(items: EvalItem[], tokenSums: { sum: number; count: number }[]): EvalScores {
	const sum = tokenSums.reduce((a, s) => a + s.sum, 0);
	const count = tokenSums.reduce((a, s) => a + s.count, 0);
	const loss = count > 0 ? sum / count : NaN;
	const n = items.length;
	const correct = items.filter((i) => i.correct).length;
	const formatted = items.filter((i) => i.well_formatted).length;
	return {
		n,
		loss,
		perplexity: Number.isFinite(Math.exp(loss)) ? Math.exp(loss) : null,
		answer_accuracy: n ? correct / n : 0,
		format_rate: n ? formatted / n : 0,
		answer_accuracy_ci95: wilson(correct, n),
		format_rate_ci95: wilson(formatted, n)
	};
}

export async function evaluate(model: EvalModel, dataset: Dataset, opts: EvalOptions): Promise<EvalResult> {
	const traces: ReasoningTrace[] = opts.maxItems === null ? dataset.traces : dataset.traces.slice(0, opts.maxItems);
	const bs = opts.batchSize ?? 64;
	const items: EvalItem[] = [];
	const tokenSums: { sum: number; count: number }[] = [];
	watchGpuErrors();
	for (let start = 0; start < traces.length; start += bs) {
		const chunk = traces.slice(start, start + bs);
		const examples = chunk.map((t) => clip(encodeExample(t, model.tokenizer), model.gpt));
		const where = `the evaluation of ${dataset.manifest.key}`;
		const losses = await readBack(completionLosses(model, examples), where);
		const gens = await readBack(
			generate(
				model.params,
				model.gpt,
				examples.map((e) => e.ids.slice(0, Math.min(e.promptLength, model.gpt.block_size))),
				opts.maxNewTokens,
				undefined,
				undefined,
				model.tokenizer
			),
			where
		);
		chunk.forEach((trace, k) => {
			const generated = model.tokenizer.decode(gens[k].tokens);
			const { extracted, correct, judged } = judgeAnswer(generated, trace.final_answer);
			items.push({
				index: start + k,
				case: typeof trace.meta?.case === 'string' ? trace.meta.case : null,
				prompt: trace.prompt,
				expected: trace.final_answer,
				generated,
				extracted,
				judged,
				correct,
				well_formatted: isWellFormatted(generated, gens[k].endedWithEos),
				loss: losses[k].count > 0 ? losses[k].sum / losses[k].count : NaN
			});
			tokenSums.push(losses[k]);
		});
	}
	const per_case: Record<string, EvalScores> = {};
	for (const c of [...new Set(items.map((i) => i.case ?? '(none)'))].sort()) {
		const idx = items.map((it, k) => ((it.case ?? '(none)') === c ? k : -1)).filter((k) => k >= 0);
		per_case[c] = scores(
			idx.map((k) => items[k]),
			idx.map((k) => tokenSums[k])
		);
	}
	return {
		dataset: dataset.manifest.key,
		step: model.step,
		judge: JUDGE,
		...scores(items, tokenSums),
		...majorityBaseline(items),
		per_case,
		manifest: dataset.manifest,
		items
	};
}

/**
 * The trivial baseline: always give the most common expected answer (normalised as the judge
 * does). Its accuracy is what a model that learned only the answer distribution scores.
 */
function majorityBaseline(items: EvalItem[]): { majority_answer: string; majority_accuracy: number } {
	const counts = new Map<string, number>();
	for (const answer of items.map((it) => normaliseAnswer(it.expected)))
		counts.set(answer, (counts.get(answer) ?? 0) + 1);
	let best: [string, number] = ['', 0];
	for (const entry of counts) if (entry[1] > best[1] || (entry[1] === best[1] && entry[0] < best[0])) best = entry;
	return { majority_answer: best[0], majority_accuracy: items.length ? best[1] / items.length : 0 };
}

/** The summary of a result: everything but the items and the manifest. */
export function summarise(r: EvalResult): EvalSummary {
	const { items: _items, manifest: _manifest, ...summary } = r;
	return summary;
}

/**
 * Model tensors from what a run trains at `step` (a checkpoint's values, or step 0's): the weights,
 * or with a base model LoRA's adapters merged into it. Dispose with disposeModel.
 */
export function modelFromValues(
	values: Map<string, Float32Array>,
	ck: Pick<Checkpoint, 'config' | 'vocab' | 'base'>,
	step: number,
	base?: PretrainedModel
): EvalModel {
	checkBaseModel(ck.config, base, ck.base);
	const gpt = gptConfigOf(ck.config, base?.gpt.vocab_size ?? ck.vocab.length);
	const lora = base && finetuneOf(ck.config) === 'lora' ? ck.config.lora : undefined;
	const weights = base && lora ? mergeLora(base.params, values, gpt, lora) : values;
	const params: Params = {};
	for (const [name, shape] of paramShapes(gpt)) {
		const v = weights.get(name);
		if (!v) throw new Error(`model weights lack ${name}`);
		params[name] = tf.tensor(v, shape);
	}
	return { params, gpt, tokenizer: base ? baseTokenizer(base) : new Tokenizer(ck.vocab), step };
}

/** An imported model as it is (the Playground before any fine-tuning): its weights and tokenizer at step 0. */
export function modelFromPretrained(base: PretrainedModel): EvalModel {
	const params: Params = {};
	for (const [name, shape] of paramShapes(base.gpt)) params[name] = tf.tensor(base.params.get(name)!, shape);
	return { params, gpt: base.gpt, tokenizer: baseTokenizer(base), step: 0 };
}

export function disposeModel(model: EvalModel): void {
	tf.dispose(Object.values(model.params));
}
