// The run page tells the truth (issue 12): the verdict follows the health checks for a diverged
// run, a loss of 0 and a memorised one; every state offers only actions that work and keeps a way
// forward. The runs are the CLI's ci_smoke run, imported as bundles with their numbers or state
// changed, so each case is exact.
import { zipSync, strToU8 } from 'fflate';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { cliRun, smokeYaml, status } from './helpers';
import { compareParity } from '../../src/lib/core/run/parity';

let dir: Promise<string> | null = null;
const smokeDir = () => (dir ??= cliRun(smokeYaml.replace(/backend: \w+/, 'backend: wasm')));

type Files = Record<string, Uint8Array>;
const read = (d: string): Files =>
	Object.fromEntries(readdirSync(d).map((f) => [f, new Uint8Array(readFileSync(join(d, f)))]));
const json = (files: Files, name: string) => JSON.parse(new TextDecoder().decode(files[name]));
const put = (files: Files, name: string, value: unknown) => (files[name] = strToU8(JSON.stringify(value)));

/** Imports the files as a bundle from the lab page; lands on the run page. */
async function importRun(page: Page, files: Files, id: string) {
	const run = json(files, 'run.json');
	put(files, 'run.json', { ...run, id, name: id });
	const zip = Object.fromEntries(Object.entries(files).map(([k, v]) => [`${id}/${k}`, v]));
	await page.goto('/');
	await page
		.getByTestId('import-bundle')
		.setInputFiles({ name: `${id}.zip`, mimeType: 'application/zip', buffer: Buffer.from(zipSync(zip)) });
	await page.waitForURL(/\/run\/\?id=/);
}

/** metrics.jsonl with each training line's loss replaced. */
function withLosses(files: Files, loss: (step: number) => number) {
	const lines = new TextDecoder()
		.decode(files['metrics.jsonl'])
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l));
	files['metrics.jsonl'] = strToU8(
		lines.map((m) => JSON.stringify('split' in m ? m : { ...m, loss: loss(m.step) })).join('\n') + '\n'
	);
}

test('verdict health: a diverged run and a loss of 0 are red, a memorised one amber, with the sentence', async ({
	page
}) => {
	const diverged = read(await smokeDir());
	withLosses(diverged, (s) => 3.8 + s * 4);
	await importRun(page, diverged, 'diverged');
	const verdict = page.getByTestId('verdict');
	await expect(verdict).toHaveAttribute('data-tone', 'bad');
	await expect(verdict).toContainText('Training ran to the end, but did not train.');
	await expect(verdict).toContainText(/The loss rose from [\d.]+ to [\d.]+: training diverged/);

	// exploded in its first steps, then fell a little: its windows say "fell", its first step says diverged (item 1)
	const exploded = read(await smokeDir());
	withLosses(exploded, (s) => [3.8, 30, 30, 30, 24, 23, 22.5, 22][s - 1] ?? 22);
	await importRun(page, exploded, 'exploded-early');
	await expect(verdict).toHaveAttribute('data-tone', 'bad');
	await expect(verdict).toContainText('Training ran to the end, but did not train.');

	const zero = read(await smokeDir());
	withLosses(zero, () => 0);
	await importRun(page, zero, 'zero-loss');
	await expect(verdict).toHaveAttribute('data-tone', 'bad');
	await expect(verdict).toContainText('The loss was 0 from the first step');

	const memorised = read(await smokeDir());
	const e = json(memorised, 'eval.json');
	const last = e.history.at(-1);
	last.datasets['golden-v2'].answer_accuracy = 1;
	last.datasets['golden-v2-heldout'].answer_accuracy = 0;
	put(memorised, 'eval.json', e);
	await importRun(page, memorised, 'memorised');
	await expect(verdict).toHaveAttribute('data-tone', 'warn');
	await expect(verdict.locator('.headline')).toContainText(
		/^\W*Learned the training set \(100%\); golden-v2-heldout 0%/
	);
	await expect(verdict).toContainText(
		/Memorised, does not generalise: 100% of training questions right, but 0% on golden-v2-heldout/
	);
});

