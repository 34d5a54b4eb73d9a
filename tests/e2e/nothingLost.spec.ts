// Nothing lost (issue 17) in the built lab: damaged records render as damaged and can be deleted,
// unknown runs say Not found, a run that cannot start is refused before it exists, evaluating an
// unfinished run keeps it resumable, a follower tab learns when the training tab closes, and a
// run a tab trains cannot be deleted from another.
import { zipSync, strToU8 } from 'fflate';
import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures';
import { longerSmoke, smokeYaml, startRun, status, waitForStep } from './helpers';

test('a damaged stored record shows as damaged on every list and page, and can be deleted', async ({ page }) => {
	await startRun(page, smokeYaml.replace(/backend: \w+/, 'backend: wasm'));
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 120_000 });
	// a record as an old version or a bad import left it: no provenance, a string where a number goes
	await page.evaluate(
		() =>
			new Promise<void>((resolve, reject) => {
				const open = indexedDB.open('tunix-rt-lab');
				open.onsuccess = () => {
					const tx = open.result.transaction('runs', 'readwrite');
					const runs = tx.objectStore('runs');
					const all = runs.getAll();
					all.onsuccess = () => {
						const good = all.result[0];
						const bad = {
							...good,
							id: 'damaged-run',
							name: 'old import',
							summary: { ...good.summary, final_loss: 'x' }
						};
						delete bad.provenance;
						runs.put(bad);
					};
					tx.oncomplete = () => resolve();
					tx.onerror = () => reject(tx.error);
				};
			})
	);
	await page.goto('/');
	await expect(page.getByTestId('damaged-run')).toContainText('old import');
	await expect(page.getByRole('link', { name: 'ci-smoke' }).first()).toBeVisible(); // the sound run still lists
	await page.goto('/run/?id=damaged-run');
	await expect(page.getByTestId('damaged')).toContainText('damaged record');
	await expect(page.getByRole('alert')).toContainText('provenance: missing key');
	await page.goto('/runs');
	const row = page.getByTestId('damaged-run');
	await expect(row).toContainText('summary.final_loss: must be a number, got "x"');
	await row.getByRole('button', { name: 'Delete old import' }).click();
	await row.getByRole('button', { name: 'Delete for good' }).click();
	await expect(page.getByTestId('damaged-run')).toHaveCount(0);
	await expect(page.getByLabel(/^Name of run /)).toHaveValue('ci-smoke'); // the sound run is untouched
});

test('an unknown or missing run id says Not found, with a way back', async ({ page }) => {
	for (const url of ['/run/?id=no-such-run', '/run']) {
		await page.goto(url);
		await expect(page.getByTestId('not-found')).toHaveText('Run not found');
		await expect(page.getByRole('link', { name: 'See all runs' })).toBeVisible();
	}
});

test('a bundle whose run.json is damaged is refused with the reason, and nothing is stored', async ({ page }) => {
	await page.goto('/');
	const run = { id: 'x', name: 'x', status: 'bogus', config: {}, datasets: {}, summary: { final_loss: 'x' } };
	await page.getByTestId('import-bundle').setInputFiles({
		name: 'bad.zip',
		mimeType: 'application/zip',
		buffer: Buffer.from(zipSync({ 'r/run.json': strToU8(JSON.stringify(run)) }))
	});
	await expect(page.getByTestId('import-error')).toContainText(
		'bad.zip: r/run.json is not valid: status: must be one of'
	);
	// the same file chosen again is read again (the input was cleared)
	await page.getByTestId('import-bundle').setInputFiles({
		name: 'bad.zip',
		mimeType: 'application/zip',
		buffer: Buffer.from(zipSync({ 'r/run.json': strToU8('{') }))
	});
	await expect(page.getByTestId('import-error')).toContainText('bad.zip: r/run.json is not valid JSON');
	await expect(page.getByText('No runs yet.')).toBeVisible();
});

test('a trace longer than block_size is refused at Train, before a run exists', async ({ page }) => {
	await page.goto('/');
	await page.getByTestId('preset').selectOption('ci_smoke.yaml');
	await page.getByTestId('config-yaml').fill(smokeYaml.replace('block_size: 128', 'block_size: 16'));
	await page.getByTestId('train').click();
	await expect(page.getByRole('alert').first()).toContainText(/trace \d+ of golden-v2 is \d+ tokens long/);
	expect(new URL(page.url()).pathname).toBe('/');
	await page.goto('/runs');
	await expect(page.getByText('No runs yet.')).toBeVisible();
});

