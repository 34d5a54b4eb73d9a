import { expect, test } from '@playwright/test';
import { trainSmokeOnWasm } from '../e2e/helpers';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SIZES = [
	{ name: 'desktop', width: 1280, height: 800 },
	{ name: 'phone', width: 390, height: 844 }
];

test('screenshots of every page at both sizes', async ({ page }) => {
	mkdirSync('screenshots', { recursive: true });
	// one completed run (wasm, seconds) and one imported dataset give every page real content
	await trainSmokeOnWasm(page, 1234);
	const runUrl = new URL(page.url()).pathname + new URL(page.url()).search;
	await trainSmokeOnWasm(page, 7);
	// an imported GPT-2 (random weights, the real vocabulary) for the Models page and the LoRA preset
	const model = join(mkdtempSync(join(tmpdir(), 'tunix-screens-')), 'tiny-gpt2');
	spawnSync('node', ['scripts/run-ts.mjs', 'scripts/make-gpt2.ts', '--out', model]);
	await page.goto('/models/');
	await page
		.getByTestId('model-files')
		.setInputFiles(['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => join(model, f)));
	await expect(page.getByTestId('model-row')).toContainText('gpt2-2x64');
	// a stored experiment and a long run (the demo bundles, imported: 9 runs in all) and an imported dataset
	for (const bundle of ['static/demo/reasoning-trace-ablation.zip', 'static/demo/golden-v2-full.zip']) {
		await page.goto('/');
		await page.getByTestId('import-bundle').setInputFiles(bundle);
		await page.waitForURL(/\/(run|experiment)\/\?id=/);
	}
	await page.goto('/datasets/');
	await page.getByTestId('dataset-import').setInputFiles({
		name: 'my-traces.jsonl',
		mimeType: 'application/x-ndjson',
		buffer: Buffer.from(
			[1, 2, 3]
				.map((i) =>
					JSON.stringify({
						prompt: `What is ${i} + ${i}?`,
						steps: [{ i: 0, type: 'calc', content: `${i} + ${i} = ${2 * i}` }],
						final_answer: String(2 * i)
					})
				)
				.join('\n')
		)
	});
	await expect(page.getByTestId('manifest')).toContainText('3');

	const pages: [string, string, (() => Promise<void>)?][] = [
		['lab', '/'],
		['run', runUrl],
		['runs', '/runs/'],
		[
			'compare',
			'/compare/',
			async () => {
				await page.getByTestId('compare-pick').nth(0).check();
				await page.getByTestId('compare-pick').nth(1).check();
			}
		],
		['datasets', '/datasets/'],
		['models', '/models/'],
		['lab-lora', '/?model=gpt2-2x64'], // named after its shape (no name typed)
		// the shipped demo bundles, read-only: an experiment with bands and a finished long run
		['experiment', '/experiment/?bundle=demo%2Freasoning-trace-ablation.zip'],
		['demo-run', '/run/?bundle=demo%2Fgolden-v2-full.zip'],
		[
			'playground',
			'/playground/',
			async () => {
				await page.getByTestId('pg-generate').click();
				await expect(page.getByTestId('pg-result')).toBeVisible();
			}
		]
	];
	const widths: string[] = [];
	for (const size of SIZES) {
		await page.setViewportSize({ width: size.width, height: size.height });
		for (const [name, url, prepare] of pages) {
			await page.goto(url);
			await page.waitForLoadState('networkidle');
			await prepare?.();
			await page.waitForTimeout(300);
			await page.screenshot({ path: `screenshots/${name}-${size.name}.png`, fullPage: true });
			// nothing wider than the window: the page never scrolls sideways (tables scroll in their box)
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
			widths.push(`${name}-${size.name}: ${overflow > 0 ? `${overflow} px too wide` : 'fits'}`);
		}
	}
	console.log(widths.join('\n'));
	expect(widths.filter((w) => w.includes('too wide'))).toEqual([]);
});
