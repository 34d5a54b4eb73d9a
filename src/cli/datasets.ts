// Datasets for the CLI: a built-in key, or a path to a trace JSONL file.

import { basename } from 'node:path';
import { makeDataset, type Dataset } from '../lib/core/data/manifest';
import { builtInDataset, isBuiltInDataset } from '../lib/core/data/registry';
import { parseTraceJsonl } from '../lib/core/data/traces';
import { existsSync } from 'node:fs';
import { readText } from './files';

export function looksLikeFile(keyOrPath: string): boolean {
	return /\.jsonl$/i.test(keyOrPath) || keyOrPath.includes('/');
}

export function isKnownDataset(keyOrPath: string): boolean {
	return isBuiltInDataset(keyOrPath) || (looksLikeFile(keyOrPath) && existsSync(keyOrPath));
}

export function loadDataset(keyOrPath: string): Dataset {
	if (isBuiltInDataset(keyOrPath) || !looksLikeFile(keyOrPath)) return builtInDataset(keyOrPath);
	const text = readText(keyOrPath, 'dataset file');
	const traces = parseTraceJsonl(text, keyOrPath);
	return makeDataset(basename(keyOrPath), traces, { kind: 'file', name: basename(keyOrPath) });
}
