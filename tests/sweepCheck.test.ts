// core/experiment/check.ts: a sweep checked as the lab page checks it before queueing — the grid's
// size and arms, every point's config parsed (its problems named by point), the time for all of it,
// and an error for a grid that cannot be run as written.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_DATASET_KEYS } from '../src/lib/core/data/registry';
import { checkSweep, type SweepInput, type SweepPlan } from '../src/lib/core/experiment/check';
import { MAX_POINTS } from '../src/lib/core/experiment/experiment';

const baseYaml = readFileSync('configs/ci_smoke.yaml', 'utf8');
const input = (gridText: string, over: Partial<SweepInput> = {}): SweepInput => ({
	baseYaml,
	gridText,
	configName: 'ci_smoke.yaml',
	datasetKeys: BUILT_IN_DATASET_KEYS,
	estimate: (c) => c.train.steps * c.train.lr,
	...over
});
const plan = (gridText: string, over: Partial<SweepInput> = {}): SweepPlan => {
	const result = checkSweep(input(gridText, over));
	if ('error' in result) throw new Error(`expected a plan, got: ${result.error}`);
	return result;
};

describe('checkSweep', () => {
	it('counts runs and arms (seeds repeat an arm) and sums every run estimate', () => {
		const p = plan('run.seed = 1, 2, 3\ntrain.lr = 0.01, 0.1');
		expect(p.runs).toBe(6);
		expect(p.arms).toBe(2);
		expect(p.problems).toEqual([]);
		expect(p.axes.map((a) => a.path.join('.'))).toEqual(['run.seed', 'train.lr']);
		expect(p.axes[1].values).toEqual([0.01, 0.1]);
		// 8 steps each: 3 × 8 × 0.01 + 3 × 8 × 0.1
		expect(p.seconds).toBeCloseTo(3 * 8 * 0.01 + 3 * 8 * 0.1, 10);
	});

	it('refuses each point whose model a browser tab cannot hold, naming its size (not just a long time)', () => {
		const p = plan('model.n_embd = 64, 4096\nmodel.n_layer = 2, 48');
		expect(p.runs).toBe(4);
		expect(p.problems.map((x) => x.split(':')[0])).toEqual([
			'model.n_embd=4096,model.n_layer=2',
			'model.n_embd=4096,model.n_layer=48'
		]);
		expect(p.problems[1]).toMatch(
			/^model\.n_embd=4096,model\.n_layer=48: the model needs more than a browser tab can hold \(2000 MB\): [\d,]+ parameters, all of them train; about [\d,]+ MB: [\d,]+ MB of weights, [\d,]+ MB of gradients and AdamW state, [\d,]+ MB of activations at batch \d+ × \d+ tokens/
		);
	});

	it('gives no time when one run has no estimate', () => {
		const p = plan('train.steps = 8, 16', { estimate: (c) => (c.train.steps === 16 ? null : 5) });
		expect(p.runs).toBe(2);
		expect(p.seconds).toBeNull();
		expect(plan('run.seed = 1, 2', { estimate: () => null }).seconds).toBeNull();
	});

	it('names each point whose config is refused, with the config file and its problem', () => {
		const p = plan('data.dataset = golden-v2, no-such-set\nrun.seed = 1, 2');
		expect(p.runs).toBe(4);
		expect(p.arms).toBe(2);
		expect(p.problems).toHaveLength(2);
		expect(p.problems[0]).toMatch(/^data\.dataset=no-such-set,run\.seed=1: ci_smoke\.yaml:\d+:\d+: data\.dataset: /);
		expect(p.problems[1]).toMatch(/^data\.dataset=no-such-set,run\.seed=2: /);
		// the refused points add nothing to the time
		expect(p.seconds).toBeCloseTo(2 * 8 * 0.01, 10);
	});

	it('accepts a dataset only when it is among the known keys', () => {
		const keys = [...BUILT_IN_DATASET_KEYS, 'mine'];
		expect(plan('data.dataset = mine', { datasetKeys: keys }).problems).toEqual([]);
		expect(plan('data.dataset = mine').problems).toHaveLength(1);
	});

	it('refuses a grid that cannot be run as written, saying why', () => {
		expect(checkSweep(input('   '))).toEqual({ error: 'write at least one line such as run.seed = 1, 2, 3' });
		expect(checkSweep(input('seed = 1, 2'))).toEqual({
			error: '--grid seed=1, 2: the key is group.key, as in the config (e.g. train.lr)'
		});
		const twice = checkSweep(input('run.seed = 1\nrun.seed = 2'));
		expect(twice).toEqual({ error: 'run.seed names a key twice: list all its values on one line' });
	});

	it('refuses more points than a sweep holds before parsing any of them', () => {
		const values = Array.from({ length: 23 }, (_, i) => i + 1).join(', ');
		let parsed = 0;
		const result = checkSweep(
			input(`run.seed = ${values}\ntrain.steps = ${values}`, {
				estimate: () => {
					parsed += 1;
					return 1;
				}
			})
		);
		expect(result).toEqual({ error: `529 runs: a sweep holds at most ${MAX_POINTS}; list fewer values` });
		expect(parsed).toBe(0);
	});
});
