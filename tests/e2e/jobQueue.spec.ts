// The worker's job queue (src/lib/worker/jobQueue.ts): a Playground generation on another backend
// never switches tfjs's backend under a running job. Run B trains on cpu while the Playground (same
// page, so the same worker) generates from run A on wasm; B's losses must be the cpu CLI's, and the
// trainer fails a step whose backend changed (Trainer.assertSameBackend), so a switch cannot pass.
import { parseMetricsJsonl } from '../../src/lib/core/run/runFiles';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { cliRun, download, longerSmoke, smokeYaml, startRun, status, waitForStep } from './helpers';

test('a generation on wasm waits for a run on cpu; one on the held backend joins it; the run trains the cpu losses', async ({
	page
}) => {
	test.setTimeout(360_000);
	const errors: string[] = [];
	page.on('pageerror', (e) => errors.push(e.message));
	const runA = await startRun(page, smokeYaml.replace(/backend: \w+/, 'backend: wasm'));
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 120_000 });

	// long enough on cpu that the Playground meets it training
	const yamlB = longerSmoke(80)
		.replace(/every_steps: \d+/, 'every_steps: 40')
		.replace(/keep_last: \d+/, 'keep_last: 2')
		.replace(/every_checkpoints: \d+/, 'every_checkpoints: 2')
		.replace(/max_items: \d+/, 'max_items: 1');
	const reference = cliRun(yamlB); // the cpu CLI's run of B, beside the browser's
	const runB = await startRun(page, yamlB);
	await waitForStep(page, 2);

	// client-side navigation keeps the page's worker, so both jobs meet in one queue
	await page.getByRole('link', { name: 'Playground', exact: true }).click();
	await page.getByTestId('pg-run').selectOption(runA);
	await page.getByTestId('pg-prompt').fill('What is 2 + 3?');

	// the default joins the backend the run holds
	await page.getByTestId('pg-generate').click();
	await expect(page.getByTestId('pg-result-backend')).toHaveText('cpu', { timeout: 60_000 });

	// wasm waits until run B has finished, then runs on wasm
	await page.getByTestId('pg-backend').selectOption('wasm');
	await page.getByTestId('pg-generate').click();
	await expect(page.getByTestId('pg-result-backend')).toHaveText('wasm', { timeout: 300_000 });

	await page.getByRole('link', { name: 'Runs' }).click();
	await page.locator(`a[href*="${runB}"]`).first().click();
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
	const got = parseMetricsJsonl((await download(page, 'dl-metrics')).toString('utf8')).training;
	const ref = parseMetricsJsonl(readFileSync(join(await reference, 'metrics.jsonl'), 'utf8')).training;
	expect(got.map((m) => m.step)).toEqual(ref.map((m) => m.step));
	got.forEach((m, i) => {
		const [a, b] = [m.loss as number, ref[i].loss as number];
		expect(Math.abs(a - b) / b, `step ${m.step}: ${a} vs cpu ${b}`).toBeLessThan(1e-3);
	});
	expect(errors).toEqual([]);
});
