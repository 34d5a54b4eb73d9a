import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../src/lib/core/checkpoint/checkpoint';
import { decodeSafetensors, encodeSafetensors } from '../src/lib/core/checkpoint/safetensors';
import { goldenV2 } from '../src/lib/core/data/golden';
import { initParamValues } from '../src/lib/core/model/gpt';
import { paramShapes } from '../src/lib/core/model/shapes';
import { Mt19937 } from '../src/lib/core/prng';
import { Tokenizer } from '../src/lib/core/text/tokenizer';
import { smokeConfig } from './helpers';

function sample(): Checkpoint {
	const config = smokeConfig();
	const vocab = [...Tokenizer.fromTraces(goldenV2().traces).vocab];
	const gpt = { vocab_size: vocab.length, ...config.model };
	const params = initParamValues(gpt, 1);
	const scaled = (k: number) => new Map([...params].map(([n, v]) => [n, v.map((x) => x * k)]));
	return {
		step: 4,
		config,
		vocab,
		trainerState: {
			epoch: 0,
			cursor: 16,
			rng: new Mt19937(1).getState(),
			schedule: { step: 4, lr: 0.01, min_lr: 0.001, warmup_steps: 2, steps: 8 },
			adam_t: 4,
			elapsed_s: 1.5
		},
		dataset: goldenV2().manifest,
		params,
		m: scaled(0.5),
		v: scaled(0.25)
	};
}

describe('safetensors', () => {
	it('writes the standard layout: u64 LE header length, space-padded JSON, F32 data', () => {
		const bytes = encodeSafetensors({
			tensors: [{ name: 'a', shape: [2], data: new Float32Array([1, -2]) }],
			metadata: { k: 'v' }
		});
		const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
		expect(n % 8).toBe(0);
		const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
		expect(header).toEqual({ __metadata__: { k: 'v' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
		expect(Array.from(new Float32Array(bytes.slice(8 + n).buffer))).toEqual([1, -2]);
		expect(decodeSafetensors(bytes).tensors[0].data).toEqual(new Float32Array([1, -2]));
	});
});

describe('checkpoint codec', () => {
	it('round-trips weights, moments and every piece of trainer state', () => {
		const ck = sample();
		const back = decodeCheckpoint(encodeCheckpoint(ck));
		expect(back.step).toBe(4);
		expect(back.config).toEqual(ck.config);
		expect(back.vocab).toEqual(ck.vocab);
		expect(back.trainerState).toEqual(ck.trainerState);
		expect(back.dataset).toEqual(ck.dataset);
		for (const [name] of paramShapes({ vocab_size: ck.vocab.length, ...ck.config.model })) {
			expect(back.params.get(name)).toEqual(ck.params.get(name));
			expect(back.m.get(name)).toEqual(ck.m.get(name));
			expect(back.v.get(name)).toEqual(ck.v.get(name));
		}
	});

	it('uses the GPT-2 names and the metadata keys of docs/specification.md §9', () => {
		const file = decodeSafetensors(encodeCheckpoint(sample()));
		const names = file.tensors.map((t) => t.name);
		expect(names).toContain('transformer.h.0.attn.c_attn.weight');
		expect(names).toContain('optimizer.m.transformer.wte.weight');
		expect(names).toContain('optimizer.v.transformer.ln_f.bias');
		expect(file.tensors.find((t) => t.name === 'transformer.h.0.mlp.c_fc.weight')!.shape).toEqual([16, 64]);
		expect(Object.keys(file.metadata).sort()).toEqual([
			'config',
			'dataset',
			'format',
			'format_version',
			'metadata_sha256',
			'step',
			'tensors_sha256',
			'trainer_state',
			'vocab'
		]);
		expect(file.metadata.format).toBe('tunix-rt-lab/checkpoint');
		expect(JSON.parse(file.metadata.vocab).slice(0, 4)).toEqual(['<pad>', '<bos>', '<eos>', '<unk>']);
	});

	it('names the problem in truncated, corrupt and wrong-version files', () => {
		const bytes = encodeCheckpoint(sample());
		expect(() => decodeCheckpoint(bytes.slice(0, 5))).toThrow(/too short.*truncated/);
		expect(() => decodeCheckpoint(bytes.slice(0, 200))).toThrow(/header length \d+ exceeds/);
		expect(() => decodeCheckpoint(bytes.slice(0, bytes.length - 10))).toThrow(
			/tensor optimizer\.v\.transformer\.ln_f\.bias: data .* outside/
		);
		const corrupt = bytes.slice();
		corrupt[9] = 0x7b; // '{' inside the header: no longer JSON
		corrupt[10] = 0x7b;
		expect(() => decodeCheckpoint(corrupt)).toThrow(/header is not valid UTF-8 JSON/);
		const wrongVersion = new TextDecoder().decode(bytes).includes('"format_version":"2"');
		expect(wrongVersion).toBe(true);
		const v3 = new Uint8Array(bytes);
		const at = new TextDecoder().decode(bytes).indexOf('"format_version":"2"') + '"format_version":"'.length;
		v3[at] = '3'.charCodeAt(0);
		expect(() => decodeCheckpoint(v3)).toThrow(/format_version is "3"; this lab reads versions 1 and 2/);
		// one flipped bit in a float: still a well-formed file, but not the one that was written
		const flipped = bytes.slice();
		flipped[flipped.length - 3] ^= 0x40;
		expect(() => decodeCheckpoint(flipped)).toThrow(/tensor data does not match the sha256 .* damaged/);
	});

	/** The file re-encoded with its metadata changed by `edit` (the data section as it was). */
	const withMetadata = (bytes: Uint8Array, edit: (meta: Record<string, string>) => void) => {
		const file = decodeSafetensors(bytes);
		edit(file.metadata);
		return encodeSafetensors(file);
	};

	it('refuses edited metadata: swapped vocabulary tokens, another step or config, a deleted hash', () => {
		const bytes = encodeCheckpoint(sample());
		const swapped = withMetadata(bytes, (m) => {
			const vocab = JSON.parse(m.vocab);
			[vocab[5], vocab[6]] = [vocab[6], vocab[5]];
			m.vocab = JSON.stringify(vocab);
		});
		expect(() => decodeCheckpoint(swapped)).toThrow(/metadata .* does not match the sha256 .* edited or damaged/);
		expect(() => decodeCheckpoint(withMetadata(bytes, (m) => (m.step = '999')))).toThrow(/metadata .* does not match/);
		const config = withMetadata(bytes, (m) => (m.config = m.config.replace('"lr":', '"lr":1e-9,"x":')));
		expect(() => decodeCheckpoint(config)).toThrow(/metadata .* does not match|config is not valid/);
		for (const key of ['metadata_sha256', 'tensors_sha256'])
			expect(() => decodeCheckpoint(withMetadata(bytes, (m) => delete m[key]))).toThrow(
				new RegExp(`${key} is missing from a file that claims the lab's format`)
			);
		// a version-1 file (before metadata_sha256) still reads, with its tensors checked
		const v1 = withMetadata(bytes, (m) => {
			m.format_version = '1';
			delete m.metadata_sha256;
		});
		expect(decodeCheckpoint(v1).step).toBe(sample().step);
		expect(() => decodeCheckpoint(withMetadata(v1, (m) => delete m.tensors_sha256))).toThrow(
			/tensors_sha256 is missing/
		);
	});
});
