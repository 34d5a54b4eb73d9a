// Importing a Hugging Face GPT-2 (docs/pretrained.md): the tokenizer against an independent
// encoder, the import's checks, and the logits against an independent NumPy GPT-2.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_DATASET_KEYS, builtInDataset } from '../src/lib/core/data/registry';
import { importGpt2, ModelImportError, type PretrainedModel } from '../src/lib/core/hf/gpt2Import';
import { forward } from '../src/lib/core/model/gpt';
import { paramShapes } from '../src/lib/core/model/shapes';
import { BpeTokenizer } from '../src/lib/core/text/bpe';
import { templateText } from '../src/lib/core/text/template';
import { gpt2Tiktoken } from '../scripts/gpt2Vocabulary';
import { backend, pythonWithNumpy } from './helpers';
import { hfFiles, makeTestGpt2 } from './pretrainedFixture';

let f32Dir: string;
let f16Dir: string;
beforeAll(() => {
	f32Dir = makeTestGpt2({ seed: 3 });
	f16Dir = makeTestGpt2({ seed: 4, dtype: 'F16', noPrefix: true, tokenizer: 'vocab+merges' });
}, 120_000);

const HOSTILE = [
	'emoji 👩‍👩‍👧‍👦 and 🇩🇪 flags 🤖🤖',
	'combining e\u0301 a\u0308 Z\u0351\u0352\u0353 ﷽',
	'   runs   of\t\twhitespace \n\n\n  and\r\nCRLF  ',
	'control \u0000\u0001\u0007\u001b[31m chars \u007f',
	'x'.repeat(10_000),
	'word '.repeat(2_000),
	"contractions don't we'll I'd they've 's 'S",
	'数字 123456789 and ١٢٣ and ½',
	''
];

describe("a GPT-2 model's BPE tokenizer", () => {
	it('gives the ids js-tiktoken gives (GPT-2 ranks) on every built-in dataset and hostile text', () => {
		const ref = gpt2Tiktoken();
		const tok = new BpeTokenizer(JSON.parse(readFileSync(join(f32Dir, 'tokenizer.json'), 'utf8')));
		expect(tok.size).toBe(50257);
		expect(tok.eos).toBe(50256);
		const texts: string[] = [...HOSTILE];
		for (const key of BUILT_IN_DATASET_KEYS) {
			for (const trace of builtInDataset(key).traces.slice(0, 400)) {
				const { prompt, completion } = templateText(trace);
				texts.push(prompt, completion);
			}
		}
		let mismatches = 0;
		for (const text of texts) {
			const ours = tok.encode(text);
			const theirs = ref.encode(text);
			if (ours.join() !== theirs.join()) {
				mismatches++;
				expect(ours, JSON.stringify(text.slice(0, 80))).toEqual(theirs);
			}
			expect(tok.decode(ours)).toBe(text);
		}
		expect(mismatches).toBe(0);
		expect(texts.length).toBeGreaterThan(1000);
	});

	it('reads vocab.json + merges.txt to the same ids as tokenizer.json', () => {
		const a = importGpt2('a', hfFiles(f32Dir));
		const b = importGpt2('b', hfFiles(f16Dir));
		const [ta, tb] = [new BpeTokenizer(a.tokenizerJson), new BpeTokenizer(b.tokenizerJson)];
		for (const text of [...HOSTILE, 'Q: What is 12 + 30?\n']) expect(tb.encode(text)).toEqual(ta.encode(text));
	});
});

