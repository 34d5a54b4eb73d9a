// The lab's YAML config (docs/specification.md §6): a typed record, and a parser that reports every problem as
// `file:line:col: key.path: problem`. Every key is required; unknown keys are errors.

import * as v from 'valibot';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { bool, int, intOrNull, num, oneOf, pathText, problemsOf, record, text, textList } from './schema';

/** Which target tokens the loss counts (docs/specification.md §3). */
export const LOSS_ON = ['completion', 'all'] as const;
export type LossOn = (typeof LOSS_ON)[number];

/** How a run trains a pretrained model: every weight, or LoRA adapters only (docs/pretrained.md). */
export const FINETUNE = ['full', 'lora'] as const;
export type Finetune = (typeof FINETUNE)[number];
/** Layers a LoRA adapter may target, by PEFT's module names: `c_proj` means both projections. */
export const LORA_TARGETS = ['c_attn', 'c_proj', 'c_fc', 'attn.c_proj', 'mlp.c_proj'] as const;
/** `model.init` of a model trained from random weights. */
export const SCRATCH = 'scratch';

/** The TensorFlow.js backends the lab runs on, in the order auto tries them (docs/specification.md §10). */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
/** What a config may ask for: a backend, or auto (the fastest measured here). */
export const BACKEND_CHOICES = ['auto', ...BACKENDS] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * The config schema: every group and key is required, unknown keys are errors. The comment on
 * each key is its documentation (docs/specification.md §6); LabConfig is derived from it.
 */
export const ConfigSchema = record({
	run: record({
		/** Human-readable run name. */
		name: text(),
		/** Seed for init, the per-epoch shuffle and dropout. */
		seed: int(0, 2 ** 32 - 1)
	}),
	data: record({
		/** Training dataset key (e.g. "golden-v2"). */
		dataset: text(),
		/** Extra datasets to evaluate on (e.g. ["golden-v2-heldout"]). */
		eval_datasets: textList(),
		/** Loss on completion tokens only, or on every token after <bos>. */
		loss_on: oneOf(LOSS_ON)
	}),
	model: record({
		/** Optional: "scratch" (the default: random init, character tokenizer) or the name of an imported model to start from, whose shape the keys below must repeat. */
		init: v.optional(text()),
		/** Transformer blocks. */
		n_layer: int(1, 48),
		/** Attention heads; must divide n_embd. */
		n_head: int(1, 64),
		/** Embedding width C. */
		n_embd: int(4, 4096),
		/** Longest sequence (tokens, incl. <bos> and <eos>) and rows of the position table. */
		block_size: int(8, 4096),
		/** Dropout probability after attention, projections and embeddings (0 = off). */
		dropout: num(0, 0.9)
	}),
	train: record({
		/** Optimizer steps. */
		steps: int(1, 10_000_000),
		/** Traces per step. */
		batch_size: int(1, 4096),
		/** Peak learning rate after warmup. */
		lr: num(0, 1, true),
		/** Learning rate at the end of the cosine decay. */
		min_lr: num(0, 1),
		/** Steps of linear warmup from 0 to lr. */
		warmup_steps: int(0, 10_000_000),
		/** AdamW decoupled weight decay (matrices only). */
		weight_decay: num(0, 1),
		/** Clip gradients to this global L2 norm (0 = no clipping). */
		grad_clip: num(0, 1e6),
		/** Optional, for an imported model: train every weight (full, the default) or LoRA adapters only (lora). */
		finetune: v.optional(oneOf(FINETUNE))
	}),
	/** Optional: the adapters when train.finetune is lora. */
	lora: v.optional(
		record({
			/** The adapters' rank r. */
			rank: int(1, 1024),
			/** The update is scaled by alpha / rank. */
			alpha: num(0, 1e4, true),
			/** Dropout on an adapter's input while training. */
			dropout: num(0, 0.9),
			/** Layers that carry an adapter: c_attn, c_proj (both projections), c_fc, attn.c_proj, mlp.c_proj. */
			targets: v.pipe(
				v.array(oneOf(LORA_TARGETS), 'must be a list of layer names'),
				v.minLength(1, 'must name at least one layer')
			)
		})
	),
	checkpoint: record({
		/** Write a checkpoint every N steps (and always at the last step). */
		every_steps: int(1, 10_000_000),
		/** Keep the newest K checkpoints. */
		keep_last: int(1, 10_000)
	}),
	eval: record({
		/** Evaluate every N-th kept checkpoint (the final one always). */
		every_checkpoints: int(1, 10_000),
		/** Generation limit per item. */
		max_new_tokens: int(1, 100_000),
		/** Items per dataset, or null for all. */
		max_items: intOrNull(1, 10_000_000),
		/** Evaluate checkpoints as they are written instead of after training. */
		during_training: bool()
	}),
	runtime: record({
		/** TensorFlow.js backend; auto measures the backends and takes the fastest. */
		backend: oneOf(BACKEND_CHOICES)
	})
});

export type LabConfig = v.InferOutput<typeof ConfigSchema>;

/** The imported model a run starts from, or null when it trains from scratch. */
export const pretrainedName = (c: LabConfig): string | null =>
	c.model.init === undefined || c.model.init === SCRATCH ? null : c.model.init;

/** What step 0 is called everywhere (verdict, evaluation table, CLI): the model before this run trained it. */
export const startName = (c: Pick<LabConfig, 'model'>): 'pretrained' | 'untrained' =>
	c.model.init === undefined || c.model.init === SCRATCH ? 'untrained' : 'pretrained';

