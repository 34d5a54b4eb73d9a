// A pretrained model's own tokenizer (docs/pretrained.md): byte-level BPE read from Hugging Face's
// `tokenizer.json` by @huggingface/tokenizers, or built from the older `vocab.json` + `merges.txt`
// pair in GPT-2's layout. Traces use the same template as the character tokenizer; the model's
// end-of-text token is its <bos>, <eos> and padding, as in GPT-2's own training.

import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer } from './tokenizer';

/** GPT-2's end-of-text token. */
export const GPT2_EOS = '<|endoftext|>';

/** Thrown for tokenizer files the lab cannot use; says which file and what is wrong. */
export class TokenizerFileError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'TokenizerFileError';
	}
}

/**
 * GPT-2's byte → printable-character map (the byte-level alphabet of vocab.json): printable Latin-1
 * bytes map to themselves, the rest to 256 + n in byte order.
 */
export function bytesToUnicode(): string[] {
	const keep: number[] = [];
	for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
	for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
	for (let b = 0xae; b <= 0xff; b++) keep.push(b);
	const out: string[] = new Array(256);
	let n = 0;
	for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
	return out;
}

/** A GPT-2 `tokenizer.json` from `vocab.json` (token → id) and the merges ("a b" lines, rank order). */
export function gpt2TokenizerJson(vocab: Record<string, number>, merges: string[]): Record<string, unknown> {
	const eos = vocab[GPT2_EOS];
	const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
	return {
		version: '1.0',
		truncation: null,
		padding: null,
		added_tokens:
			eos === undefined
				? []
				: [
						{
							id: eos,
							content: GPT2_EOS,
							single_word: false,
							lstrip: false,
							rstrip: false,
							normalized: true,
							special: true
						}
					],
		normalizer: null,
		pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
		post_processor: { type: 'ByteLevel', ...byteLevel, trim_offsets: false },
		decoder: { type: 'ByteLevel', ...byteLevel },
		model: {
			type: 'BPE',
			dropout: null,
			unk_token: null,
			continuing_subword_prefix: '',
			end_of_word_suffix: '',
			fuse_unk: false,
			byte_fallback: false,
			ignore_merges: false,
			vocab,
			merges
		}
	};
}

/** `merges.txt` lines → merges: the `#version` header and blank lines dropped. */
export function parseMerges(text: string): string[] {
	return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#version'));
}

/** The parsed `tokenizer.json` (or one built from vocab.json + merges.txt) as the lab uses it. */
export class BpeTokenizer implements TextTokenizer {
	readonly kind = 'bpe';
	readonly size: number;
	readonly bos: number;
	readonly eos: number;
	readonly pad: number;
	private readonly hf: HfTokenizer;

	/** `json`: the tokenizer.json object; `source` names it in messages. */
	constructor(
		readonly json: Record<string, unknown>,
		source = 'tokenizer.json'
	) {
		const model = json.model as { type?: string; vocab?: Record<string, number> } | undefined;
		if (model?.type !== 'BPE' || typeof model.vocab !== 'object' || model.vocab === null)
			throw new TokenizerFileError(
				`${source}: model.type is ${JSON.stringify(model?.type)}; the lab reads byte-level BPE tokenizers (GPT-2's)`
			);
		const added = (json.added_tokens ?? []) as { id: number; content: string }[];
		const ids = [...Object.values(model.vocab), ...added.map((t) => t.id)];
		this.size = Math.max(...ids) + 1;
		const eos = added.find((t) => t.content === GPT2_EOS)?.id ?? model.vocab[GPT2_EOS];
		if (eos === undefined)
			throw new TokenizerFileError(`${source}: has no ${GPT2_EOS} token, which GPT-2 models end every text with`);
		[this.bos, this.eos, this.pad] = [eos, eos, eos];
		try {
			this.hf = new HfTokenizer(json, {});
		} catch (err) {
			throw new TokenizerFileError(`${source}: @huggingface/tokenizers cannot read it (${(err as Error).message})`);
		}
	}

	/** Token ids of text (an end-of-text string in it becomes that token, as in `transformers`). */
	encode(text: string): number[] {
		return this.hf.encode(text, { add_special_tokens: false }).ids;
	}

	/** Text of the ids; the end-of-text token and ids past the tokenizer's (padding rows of a larger vocab_size) dropped. */
	decode(ids: readonly number[]): string {
		const kept = ids.filter((id) => id !== this.eos && id < this.size);
		if (kept.length === 0) return '';
		return this.hf.decode(kept, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
	}
}
