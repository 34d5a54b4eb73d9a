// `npm run readme-image`: the README's picture, the documented full run (a CLI run directory,
// imported as a bundle) on its run page. Needs artifacts/checkpoints/golden-v2-run
// (docs/results/golden-v2-full-run.md says how to make it). Writes docs/images/run-completed.png.
import { expect, test } from '@playwright/test';
import { zipSync } from 'fflate';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const RUN_DIR = 'artifacts/checkpoints/golden-v2-run';

test('README screenshot of a completed full run', async ({ page }) => {
	if (!existsSync(join(RUN_DIR, 'run.json')))
		throw new Error(`${RUN_DIR} is missing: run the full training first (docs/results/golden-v2-full-run.md)`);
	const files: Record<string, Uint8Array> = {};
	for (const f of readdirSync(RUN_DIR)) files[`golden-v2-run/${f}`] = new Uint8Array(readFileSync(join(RUN_DIR, f)));
	await page.setViewportSize({ width: 1280, height: 1500 });
	await page.goto('/');
	await page
		.getByTestId('import-bundle')
		.setInputFiles({ name: 'golden-v2-run.zip', mimeType: 'application/zip', buffer: Buffer.from(zipSync(files)) });
	await page.waitForURL(/\/run\/\?id=/);
	await expect(page.locator('h1 [data-status]')).toHaveAttribute('data-status', 'completed');
	await expect(page.getByTestId('verdict')).toBeVisible();
	await page.waitForTimeout(1000); // charts settle
	mkdirSync('docs/images', { recursive: true });
	await page.screenshot({ path: 'docs/images/run-completed.png' });
});
