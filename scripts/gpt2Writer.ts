// Writes a GPT-2 model in Hugging Face layout with random weights (docs/pretrained.md "Test
// models"): config.json, model.safetensors (with the causal-mask buffers the Hub's files carry) and
// GPT-2's real 50,257-token tokenizer. The tests, benchmarks and `npm run make-gpt2` use it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSafetensors } from '../src/lib/core/checkpoint/safetensors';
import { initParamValues } from '../src/lib/core/model/gpt';
import { paramShapes, type GptConfig } from '../src/lib/core/model/shapes';
import { gpt2TokenizerJson } from '../src/lib/core/text/bpe';
import { gpt2Vocabulary, type Gpt2Vocabulary } from './gpt2Vocabulary';

/** The shapes the lab tests and benchmarks: tiny for CI, then distilgpt2's and GPT-2 small's. */
export const TEST_SHAPES = {
	tiny: { n_layer: 2, n_head: 2, n_embd: 64, block_size: 128 },
	distilgpt2: { n_layer: 6, n_head: 12, n_embd: 768, block_size: 1024 },
	gpt2: { n_layer: 12, n_head: 12, n_embd: 768, block_size: 1024 }
} as const;

export interface TestGpt2Options {
	shape?: keyof typeof TEST_SHAPES;
	/** Seed of the random weights (normal(0, 0.02), GPT-2's init). */
	seed?: number;
	dtype?: 'F32' | 'F16';
	/** Tensor names without `transformer.` (as many Hub files have them). */
	noPrefix?: boolean;
	/** tokenizer.json, or the older vocab.json + merges.txt pair. */
	tokenizer?: 'tokenizer.json' | 'vocab+merges';
}

let vocabulary: Gpt2Vocabulary | undefined;

/** Writes the model into `dir` (created) and returns it. */
export function writeTestGpt2(dir: string, o: TestGpt2Options = {}): string {
	vocabulary ??= gpt2Vocabulary();
	const { vocab, merges } = vocabulary;
	const gpt: GptConfig = { vocab_size: 50257, dropout: 0, ...TEST_SHAPES[o.shape ?? 'tiny'] };
	const prefix = o.noPrefix ? '' : 'transformer.';
	const values = initParamValues(gpt, o.seed ?? 1);
	const tensors = paramShapes(gpt).map(([name, dims]) => ({
		name: prefix + name.replace(/^transformer\./, ''),
		shape: dims,
		data: values.get(name)!
	}));
	for (let l = 0; l < gpt.n_layer; l++) {
		const T = gpt.block_size;
		const mask = new Float32Array(T * T); // (T, T) lower triangle of ones
		for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) mask[i * T + j] = 1;
		tensors.push({ name: `${prefix}h.${l}.attn.bias`, shape: [1, 1, T, T], data: mask });
	}
	const config = {
		architectures: ['GPT2LMHeadModel'],
		model_type: 'gpt2',
		activation_function: 'gelu_new',
		vocab_size: gpt.vocab_size,
		n_positions: gpt.block_size,
		n_ctx: gpt.block_size,
		n_embd: gpt.n_embd,
		n_layer: gpt.n_layer,
		n_head: gpt.n_head,
		layer_norm_epsilon: 1e-5,
		bos_token_id: 50256,
		eos_token_id: 50256,
		resid_pdrop: 0.1,
		embd_pdrop: 0.1,
		attn_pdrop: 0.1
	};
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
	writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors({ tensors, metadata: { format: 'pt' } }, o.dtype));
	if (o.tokenizer === 'vocab+merges') {
		writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
		writeFileSync(join(dir, 'merges.txt'), ['#version: 0.2', ...merges].join('\n') + '\n');
	} else {
		writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(gpt2TokenizerJson(vocab, merges)));
	}
	return dir;
}
