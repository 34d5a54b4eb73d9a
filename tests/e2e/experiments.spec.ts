// Experiments in the browser (issue 15): a 2×2 sweep queued from the lab page runs to completion
// across a reload mid-sweep; the Experiment page's arm table matches `npm run sweep` on the same
// grid; the metrics CSV parses back with a standard parser; the experiment bundle imports into a
// fresh profile; a comparison lives in its URL; bundles open read-only from a URL, also offline
// in the static build, and another site's URL is refused with what to do instead.
import type { Page } from '@playwright/test';
import { parse as parseCsv } from 'csv-parse/sync';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic } from '../../scripts/static-server.mjs';
import { expect, test } from './fixtures';
import { cli, download, longerSmoke } from './helpers';

const BASE = longerSmoke(30); // cpu, 30 steps, a checkpoint every 5
const GRID = { lr: ['0.01', '0.003'], seed: ['1', '2'] };

/** On the lab page: the smoke preset with `yaml`, and the sweep box filled with `grid`. */
async function fillSweep(page: Page, yaml: string, grid: string): Promise<void> {
	await page.goto('/');
	await page.getByTestId('preset').selectOption('ci_smoke.yaml');
	await page.getByTestId('config-yaml').fill(yaml);
	await page.getByText('Sweep: train this config over a grid').click();
	await page.getByTestId('sweep-grid').fill(grid);
}

/** Queues the filled sweep and lands on its Experiment page. */
async function queueSweep(page: Page): Promise<void> {
	await page.getByTestId('queue-sweep').click();
	await page.waitForURL(/\/experiment\/\?id=/);
}

/** The arm table as text: arm → score → cell ("mean [low, high]"), and n. */
async function armTable(page: Page): Promise<Map<string, { n: string; cells: Map<string, string> }>> {
	const out = new Map<string, { n: string; cells: Map<string, string> }>();
	for (const head of await page.getByTestId('arm-head').all())
		out.set((await head.textContent())!.trim(), { n: '', cells: new Map() });
	for (const cell of await page.getByTestId('arm-n').all())
		out.get((await cell.getAttribute('data-arm'))!)!.n = (await cell.textContent())!.trim();
	for (const cell of await page.getByTestId('arm-score').all())
		out
			.get((await cell.getAttribute('data-arm'))!)!
			.cells.set((await cell.getAttribute('data-score'))!, (await cell.textContent())!.trim());
	return out;
}

/** `npm run sweep` on the same base config and grid (cpu); its summary.csv rows by arm and score. */
async function cliSweep(): Promise<Map<string, { mean: number; low: number | null; high: number | null; n: number }>> {
	const dir = mkdtempSync(join(tmpdir(), 'tunix-sweep-'));
	writeFileSync(join(dir, 'base.yaml'), BASE);
	await cli('sweep', [
		'--config',
		join(dir, 'base.yaml'),
		'--grid',
		`train.lr=${GRID.lr.join(',')}`,
		'--grid',
		`run.seed=${GRID.seed.join(',')}`,
		'--out',
		join(dir, 'out'),
		'--backend',
		'cpu'
	]);
	const rows = parseCsv(readFileSync(join(dir, 'out', 'summary.csv')), { columns: true }) as Record<string, string>[];
	const num = (s: string) => (s === '' ? null : Number(s));
	return new Map(
		rows.map((row) => [
			`${row.arm} | ${row.score}`,
			{ mean: Number(row.mean), low: num(row.ci95_low), high: num(row.ci95_high), n: Number(row.n) }
		])
	);
}

/** "0.1234 [0.1, 0.2]" → numbers. */
function cellNumbers(cell: string): number[] {
	return [...cell.matchAll(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g)].map((m) => Number(m[0]));
}

