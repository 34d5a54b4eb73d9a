import { expect, test } from './fixtures';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliRun, download, longerSmoke, modelTensors, startRun, status, trainingValues, waitForStep } from './helpers';

test('reload mid-run → the lab resumes by itself → completed, equal to an uninterrupted CLI run (cpu)', async ({
	page
}) => {
	const yaml = longerSmoke(30);
	const reference = cliRun(yaml); // the CLI, uninterrupted, beside the browser
	await startRun(page, yaml);
	await waitForStep(page, 12);
	await page.reload();
	// the reloaded page finds the run cut off and continues it from its last checkpoint, saying so
	await expect(page.getByTestId('auto-resumed')).toContainText(
		/The page closed at step \d+; the lab resumed this run by itself from its checkpoint at step \d+/
	);
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 200_000 });
	const timeline = page.getByTestId('timeline-event');
	await expect(timeline.filter({ hasText: 'Interrupted' })).toHaveCount(1);
	await expect(timeline.filter({ hasText: /Resumed from step \d+ by the lab/ })).toHaveCount(1);

	// the CLI, same config and seed, uninterrupted: the same core gives the same numbers
	const dir = await reference;
	const browser = trainingValues((await download(page, 'dl-metrics')).toString('utf8'), 'loss');
	const cli = trainingValues(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), 'loss');
	expect(browser).toHaveLength(30);
	browser.forEach((l, i) => expect(Math.abs(l - cli[i]), `step ${i + 1}`).toBeLessThan(1e-5));
	const ours = modelTensors(new Uint8Array(await download(page, 'dl-checkpoint-30')));
	const theirs = modelTensors(new Uint8Array(readFileSync(join(dir, 'checkpoint-step30.safetensors'))));
	expect([...ours.keys()]).toEqual([...theirs.keys()]);
	for (const [name, v] of ours) {
		const w = theirs.get(name)!;
		let worst = 0;
		v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - w[i]))));
		expect(worst, name).toBeLessThan(1e-5);
	}
	console.log(`worker vs CLI on cpu: losses bit-identical: ${browser.every((l, i) => l === cli[i])}`);
});

test('two tabs: only one trains a run; the other follows it', async ({ page, context }) => {
	// the lab's own resuming off: both tabs' Resume pressed at once, one is refused
	await context.addInitScript(() => localStorage.setItem('tunix-rt-lab:auto-resume', 'off'));
	const id = await startRun(page, longerSmoke(40));
	await waitForStep(page, 6);
	await page.reload();
	await expect(status(page)).toHaveAttribute('data-status', 'interrupted');
	await expect(page.getByTestId('auto-resume-on')).not.toBeChecked();

	const other = await context.newPage();
	await other.goto(`/run/?id=${encodeURIComponent(id)}`);
	await expect(other.getByTestId('resume')).toBeVisible();
	await Promise.all([page.getByTestId('resume').click(), other.getByTestId('resume').click()]);

	const refused = await Promise.race([
		page
			.getByTestId('action-error')
			.waitFor()
			.then(() => page),
		other
			.getByTestId('action-error')
			.waitFor()
			.then(() => other)
	]);
	await expect(refused.getByTestId('action-error')).toContainText('is being trained or evaluated in another tab');
	await expect(refused.getByTestId('elsewhere')).toBeVisible();
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 200_000 });
	await expect(status(other)).toHaveAttribute('data-status', 'completed');
	const steps = (await download(page, 'dl-metrics'))
		.toString('utf8')
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l))
		.filter((m) => !('split' in m))
		.map((m) => m.step);
	expect(steps).toEqual(Array.from({ length: 40 }, (_, i) => i + 1)); // one trainer: no step twice
});