describe('importing a Hugging Face GPT-2', () => {
	it('reads F32 with the prefix and F16 without it, ignoring the mask buffers', () => {
		const a = importGpt2('tiny', hfFiles(f32Dir));
		expect(a.gpt).toEqual({ vocab_size: 50257, n_layer: 2, n_head: 2, n_embd: 64, block_size: 128, dropout: 0 });
		expect(a.dtype).toBe('F32');
		expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
		const b = importGpt2('tiny16', hfFiles(f16Dir));
		expect(b.dtype).toBe('F16');
		expect([...b.params.keys()]).toEqual([...a.params.keys()]);
	});

	const refused: [string, (files: ReturnType<typeof hfFiles>) => void, RegExp][] = [
		[
			'an unsupported activation',
			(f) => (f['config.json'] = f['config.json'].replace('"gelu_new"', '"relu"')),
			/activation_function is "relu"/
		],
		[
			'another model type',
			(f) => (f['config.json'] = f['config.json'].replace('"gpt2"', '"llama"')),
			/model_type is "llama"/
		],
		[
			'a shape the weights do not have',
			(f) => (f['config.json'] = f['config.json'].replace('"n_embd": 64', '"n_embd": 32')),
			/shape \[50257,64\].*needs \[50257,32\]/
		],
		[
			'a missing tensor',
			(f) => (f['config.json'] = f['config.json'].replace('"n_layer": 2', '"n_layer": 3')),
			/lacks transformer\.h\.2\.ln_1\.weight/
		],
		['no tokenizer', (f) => delete f['tokenizer.json'], /no tokenizer: add tokenizer\.json/],
		[
			'a truncated weights file',
			(f) => (f['model.safetensors'] = f['model.safetensors'].subarray(0, 1000)),
			/model\.safetensors: .*truncated/
		]
	];
	for (const [what, spoil, message] of refused) {
		it(`refuses ${what}, saying which key or tensor`, () => {
			const files = hfFiles(f32Dir);
			spoil(files);
			expect(() => importGpt2('bad', files)).toThrow(message);
		});
	}

	it('refuses an untied lm_head and accepts one equal to wte', async () => {
		const { decodeSafetensors, encodeSafetensors } = await import('../src/lib/core/checkpoint/safetensors');
		const files = hfFiles(f32Dir);
		const file = decodeSafetensors(files['model.safetensors']);
		const wte = file.tensors.find((t) => t.name === 'transformer.wte.weight')!;
		const tied = { name: 'lm_head.weight', shape: wte.shape, data: wte.data };
		files['model.safetensors'] = encodeSafetensors({ ...file, tensors: [...file.tensors, tied] });
		expect(importGpt2('tied', files).params.size).toBeGreaterThan(0);
		const untied = { ...tied, data: wte.data.map((x) => x + 1) };
		files['model.safetensors'] = encodeSafetensors({ ...file, tensors: [...file.tensors, untied] });
		expect(() => importGpt2('untied', files)).toThrow(ModelImportError);
	});
});

describe('the imported model against an independent NumPy GPT-2 (scripts/gpt2_reference.py)', () => {
	const ids = [50256, 48, 25, 1867, 318, 1105, 1343, 1542, 30, 198, 8600, 352, 25, 220, 50256];
	for (const name of ['cpu', 'wasm', 'webgpu'] as const) {
		it(`gives the same logits within 1e-4 on ${name}, F32 and F16`, async () => {
			await backend(name);
			for (const dir of [f32Dir, f16Dir]) {
				const model = importGpt2('tiny', hfFiles(dir));
				const ours = await logitsOf(model, ids);
				const ref = referenceLogits(dir, ids);
				expect(ours.length).toBe(ids.length * 50257);
				let worst = 0;
				for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]));
				expect(worst, `${name} ${dir}`).toBeLessThan(1e-4);
			}
		});
	}
});

async function logitsOf(model: PretrainedModel, ids: number[]): Promise<Float32Array> {
	const params = Object.fromEntries(
		paramShapes(model.gpt).map(([name, shape]) => [name, tf.tensor(model.params.get(name)!, shape)])
	);
	const logits = tf.tidy(() => forward(params, tf.tensor2d(ids, [1, ids.length], 'int32'), model.gpt));
	const out = (await logits.data()) as Float32Array;
	tf.dispose([logits, ...Object.values(params)]);
	return out;
}

function referenceLogits(dir: string, ids: number[]): Float32Array {
	const tmp = mkdtempSync(join(tmpdir(), 'gpt2-ref-'));
	writeFileSync(join(tmp, 'ids.json'), JSON.stringify(ids));
	execFileSync(pythonWithNumpy(), ['scripts/gpt2_reference.py', dir, join(tmp, 'ids.json'), join(tmp, 'out.f32')]);
	const bytes = readFileSync(join(tmp, 'out.f32'));
	return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
