// Browser benchmark (docs/performance.md). Prints JSON lines, like the Node bench:
// 1. the core bench in the worker on each backend Chromium offers here (webgpu, webgl, wasm, cpu);
// 2. the worker + UI overhead: a real run started from the lab page (storage, events, live charts)
//    against the bare core training the same config in the same worker, per step.
// Environment: BENCH_BACKENDS (comma list, default all four), BENCH_FUSED (1; 0: composite tfjs ops on every backend),
// BENCH_STEPS (20), BENCH_SECONDS (60), BENCH_RUNG (S: the full-run model; M: the ladder's 6 × 384,
// core/bench/ladder.ts — the character-level rungs, whose batch is golden-v2's 16 longest traces),
// BENCH_RUN_STEPS (40) and BENCH_RUN_BACKEND (wasm) for the overhead run.
import { expect, test } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rungNamed } from '../../src/lib/core/bench/ladder';
import { download, startRun, status, trainingValues } from '../e2e/helpers';

const env = (k: string, d: string) => process.env[k] ?? d;
const backends = env('BENCH_BACKENDS', 'webgpu,webgl,wasm,cpu').split(',');
const runSteps = Number(env('BENCH_RUN_STEPS', '40'));
const runBackend = env('BENCH_RUN_BACKEND', 'wasm');
const lines: string[] = [];
const emit = (o: object) => {
	const line = JSON.stringify(o);
	lines.push(line);
	console.log(line);
};

test.afterAll(() => {
	mkdirSync('artifacts/bench', { recursive: true });
	writeFileSync('artifacts/bench/browser.jsonl', lines.join('\n') + '\n');
});

test('core bench in the worker, per backend', async ({ page }) => {
	await page.goto('/bench');
	for (const b of ['webgpu', 'webgl', 'wasm', 'cpu'])
		await page.getByTestId(`bench-${b}`).setChecked(backends.includes(b));
	await page.getByTestId('bench-fused').setChecked(env('BENCH_FUSED', '1') !== '0');
	await page.getByTestId('bench-steps').fill(env('BENCH_STEPS', '20'));
	await page.getByTestId('bench-seconds').fill(env('BENCH_SECONDS', '60'));
	const rung = rungNamed(env('BENCH_RUNG', 'S'));
	if (rung.vocab > 1000)
		throw new Error(`BENCH_RUNG=${rung.name}: the browser bench trains the character-level rungs (S, M)`);
	const yaml = (await page.getByTestId('bench-yaml').inputValue())
		.replace(/n_layer: \d+/, `n_layer: ${rung.n_layer}`)
		.replace(/n_head: \d+/, `n_head: ${rung.n_head}`)
		.replace(/n_embd: \d+/, `n_embd: ${rung.n_embd}`);
	await page.getByTestId('bench-yaml').fill(yaml);
	await page.getByTestId('bench-run').click();
	const out = page.getByTestId('bench-jsonl');
	await expect(out).toBeVisible({ timeout: 3_000_000 });
	for (const l of ((await out.textContent()) ?? '').split('\n').filter(Boolean)) emit(JSON.parse(l));
	for (const e of await page.locator('p.error').allTextContents()) console.error(`skipped ${e}`);
});

test('worker + UI path against the bare core', async ({ page }) => {
	const yaml = readFileSync('configs/train_golden_v2.yaml', 'utf8')
		.replace(/^ {2}steps: \d+/m, `  steps: ${runSteps}`)
		.replace(/warmup_steps: \d+/, 'warmup_steps: 5')
		.replace(/every_steps: \d+/, `every_steps: ${runSteps}`)
		.replace(/max_items: \w+/, 'max_items: 1')
		.replace(/backend: \w+/, `backend: ${runBackend}`);
	const perStep = (elapsed: number[]) => ((elapsed.at(-1)! - elapsed[0]) / (elapsed.length - 1)) * 1000; // steps 2..N

	await startRun(page, yaml, 'train_golden_v2.yaml');
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 3_000_000 });
	const ui = trainingValues((await download(page, 'dl-metrics')).toString('utf8'), 'elapsed_s');

	await page.goto('/bench');
	await page.getByTestId('bench-yaml').fill(yaml);
	await page.getByTestId('core-backend').selectOption(runBackend);
	await page.getByTestId('core-run').click();
	const core = JSON.parse((await page.getByTestId('core-elapsed').textContent({ timeout: 3_000_000 }))!) as number[];

	expect(ui).toHaveLength(runSteps);
	expect(core).toHaveLength(runSteps);
	const [uiMs, coreMs] = [perStep(ui), perStep(core)];
	emit({
		runtime: 'chromium',
		backend: runBackend,
		path: 'worker+ui vs bare core',
		steps: runSteps,
		core_ms_per_step: Math.round(coreMs * 10) / 10,
		ui_ms_per_step: Math.round(uiMs * 10) / 10,
		overhead_pct: Math.round(((uiMs - coreMs) / coreMs) * 1000) / 10
	});
});

// BENCH_FULL_RUN=1: the documented full run (configs/train_golden_v2.yaml, evaluation included)
// from the lab page on BENCH_RUN_BACKEND, timed from its run.json (started → finished).
if (env('BENCH_FULL_RUN', '0') === '1')
	test('the full golden-v2 run from the lab page', async ({ page }) => {
		const yaml = readFileSync('configs/train_golden_v2.yaml', 'utf8').replace(/backend: \w+/, `backend: ${runBackend}`);
		await startRun(page, yaml, 'train_golden_v2.yaml');
		await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 3_000_000 });
		const run = JSON.parse((await download(page, 'dl-run')).toString('utf8')) as {
			started: string;
			finished: string;
			summary: { initial_loss: number; final_loss: number };
		};
		emit({
			runtime: 'chromium',
			backend: runBackend,
			path: 'full golden-v2 run from the lab page',
			minutes: Math.round(((Date.parse(run.finished) - Date.parse(run.started)) / 60_000) * 100) / 100,
			initial_loss: run.summary.initial_loss,
			final_loss: run.summary.final_loss
		});
	});
