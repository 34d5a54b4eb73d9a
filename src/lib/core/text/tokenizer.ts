// Character-level tokenizer (docs/specification.md §3): ids 0 <pad>, 1 <bos>, 2 <eos>, 3 <unk>, then every distinct
// character (code point) of the training texts in ascending code-point order.

import type { ReasoningTrace } from '../data/traces';
import { templateText } from './template';

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const UNK = 3;
export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;

/** What training, evaluation and generation need of a tokenizer (character-level or a model's BPE). */
export interface TextTokenizer {
	/** 'char' (this file: trained from scratch) or 'bpe' (a pretrained model's, text/bpe.ts). */
	readonly kind: 'char' | 'bpe';
	/** Ids in the vocabulary (the model's V). */
	readonly size: number;
	/** The id every example starts with. */
	readonly bos: number;
	/** The id that ends an example (and generation). */
	readonly eos: number;
	/** The id after an example's end in a padded batch (never counted in the loss). */
	readonly pad: number;
	encode(text: string): number[];
	/** Text of the ids, special tokens dropped. */
	decode(ids: readonly number[]): string;
}

export class Tokenizer implements TextTokenizer {
	readonly kind = 'char';
	readonly bos = BOS;
	readonly eos = EOS;
	readonly pad = PAD;
	private readonly ids: Map<string, number>;

	/** `vocab[id]` is the token's string; the first four are the special tokens. */
	constructor(readonly vocab: readonly string[]) {
		SPECIAL_TOKENS.forEach((tok, id) => {
			if (vocab[id] !== tok) throw new Error(`vocab[${id}] must be "${tok}", got ${JSON.stringify(vocab[id])}`);
		});
		this.ids = new Map(vocab.map((tok, id) => [tok, id]));
	}

	/** The vocabulary of a training dataset: specials, then its characters sorted by code point. */
	static fromTraces(traces: readonly ReasoningTrace[]): Tokenizer {
		const chars = new Set<string>();
		for (const trace of traces) {
			const { prompt, completion } = templateText(trace);
			for (const ch of prompt + completion) chars.add(ch);
		}
		const sorted = [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
		return new Tokenizer([...SPECIAL_TOKENS, ...sorted]);
	}

	get size(): number {
		return this.vocab.length;
	}

	/** Character ids; characters outside the vocabulary become <unk>. */
	encode(text: string): number[] {
		const out: number[] = [];
		for (const ch of text) out.push(this.ids.get(ch) ?? UNK);
		return out;
	}

	/** Text of the ids, special tokens dropped. */
	decode(ids: readonly number[]): string {
		return ids.map((id) => (id < SPECIAL_TOKENS.length ? '' : (this.vocab[id] ?? ''))).join('');
	}
}
