// GPU failures lose nothing: the WebGPU device is destroyed mid-run (GPUDevice.destroy() resolves
// device.lost, as a driver reset or a removed GPU would). The run ends as training_failed with the
// reason, its committed checkpoints intact, and Resume on wasm continues from the last one.
import { expect, test } from './fixtures';
import { download, longerSmoke, startRun, status, trainingValues, waitForStep } from './helpers';

test('a lost WebGPU device ends the run with its reason; Resume on wasm continues from the last checkpoint', async ({
	page
}) => {
	test.setTimeout(360_000);
	await startRun(page, longerSmoke(30).replace('backend: cpu', 'backend: webgpu'));
	await waitForStep(page, 11); // checkpoints every 5 steps: 5 and 10 are committed
	const worker = page.workers().find((w) => /worker/i.test(w.url()));
	expect(worker, 'the training worker').toBeTruthy();
	await worker!.evaluate(() => (self as unknown as { __destroyGpuDeviceForTest(): void }).__destroyGpuDeviceForTest());

	await expect(status(page)).toHaveAttribute('data-status', 'training_failed', { timeout: 120_000 });
	await expect(page.getByTestId('run-error')).toContainText('WebGPU device lost');
	const resumeLabel = (await page.getByTestId('resume').textContent()) ?? '';
	const from = Number(resumeLabel.match(/step (\d+)/)?.[1]);
	expect(from).toBeGreaterThanOrEqual(10);
	await expect(page.getByTestId('resume-backend')).toHaveValue('wasm'); // offered after a lost device
	await page.getByTestId('resume').click();
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 200_000 });
	await expect(page.getByTestId('provenance-backend')).toHaveText('wasm');
	const losses = trainingValues((await download(page, 'dl-metrics')).toString('utf8'), 'loss');
	expect(losses).toHaveLength(30);
	losses.forEach((l, i) => expect(l, `step ${i + 1}`).toBeGreaterThan(0));
	console.log(`device lost after step ≥ 11; resumed on wasm from step ${from}; 30 steps in metrics.jsonl`);
});
