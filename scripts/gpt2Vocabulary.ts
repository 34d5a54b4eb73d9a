// GPT-2's real vocabulary (50,257 tokens) in Hugging Face's files, rebuilt from the byte-pair ranks
// that js-tiktoken ships (`gpt2`, the same ranks as `r50k_base`): vocab.json maps each token, in
// GPT-2's byte-to-character alphabet, to its rank; each merge is the pair that byte-pair encoding
// joins to make the token, found by encoding its bytes with the lower ranks only.

import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { bytesToUnicode, GPT2_EOS } from '../src/lib/core/text/bpe';

/** vocab.json (token → id) and the merges (rank order) of GPT-2's tokenizer. */
export interface Gpt2Vocabulary {
	vocab: Record<string, number>;
	merges: string[];
}

/** js-tiktoken's GPT-2 encoder (the independent reference in the tests). */
export const gpt2Tiktoken = () => new Tiktoken(gpt2Ranks);

/** The two parts byte-pair encoding joins into `bytes`, using only ranks below `rank`. */
function lastMerge(bytes: Uint8Array, rank: number, ranks: Map<string, number>): [string, string] {
	let parts = Array.from(bytes, (b) => String.fromCharCode(b)); // latin1 keys
	for (;;) {
		let best = -1;
		let bestRank = rank;
		for (let i = 0; i < parts.length - 1; i++) {
			const r = ranks.get(parts[i] + parts[i + 1]);
			if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
		}
		if (best < 0) break;
		parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
	}
	if (parts.length !== 2) throw new Error(`rank ${rank} does not split into two lower-ranked tokens`);
	return parts as [string, string];
}

export function gpt2Vocabulary(): Gpt2Vocabulary {
	const enc = gpt2Tiktoken() as unknown as { textMap: Map<number, Uint8Array> };
	const byRank = [...enc.textMap.entries()].sort((a, b) => a[0] - b[0]);
	const ranks = new Map(byRank.map(([r, bytes]) => [String.fromCharCode(...bytes), r]));
	const alphabet = bytesToUnicode();
	const show = (latin1: string) => Array.from(latin1, (ch) => alphabet[ch.charCodeAt(0)]).join('');
	const vocab: Record<string, number> = {};
	const merges: string[] = [];
	for (const [rank, bytes] of byRank) {
		vocab[show(String.fromCharCode(...bytes))] = rank;
		if (bytes.length > 1) merges.push(lastMerge(bytes, rank, ranks).map(show).join(' '));
	}
	vocab[GPT2_EOS] = byRank.length; // 50256
	return { vocab, merges };
}
