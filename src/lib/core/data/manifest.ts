// Dataset manifests: what a run trained and evaluated on, identified by canonical sha256.

import * as v from 'valibot';
import { int, text } from '../schema';
import { sha256Text } from '../sha256';
import { canonicalJsonl, type ReasoningTrace } from './traces';

/** Where a dataset came from: a built-in generator, or an imported file. */
const DatasetSourceSchema = v.variant('kind', [
	v.object({ kind: v.literal('generator'), generator: text(), seed: int(0, 2 ** 32 - 1), count: int(0, 1e9) }),
	v.object({ kind: v.literal('file'), name: text() })
]);
export type DatasetSource = v.InferOutput<typeof DatasetSourceSchema>;

export const DatasetManifestSchema = v.object({
	/** Registry key (e.g. "golden-v2") or the imported file's name. */
	key: text(),
	/** Number of traces. */
	count: int(0, 1e9),
	/** sha256 of the canonical JSONL (64 hex digits). */
	sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')),
	source: DatasetSourceSchema
});
export type DatasetManifest = v.InferOutput<typeof DatasetManifestSchema>;

export interface Dataset {
	manifest: DatasetManifest;
	traces: ReasoningTrace[];
}

/** A dataset and its manifest; `jsonl` is the traces' canonical JSONL when the caller has it already. */
export function makeDataset(
	key: string,
	traces: ReasoningTrace[],
	source: DatasetSource,
	jsonl = canonicalJsonl(traces)
): Dataset {
	return {
		manifest: { key, count: traces.length, sha256: sha256Text(jsonl), source },
		traces
	};
}
