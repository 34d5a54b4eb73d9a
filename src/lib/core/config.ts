// The lab's YAML config (docs/specification.md §6): a typed record, and a parser that reports every problem as
// `file:line:col: key.path: problem`. Every key is required; unknown keys are errors.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { LossOn } from './text/examples';

/** The TensorFlow.js backends the lab runs on, in the order auto tries them (docs/specification.md §10). */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
/** What a config may ask for: a backend, or auto (the fastest measured here). */
export const BACKEND_CHOICES = ['auto', ...BACKENDS] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface LabConfig {
	run: {
		/** Human-readable run name. */
		name: string;
		/** Seed for init, the per-epoch shuffle and dropout. */
		seed: number;
	};
	data: {
		/** Training dataset key (e.g. "golden-v2"). */
		dataset: string;
		/** Extra datasets to evaluate on (e.g. ["golden-v2-heldout"]). */
		eval_datasets: string[];
		/** Loss on completion tokens only, or on every token after <bos>. */
		loss_on: LossOn;
	};
	model: {
		/** Transformer blocks. */
		n_layer: number;
		/** Attention heads; must divide n_embd. */
		n_head: number;
		/** Embedding width C. */
		n_embd: number;
		/** Longest sequence (tokens, incl. <bos> and <eos>) and rows of the position table. */
		block_size: number;
		/** Dropout probability after attention, projections and embeddings (0 = off). */
		dropout: number;
	};
	train: {
		/** Optimizer steps. */
		steps: number;
		/** Traces per step. */
		batch_size: number;
		/** Peak learning rate after warmup. */
		lr: number;
		/** Learning rate at the end of the cosine decay. */
		min_lr: number;
		/** Steps of linear warmup from 0 to lr. */
		warmup_steps: number;
		/** AdamW decoupled weight decay (matrices only). */
		weight_decay: number;
		/** Clip gradients to this global L2 norm (0 = no clipping). */
		grad_clip: number;
	};
	checkpoint: {
		/** Write a checkpoint every N steps (and always at the last step). */
		every_steps: number;
		/** Keep the newest K checkpoints. */
		keep_last: number;
	};
	eval: {
		/** Evaluate every N-th kept checkpoint (the final one always). */
		every_checkpoints: number;
		/** Generation limit per item. */
		max_new_tokens: number;
		/** Items per dataset, or null for all. */
		max_items: number | null;
		/** Evaluate checkpoints as they are written instead of after training. */
		during_training: boolean;
	};
	runtime: {
		/** TensorFlow.js backend; auto tries webgpu, webgl, wasm, cpu in that order. */
		backend: BackendChoice;
	};
}

type Rule =
	| { kind: 'int'; min: number; max: number }
	| { kind: 'number'; min: number; max: number; minExclusive?: boolean }
	| { kind: 'string' }
	| { kind: 'enum'; values: readonly string[] }
	| { kind: 'bool' }
	| { kind: 'stringList' }
	| { kind: 'intOrNull'; min: number; max: number };

const SCHEMA: Record<string, Record<string, Rule>> = {
	run: { name: { kind: 'string' }, seed: { kind: 'int', min: 0, max: 2 ** 32 - 1 } },
	data: {
		dataset: { kind: 'string' },
		eval_datasets: { kind: 'stringList' },
		loss_on: { kind: 'enum', values: ['completion', 'all'] }
	},
	model: {
		n_layer: { kind: 'int', min: 1, max: 48 },
		n_head: { kind: 'int', min: 1, max: 64 },
		n_embd: { kind: 'int', min: 4, max: 4096 },
		block_size: { kind: 'int', min: 8, max: 4096 },
		dropout: { kind: 'number', min: 0, max: 0.9 }
	},
	train: {
		steps: { kind: 'int', min: 1, max: 10_000_000 },
		batch_size: { kind: 'int', min: 1, max: 4096 },
		lr: { kind: 'number', min: 0, max: 1, minExclusive: true },
		min_lr: { kind: 'number', min: 0, max: 1 },
		warmup_steps: { kind: 'int', min: 0, max: 10_000_000 },
		weight_decay: { kind: 'number', min: 0, max: 1 },
		grad_clip: { kind: 'number', min: 0, max: 1e6 }
	},
	checkpoint: {
		every_steps: { kind: 'int', min: 1, max: 10_000_000 },
		keep_last: { kind: 'int', min: 1, max: 10_000 }
	},
	eval: {
		every_checkpoints: { kind: 'int', min: 1, max: 10_000 },
		max_new_tokens: { kind: 'int', min: 1, max: 100_000 },
		max_items: { kind: 'intOrNull', min: 1, max: 10_000_000 },
		during_training: { kind: 'bool' }
	},
	runtime: { backend: { kind: 'enum', values: BACKEND_CHOICES } }
};

/** Thrown for an invalid config; `problems` are `file:line:col: key.path: problem` lines. */
export class ConfigError extends Error {
	constructor(readonly problems: string[]) {
		super(problems.join('\n'));
		this.name = 'ConfigError';
	}
}

export interface ParseConfigOptions {
	/** File name used in messages. */
	file?: string;
	/** When given, data.dataset and data.eval_datasets must be keys it accepts. */
	isKnownDataset?: (key: string) => boolean;
	/** Listed in the "unknown dataset" message. */
	knownDatasets?: readonly string[];
}

