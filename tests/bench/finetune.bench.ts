// Fine-tuning a distilgpt2-shaped GPT-2 in the browser worker (docs/performance.md "Fine-tuning"):
// the model imported on the Models page, a LoRA run of a few steps at batch 4 from the lab page on
// wasm, and the step time read from its metrics. Prints one JSON line.
// Environment: BENCH_MODEL (a HF folder; default: one written by npm run make-gpt2 --shape distilgpt2),
// BENCH_STEPS (4), BENCH_BACKEND (wasm).
import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { download, status, trainingValues } from '../e2e/helpers';

const model = process.env.BENCH_MODEL ?? 'artifacts/models/distilgpt2';
const steps = Number(process.env.BENCH_STEPS ?? '4');
const backend = process.env.BENCH_BACKEND ?? 'wasm';

test('LoRA on a distilgpt2-shaped model in the browser worker', async ({ page }) => {
	if (!existsSync(join(model, 'model.safetensors'))) {
		mkdirSync(model, { recursive: true });
		const r = spawnSync('node', [
			'scripts/run-ts.mjs',
			'scripts/make-gpt2.ts',
			'--out',
			model,
			'--shape',
			'distilgpt2',
			'--dtype',
			'F16'
		]);
		if (r.status !== 0) throw new Error(String(r.stderr));
	}
	await page.goto('/models/');
	await expect(page.getByTestId('no-models')).toBeVisible(); // hydrated: the name field is bound
	await page.getByTestId('model-name').fill('distilgpt2');
	const t0 = Date.now();
	await page
		.getByTestId('model-files')
		.setInputFiles(['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => join(model, f)));
	await expect(page.getByTestId('model-message')).toContainText('distilgpt2', { timeout: 600_000 });
	const importS = (Date.now() - t0) / 1000;
	await page.getByTestId('model-finetune').click();
	const editor = page.getByTestId('config-yaml');
	await expect(editor).toHaveValue(/init: distilgpt2/);
	const yaml = (await editor.inputValue())
		.replace(/^ {2}steps: \d+/m, `  steps: ${steps}`)
		.replace(/batch_size: \d+/, 'batch_size: 4')
		.replace(/warmup_steps: \d+/, 'warmup_steps: 1')
		.replace(/every_steps: \d+/, `every_steps: ${steps}`)
		.replace(/max_new_tokens: \d+/, 'max_new_tokens: 4')
		.replace(/max_items: \d+/, 'max_items: 1')
		.replace(/backend: auto/, `backend: ${backend}`);
	await editor.fill(yaml);
	await page.getByTestId('train').click();
	await page.waitForURL(/\/run\/\?id=/);
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 3_000_000 });
	const elapsed = trainingValues((await download(page, 'dl-metrics')).toString('utf8'), 'elapsed_s');
	const perStep = ((elapsed.at(-1)! - elapsed[0]) / (elapsed.length - 1)) * 1000; // steps 2..N
	const line = JSON.stringify({
		model: '6x768',
		method: 'lora',
		where: 'browser worker',
		backend,
		batch: '4 x golden-v2 traces',
		import_s: importS,
		ms_per_step: Math.round(perStep),
		steps
	});
	console.log(line);
	mkdirSync('artifacts/bench', { recursive: true });
	writeFileSync('artifacts/bench/finetune-browser.jsonl', line + '\n');
});
