import { readFileSync } from 'node:fs';
import { BUILT_IN_DATASET_KEYS } from '../../src/lib/core/data/registry';
import { expect, test } from './fixtures';
import { download, status, trainSmokeOnWasm } from './helpers';

test('a newcomer trains, reads the verdict, downloads eval.json and a checkpoint, and compares two runs', async ({
	page
}) => {
	const errors: string[] = [];
	page.on('pageerror', (e) => errors.push(e.message));
	await page.goto('/');
	await expect(page).toHaveTitle('Lab · Tunix RT Lab');
	await page.getByTestId('preset').selectOption('ci_smoke.yaml');
	await page.getByTestId('backend').selectOption('wasm');
	await expect(page.getByTestId('no-webgpu')).toBeHidden();
	await page.getByTestId('train').click();
	await page.waitForURL(/\/run\/\?id=/);

	// the live chart draws (uPlot canvases) and the verdict says it trained, with numbers
	await expect(page.getByTestId('charts').locator('canvas').first()).toBeVisible();
	await expect(status(page)).toHaveAttribute('data-status', 'completed');
	const verdict = page.getByTestId('verdict');
	// one line first: what it learned, each score against the model before training
	await expect(verdict.locator('.headline')).toContainText(
		/(Learned the training set|Answers \d+% of the training set|Does not answer the training set yet).*; golden-v2-heldout \d+%/
	);
	await expect(verdict).toContainText(
		/Training loss \(mean of the first and of the last \d+ steps\) fell \d+%: [\d.]+ → [\d.]+\./
	);
	await expect(verdict).toContainText(/Training set \(golden-v2\): \d+ of 4 right, 95% CI \d+%–\d+%\./);
	await expect(verdict).toContainText(/golden-v2-heldout \(not trained on\): \d+ of 4 right/);
	await expect(page.getByTestId('eval-table')).toContainText('golden-v2 · math_gen');

	const evalJson = JSON.parse((await download(page, 'dl-eval')).toString('utf8'));
	expect(Object.keys(evalJson).sort()).toEqual(['baseline', 'datasets', 'history', 'judge', 'run_id', 'step']);
	expect(evalJson.judge).toBe('answer_correctness@v1');
	expect(evalJson.step).toBe(8);
	expect(evalJson.datasets['golden-v2'].items[0]).toHaveProperty('generated');
	expect(evalJson.history.map((h: { step: number }) => h.step)).toEqual([0, 4, 8]);
	const ck = await download(page, 'dl-checkpoint-8');
	const n = Number(ck.readBigUInt64LE(0));
	const header = JSON.parse(ck.subarray(8, 8 + n).toString('utf8'));
	expect(header.__metadata__.format).toBe('tunix-rt-lab/checkpoint');
	expect(header['transformer.wte.weight'].dtype).toBe('F32');
	expect(8 + n + header['transformer.ln_f.bias'].data_offsets[1]).toBeLessThanOrEqual(ck.length);

	// a second run with another seed, then compare
	await trainSmokeOnWasm(page, 7);
	await page.getByRole('link', { name: 'Compare', exact: true }).click();
	await expect(page).toHaveTitle('Compare runs · Tunix RT Lab');
	const picks = page.getByTestId('compare-pick');
	await picks.nth(0).check();
	await picks.nth(1).check();
	await expect(page.getByTestId('config-diff')).toContainText('run.seed');
	await expect(page.getByTestId('compare-scores').locator('tbody tr')).toHaveCount(2);
	await expect(page.locator('canvas').first()).toBeVisible();
	expect(errors).toEqual([]);
});

test('config errors show at line:col and block Train', async ({ page }) => {
	await page.goto('/');
	await page.getByTestId('config-yaml').fill('run:\n  name: x\n  seed: -1\n  colour: red\n');
	await expect(page.getByTestId('config-errors')).toContainText(
		'ci_smoke.yaml:3:9: run.seed: must be in 0..4294967295, got -1'
	);
	await expect(page.getByTestId('config-errors')).toContainText('ci_smoke.yaml:4:3: run.colour: unknown key');
	await expect(page.getByTestId('train')).toBeDisabled();
});

test('importing an invalid JSONL lists line-numbered errors and stores nothing; trace text renders as text', async ({
	page
}) => {
	let dialogs = 0;
	page.on('dialog', (d) => (dialogs++, d.dismiss()));
	await page.goto('/datasets');
	const good = {
		prompt: '<img src=x onerror=alert(1)>',
		steps: [{ i: 0, type: 'x', content: '<script>alert(2)</script>' }],
		final_answer: '<b>bold</b>'
	};
	await page.getByTestId('dataset-import').setInputFiles({
		name: 'bad.jsonl',
		mimeType: 'application/x-ndjson',
		buffer: Buffer.from([JSON.stringify(good), '{"prompt": 1}', JSON.stringify({ ...good, steps: [] })].join('\n'))
	});
	const problems = page.getByTestId('import-problems');
	await expect(problems).toContainText('Nothing was imported');
	await expect(problems).toContainText('line 2: prompt: must be a string');
	await expect(problems).toContainText('line 3: steps: has 0 steps, must have 1..1000');
	// nothing imported: the built-in datasets only
	await expect(page.getByTestId('dataset-pick').locator('option')).toHaveCount(BUILT_IN_DATASET_KEYS.length);

	await page.getByTestId('dataset-import').setInputFiles({
		name: 'xss.jsonl',
		mimeType: 'application/x-ndjson',
		buffer: Buffer.from(JSON.stringify(good) + '\n')
	});
	await expect(page.getByTestId('manifest')).toContainText(/^1\s+trace · sha256/); // one trace, not "1 traces"
	const traces = page.getByTestId('traces');
	await expect(traces).toContainText('<img src=x onerror=alert(1)>');
	await expect(traces).toContainText('<script>alert(2)</script>');
	await expect(traces.locator('img, script')).toHaveCount(0);
	expect(dialogs).toBe(0);
});

