// The config presets shipped in configs/, as YAML text (one source for the CLI and the lab).

import { getYamlValue, SCRATCH, setYamlValue } from './core/config';
import { evaluationSetsFor } from './core/data/registry';
import ciSmoke from '../../configs/ci_smoke.yaml?raw';
import quick from '../../configs/quick_golden_v2.yaml?raw';
import full from '../../configs/train_golden_v2.yaml?raw';
import addSteps from '../../configs/add3_steps.yaml?raw';
import addNoSteps from '../../configs/add3_no_steps.yaml?raw';
import lora from '../../configs/lora_golden_v2.yaml?raw';

export interface Preset {
	file: string;
	label: string;
	yaml: string;
}

export const PRESETS: Preset[] = [
	// no times in the labels: the lab page adds its estimate for the backend in use (one source)
	{ file: 'ci_smoke.yaml', label: 'Smoke test', yaml: ciSmoke },
	{ file: 'quick_golden_v2.yaml', label: 'Quick', yaml: quick },
	{ file: 'train_golden_v2.yaml', label: 'Full run', yaml: full },
	{ file: 'add3_steps.yaml', label: 'Addition with reasoning steps', yaml: addSteps },
	{ file: 'add3_no_steps.yaml', label: 'Addition, answer only', yaml: addNoSteps },
	{ file: 'lora_golden_v2.yaml', label: 'LoRA on an imported GPT-2', yaml: lora }
];

/** The LoRA preset on imported model `name` of this shape (the Models page's "Fine-tune with LoRA"). */
export function loraPresetFor(
	name: string,
	shape: { n_layer: number; n_head: number; n_embd: number; block_size: number }
): string {
	let yaml = setYamlValue(lora, ['model', 'init'], name);
	for (const key of ['n_layer', 'n_head', 'n_embd', 'block_size'] as const)
		yaml = setYamlValue(yaml, ['model', key], shape[key]);
	return setYamlValue(yaml, ['run', 'name'], `${name}-lora`);
}

/** The YAML with runtime.backend replaced (unchanged while the YAML does not parse). */
export function withBackend(yaml: string, backend: string): string {
	return setYamlValue(yaml, ['runtime', 'backend'], backend);
}

/** runtime.backend as written in the YAML (auto when absent or not a string). */
export function backendOf(yaml: string): string {
	const value = getYamlValue(yaml, ['runtime', 'backend']);
	return typeof value === 'string' ? value : 'auto';
}

/** The YAML with data.dataset replaced (unchanged while the YAML does not parse). */
/**
 * The config set to train on `key`: data.dataset, the evaluation sets that go with it (held-out and
 * length sets for a built-in one, none for an imported one), and a run name that says which.
 */
export function withDataset(yaml: string, key: string): string {
	const withKey = setYamlValue(yaml, ['data', 'dataset'], key);
	const withEval = setYamlValue(withKey, ['data', 'eval_datasets'], [...evaluationSetsFor(key)]);
	return setYamlValue(withEval, ['run', 'name'], key);
}

/**
 * Rough training time: seconds per step measured for the full-run model (2 layers, 64 wide, a
 * 44-character vocabulary, batch 16 × ~127 tokens) on a 2-core CPU, scaled by the work of a step.
 * wasm: the full run with its evaluation took 0.87 min in the browser with the lab's kernels on
 * 2 threads (docs/performance.md), about 0.026 s a step; 0.03 leaves room for the rest of a
 * machine's load. On one thread (a page that is not cross-origin isolated) a step takes about
 * 0.042 s. GPU (webgpu/webgl) speed depends on the GPU, so no figure is given for them.
 */
const SECONDS_PER_FULL_STEP: Record<string, number> = { wasm: 0.03, cpu: 9 };

/**
 * Tokens in a typical golden-v2 trace: ~127 characters, and about a quarter as many byte-level BPE
 * tokens (golden-v2's traces are 24–35 GPT-2 tokens).
 */
const TRACE_TOKENS = { char: 127, bpe: 32 } as const;

/** Multiply-adds per token of a forward pass: the blocks' products (12·L·C²) and the output layer (V·C). */
const workPerToken = (layers: number, width: number, vocab: number): number => 12 * layers * width ** 2 + vocab * width;

/** A step of the full-run model, in the same units: 16 sequences of 127 tokens. */
const FULL_RUN_WORK = 16 * TRACE_TOKENS.char * workPerToken(2, 64, 44);

/**
 * Seconds `c` trains for on `backend` (null where no figure is known), for a model whose output
 * layer has `vocab` tokens (the footprint's).
 */
export function estimateSeconds(
	c: {
		model: { n_layer: number; n_embd: number; block_size: number; init?: string };
		train: { steps: number; batch_size: number };
	},
	backend: string,
	vocab: number
): number | null {
	const perStep = SECONDS_PER_FULL_STEP[backend];
	if (perStep === undefined) return null;
	const pretrained = c.model.init !== undefined && c.model.init !== SCRATCH;
	const tokens = Math.min(c.model.block_size, pretrained ? TRACE_TOKENS.bpe : TRACE_TOKENS.char);
	const work = c.train.batch_size * tokens * workPerToken(c.model.n_layer, c.model.n_embd, vocab);
	return c.train.steps * perStep * Math.max(work / FULL_RUN_WORK, 0.02);
}
