// What a config's model costs before it trains: parameters, and the bytes of its weights and AdamW
// moments. The lab page shows it for one run; a sweep refuses every point past what a tab holds.

import type { LabConfig } from '../config';
import { isBuiltInDataset } from '../data/registry';
import { parameterCount, trainingStateBytes } from '../model/shapes';
import { builtInVocabularySize } from '../text/vocabularySize';

/** Weights and AdamW state past this many bytes are more than a browser tab can hold. */
export const TAB_LIMIT_BYTES = 2e9;

/** A model's size before training. */
export interface Footprint {
	/** Parameters. */
	params: number;
	/** Bytes of weights and AdamW moments (float32). */
	bytes: number;
	/** More than TAB_LIMIT_BYTES. */
	tooLarge: boolean;
}

/**
 * The footprint of `config`'s model: the vocabulary of a built-in dataset is known here; an
 * imported one's is taken as 100 tokens.
 */
export function footprint(config: LabConfig): Footprint {
	const key = config.data.dataset;
	const vocab = isBuiltInDataset(key) ? builtInVocabularySize(key) : 100;
	const shape = { vocab_size: vocab, ...config.model };
	const bytes = trainingStateBytes(shape);
	return { params: parameterCount(shape), bytes, tooLarge: bytes > TAB_LIMIT_BYTES };
}
