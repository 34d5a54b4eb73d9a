// Shared test helpers: backends, configs, small datasets.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { useNodeBackend, type NodeBackend } from '../src/cli/nodeBackend';
import type { Checkpoint } from '../src/lib/core/checkpoint/checkpoint';
import { parseConfig, type LabConfig } from '../src/lib/core/config';
import type { Dataset } from '../src/lib/core/data/manifest';
import type { EvalResult } from '../src/lib/core/eval/evalJson';
import { disposeModel, evaluate, modelFromValues, type EvalOptions } from '../src/lib/core/eval/evaluate';

/** Debian's Chromium ships SwiftShader's Vulkan driver: WebGPU on the CPU, for Dawn in Node too. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function backend(name: NodeBackend): Promise<void> {
	if (name === 'webgpu' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
		process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD; // read when Dawn creates its Vulkan instance
	}
	await useNodeBackend(name);
}

export function loadConfigFile(path: string): LabConfig {
	return parseConfig(readFileSync(path, 'utf8'), { file: path });
}

/** ci_smoke with overrides per group. */
export function smokeConfig(over: { [G in keyof LabConfig]?: Partial<LabConfig[G]> } = {}): LabConfig {
	const base = loadConfigFile('configs/ci_smoke.yaml');
	const out = structuredClone(base) as unknown as Record<string, Record<string, unknown>>;
	for (const [group, values] of Object.entries(over)) Object.assign(out[group], values);
	return out as unknown as LabConfig;
}

/** evaluate(checkpoint, dataset): a decoded checkpoint's weights on one dataset. */
export async function evaluateCheckpoint(ck: Checkpoint, dataset: Dataset, opts: EvalOptions): Promise<EvalResult> {
	const model = modelFromValues(ck.params, ck, ck.step);
	try {
		return await evaluate(model, dataset, opts);
	} finally {
		disposeModel(model);
	}
}

/** A Python 3 with NumPy: $PYTHON, python3 on PATH, or Debian's (apt-get install python3-numpy). */
export function pythonWithNumpy(): string {
	const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
	const found = candidates.find((py) => spawnSync(py, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0);
	if (!found)
		throw new Error(
			`no Python with NumPy among ${candidates.join(', ')}: apt-get install python3-numpy, or set PYTHON`
		);
	return found;
}

/** Whether two typed arrays hold the same bytes (a deep toEqual over millions of values takes seconds). */
export function sameBytes(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined): boolean {
	if (!a || !b) return false;
	return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
