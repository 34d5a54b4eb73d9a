// The vocabulary of a built-in dataset's character tokenizer, counted once per key (the lab page
// sizes a model with it before any run exists).

import { builtInDataset } from '../data/registry';
import { Tokenizer } from './tokenizer';

const vocabularies = new Map<string, number>();

/** The vocabulary size of built-in dataset `key`'s tokenizer. */
export function builtInVocabularySize(key: string): number {
	return (
		vocabularies.get(key) ?? vocabularies.set(key, Tokenizer.fromTraces(builtInDataset(key).traces).size).get(key)!
	);
}
