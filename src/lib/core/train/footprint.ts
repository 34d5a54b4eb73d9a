// What a config's model costs before it trains (docs/pretrained.md "Memory"): parameters, the
// parameters that train, and the bytes of weights, of the optimizer (gradients and AdamW's two
// moments of what trains) and of activations at the chosen batch. The lab page shows it before a
// run exists; a run or a sweep point past what a tab holds is refused with these figures.

import { finetuneOf, pretrainedName, type LabConfig } from '../config';
import { byteSize, megabytes } from '../format';
import { isBuiltInDataset } from '../data/registry';
import { loraShapes } from '../model/lora';
import { parameterCount, type GptConfig } from '../model/shapes';
import { builtInVocabularySize } from '../text/vocabularySize';

/** Weights, optimizer state and activations past this many bytes are more than a browser tab can hold. */
export const TAB_LIMIT_BYTES = 2e9;

/** GPT-2's vocabulary: a pretrained model's when its own is not known here. */
const GPT2_VOCAB = 50257;

/** Sequences longer than this are rare in trace datasets: the activation estimate's length for long contexts. */
const TYPICAL_TOKENS = 256;

/** A model's size before training. */
export interface Footprint {
	/** Parameters of the model. */
	params: number;
	/** The vocabulary size the figures assume (the output layer's width). */
	vocab: number;
	/** Parameters that train: all of them, or LoRA's adapters. */
	trainable: number;
	/** Bytes of float32 weights (the model, and adapters). */
	weightBytes: number;
	/** Bytes of the gradients and AdamW moments of what trains (3 floats each). */
	optimizerBytes: number;
	/** Estimated bytes of the activations one step keeps for its backward pass. */
	activationBytes: number;
	/** The batch the activations are estimated at: rows × tokens. */
	batch: { rows: number; tokens: number };
	/** All of the above. */
	bytes: number;
	/** More than TAB_LIMIT_BYTES. */
	tooLarge: boolean;
}

/**
 * Floats one training step keeps per layer and for the head (tfjs keeps every intermediate of the
 * forward pass for the backward one): about 16 per token and channel in a block (LayerNorms, q, k,
 * v, attention out, projections, the 4C-wide MLP and its GELU), 2 per attention score (scores and
 * their softmax) and 2 per logit.
 */
function activationFloats(gpt: GptConfig, rows: number, tokens: number): number {
	const { n_layer: L, n_head: nh, n_embd: C, vocab_size: V } = gpt;
	const perLayer = rows * tokens * 16 * C + 2 * rows * nh * tokens * tokens;
	return L * perLayer + 2 * rows * tokens * V;
}

/**
 * The footprint of `config`'s model. The vocabulary: `vocabSize` when given (an imported model's),
 * a built-in dataset's character vocabulary, GPT-2's for a pretrained model, else 100 tokens.
 */
export function footprint(config: LabConfig, vocabSize?: number): Footprint {
	const key = config.data.dataset;
	const pretrained = pretrainedName(config) !== null;
	const vocab = vocabSize ?? (pretrained ? GPT2_VOCAB : isBuiltInDataset(key) ? builtInVocabularySize(key) : 100);
	const { init: _init, ...shape } = config.model;
	const gpt: GptConfig = { vocab_size: vocab, ...shape };
	const params = parameterCount(gpt);
	const lora = pretrained && finetuneOf(config) === 'lora' && config.lora ? config.lora : null;
	const adapters = lora ? loraShapes(gpt, lora).reduce((n, [, s]) => n + s[0] * s[1], 0) : 0;
	const trainable = lora ? adapters : params;
	const batch = { rows: config.train.batch_size, tokens: Math.min(gpt.block_size, TYPICAL_TOKENS) };
	const weightBytes = 4 * (params + adapters);
	const optimizerBytes = 3 * 4 * trainable;
	const activationBytes = 4 * activationFloats(gpt, batch.rows, batch.tokens);
	const bytes = weightBytes + optimizerBytes + activationBytes;
	return {
		params,
		vocab,
		trainable,
		weightBytes,
		optimizerBytes,
		activationBytes,
		batch,
		bytes,
		tooLarge: bytes > TAB_LIMIT_BYTES
	};
}

/** The figures in one line: what the lab page shows and a refusal says. */
export function footprintText(f: Footprint): string {
	const trains = f.trainable === f.params ? 'all of them train' : `${f.trainable.toLocaleString('en')} train (LoRA)`;
	return (
		`${f.params.toLocaleString('en')} parameters, ${trains}; about ${byteSize(f.bytes)}: ` +
		`${byteSize(f.weightBytes)} of weights, ${byteSize(f.optimizerBytes)} of gradients and AdamW state, ` +
		`${byteSize(f.activationBytes)} of activations at batch ${f.batch.rows} × ${f.batch.tokens} tokens`
	);
}

/** Throws, with the figures, when the config's model is more than a browser tab can hold. */
export function checkFits(config: LabConfig, vocabSize?: number): void {
	const f = footprint(config, vocabSize);
	if (f.tooLarge)
		throw new Error(
			`the model needs more than a browser tab can hold (${megabytes(TAB_LIMIT_BYTES)}): ${footprintText(f)}. ` +
				(pretrainedName(config) === null
					? 'Lower model.n_embd, model.n_layer or train.batch_size'
					: 'Use LoRA (train.finetune: lora) or a smaller train.batch_size')
		);
}