test('a 2×2 sweep runs across a reload, matches the CLI sweep, exports CSV and a bundle that imports back', async ({
	page,
	browser
}) => {
	test.setTimeout(600_000);
	const reference = cliSweep(); // the CLI's sweep of the same grid, beside the browser's
	await fillSweep(page, BASE, `train.lr = ${GRID.lr.join(', ')}\nrun.seed = ${GRID.seed.join(', ')}`);
	await page.getByTestId('sweep-name').fill('lr × seed');
	await expect(page.getByTestId('sweep-estimate')).toContainText('4 runs in 2 arms');
	await expect(page.getByTestId('sweep-estimate')).toContainText('on cpu');
	await queueSweep(page);
	const rows = page.getByTestId('queue-row');
	await expect(rows).toHaveCount(4);

	// reload while the second run trains: the queue resumes it and goes on
	await expect(rows.nth(1)).toHaveAttribute('data-status', 'training', { timeout: 120_000 });
	await expect(rows.nth(0)).toHaveAttribute('data-status', 'completed');
	await page.reload();
	await expect(page.getByTestId('experiment-state')).toHaveText('finished', { timeout: 400_000 });
	for (const row of await rows.all()) await expect(row).toHaveAttribute('data-status', 'completed');

	// the arm table equals the CLI's summary of the same grid (browser and Node, both cpu)
	const table = await armTable(page);
	const cli = await reference;
	expect([...table.keys()]).toEqual([`train.lr=${GRID.lr[0]}`, `train.lr=${GRID.lr[1]}`]);
	let compared = 0;
	for (const [arm, { n, cells }] of table) {
		expect(n).toBe('2 / 2');
		for (const [score, cell] of cells) {
			const c = cli.get(`${arm} | ${score}`);
			expect(c, `${arm} ${score} in the CLI summary`).toBeDefined();
			const expected = [c!.mean, ...(c!.low !== null ? [c!.low, c!.high!] : [])];
			// shares in percent with one decimal, losses to three significant digits; the best arm starred
			const share = cell.includes('%');
			const shown = cellNumbers(cell.replace('★', '')).map((x) => (share ? x / 100 : x));
			expect(shown).toHaveLength(expected.length);
			shown.forEach((x, i) =>
				expect(Math.abs(x - expected[i]), `${arm} ${score}`).toBeLessThanOrEqual(
					share ? 0.0006 : Math.abs(expected[i]) * 0.006
				)
			);
			compared += 1;
		}
	}
	expect(compared).toBeGreaterThanOrEqual(6); // loss, accuracy and format rate per arm, with intervals
	// the bands: one mean line per arm and its two edges in the chart's CSV
	await expect(page.getByRole('img', { name: 'Training loss by arm chart' })).toBeVisible();
	await page.getByTestId('band-kind').selectOption('minmax');

	// the metrics table: one row per (run, step), config keys as columns
	const csv = parseCsv(await download(page, 'export-csv'), { columns: true }) as Record<string, string>[];
	expect(csv).toHaveLength(4 * 31); // steps 0 (the untrained evaluation) to 30, four runs
	expect(new Set(csv.map((r) => `${r.run_id}:${r.step}`)).size).toBe(csv.length);
	expect(new Set(csv.map((r) => `${r.arm}|${r['train.lr']}|${r['run.seed']}`))).toEqual(
		new Set(GRID.lr.flatMap((lr) => GRID.seed.map((s) => `train.lr=${lr}|${lr}|${s}`)))
	);
	expect(csv.every((r) => r['model.n_embd'] === '16' && r.experiment === 'lr × seed')).toBe(true);
	expect(csv.filter((r) => r.loss !== '').length).toBe(4 * 30);

	// a comparison of two of its runs, shared as a link
	const runIds = [...new Set(csv.map((r) => r.run_id))];
	await page.goto(`/compare/?runs=${runIds[0]},${runIds[2]}`);
	await expect(page.getByRole('img', { name: 'Training loss chart' })).toBeVisible();
	await expect(page.getByTestId('config-diff')).toContainText('train.lr');
	await expect(page.locator('[data-testid=compare-pick]:checked')).toHaveCount(2);
	await page.locator('[data-testid=compare-pick]:not(:checked)').first().check();
	await expect.poll(() => new URL(page.url()).searchParams.get('runs')?.split(',').length).toBe(3);
	// any metric overlays, evaluations included, and the choice is part of the link (issue 24 item 8)
	await expect(page.getByTestId('compare-smoothing')).toBeVisible();
	await page.getByTestId('compare-metric').selectOption('golden-v2-heldout:answer_accuracy');
	await expect(page.getByRole('img', { name: 'golden-v2-heldout · answer accuracy chart' })).toBeVisible();
	await expect(page.getByTestId('compare-smoothing')).toHaveCount(0);
	await expect.poll(() => new URL(page.url()).searchParams.get('metric')).toBe('golden-v2-heldout:answer_accuracy');
	await page.getByTestId('compare-metric').selectOption('grad_norm');
	await expect(page.getByRole('img', { name: 'Gradient norm chart' })).toBeVisible();

	// the experiment bundle imports into a fresh profile and shows the same table
	await page.goto('/runs/');
	// the Runs page and the lab page say what the Experiment page says: finished (issue 24 item 2)
	await expect(page.getByTestId('experiments').locator('li').first()).toContainText(
		'4 runs · train.lr × run.seed · finished'
	);
	await page.goto('/');
	await expect(page.getByTestId('lab-experiments')).toContainText('(4 runs, finished)');
	await page.goto('/runs/');
	await page.getByTestId('experiments').getByRole('link').first().click();
	const zip = await download(page, 'export-bundle');
	const fresh = await browser.newContext();
	try {
		const other = await fresh.newPage();
		await other.goto('/');
		await other
			.getByTestId('import-bundle')
			.setInputFiles({ name: 'sweep.zip', mimeType: 'application/zip', buffer: zip });
		await other.waitForURL(/\/experiment\/\?id=/);
		await expect(other.getByTestId('arm-head')).toHaveCount(2);
		expect(await armTable(other)).toEqual(table);
		await expect(other.getByTestId('experiment-state')).toHaveText('finished');
	} finally {
		await fresh.close();
	}
});

