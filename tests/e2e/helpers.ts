import { expect, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetricsJsonl } from '../../src/lib/core/run/runFiles';

export const smokeYaml = readFileSync('configs/ci_smoke.yaml', 'utf8');

/** ci_smoke with more steps and denser checkpoints, on the cpu backend: long enough to interrupt. */
export function longerSmoke(steps: number): string {
	return smokeYaml
		.replace(/^ {2}steps: \d+/m, `  steps: ${steps}`)
		.replace(/every_steps: \d+/, 'every_steps: 5')
		.replace(/keep_last: \d+/, 'keep_last: 20')
		.replace(/max_items: \d+/, 'max_items: 2')
		.replace(/every_checkpoints: \d+/, 'every_checkpoints: 3')
		.replace(/backend: \w+/, 'backend: cpu');
}

/** Starts a run from the lab page with this YAML; returns the run id. */
export async function startRun(page: Page, yaml: string, preset = 'ci_smoke.yaml'): Promise<string> {
	await page.goto('/');
	await page.getByTestId('preset').selectOption(preset);
	await page.getByTestId('config-yaml').fill(yaml);
	await page.getByTestId('train').click();
	await page.waitForURL(/\/run\/\?id=/);
	return new URL(page.url()).searchParams.get('id')!;
}

export const status = (page: Page) => page.locator('h1 [data-status]');

export async function waitForStep(page: Page, atLeast: number): Promise<void> {
	await expect
		.poll(async () => Number((await page.getByTestId('step').textContent()) ?? 0), { timeout: 120_000 })
		.toBeGreaterThanOrEqual(atLeast);
}

export async function download(page: Page, testId: string): Promise<Buffer> {
	const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
	return readFileSync((await dl.path())!);
}

/** One value of every training line of a metrics.jsonl (evaluation lines skipped). */
export function trainingValues(jsonl: string, key: 'loss' | 'elapsed_s'): number[] {
	return parseMetricsJsonl(jsonl).training.map((m) => m[key] as number);
}

/**
 * Runs a script or CLI entry (`scripts/run-ts.mjs <entry>`) in its own process; rejects with its
 * stderr when it fails. Asynchronous, so a test starts its Node reference before the browser work
 * and awaits it after: the two run side by side on the machine's cores.
 */
export function runTs(entry: string, args: string[]): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn('node', ['scripts/run-ts.mjs', entry, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
		let stderr = '';
		child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		child.on('error', reject);
		child.on('close', (code) =>
			code === 0 ? resolve() : reject(new Error(`${entry} failed (exit ${code}): ${stderr}`))
		);
	});
}

/** Runs a CLI command (`src/cli/<command>.ts`) with `args`. */
export const cli = (command: string, args: string[]): Promise<void> => runTs(`src/cli/${command}.ts`, args);

/** The same YAML trained by the CLI on the cpu backend; resolves to the run directory. */
export async function cliRun(yaml: string): Promise<string> {
	const dir = mkdtempSync(join(tmpdir(), 'tunix-e2e-'));
	writeFileSync(join(dir, 'config.yaml'), yaml);
	await cli('train', ['--config', join(dir, 'config.yaml'), '--checkpoint-dir', join(dir, 'run'), '--backend', 'cpu']);
	return join(dir, 'run');
}

/** Model tensors of a safetensors checkpoint (optimizer state skipped), by name. */
export function modelTensors(bytes: Uint8Array): Map<string, Float32Array> {
	const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
	const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
	const out = new Map<string, Float32Array>();
	for (const [name, info] of Object.entries(header) as [string, { data_offsets: [number, number] }][]) {
		if (name === '__metadata__' || name.startsWith('optimizer.')) continue;
		const [b, e] = info.data_offsets;
		out.set(name, new Float32Array(bytes.slice(8 + n + b, 8 + n + e).buffer));
	}
	return out;
}

/** From the lab page: the smoke preset with another seed on wasm (seconds), trained to completion. */
/** Trains ci_smoke on wasm from the lab page at `labUrl` (default: the base URL) to completion. */
export async function trainSmokeOnWasm(page: Page, seed = 1234, labUrl = ''): Promise<void> {
	await page.goto(`${labUrl}/`);
	await page.getByTestId('preset').selectOption('ci_smoke.yaml');
	const yaml = (await page.getByTestId('config-yaml').inputValue()).replace('seed: 1234', `seed: ${seed}`);
	await page.getByTestId('config-yaml').fill(yaml.replace('backend: auto', 'backend: wasm'));
	await page.getByTestId('train').click();
	await page.waitForURL(/\/run\/\?id=/);
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 120_000 });
}
