// Every backend trains the same numbers (issue: "a backend that is silently wrong can never pass
// CI again"): ci_smoke from the lab page on webgpu (SwiftShader here), webgl, wasm and cpu, each
// step's loss and gradient norm and each evaluated checkpoint's loss compared with the CLI's cpu
// run of the same YAML, within 1e-3 relative.
import { parseMetricsJsonl } from '../../src/lib/core/run/runFiles';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { cliRun, download, smokeYaml as smoke, startRun, status } from './helpers';

// ci_smoke generating 2 tokens an item, not 24: the comparison is of losses, and webgl compiles
// programs for every new cache length (most of its time here)
const smokeYaml = smoke.replace(/max_new_tokens: \d+/, 'max_new_tokens: 2');

const TOLERANCE = 1e-3;
const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));

/** Evaluation loss per dataset and evaluated step, from an eval.json. */
function evalLosses(evalJson: string): Map<string, number> {
	const e = JSON.parse(evalJson) as { history: { step: number; datasets: Record<string, { loss: number }> }[] };
	const out = new Map<string, number>();
	for (const h of e.history) for (const [key, d] of Object.entries(h.datasets)) out.set(`${key}@${h.step}`, d.loss);
	return out;
}

/** The CLI's cpu run of the same YAML, started once (beside the first browser run) and shared. */
let reference: Promise<{ dir: string; metrics: string; evalJson: string }> | null = null;
function cpuReference() {
	reference ??= cliRun(smokeYaml.replace(/backend: \w+/, 'backend: cpu')).then((dir) => {
		const read = (f: string) => readFileSync(join(dir, f), 'utf8');
		return { dir, metrics: read('metrics.jsonl'), evalJson: read('eval.json') };
	});
	return reference;
}

for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu']) {
	test(`ci_smoke on ${backend} trains the cpu CLI's losses, gradient norms and evaluation losses`, async ({ page }) => {
		test.setTimeout(360_000);
		const errors: string[] = [];
		page.on('pageerror', (e) => errors.push(e.message));
		// main-thread long tasks while training (reported, not asserted: timing is no pass/fail matter)
		await page.addInitScript(() => {
			const w = window as unknown as { __longTasks: number[] };
			w.__longTasks = [];
			new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__longTasks.push(e.duration))).observe({
				type: 'longtask',
				buffered: true
			});
		});
		const reference = cpuReference();
		await startRun(page, smokeYaml.replace(/backend: \w+/, `backend: ${backend}`));
		await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 300_000 });
		const want = await reference;
		await expect(page.getByTestId('provenance-backend')).toHaveText(backend);

		const got = parseMetricsJsonl((await download(page, 'dl-metrics')).toString('utf8')).training;
		const ref = parseMetricsJsonl(want.metrics).training;
		expect(got.map((m) => m.step)).toEqual(ref.map((m) => m.step));
		got.forEach((m, i) => {
			for (const key of ['loss', 'grad_norm'] as const) {
				expect(m[key], `${backend} step ${m.step} ${key}`).toBeGreaterThan(0);
				const r = relative(m[key] as number, ref[i][key] as number);
				expect(r, `${backend} step ${m.step} ${key}: ${m[key]} vs cpu ${ref[i][key]}`).toBeLessThan(TOLERANCE);
			}
		});

		const gotEval = evalLosses((await download(page, 'dl-eval')).toString('utf8'));
		const refEval = evalLosses(want.evalJson);
		expect([...gotEval.keys()].sort()).toEqual([...refEval.keys()].sort());
		for (const [key, loss] of refEval) {
			expect(relative(gotEval.get(key)!, loss), `${backend} eval loss ${key}`).toBeLessThan(TOLERANCE);
		}
		expect(errors).toEqual([]);
		const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
		console.log(
			`${backend}: losses within ${TOLERANCE} of cpu; main-thread long tasks during the run: ${longTasks.length}, ` +
				`longest ${Math.round(Math.max(0, ...longTasks))} ms`
		);
	});
}

test('backend auto times this model on every backend and trains on the fastest, saying so', async ({ page }) => {
	test.setTimeout(360_000);
	await startRun(page, smokeYaml.replace(/backend: \w+/, 'backend: auto'));
	await expect(status(page)).toHaveAttribute('data-status', 'completed', { timeout: 300_000 });
	const notes = (await page.getByTestId('provenance-notes').textContent()) ?? '';
	const m = notes.match(/auto: (.*?) → (\w+)/);
	expect(m, notes).not.toBeNull();
	const timings = [...m![1].matchAll(/(\w+) ([\d.]+) (ms|s)\/step/g)].map((t) => ({
		backend: t[1],
		ms: Number(t[2]) * (t[3] === 's' ? 1000 : 1)
	}));
	expect(timings.map((t) => t.backend).sort()).toEqual(['cpu', 'wasm', 'webgl', 'webgpu']);
	const best = timings.reduce((a, b) => (b.ms < a.ms ? b : a));
	expect(m![2]).toBe(best.backend);
	await expect(page.getByTestId('provenance-backend')).toHaveText(best.backend);
	// the progress section says what auto chose, with its timings (issue 24 item 3)
	await expect(page.getByTestId('auto-choice')).toContainText(`Backend chosen by auto: `);
	await expect(page.getByTestId('auto-choice')).toContainText(`→ ${best.backend}`);
	console.log(`auto: ${notes}`);
});
