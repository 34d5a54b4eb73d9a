// Datasets for the CLI: a built-in key, or a path to a trace JSONL file.

import { basename } from 'node:path';
import { makeDataset, type Dataset } from '../lib/core/data/manifest';
import { builtInDataset, isBuiltInDataset } from '../lib/core/data/registry';
import { decodeTraceFile, parseTraceJsonl } from '../lib/core/data/traces';
import { existsSync } from 'node:fs';
import type { RunRecord } from '../lib/core/run/record';
import { checkRunDatasets } from '../lib/core/run/prepare';
import { readBytes } from './files';

export function looksLikeFile(keyOrPath: string): boolean {
	return /\.jsonl$/i.test(keyOrPath) || keyOrPath.includes('/');
}

export function isKnownDataset(keyOrPath: string): boolean {
	return isBuiltInDataset(keyOrPath) || (looksLikeFile(keyOrPath) && existsSync(keyOrPath));
}

export function loadDataset(keyOrPath: string): Dataset {
	if (isBuiltInDataset(keyOrPath) || !looksLikeFile(keyOrPath)) return builtInDataset(keyOrPath);
	const text = decodeTraceFile(readBytes(keyOrPath, 'dataset file'), keyOrPath);
	const traces = parseTraceJsonl(text, keyOrPath);
	return makeDataset(basename(keyOrPath), traces, { kind: 'file', name: basename(keyOrPath) });
}

/** A run's training and eval datasets, checked against the manifests it recorded (core/run/prepare.ts). */
export function runDatasets(run: RunRecord): Dataset[] {
	return checkRunDatasets(run, [run.config.data.dataset, ...run.config.data.eval_datasets].map(loadDataset));
}