test('bundles open read-only from a URL in a fresh profile, and the static build shows the demo runs offline', async ({
	browser
}) => {
	let server: Server | null = await serveStatic({ port: 4182, base: '/', dir: 'build' });
	const context = await browser.newContext();
	try {
		const page = await context.newPage();
		await page.goto('http://localhost:4182/runs/');
		await expect(page.getByTestId('demo-bundles').getByRole('link')).toHaveCount(2);
		await page.waitForFunction(async () => {
			await navigator.serviceWorker.ready;
			return navigator.serviceWorker.controller !== null;
		});
		// offline, with the server gone: the demo runs still open (the service worker cached them)
		await new Promise((resolve) => server!.close(resolve));
		server = null;
		await context.setOffline(true);

		await page.getByTestId('demo-bundles').getByRole('link', { name: 'Full run on golden-v2' }).click();
		await expect(page.getByTestId('read-only')).toBeVisible();
		await expect(page.getByRole('heading', { level: 1 })).toContainText('golden-v2-full');
		await expect(page.getByTestId('verdict')).toBeVisible();
		await expect(page.getByTestId('step')).toHaveText('2000');
		await expect(page.getByTestId('resume')).toHaveCount(0);
		await expect(page.getByTestId('dl-bundle')).toBeHidden();

		await page.goto('http://localhost:4182/experiment/?bundle=demo%2Freasoning-trace-ablation.zip');
		await expect(page.getByTestId('read-only')).toBeVisible();
		await expect(page.getByTestId('arm-head')).toHaveCount(2);
		for (const n of await page.getByTestId('arm-n').all()) await expect(n).toHaveText('3 / 3');
		// arms on different datasets compared by role on one row, in percent, the best starred (issue 24 item 9)
		const heldOut = page.locator(
			'[data-testid=arm-score][data-score="add3-steps-heldout / add3-no-steps-heldout accuracy"]'
		);
		await expect(heldOut).toHaveText([/^100\.0% \[100\.0–100\.0%\]\s*★$/, /^\d+\.\d% \[[\d.]+–[\d.]+%\]$/]);
		await expect(page.getByTestId('band-kind').locator('option').first()).toHaveText(
			'95% interval (min–max below 3 runs) across runs'
		);
		await expect(page.getByTestId('queue-row')).toHaveCount(6);
		// a run of the experiment bundle opens read-only too
		await page.getByTestId('queue-row').first().getByRole('link').click();
		await expect(page.getByTestId('read-only')).toBeVisible();
		await expect(page.getByRole('heading', { level: 1 })).toContainText('add3-steps');

		// nothing was stored in this profile
		await page.goto('http://localhost:4182/runs/');
		await expect(page.getByText('No runs yet')).toBeVisible();

		// another site's URL is refused by the page (the CSP would block it), saying what to do
		await page.goto('http://localhost:4182/run/?bundle=https%3A%2F%2Fexample.com%2Frun.zip');
		await expect(page.getByTestId('bundle-error')).toBeVisible();
		await expect(page.getByRole('alert')).toContainText('Download the bundle and import it');
	} finally {
		await context.close();
		await new Promise((resolve) => (server ? server.close(resolve) : resolve(null)));
	}
});

