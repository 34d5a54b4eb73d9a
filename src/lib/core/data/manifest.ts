// Dataset manifests: what a run trained and evaluated on, identified by canonical sha256.

import { sha256Text } from '../sha256';
import { canonicalJsonl, type ReasoningTrace } from './traces';

/** Where a dataset came from. */
export type DatasetSource =
	{ kind: 'generator'; generator: string; seed: number; count: number } | { kind: 'file'; name: string };

export interface DatasetManifest {
	/** Registry key (e.g. "golden-v2") or the imported file's name. */
	key: string;
	/** Number of traces. */
	count: number;
	/** sha256 of the canonical JSONL. */
	sha256: string;
	source: DatasetSource;
}

export interface Dataset {
	manifest: DatasetManifest;
	traces: ReasoningTrace[];
}

export function makeDataset(key: string, traces: ReasoningTrace[], source: DatasetSource): Dataset {
	return {
		manifest: { key, count: traces.length, sha256: sha256Text(canonicalJsonl(traces)), source },
		traces
	};
}