function checkValue(rule: Rule, node: Node | null): { value?: unknown; problem?: string } {
	if (rule.kind === 'stringList') {
		if (!isSeq(node)) return { problem: 'must be a list of strings' };
		const items = node.items.map((it) => (isScalar(it) ? it.value : undefined));
		if (items.some((v) => typeof v !== 'string' || v === '')) {
			return { problem: 'must be a list of non-empty strings' };
		}
		return { value: items };
	}
	if (!isScalar(node)) return { problem: 'must be a single value, not a list or mapping' };
	const v = node.value;
	switch (rule.kind) {
		case 'string':
			return typeof v === 'string' && v.trim() !== '' ? { value: v } : { problem: 'must be a non-empty string' };
		case 'bool':
			return typeof v === 'boolean' ? { value: v } : { problem: 'must be true or false' };
		case 'enum':
			return typeof v === 'string' && rule.values.includes(v)
				? { value: v }
				: { problem: `must be one of ${rule.values.join(', ')}, got ${JSON.stringify(v)}` };
		case 'intOrNull':
		case 'int': {
			if (v === null && rule.kind === 'intOrNull') return { value: null };
			if (typeof v !== 'number' || !Number.isInteger(v)) {
				return {
					problem: `must be an integer${rule.kind === 'intOrNull' ? ' or null' : ''}, got ${JSON.stringify(v)}`
				};
			}
			if (v < rule.min || v > rule.max) return { problem: `must be in ${rule.min}..${rule.max}, got ${v}` };
			return { value: v };
		}
		case 'number': {
			if (typeof v !== 'number' || !Number.isFinite(v)) {
				return { problem: `must be a number, got ${JSON.stringify(v)}` };
			}
			const low = rule.minExclusive ? v <= rule.min : v < rule.min;
			if (low || v > rule.max) {
				return { problem: `must be in ${rule.minExclusive ? '(' : '['}${rule.min}, ${rule.max}], got ${v}` };
			}
			return { value: v };
		}
	}
}

/** Checks that involve more than one key; each returns [key.path, problem]. */
function crossProblems(c: LabConfig): [string, string][] {
	const out: [string, string][] = [];
	if (c.model.n_embd % c.model.n_head !== 0) {
		out.push(['model.n_head', `must divide model.n_embd (${c.model.n_embd})`]);
	}
	if (c.train.min_lr > c.train.lr) out.push(['train.min_lr', `must not exceed train.lr (${c.train.lr})`]);
	if (c.train.warmup_steps > c.train.steps) {
		out.push(['train.warmup_steps', `must not exceed train.steps (${c.train.steps})`]);
	}
	return out;
}

/** Parses and validates config YAML. Throws a ConfigError listing every problem. */
export function parseConfig(text: string, options: ParseConfigOptions = {}): LabConfig {
	const file = options.file ?? 'config.yaml';
	const lines = new LineCounter();
	const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
	const at = (offset: number | undefined) => {
		const { line, col } = lines.linePos(offset ?? 0);
		return `${file}:${line}:${col}`;
	};
	const problems: string[] = [];
	for (const err of doc.errors) {
		problems.push(`${at(err.pos[0])}: (yaml): ${err.message.split('\n')[0]}`);
	}
	if (problems.length > 0) throw new ConfigError(problems);

	const root = doc.contents;
	if (!isMap(root)) throw new ConfigError([`${at(0)}: (root): must be a mapping of groups (run, data, model, …)`]);
	const out: Record<string, Record<string, unknown>> = {};
	const where: Record<string, number | undefined> = {};
	for (const pair of root.items) {
		const key = isScalar(pair.key) ? String(pair.key.value) : '?';
		const keyOffset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
		const group = SCHEMA[key];
		if (!group) {
			problems.push(`${at(keyOffset)}: ${key}: unknown key (groups: ${Object.keys(SCHEMA).join(', ')})`);
			continue;
		}
		where[key] = keyOffset;
		if (!isMap(pair.value)) {
			problems.push(`${at(keyOffset)}: ${key}: must be a mapping`);
			continue;
		}
		out[key] = {};
		for (const item of pair.value.items) {
			const name = isScalar(item.key) ? String(item.key.value) : '?';
			const nameOffset = isScalar(item.key) ? item.key.range?.[0] : undefined;
			const rule = group[name];
			if (!rule) {
				problems.push(`${at(nameOffset)}: ${key}.${name}: unknown key (expected: ${Object.keys(group).join(', ')})`);
				continue;
			}
			const value = item.value as Node | null;
			const checked = checkValue(rule, value);
			where[`${key}.${name}`] = value?.range?.[0] ?? nameOffset;
			if (checked.problem) problems.push(`${at(value?.range?.[0] ?? nameOffset)}: ${key}.${name}: ${checked.problem}`);
			else out[key][name] = checked.value;
		}
	}
	for (const [key, group] of Object.entries(SCHEMA)) {
		if (!(key in where)) {
			problems.push(`${at(0)}: ${key}: missing group`);
			continue;
		}
		if (!out[key]) continue;
		for (const name of Object.keys(group)) {
			if (!(`${key}.${name}` in where)) problems.push(`${at(where[key])}: ${key}.${name}: missing key`);
		}
	}
	if (problems.length > 0) throw new ConfigError(problems);

	const config = out as unknown as LabConfig;
	for (const [path, problem] of crossProblems(config)) problems.push(`${at(where[path])}: ${path}: ${problem}`);
	if (options.isKnownDataset) {
		const known = options.knownDatasets ? ` (known: ${options.knownDatasets.join(', ')})` : '';
		if (!options.isKnownDataset(config.data.dataset)) {
			problems.push(`${at(where['data.dataset'])}: data.dataset: unknown dataset "${config.data.dataset}"${known}`);
		}
		for (const key of config.data.eval_datasets) {
			if (!options.isKnownDataset(key)) {
				problems.push(`${at(where['data.eval_datasets'])}: data.eval_datasets: unknown dataset "${key}"${known}`);
			}
		}
	}
	if (problems.length > 0) throw new ConfigError(problems);
	return config;
}
