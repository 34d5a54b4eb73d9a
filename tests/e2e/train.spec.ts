import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

async function startSmoke(page: Page, backend: string) {
	await page.goto('/');
	await page.getByTestId('preset').selectOption('ci_smoke.yaml');
	await page.getByTestId('backend').selectOption(backend);
	await page.getByTestId('train').click();
	await page.waitForURL(/\/run\?id=/);
}

for (const backend of ['webgpu', 'wasm']) {
	test(`ci_smoke trains to completion from the page on ${backend}`, async ({ page }) => {
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		// main-thread long tasks while training (reported, not asserted: timing is not a pass/fail matter)
		await page.addInitScript(() => {
			const w = window as unknown as { __longTasks: number[] };
			w.__longTasks = [];
			new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__longTasks.push(e.duration))).observe({
				type: 'longtask',
				buffered: true
			});
		});
		await startSmoke(page, backend);
		await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'completed', {
			timeout: 200_000
		});
		await expect(page.getByTestId('provenance-backend')).toHaveText(backend);
		await expect(page.getByTestId('step')).toHaveText('8');
		expect(errors).toEqual([]);
		const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
		console.log(
			`${backend}: main-thread long tasks during the run: ${longTasks.length}, longest ${Math.round(Math.max(0, ...longTasks))} ms`
		);
	});
}
