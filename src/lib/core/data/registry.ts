// Built-in datasets by key.

import { goldenV2, goldenV2Heldout } from './golden';
import type { Dataset } from './manifest';

const BUILT_IN: Record<string, () => Dataset> = {
	'golden-v2': goldenV2,
	'golden-v2-heldout': goldenV2Heldout
};

export const BUILT_IN_DATASET_KEYS = Object.keys(BUILT_IN);

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
