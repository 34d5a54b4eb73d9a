// The config presets shipped in configs/, as YAML text (one source for the CLI and the lab).

import { getYamlValue, setYamlValue } from './core/config';
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
export function withDataset(yaml: string, key: string): string {
	return setYamlValue(yaml, ['data', 'dataset'], key);
}

/**
 * Rough training time: seconds per step measured for the full-run model (2 layers, 64 wide,
 * batch 16 × ~127 tokens) on a 2-core CPU, scaled by n_layer · n_embd² · batch_size. wasm: the
 * full run with its evaluation took 0.87 min in the browser with the lab's kernels on 2 threads
 * (docs/performance.md), about 0.026 s a step; 0.03 leaves room for the rest of a machine's load.
 * On one thread (a page that is not cross-origin isolated) a step takes about 0.042 s. GPU
 * (webgpu/webgl) speed depends on the GPU, so no figure is given for them.
 */
const SECONDS_PER_FULL_STEP: Record<string, number> = { wasm: 0.03, cpu: 9 };

export function estimateSeconds(
	c: { model: { n_layer: number; n_embd: number }; train: { steps: number; batch_size: number } },
	backend: string
): number | null {
	const perStep = SECONDS_PER_FULL_STEP[backend];
	if (perStep === undefined) return null;
	const scale = (c.model.n_layer * c.model.n_embd ** 2 * c.train.batch_size) / (2 * 64 ** 2 * 16);
	return c.train.steps * perStep * Math.max(scale, 0.02);
}