test('the queue pauses (the run stops at a checkpoint), reorders, continues and cancels the rest', async ({ page }) => {
	test.setTimeout(600_000);
	await fillSweep(page, longerSmoke(100), 'run.seed = 1, 2, 3');
	await queueSweep(page);
	const rows = page.getByTestId('queue-row');
	await expect(rows.nth(0)).toHaveAttribute('data-status', 'training', { timeout: 120_000 });

	await page.getByTestId('pause').click();
	await expect(page.getByTestId('experiment-state')).toHaveText('paused');
	await expect(rows.nth(0)).toHaveAttribute('data-status', 'paused');
	await expect(rows.nth(0)).toContainText(
		/Paused \(stopped at step \d+; continues from its last checkpoint with the queue\)/
	);
	await expect(rows.nth(1)).toHaveAttribute('data-status', 'queued');

	await page.getByRole('button', { name: 'Move run.seed=3 up' }).click();
	await expect(rows.nth(1)).toContainText('run.seed=3');

	await page.getByTestId('continue').click();
	await expect(rows.nth(0)).toHaveAttribute('data-status', 'completed', { timeout: 300_000 });
	await expect(rows.nth(1)).toHaveAttribute('data-status', /training|evaluating/, { timeout: 120_000 });
	await expect(rows.nth(1)).toContainText('run.seed=3'); // the new order held
	await page.getByTestId('cancel-experiment').click();
	await expect(rows.nth(1)).toHaveAttribute('data-status', 'cancelled');
	await expect(rows.nth(2)).toHaveAttribute('data-status', 'skipped');
	await expect(page.getByTestId('experiment-state')).toHaveText('finished');

	// the paused run resumed from its checkpoint and ran to its last step
	await rows.nth(0).getByRole('link').click();
	await expect(page.getByTestId('step')).toHaveText('100');
	await expect(page.locator('h1 [data-status]')).toHaveAttribute('data-status', 'completed');
});

test('a closed tab hands the queue to another open tab, which resumes the cut-off run', async ({ page, context }) => {
	test.setTimeout(600_000);
	await fillSweep(page, longerSmoke(60), 'run.seed = 1, 2');
	await queueSweep(page);
	const url = page.url();
	await expect(page.getByTestId('queue-row').nth(0)).toHaveAttribute('data-status', 'training', { timeout: 120_000 });

	// a second tab, open while the first drives: its worker waits for the queue's lock
	const other = await context.newPage();
	await other.goto(url);
	await expect(other.getByTestId('queue-row').nth(0)).toHaveAttribute('data-status', 'training');
	await page.close();
	const rows = other.getByTestId('queue-row');
	await expect(other.getByTestId('experiment-state')).toHaveText('finished', { timeout: 400_000 });
	for (const row of await rows.all()) await expect(row).toHaveAttribute('data-status', 'completed');
	await rows.nth(0).getByRole('link').click();
	await expect(other.getByTestId('step')).toHaveText('60');
});
