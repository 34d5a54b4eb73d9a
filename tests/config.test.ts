import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/lib/core/config';

const smoke = readFileSync('configs/ci_smoke.yaml', 'utf8');

function problems(text: string, opts = {}): string[] {
	try {
		parseConfig(text, { file: 'c.yaml', ...opts });
	} catch (e) {
		expect(e).toBeInstanceOf(ConfigError);
		return (e as ConfigError).problems;
	}
	throw new Error('expected the config to be refused');
}

describe('config', () => {
	it('parses every shipped config', () => {
		for (const f of ['ci_smoke', 'quick_golden_v2', 'train_golden_v2']) {
			const c = parseConfig(readFileSync(`configs/${f}.yaml`, 'utf8'), { file: f });
			expect(c.data.dataset).toBe('golden-v2');
		}
		const full = parseConfig(readFileSync('configs/train_golden_v2.yaml', 'utf8'));
		expect(full.train.steps).toBeGreaterThanOrEqual(2000);
		expect(full.train.steps).toBeLessThanOrEqual(5000);
		expect(full.eval.max_items).toBeNull();
	});

	it('reports malformed YAML with its position', () => {
		expect(problems('run:\n  name: [unclosed\n')).toEqual([expect.stringMatching(/^c\.yaml:\d+:\d+: \(yaml\): /)]);
	});

	it('reports an unknown key, a wrong type and an out-of-range value at their line:col', () => {
		const text = smoke
			.replace('  seed: 1234', '  seed: 1234\n  colour: blue')
			.replace('n_layer: 1', 'n_layer: two')
			.replace('lr: 0.01', 'lr: 5');
		const lines = text.split('\n');
		const at = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
		expect(problems(text)).toEqual([
			`c.yaml:${at('colour')}:3: run.colour: unknown key (expected: name, seed)`,
			`c.yaml:${at('n_layer')}:12: model.n_layer: must be an integer, got "two"`,
			`c.yaml:${at('lr: 5')}:7: train.lr: must be in (0, 1], got 5`
		]);
	});

	it('reports missing keys and groups, and cross-field problems', () => {
		expect(problems(smoke.replace(/^runtime:\n {2}backend: auto\n?/m, '').replace('  keep_last: 2\n', ''))).toEqual([
			expect.stringMatching(/^c\.yaml:\d+:1: checkpoint\.keep_last: missing key$/),
			'c.yaml:1:1: runtime: missing group'
		]);
		expect(problems(smoke.replace('n_head: 2', 'n_head: 3'))).toEqual([
			expect.stringMatching(/model\.n_head: must divide model\.n_embd \(16\)$/)
		]);
	});

	it('refuses a dataset listed twice, naming it once', () => {
		const text = smoke.replace('eval_datasets: [golden-v2-heldout]', 'eval_datasets: [nope, nope]');
		expect(problems(text, { isKnownDataset: (k: string) => k.startsWith('golden-v2') })).toEqual([
			expect.stringMatching(/^c\.yaml:\d+:\d+: data\.eval_datasets: lists nope more than once$/),
			expect.stringMatching(/^c\.yaml:\d+:\d+: data\.eval_datasets: unknown dataset "nope"$/)
		]);
	});

	it('refuses unknown datasets when told which are known', () => {
		const text = smoke.replace('dataset: golden-v2', 'dataset: golden-v9');
		expect(
			problems(text, { isKnownDataset: (k: string) => k.startsWith('golden-v2'), knownDatasets: ['golden-v2'] })
		).toEqual([
			expect.stringMatching(/^c\.yaml:\d+:12: data\.dataset: unknown dataset "golden-v9" \(known: golden-v2\)$/)
		]);
	});
});
