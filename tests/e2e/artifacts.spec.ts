import { expect, test } from './fixtures';
import { zipSync } from 'fflate';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cliRun, download, smokeYaml, status } from './helpers';

test('a zipped CLI run directory imports as a run, and exports byte-for-byte the same files', async ({ page }) => {
	const dir = await cliRun(smokeYaml.replace(/backend: \w+/, 'backend: cpu'));
	const files: Record<string, Uint8Array> = {};
	for (const f of readdirSync(dir)) files[`${basename(dir)}/${f}`] = new Uint8Array(readFileSync(join(dir, f)));
	await page.goto('/');
	await page
		.getByTestId('import-bundle')
		.setInputFiles({ name: 'cli-run.zip', mimeType: 'application/zip', buffer: Buffer.from(zipSync(files)) });
	await page.waitForURL(/\/run\/\?id=/);
	await expect(status(page)).toHaveAttribute('data-status', 'completed');
	expect((await download(page, 'dl-metrics')).equals(readFileSync(join(dir, 'metrics.jsonl')))).toBe(true);
	expect((await download(page, 'dl-eval')).equals(readFileSync(join(dir, 'eval.json')))).toBe(true);
	expect(
		(await download(page, 'dl-checkpoint-8')).equals(readFileSync(join(dir, 'checkpoint-step8.safetensors')))
	).toBe(true);
	const run = JSON.parse((await download(page, 'dl-run')).toString('utf8'));
	const cli = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
	expect(run.id).toBe(cli.id);
	expect(run.summary).toEqual(cli.summary);
	expect(run.provenance).toEqual(cli.provenance);
});

test('an invalid bundle is refused with a reason and stores nothing', async ({ page }) => {
	await page.goto('/');
	await page.getByTestId('import-bundle').setInputFiles({
		name: 'notes.zip',
		mimeType: 'application/zip',
		buffer: Buffer.from(zipSync({ 'notes.txt': new TextEncoder().encode('hi') }))
	});
	await expect(page.getByTestId('import-error')).toHaveText(
		'notes.zip: no run.json inside: a run bundle holds run.json, metrics.jsonl and checkpoints'
	);
	await page
		.getByTestId('import-bundle')
		.setInputFiles({ name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
	await expect(page.getByTestId('import-error')).toContainText('broken.zip: not a zip file');
	await expect(page.getByText('No runs yet.')).toBeVisible();
});
