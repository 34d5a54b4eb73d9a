// Trace → token ids with a loss mask, and padded batches (docs/specification.md §3, §5).

import type { LabConfig, LossOn } from '../config';
import type { Dataset } from '../data/manifest';
import type { ReasoningTrace } from '../data/traces';
import { promptText, templateText } from './template';
import type { TextTokenizer } from './tokenizer';

/** One trace as ids: `<bos> prompt completion <eos>`. */
export interface Example {
	/** All token ids including <bos> and <eos>. */
	ids: number[];
	/** Number of ids in `<bos>` + prompt part; the completion starts at this index. */
	promptLength: number;
}

export function encodeExample(trace: ReasoningTrace, tok: TextTokenizer): Example {
	const { prompt, completion } = templateText(trace);
	const promptIds = [tok.bos, ...tok.encode(prompt)];
	return { ids: [...promptIds, ...tok.encode(completion), tok.eos], promptLength: promptIds.length };
}

/** What generation starts from for a question: `<bos> Q: {prompt}\n` as ids (the Playground). */
export function encodePrompt(prompt: string, tok: TextTokenizer): number[] {
	return [tok.bos, ...tok.encode(promptText(prompt))];
}

/** A padded batch: inputs are ids[:-1], targets ids[1:], mask says which targets count. */
export interface Batch {
	/** Rows. */
	B: number;
	/** Columns: the longest example's length minus one. */
	T: number;
	/** (B*T) input ids, row-major, PAD after each row's end. */
	inputs: Int32Array;
	/** (B*T) target ids (the input shifted by one), PAD after each row's end. */
	targets: Int32Array;
	/** (B*T) 1 where the target counts in the loss, else 0 (padding never counts). */
	mask: Float32Array;
	/** Number of counted targets. */
	count: number;
}

/**
 * Pads a list of examples to the longest one with the tokenizer's `pad` id (default 0, the
 * character tokenizer's). `loss_on: all` counts every target after <bos>.
 */
export function makeBatch(examples: readonly Example[], lossOn: LossOn, pad = 0): Batch {
	const B = examples.length;
	const T = Math.max(...examples.map((e) => e.ids.length)) - 1;
	const inputs = new Int32Array(B * T).fill(pad);
	const targets = new Int32Array(B * T).fill(pad);
	const mask = new Float32Array(B * T);
	let count = 0;
	examples.forEach((ex, b) => {
		for (let t = 0; t < ex.ids.length - 1; t++) {
			inputs[b * T + t] = ex.ids[t];
			targets[b * T + t] = ex.ids[t + 1];
			// target index t+1 is in the completion when t+1 >= promptLength
			if (lossOn === 'all' || t + 1 >= ex.promptLength) {
				mask[b * T + t] = 1;
				count++;
			}
		}
	});
	return { B, T, inputs, targets, mask, count };
}

/** The batch of the `batch_size` longest traces: every step on it has the same shape (B × T). */
export function longestBatch(config: LabConfig, dataset: Dataset, tokenizer: TextTokenizer): Batch {
	const longest = dataset.traces
		.map((t) => encodeExample(t, tokenizer))
		.sort((a, b) => b.ids.length - a.ids.length)
		.slice(0, config.train.batch_size);
	return makeBatch(longest, config.data.loss_on, tokenizer.pad);
}