test('no stranded state: each offers only actions that work, and each keeps a way forward', async ({ page }) => {
	test.setTimeout(300_000);
	const cases: [string, (f: Files) => void, string, string][] = [
		// [status, how to make it, the action offered, the status it ends in]
		['completed', () => undefined, 'reevaluate', 'completed'],
		[
			'evaluation_failed',
			(f) => put(f, 'run.json', { ...json(f, 'run.json'), status: 'evaluation_failed' }),
			'reevaluate',
			'completed'
		],
		['cancelled', (f) => put(f, 'run.json', { ...json(f, 'run.json'), status: 'cancelled' }), 'resume', 'completed'],
		[
			'training_failed',
			(f) => put(f, 'run.json', { ...json(f, 'run.json'), status: 'training_failed', error: 'x' }),
			'resume',
			'completed'
		],
		[
			'interrupted, no checkpoint',
			(f) => {
				for (const k of Object.keys(f)) if (k.endsWith('.safetensors') || k === 'eval.json') delete f[k];
				put(f, 'run.json', { ...json(f, 'run.json'), status: 'interrupted', checkpoints: [] });
			},
			'resume',
			'completed'
		]
	];
	for (const [name, make, action, end] of cases) {
		const files = read(await smokeDir());
		make(files);
		await importRun(page, files, name.replace(/[^a-z]+/g, '-'));
		const offered = ['resume', 'reevaluate', 'cancel'].filter((a) => a === action);
		for (const a of ['resume', 'reevaluate']) {
			if (!offered.includes(a)) continue;
			await expect(page.getByTestId(a), `${name}: ${a} offered`).toBeVisible();
		}
		if (name.startsWith('interrupted, no checkpoint')) await expect(page.getByTestId('reevaluate')).toHaveCount(0);
		await page.getByTestId(action).click();
		await expect(status(page), `${name} → ${action}`).toHaveAttribute('data-status', end, { timeout: 120_000 });
		await expect(page.getByTestId('action-error')).toHaveCount(0);
	}
});

test('the same bundle imported twice: the second is refused by run id, saying so', async ({ page }) => {
	const files = read(await smokeDir());
	await importRun(page, files, 'twice');
	await page.goto('/');
	const zip = Object.fromEntries(Object.entries(files).map(([k, v]) => [`twice/${k}`, v]));
	await page
		.getByTestId('import-bundle')
		.setInputFiles({ name: 'twice.zip', mimeType: 'application/zip', buffer: Buffer.from(zipSync(zip)) });
	await expect(page.getByTestId('import-error')).toContainText(
		'twice.zip: run twice ("twice") is already in this browser; nothing was imported'
	);
});

test('a run with a parity certificate shows it: passed in green, failed in red from its first failing step', async ({
	page
}) => {
	const files = read(await smokeDir());
	const training = new TextDecoder()
		.decode(files['metrics.jsonl'])
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l))
		.filter((m) => m.split === undefined);
	const runtime = { torch_version: '1.13.1', world_size: 2, device: 'cpu' };
	const cases = [
		['parity-passed', training.map((m) => ({ ...m, loss: m.loss + 3e-7 })), /match the lab's: losses within 3\.0e-7/],
		[
			'parity-failed',
			training.map((m) => ({ ...m, loss: m.step >= 3 ? m.loss + 0.01 : m.loss })),
			/do not match the lab's from step 3/
		]
	] as const;
	for (const [id, torch, sentence] of cases) {
		const f = read(await smokeDir());
		put(f, 'run.json', { ...json(f, 'run.json'), parity: compareParity(training, torch, training.length, runtime) });
		await importRun(page, f, id);
		const note = page.getByTestId('parity');
		await expect(note).toContainText(sentence);
		await expect(note).toContainText('PyTorch 1.13.1 on 2 processes (cpu)');
		await expect(note).toHaveClass(id === 'parity-failed' ? /failed/ : /parity/);
	}
});
