// The Runs page as a runs table (issue 24 item 7), on the shipped demo runs: full names, an
// experiment column, sort, filter, grouping, a column picker, select-to-compare, and at 390 px
// every run a card that fits.
import { expect, test } from './fixtures';

test('the Runs page sorts, filters, groups, picks columns and compares the runs selected; it fits 390 px', async ({
	page
}) => {
	await page.goto('/');
	for (const bundle of ['static/demo/reasoning-trace-ablation.zip', 'static/demo/golden-v2-full.zip']) {
		await page.goto('/');
		await page.getByTestId('import-bundle').setInputFiles(bundle);
		await page.waitForURL(/\/(run|experiment)\/\?id=/);
	}
	await page.goto('/runs/');
	const rows = page.getByTestId('runs-row');
	await expect(rows).toHaveCount(7);
	await expect(page.getByTestId('runs-count')).toHaveText('7 runs');
	// the experiment column names it; names are whole
	await expect(rows.filter({ hasText: 'Reasoning-trace ablation (3-digit addition)' })).toHaveCount(6);
	await expect(page.getByLabel(/^Name of run /).first()).toHaveValue(/.+/);

	// sort by final loss, lowest first: the add3-steps arm, then add3-no-steps, then the golden-v2 run
	await page.getByTestId('sort-final_loss').click();
	const datasetCol = async () =>
		rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td[data-label="Dataset"]')?.textContent?.trim()));
	expect(await datasetCol()).toEqual([...Array(3).fill('add3-steps'), ...Array(3).fill('add3-no-steps'), 'golden-v2']);
	await expect(page.locator('th[aria-sort="ascending"]')).toContainText('Final loss');
	await page.getByTestId('sort-final_loss').click();
	expect((await datasetCol())[0]).toBe('golden-v2');

	// filter on any cell
	await page.getByTestId('runs-filter').fill('no-steps');
	await expect(rows).toHaveCount(3);
	await expect(page.getByTestId('runs-count')).toHaveText('3 of 7 runs match');
	await page.getByTestId('runs-filter').fill('');

	// group by experiment
	await page.getByTestId('runs-group').check();
	await expect(page.getByTestId('runs-group-row')).toHaveText([
		/Reasoning-trace ablation \(3-digit addition\)\s*\(6\)/,
		/Not in an experiment\s*\(1\)/
	]);

	// hide a column, and it stays hidden after a reload
	await page.getByTestId('runs-columns').locator('summary').click();
	await page.getByTestId('runs-columns').getByLabel('Backend').uncheck();
	await expect(page.getByTestId('sort-backend')).toHaveCount(0);
	await page.reload();
	await expect(rows).toHaveCount(7);
	await expect(page.getByTestId('sort-backend')).toHaveCount(0);

	// select two and compare them
	await page
		.getByLabel(/^Select /)
		.nth(0)
		.check();
	await page
		.getByLabel(/^Select /)
		.nth(1)
		.check();
	await page.getByTestId('compare-selected').click();
	await expect(page).toHaveURL(/\/compare\/\?runs=[^,]+,[^,&]+/);
	await expect(page.getByRole('img', { name: 'Training loss chart' })).toBeVisible();

	// a phone: every run a card, nothing wider than the screen
	await page.setViewportSize({ width: 390, height: 844 });
	await page.goto('/runs/');
	await expect(rows).toHaveCount(7);
	expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});