/** full or lora (full when the config does not say). */
export const finetuneOf = (c: LabConfig): Finetune => c.train.finetune ?? 'full';

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

/** Checks that involve more than one key; each returns [key.path, problem]. */
function crossProblems(c: LabConfig): [string, string][] {
	const out: [string, string][] = [];
	if (c.model.n_embd % c.model.n_head !== 0) {
		out.push(['model.n_head', `must divide model.n_embd (${c.model.n_embd})`]);
	}
	if (c.train.min_lr > c.train.lr) out.push(['train.min_lr', `must not exceed train.lr (${c.train.lr})`]);
	const twice = c.data.eval_datasets.filter((k, i, all) => all.indexOf(k) !== i);
	if (twice.length > 0) out.push(['data.eval_datasets', `lists ${[...new Set(twice)].join(', ')} more than once`]);
	if (c.train.warmup_steps > c.train.steps) {
		out.push(['train.warmup_steps', `must not exceed train.steps (${c.train.steps})`]);
	}
	const lora = finetuneOf(c) === 'lora';
	if (lora && pretrainedName(c) === null)
		out.push(['train.finetune', 'lora trains adapters on a pretrained model: set model.init to an imported model']);
	if (lora && !c.lora)
		out.push(['train.finetune', 'is lora, so the config needs a lora group (rank, alpha, dropout, targets)']);
	if (!lora && c.lora)
		out.push(['lora', 'is set but train.finetune is not lora: remove it, or set train.finetune: lora']);
	return out;
}

/** Where a key path sits in the YAML: its value, or for a missing key its group, else the start. */
function offsetOf(doc: Document, path: (string | number)[], problem: string): number {
	for (let n = path.length; n > 0; n--) {
		const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
		const item = isSeq(parent) && typeof path[n - 1] === 'number' ? parent.items[path[n - 1] as number] : null;
		if (item) return (item as { range?: [number, number, number] }).range?.[0] ?? 0;
		if (!isMap(parent)) continue;
		const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === path[n - 1]);
		if (!pair) continue;
		const keyAt = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
		// an unknown key points at itself; a bad value at the value
		if (n === path.length && problem.startsWith('unknown key')) return keyAt ?? 0;
		const value = pair.value as { range?: [number, number, number] } | null;
		return (n === path.length ? value?.range?.[0] : undefined) ?? keyAt ?? 0;
	}
	return 0;
}

/** Parses and validates config YAML. Throws a ConfigError listing every problem as `file:line:col: key.path: problem`. */
export function parseConfig(text: string, options: ParseConfigOptions = {}): LabConfig {
	const file = options.file ?? 'config.yaml';
	const lines = new LineCounter();
	const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
	const at = (offset: number | undefined) => {
		const { line, col } = lines.linePos(offset ?? 0);
		return `${file}:${line}:${col}`;
	};
	const where = (path: (string | number)[], problem = '') => at(offsetOf(doc, path, problem));
	const problems: string[] = [];
	for (const err of doc.errors) {
		problems.push(`${at(err.pos[0])}: (yaml): ${err.message.split('\n')[0]}`);
	}
	if (problems.length > 0) throw new ConfigError(problems);
	if (!isMap(doc.contents))
		throw new ConfigError([`${at(0)}: (root): must be a mapping of groups (run, data, model, …)`]);

	const value = doc.toJS();
	for (const p of problemsOf(ConfigSchema, value)) {
		const problem = p.path.length === 1 && p.problem === 'missing key' ? 'missing group' : p.problem;
		problems.push(`${where(p.path, problem)}: ${pathText(p.path)}: ${problem}`);
	}
	if (problems.length > 0) throw new ConfigError(problems);

	const config = v.parse(ConfigSchema, value);
	for (const [path, problem] of crossProblems(config)) problems.push(`${where(path.split('.'))}: ${path}: ${problem}`);
	if (options.isKnownDataset) {
		const known = options.knownDatasets ? ` (known: ${options.knownDatasets.join(', ')})` : '';
		if (!options.isKnownDataset(config.data.dataset)) {
			problems.push(`${where(['data', 'dataset'])}: data.dataset: unknown dataset "${config.data.dataset}"${known}`);
		}
		for (const key of new Set(config.data.eval_datasets)) {
			if (!options.isKnownDataset(key)) {
				problems.push(`${where(['data', 'eval_datasets'])}: data.eval_datasets: unknown dataset "${key}"${known}`);
			}
		}
	}
	if (problems.length > 0) throw new ConfigError(problems);
	return config;
}

/** The YAML with the value at `path` set (comments and layout kept); unchanged when the YAML does not parse. */
export function setYamlValue(text: string, path: string[], value: unknown): string {
	const doc = parseDocument(text);
	if (doc.errors.length > 0 || !isMap(doc.contents)) return text;
	doc.setIn(path, value);
	return doc.toString();
}

/** The value at `path` in the YAML, or undefined (also when it does not parse). */
export function getYamlValue(text: string, path: string[]): unknown {
	const doc = parseDocument(text);
	return doc.errors.length > 0 ? undefined : doc.getIn(path);
}

/** A config as YAML text, group by group in the schema's order: what "Train again" puts in the lab page's editor. */
export function configYaml(config: LabConfig, comment?: string): string {
	const body = stringify(config);
	return comment ? `# ${comment}\n${body}` : body;
}
