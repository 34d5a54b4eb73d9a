// Built-in datasets by key.

import { ADDITION_DATASETS, datasetKey } from './arithmetic';
import { goldenV2, goldenV2Heldout } from './golden';
import type { Dataset } from './manifest';

const cache = new Map<string, Dataset>();
/** Each built-in dataset is generated once per process (the curricula hold thousands of traces). */
const once = (key: string, make: () => Dataset) => () => cache.get(key) ?? cache.set(key, make()).get(key)!;

const BUILT_IN: Record<string, () => Dataset> = {
	'golden-v2': goldenV2,
	'golden-v2-heldout': goldenV2Heldout,
	...Object.fromEntries(Object.entries(ADDITION_DATASETS).map(([k, make]) => [k, once(k, make)]))
};

export const BUILT_IN_DATASET_KEYS = Object.keys(BUILT_IN);

/**
 * The built-in sets a run trains on, each with the sets it is evaluated on (held out, longer
 * numbers); the others exist to be evaluated on. An imported set trains and is its own evaluation.
 */
export const TRAINING_SETS: Record<string, readonly string[]> = {
	'golden-v2': ['golden-v2-heldout'],
	...Object.fromEntries(
		(['steps', 'no_steps'] as const).map((v) => [
			datasetKey(v, 'train'),
			[datasetKey(v, 'heldout'), datasetKey(v, 'length')]
		])
	)
};

/** What a run training on `key` is evaluated on besides it: a built-in set's companions, none for an imported one. */
export const evaluationSetsFor = (key: string): readonly string[] => TRAINING_SETS[key] ?? [];

export function isBuiltInDataset(key: string): boolean {
	return Object.hasOwn(BUILT_IN, key);
}

/** A built-in dataset; throws naming the known keys for anything else. */
export function builtInDataset(key: string): Dataset {
	const make = BUILT_IN[key];
	if (!Object.hasOwn(BUILT_IN, key)) {
		throw new Error(
			`unknown dataset "${key}" (built in: ${BUILT_IN_DATASET_KEYS.join(', ')}; or give a path to a .jsonl file)`
		);
	}
	return make();
}
