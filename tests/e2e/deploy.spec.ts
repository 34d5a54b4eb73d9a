// The static deployment: under a sub-path on a plain static server (no special headers, 404.html
// fallback, like GitHub Pages), offline after one visit (service worker), and cross-origin
// isolation for wasm threads (from headers, or from the service worker where a host sends none).
import type { Page } from '@playwright/test';
import type { Server } from 'node:http';
import { serveStatic } from '../../scripts/static-server.mjs';
import { expect, test } from './fixtures';
import { status, trainSmokeOnWasm } from './helpers';

/** The static site built with BASE_PATH=/lab (playwright.config.ts builds and serves it). */
const LAB = `http://localhost:${Number(process.env.E2E_PORT ?? 4173) + 1}/lab`;

async function serviceWorkerInControl(page: Page) {
	await page.waitForFunction(async () => {
		await navigator.serviceWorker.ready;
		return navigator.serviceWorker.controller !== null;
	});
}

test('under a sub-path on a plain static server: trains, and deep links survive a reload', async ({ page }) => {
	await trainSmokeOnWasm(page, 1234, LAB);
	expect(new URL(page.url()).pathname).toBe('/lab/run/');
	await page.reload();
	await expect(status(page)).toHaveAttribute('data-status', 'completed');
	await expect(page.getByTestId('verdict')).toBeVisible();
	// a route opened directly, and one that does not exist (the 404.html fallback boots the app)
	await page.goto(`${LAB}/runs`);
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Runs');
	const missing = await page.goto(`${LAB}/no-such-page`);
	expect(missing?.status()).toBe(404);
	await expect(page.getByRole('link', { name: 'Lab' }).first()).toHaveAttribute('href', /^\/lab\/?$/);
});

test('works offline after one visit: loads and trains with the server gone and the network off', async ({
	page,
	context
}) => {
	let server: Server | null = await serveStatic({ port: 4179, base: '/', dir: 'build' });
	try {
		await page.goto('http://localhost:4179/');
		await expect(page.getByTestId('backend-report')).toContainText('Cross-origin isolated');
		await serviceWorkerInControl(page);
		await new Promise((r) => server!.close(r));
		server = null;
		// only the service worker's cache may serve now, not the browser's HTTP cache
		const cdp = await context.newCDPSession(page);
		await cdp.send('Network.clearBrowserCache');
		await context.setOffline(true);
		await trainSmokeOnWasm(page, 1234, 'http://localhost:4179');
		await expect(page.getByTestId('provenance-backend')).toHaveText('wasm'); // wasm started offline, no fallback
		await page.reload();
		await expect(status(page)).toHaveAttribute('data-status', 'completed');
	} finally {
		await context.setOffline(false);
		server?.close();
	}
});

test('reports cross-origin isolation and the wasm kernels’ threads; the service worker isolates a header-less host', async ({
	page
}) => {
	await page.goto(`${LAB}/`);
	await page.getByTestId('backend').selectOption('wasm');
	await expect(page.getByTestId('isolation')).toContainText('Cross-origin isolated: no; wasm kernel threads: 1');
	await serviceWorkerInControl(page);
	await page.reload();
	await page.getByTestId('backend').selectOption('wasm');
	await expect(page.getByTestId('isolation')).toContainText(/Cross-origin isolated: yes; wasm kernel threads: [1-9]/);
	expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
});

test('deep links load from a plain file server (python3 -m http.server), after a reload too', async ({ page }) => {
	const { spawn } = await import('node:child_process');
	const server = spawn('python3', ['-m', 'http.server', '4181', '--bind', '127.0.0.1', '--directory', 'build'], {
		stdio: 'ignore'
	});
	try {
		const base = 'http://127.0.0.1:4181';
		await expect
			.poll(async () => (await fetch(`${base}/`).catch(() => null))?.status ?? 0, { timeout: 20_000 })
			.toBe(200);
		for (const [url, heading] of [
			[`${base}/run/?id=no-such-run`, 'Run not found'],
			[`${base}/run?id=no-such-run`, 'Run not found'], // the server redirects the folder to run/
			[`${base}/runs/`, 'Runs'],
			[`${base}/datasets/`, 'Datasets']
		]) {
			const response = await page.goto(url);
			expect(response?.status(), url).toBe(200);
			await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
			await page.reload();
			await expect(page.getByRole('heading', { level: 1 })).toHaveText(heading);
		}
	} finally {
		server.kill();
	}
});
