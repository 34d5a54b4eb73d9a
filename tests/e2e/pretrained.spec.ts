// A Hugging Face GPT-2 in the browser (docs/pretrained.md): imported from its files on the Models
// page, tried in the Playground before any fine-tuning, fine-tuned with LoRA from the Models page's
// link on webgl (the cpu CLI's losses step by step), and judged against the pretrained model.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { expect, test } from './fixtures';
import { download, runTs, status, trainingValues } from './helpers';

/** A random tiny GPT-2 with the real vocabulary, written by `npm run make-gpt2`. */
async function tinyGpt2(): Promise<string> {
	const dir = join(mkdtempSync(join(tmpdir(), 'tunix-e2e-gpt2-')), 'tiny-gpt2');
	await runTs('scripts/make-gpt2.ts', ['--out', dir]);
	return dir;
}

/** The training losses of `yaml` in the CLI on cpu, from the model in `dir` imported as tiny-gpt2. */
async function cpuLosses(yaml: string, dir: string): Promise<number[]> {
	const work = mkdtempSync(join(tmpdir(), 'tunix-e2e-ft-'));
	await runTs('src/cli/import-model.ts', [dir, '--name', 'tiny-gpt2', '--models-dir', join(work, 'models')]);
	writeFileSync(join(work, 'config.yaml'), yaml);
	const args = ['--config', join(work, 'config.yaml'), '--checkpoint-dir', join(work, 'run'), '--backend', 'cpu'];
	await runTs('src/cli/train.ts', [...args, '--models-dir', join(work, 'models')]);
	return trainingValues(readFileSync(join(work, 'run', 'metrics.jsonl'), 'utf8'), 'loss');
}

test('a GPT-2 is imported, tried, fine-tuned with LoRA and judged against the pretrained model', async ({ page }) => {
	const dir = await tinyGpt2();
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
	// 2 steps of 2 traces on webgl (the second trains on the first's update), scored on 1 item: the cpu reference below runs the same in seconds
	const yaml = (await editor.inputValue())
		.replace(/eval_datasets: \[[^\]]*\]/, 'eval_datasets: []')
		.replace(/^ {2}steps: \d+/m, '  steps: 2')
		.replace(/batch_size: \d+/, 'batch_size: 2')
		.replace(/lr: 0.0005/, 'lr: 0.01')
		.replace(/warmup_steps: \d+/, 'warmup_steps: 1')
		.replace(/every_steps: \d+/, 'every_steps: 2')
		.replace(/max_new_tokens: \d+/, 'max_new_tokens: 2')
		.replace(/max_items: \d+/, 'max_items: 1')
		.replace(/backend: auto/, 'backend: webgl');
	await editor.fill(yaml);
	const reference = cpuLosses(yaml, dir); // the cpu CLI's run, beside the browser's
	await page.getByTestId('train').click();
	await page.waitForURL(/\/run\/\?id=/);
	await expect(status(page)).toHaveAttribute('data-status', 'completed');
	await expect(page.getByTestId('verdict')).toContainText(/pretrained: \d+/);
	await expect(page.getByTestId('eval-table')).toContainText('against the pretrained model');
	await expect(page.getByTestId('provenance-base')).toContainText('tiny-gpt2');
	await expect(page.getByTestId('provenance-backend')).toHaveText('webgl');

	// webgl trained the cpu CLI's losses, step by step
	const got = trainingValues((await download(page, 'dl-metrics')).toString('utf8'), 'loss');
	const want = await reference;
	expect(got).toHaveLength(2);
	got.forEach((loss, i) =>
		expect(Math.abs(loss - want[i]), `step ${i + 1}: ${loss} vs cpu ${want[i]}`).toBeLessThan(1e-3)
	);

	// the checkpoint as a Hugging Face folder: a PEFT adapter, with the merged weights on request
	await page.getByTestId('dl-hf-merged').check();
	const zip = unzipSync(new Uint8Array(await download(page, 'dl-hf-2')));
	const names = Object.keys(zip).map((n) => n.replace(/^[^/]+\//, ''));
	expect(names.sort()).toEqual([
		'README.md',
		'adapter_config.json',
		'adapter_model.safetensors',
		'merged/config.json',
		'merged/generation_config.json',
		'merged/model.safetensors',
		'merged/tokenizer.json',
		'merged/tokenizer_config.json',
		'tokenizer.json',
		'tokenizer_config.json'
	]);
	const entry = (n: string) => Object.entries(zip).find(([k]) => k.endsWith(`/${n}`))![1];
	expect(JSON.parse(strFromU8(entry('adapter_config.json')))).toMatchObject({ peft_type: 'LORA', r: 8 });
	expect(strFromU8(entry('README.md'))).toContain('fine-tuned (lora) from tiny-gpt2');

	// the Models page gives the imported model back as it came
	await page.goto('/models/');
	const modelZip = unzipSync(new Uint8Array(await download(page, 'model-download')));
	// byte for byte (Buffer.equals: a deep toEqual over 13 MB takes half a minute)
	const weights = Buffer.from(modelZip['tiny-gpt2/model.safetensors']);
	expect(weights.equals(readFileSync(join(dir, 'model.safetensors')))).toBe(true);
});
