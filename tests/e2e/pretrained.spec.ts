// A Hugging Face GPT-2 in the browser (docs/pretrained.md): imported from its files on the Models
// page, tried in the Playground before any fine-tuning, fine-tuned with LoRA from the Models page's
// link, and judged against the pretrained model.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from './fixtures';
import { status } from './helpers';

/** A random tiny GPT-2 with the real vocabulary, written by `npm run make-gpt2`. */
function tinyGpt2(): string {
	const dir = join(mkdtempSync(join(tmpdir(), 'tunix-e2e-gpt2-')), 'tiny-gpt2');
	const r = spawnSync('node', ['scripts/run-ts.mjs', 'scripts/make-gpt2.ts', '--out', dir], { encoding: 'utf8' });
	if (r.status !== 0) throw new Error(`make-gpt2 failed: ${r.stderr}`);
	return dir;
}

test('a GPT-2 is imported, tried, fine-tuned with LoRA and judged against the pretrained model', async ({ page }) => {
	const dir = tinyGpt2();
	const files = ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => join(dir, f));
	await page.goto('/models/');
	await expect(page.getByTestId('no-models')).toBeVisible();

	// a folder without its weights is refused, saying which file is missing; nothing is stored
	await page.getByTestId('model-files').setInputFiles([files[0], files[2]]);
	await expect(page.getByTestId('model-error')).toContainText('model.safetensors is missing');
	await expect(page.getByTestId('no-models')).toBeVisible();

	// a URL folder that is not there: the file and the server's answer
	await page.getByTestId('model-url').fill(new URL('/no-such-model/', page.url()).href);
	await page.getByRole('button', { name: 'Import' }).click();
	await expect(page.getByTestId('model-error')).toContainText('no-such-model/config.json: the server answered 404');

	await page.getByTestId('model-name').fill('tiny-gpt2');
	await page.getByTestId('model-files').setInputFiles(files);
	await expect(page.getByTestId('model-message')).toContainText('Imported tiny-gpt2.');
	const row = page.getByTestId('model-row');
	await expect(row).toContainText('2 × 64, 2 heads');
	await expect(row).toContainText('vocabulary 50,257');
	await expect(row).toContainText('3.3M');

	// the Playground generates from it before any fine-tuning
	await page.goto('/playground/?model=tiny-gpt2');
	await expect(page.getByTestId('pg-run')).toHaveValue('model:tiny-gpt2');
	await expect(page.getByTestId('pg-step')).toHaveCount(0);
	await page.getByTestId('pg-max').fill('8');
	await page.getByTestId('pg-generate').click();
	await expect(page.getByTestId('pg-result')).toBeVisible();
	await expect(page.getByRole('alert')).toHaveCount(0);

	// Fine-tune with LoRA: the lab page opens with the LoRA preset on this model's shape
	await page.goto('/models/');
	await page.getByTestId('model-finetune').click();
	await page.waitForURL(/\/\?model=tiny-gpt2/);
	const editor = page.getByTestId('config-yaml');
	await expect(editor).toHaveValue(/init: tiny-gpt2/);
	await expect(editor).toHaveValue(/n_embd: 64/);
	await expect(editor).toHaveValue(/finetune: lora/);
	const yaml = (await editor.inputValue())
		.replace(/^ {2}steps: \d+/m, '  steps: 4')
		.replace(/batch_size: \d+/, 'batch_size: 4')
		.replace(/lr: 0.0005/, 'lr: 0.01')
		.replace(/warmup_steps: \d+/, 'warmup_steps: 1')
		.replace(/every_steps: \d+/, 'every_steps: 2')
		.replace(/max_new_tokens: \d+/, 'max_new_tokens: 8')
		.replace(/max_items: \d+/, 'max_items: 2')
		.replace(/backend: auto/, 'backend: wasm');
	await editor.fill(yaml);
	await page.getByTestId('train').click();
	await page.waitForURL(/\/run\/\?id=/);
	await expect(status(page)).toHaveAttribute('data-status', 'completed');
	await expect(page.getByTestId('verdict')).toContainText(/pretrained: \d+/);
	await expect(page.getByTestId('eval-table')).toContainText('against the pretrained model');
	await expect(page.getByTestId('provenance-base')).toContainText('tiny-gpt2');
});