test('evaluating an interrupted run scores its checkpoints and keeps it resumable', async ({ page }) => {
	// with the lab's own resuming turned off, a reload leaves the run interrupted for the user
	await page.addInitScript(() => localStorage.setItem('tunix-rt-lab:auto-resume', 'off'));
	const id = await startRun(page, longerSmoke(60));
	await waitForStep(page, 12);
	await page.reload();
	await expect(status(page)).toHaveAttribute('data-status', 'interrupted');
	// one number per fact (issue 24 item 5): the step trained and the checkpoint saved, the same on every page
	const trained = Number(await page.getByTestId('step').textContent());
	const saved = Number(/Resume from step (\d+)/.exec((await page.getByTestId('resume').textContent())!)![1]);
	await expect(page.getByTestId('verdict')).toContainText(`Interrupted at step ${trained} of 60.`);
	if (trained > saved) {
		await expect(page.getByTestId('saved-at')).toHaveText(
			`Trained to step ${trained}; saved at step ${saved} (the newest checkpoint), where Resume continues.`
		);
		await expect(page.getByTestId('verdict')).toContainText(
			`Resume continues from the last checkpoint, step ${saved}: the ${trained - saved} steps since it are trained again.`
		);
	}
	await page.goto('/');
	await expect(page.getByRole('row', { name: /ci-smoke/ }).first()).toContainText(
		trained > saved ? `${trained} / 60 (saved at ${saved})` : `${trained} / 60`
	);
	await page.goBack();
	await page.getByTestId('reevaluate').click();
	await expect(page.getByRole('heading', { name: /^Evaluation \(step \d+/ })).toBeVisible({ timeout: 120_000 });
	await expect(status(page)).toHaveAttribute('data-status', 'interrupted');
	await expect(page.getByTestId('resume')).toBeVisible();
	await expect(page.getByTestId('verdict')).not.toContainText('Training completed');
	expect(id).toBeTruthy();
});

test('a follower tab sees the run interrupted when the training tab closes; a trained run is not deleted from another tab', async ({
	page,
	context
}) => {
	const id = await startRun(page, longerSmoke(400));
	await waitForStep(page, 3);
	const other = await context.newPage();
	await other.goto(`/run/?id=${encodeURIComponent(id)}`);
	await expect(other.getByTestId('elsewhere')).toBeVisible();
	// Delete from the other tab while this one trains: refused, and the run goes on
	await other.goto('/runs');
	await other.getByRole('button', { name: 'Delete ci-smoke' }).click();
	await other.getByRole('button', { name: 'Delete for good' }).click();
	await expect(other.getByRole('alert')).toContainText(/cancel the run|being trained or evaluated in a tab/);
	await other.goto(`/run/?id=${encodeURIComponent(id)}`);
	await expect(other.getByTestId('elsewhere')).toBeVisible();
	await page.close();
	// the follower finds the run cut off and resumes it by itself, saying so
	await expect(other.getByTestId('auto-resumed')).toBeVisible({ timeout: 30_000 });
	await expect(status(other)).toHaveAttribute('data-status', 'training');
	await other.getByTestId('cancel').click();
	await expect(status(other)).toHaveAttribute('data-status', 'cancelled');
	await expect(other.getByTestId('resume')).toBeVisible();
});

test('a bundle imported in two tabs at once is stored once, whole: its checkpoint downloads and no metric is doubled', async ({
	browser
}) => {
	const bundle = 'static/demo/golden-v2-full.zip';
	const runId = 'run-20261129-205412-ru4b';
	for (let round = 0; round < 2; round++) {
		const context = await browser.newContext(); // a fresh browser profile each round
		const [a, b] = [await context.newPage(), await context.newPage()];
		await Promise.all([a.goto('/'), b.goto('/')]);
		await Promise.all([a, b].map((p) => p.getByTestId('import-bundle').setInputFiles(bundle)));
		// one tab opens the stored run, the other says it is there already and stored nothing
		const outcome = async (p: typeof a) => {
			await expect
				.poll(async () => p.url().includes('/run/?id=') || (await p.getByTestId('import-error').count()) > 0)
				.toBe(true);
			return p.url().includes('/run/?id=') ? 'stored' : ((await p.getByTestId('import-error').textContent()) ?? '');
		};
		const results = await Promise.all([outcome(a), outcome(b)]);
		expect(results.filter((r) => r === 'stored')).toHaveLength(1);
		expect(results.find((r) => r !== 'stored')).toMatch(/already in this browser; nothing was imported/);
		const page = a.url().includes('/run/?id=') ? a : b;
		await page.goto(`/run/?id=${runId}`);
		const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('dl-checkpoint-2000').click()]);
		expect(readFileSync((await dl.path())!).length).toBe(1_350_000);
		const [metrics] = await Promise.all([page.waitForEvent('download'), page.getByTestId('dl-metrics').click()]);
		const lines = readFileSync((await metrics.path())!, 'utf8')
			.trim()
			.split('\n');
		const steps = lines
			.map((l) => JSON.parse(l))
			.filter((m) => m.split === undefined)
			.map((m) => m.step);
		expect(new Set(steps).size).toBe(steps.length);
		await page.goto('/runs/');
		await expect(page.getByRole('link', { name: /golden-v2/ }).first()).toBeVisible();
		await context.close();
	}
});
