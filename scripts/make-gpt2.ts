// `npm run make-gpt2 -- --out <dir> [--shape tiny|distilgpt2|gpt2] [--dtype F32|F16] [--no-prefix]
//                        [--tokenizer tokenizer.json|vocab+merges] [--seed N]`
// A GPT-2 in Hugging Face layout with random weights (scripts/gpt2Writer.ts): tiny is 2 × 64 with
// 2 heads and 128 positions (CI); distilgpt2 6 × 768; gpt2 12 × 768 (1,024 positions).

import { parseArgs } from 'node:util';
import { TEST_SHAPES, writeTestGpt2, type TestGpt2Options } from './gpt2Writer';

const { values } = parseArgs({
	options: {
		out: { type: 'string' },
		shape: { type: 'string', default: 'tiny' },
		dtype: { type: 'string', default: 'F32' },
		'no-prefix': { type: 'boolean', default: false },
		tokenizer: { type: 'string', default: 'tokenizer.json' },
		seed: { type: 'string', default: '1' }
	}
});
const ok =
	values.out &&
	values.shape! in TEST_SHAPES &&
	['F32', 'F16'].includes(values.dtype!) &&
	['tokenizer.json', 'vocab+merges'].includes(values.tokenizer!) &&
	Number.isInteger(Number(values.seed));
if (!ok) {
	console.error(
		'usage: npm run make-gpt2 -- --out <dir> [--shape tiny|distilgpt2|gpt2] [--dtype F32|F16] [--no-prefix] [--tokenizer tokenizer.json|vocab+merges] [--seed N]'
	);
	process.exit(2);
}
writeTestGpt2(values.out!, {
	shape: values.shape as TestGpt2Options['shape'],
	dtype: values.dtype as TestGpt2Options['dtype'],
	noPrefix: values['no-prefix'],
	tokenizer: values.tokenizer as TestGpt2Options['tokenizer'],
	seed: Number(values.seed)
});
console.log(`wrote a random ${values.shape} GPT-2 (${values.dtype}) to ${values.out}`);