test('the Datasets page shows the trace format, imports the valid lines of a file on request, renames and deletes', async ({
	page
}) => {
	page.on('dialog', (d) => d.accept());
	await page.goto('/datasets');
	await page.getByText('The trace format (JSONL: one trace per line)').click();
	await expect(page.getByTestId('trace-example')).toContainText('"final_answer":');
	const good = { prompt: 'p', steps: [{ i: 0, type: 'x', content: 'c' }], final_answer: 'a' };
	await page.getByTestId('dataset-import').setInputFiles({
		name: 'mixed.jsonl',
		mimeType: 'application/x-ndjson',
		buffer: Buffer.from(
			[JSON.stringify(good), '{not json', JSON.stringify({ ...good, steps: [] }), JSON.stringify(good)].join('\n')
		)
	});
	const problems = page.getByTestId('import-problems');
	await expect(problems).toContainText('Nothing was imported: 2 lines have 2 problems; 2 lines are valid traces.');
	await expect(problems).toContainText(/line 2: not valid JSON: .* at character \d+$|line 2: not valid JSON: /);
	await expect(problems).not.toContainText('column');
	await page.getByTestId('import-valid').click();
	await expect(page.getByTestId('dataset-message')).toHaveText(
		/^Imported mixed: 2 traces \(sha256 [0-9a-f]{12}…\)\. 2 lines with problems were left out \(lines 2, 3\)\.$/
	);
	await expect(page.getByTestId('manifest')).toContainText(/^2\s+traces/);

	// on the lab page the Dataset select offers training sets, and the config follows the choice
	await page.goto('/');
	await expect(page.getByTestId('dataset').locator('option', { hasText: /^mixed$/ })).toHaveCount(1);
	const options = await page.getByTestId('dataset').locator('option').allTextContents();
	expect(options).toContain('mixed');
	expect(options).not.toContain('golden-v2-heldout');
	await page.getByTestId('dataset').selectOption('add3-steps');
	await expect(page.getByTestId('config-yaml')).toHaveValue(
		/dataset: add3-steps[\s\S]*add3-steps-heldout[\s\S]*add4-steps-length/
	);
	await page.getByTestId('dataset').selectOption('mixed');
	await expect(page.getByTestId('config-yaml')).toHaveValue(/name: mixed[\s\S]*dataset: mixed\s+eval_datasets: \[\]/);
	await page.goto('/datasets');
	await page.getByTestId('dataset-pick').selectOption('mixed');

	await page.getByTestId('dataset-name').fill('golden v2');
	await page.getByTestId('dataset-rename').click();
	await expect(page.getByTestId('dataset-manage-error')).toContainText(
		'"golden-v2" is the name of the built-in dataset golden-v2: choose another name'
	);
	await page.getByTestId('dataset-name').fill('my traces');
	await page.getByTestId('dataset-rename').click();
	await expect(page.getByTestId('dataset-pick')).toHaveValue('my-traces');
	await page.getByTestId('dataset-delete').click();
	await expect(page.getByTestId('dataset-message')).toHaveText('Deleted my-traces.');
	await expect(page.getByTestId('dataset-pick').locator('option')).toHaveCount(BUILT_IN_DATASET_KEYS.length);
});

