// Whether a run can go on from a checkpoint: the same data and the same experiment. A config may
// differ only in what does not change the training: the run's name and the backend it runs on.

import type { Checkpoint } from '../checkpoint/checkpoint';
import type { LabConfig } from '../config';
import { canonicalJson } from '../data/canonicalJson';
import type { Dataset } from '../data/manifest';

/** Config keys a resume may change: they name the run or choose where it runs, not what it trains. */
const FREE_KEYS = new Set(['run.name', 'runtime.backend']);

/** The `group.key`s whose values differ between two configs, FREE_KEYS left out, in config order. */
export function configDifferences(a: LabConfig, b: LabConfig): string[] {
	const flat = (c: LabConfig) =>
		new Map(
			Object.entries(c).flatMap(([group, keys]) =>
				Object.entries(keys as Record<string, unknown>).map(([k, v]) => [`${group}.${k}`, canonicalJson(v)] as const)
			)
		);
	const [fa, fb] = [flat(a), flat(b)];
	const keys = [...new Set([...fa.keys(), ...fb.keys()])];
	return keys.filter((k) => !FREE_KEYS.has(k) && fa.get(k) !== fb.get(k));
}

/** Throws saying why `config` and `dataset` cannot continue from checkpoint `ck`. */
export function checkResumable(config: LabConfig, dataset: Dataset, ck: Checkpoint): void {
	if (ck.dataset.sha256 !== dataset.manifest.sha256) {
		throw new Error(
			`cannot resume: the checkpoint was trained on ${ck.dataset.key} (sha256 ${ck.dataset.sha256.slice(0, 12)}…), not ${dataset.manifest.key} (${dataset.manifest.sha256.slice(0, 12)}…)`
		);
	}
	const differ = configDifferences(ck.config, config);
	if (differ.length > 0) {
		throw new Error(
			`cannot resume: the config differs from the checkpoint's in ${differ.join(', ')} (only run.name and runtime.backend may change)`
		);
	}
	if (ck.m.size === 0) throw new Error('cannot resume: the checkpoint holds no optimizer state (weights only)');
}