test('a run page leads on: Playground, Compare and Train again open with the run; Benchmark is off the main navigation', async ({
	page
}) => {
	await trainSmokeOnWasm(page);
	const id = new URL(page.url()).searchParams.get('id')!;
	await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Benchmark' })).toHaveCount(0);
	await expect(page.getByTestId('bench-link')).toBeVisible();
	// downloads are named after the run, so two runs' files never collide (issue 24 item 15)
	for (const [testId, name] of [
		['dl-eval', `${id}-eval.json`],
		['dl-run', `${id}-run.json`],
		['dl-checkpoint-8', `${id}-checkpoint-step8.safetensors`]
	]) {
		const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
		expect(dl.suggestedFilename()).toBe(name);
	}
	// the first Tab stop skips the navigation: the first focusable element, shown when focused, pointing at the content
	await page.goto(`/run/?id=${id}`);
	await expect(page.getByTestId('next-steps')).toBeVisible(); // the page has rendered (it renders in the browser)
	const first = await page.evaluate(
		() => document.querySelector('a[href], button, input, select, textarea')?.getAttribute('data-testid') ?? null
	);
	expect(first).toBe('skip-link');
	await page.getByTestId('skip-link').focus();
	const box = (await page.getByTestId('skip-link').boundingBox())!;
	expect(box.x).toBeGreaterThanOrEqual(0);
	await expect(page.locator('#content')).toBeVisible();
	await page.getByTestId('open-playground').click();
	await expect(page.getByTestId('pg-run')).toHaveValue(id);
	await page.goto(`/run/?id=${id}`);
	await page.getByTestId('compare-with').click();
	await expect.poll(() => new URL(page.url()).searchParams.get('runs')).toBe(id);
	await page.goto(`/run/?id=${id}`);
	await page.getByTestId('train-again').click();
	const yaml = page.getByTestId('config-yaml');
	await expect(yaml).toHaveValue(new RegExp(`# the config of run ${id} \\("ci-smoke"\\)`));
	await expect(yaml).toHaveValue(/backend: wasm/);
	await page.getByTestId('train').click();
	await page.waitForURL(/\/run\/\?id=/);
	await expect(status(page)).toHaveAttribute('data-status', 'completed');
});

test('the first ten seconds: what traces are, Train above the fold at 1280 × 800, an estimate for auto, and a marked edit that resets', async ({
	page
}) => {
	await page.setViewportSize({ width: 1280, height: 800 });
	await page.goto('/');
	await expect(page.getByTestId('what-traces')).toContainText('A reasoning trace is a question, the steps');
	const train = await page.getByTestId('train').boundingBox();
	expect(train!.y + train!.height).toBeLessThanOrEqual(800);
	await expect(page.getByTestId('estimate')).toContainText(/at most about \d+ (s|min|h) \(on wasm/);
	await expect(page.getByTestId('config-modified')).toHaveCount(0);
	const yaml = page.getByTestId('config-yaml');
	const preset = await yaml.inputValue();
	await yaml.fill(preset.replace(/steps: \d+/, 'steps: 9'));
	await expect(page.getByTestId('config-modified')).toContainText('modified');
	await page.getByTestId('reset-preset').click();
	await expect(yaml).toHaveValue(preset);
	await expect(page.getByTestId('config-modified')).toHaveCount(0);
});

test('charts: a log scale only for the loss, values in a tooltip at the cursor, a PNG with title and legend', async ({
	page
}) => {
	await trainSmokeOnWasm(page);
	const charts = page.getByTestId('charts');
	const loss = charts.getByRole('img', { name: 'Loss chart' });
	await expect(loss).toBeVisible();
	await expect(charts.getByTestId(/^log-loss/)).toHaveCount(1);
	await expect(charts.getByTestId(/^log-answer-accuracy/)).toHaveCount(0);

	// the values under the cursor sit beside it, not in a legend across the chart; only the chart under it
	await loss.scrollIntoViewIfNeeded();
	const box = (await loss.locator('.u-over').boundingBox())!;
	const at = { x: box.x + box.width * 0.7, y: box.y + box.height / 2 };
	await page.mouse.move(at.x, at.y);
	const tip = loss.locator('xpath=..').getByTestId('chart-tooltip');
	await expect(tip).toContainText(/step \d+/);
	await expect(tip).toContainText(/training loss \(step\): \d/);
	await expect(page.getByTestId('chart-tooltip')).toHaveCount(1);
	const tipBox = (await tip.boundingBox())!;
	expect(Math.abs(tipBox.y + tipBox.height / 2 - at.y)).toBeLessThan(30);
	expect(Math.min(Math.abs(tipBox.x - at.x), Math.abs(tipBox.x + tipBox.width - at.x))).toBeLessThan(30);
	await page.mouse.move(0, 0);
	await expect(tip).toHaveCount(0);

	// the PNG is the chart with its title above and a legend row per line below
	const canvasHeight = await loss.locator('canvas').evaluate((c: HTMLCanvasElement) => c.height);
	const [dl] = await Promise.all([
		page.waitForEvent('download'),
		page.getByRole('button', { name: 'Download Loss as PNG' }).click()
	]);
	const png = readFileSync((await dl.path())!);
	expect(png.subarray(1, 4).toString()).toBe('PNG');
	expect(png.readUInt32BE(20)).toBeGreaterThan(canvasHeight);
});

test('at 390 px the evaluation table shows every score (each row a card), and the header is compact', async ({
	page
}) => {
	await trainSmokeOnWasm(page);
	await page.setViewportSize({ width: 390, height: 844 });
	const table = page.getByTestId('eval-table');
	for (const name of ['Answer accuracy', 'Format rate', 'Evaluation loss', 'Perplexity']) {
		const cell = table.locator(`td[data-label="${name}"]`).first();
		await expect(cell).toBeVisible();
		const box = (await cell.boundingBox())!;
		expect(box.x + box.width, name).toBeLessThanOrEqual(390);
	}
	const header = (await page.locator('header').boundingBox())!;
	expect(header.height).toBeLessThanOrEqual(100);
});
