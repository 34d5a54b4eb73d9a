// Sweeps (src/lib/core/sweep, src/cli/sweepCommand.ts): the grid, the per-arm summary with its
// interval, and `npm run sweep` end to end — resumable, so a second run trains nothing.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand, type CliIo } from '../src/cli/io';
import { sweepCommand } from '../src/cli/sweepCommand';
import { meanInterval, summariseSweep, sweepCsv } from '../src/lib/core/experiment/aggregate';
import { configForPoint, expandGrid, parseGridAxis } from '../src/lib/core/experiment/grid';

function io(): CliIo & { text: () => string; stdout: () => string } {
	let err = '';
	let out = '';
	return {
		out: (t) => void (out += t),
		err: (t) => void (err += t),
		progressStream: { write: () => true, isTTY: false },
		text: () => err,
		stdout: () => out
	};
}

describe('sweep grid and summary', () => {
	it('expands every combination, typed as YAML reads it, with the seed outside the arm', () => {
		const points = expandGrid([parseGridAxis('run.seed=1,2'), parseGridAxis('train.lr=1e-3,0.01')]);
		expect(points.map((p) => p.name)).toEqual([
			'run.seed=1,train.lr=0.001',
			'run.seed=1,train.lr=0.01',
			'run.seed=2,train.lr=0.001',
			'run.seed=2,train.lr=0.01'
		]);
		expect(points[0].values['train.lr']).toBe(0.001);
		expect(new Set(points.map((p) => p.arm))).toEqual(new Set(['train.lr=0.001', 'train.lr=0.01']));
		const yaml = configForPoint('run:\n  name: x # kept\n  seed: 9\ntrain:\n  lr: 5\n', points[3]);
		expect(yaml).toBe('run:\n  name: x # kept\n  seed: 2\ntrain:\n  lr: 0.01\n');
		expect(() => parseGridAxis('seed=1')).toThrow(/group\.key/);
		expect(() => parseGridAxis('run.seed=1,1')).toThrow(/listed twice/);
	});

	it('summarises an arm as the mean with a t interval across runs', () => {
		// mean 0.95, sd 0.05, t(2) = 4.303: half-width 4.303 · 0.05 / √3 = 0.12422
		const s = meanInterval([0.9, 0.95, 1.0]);
		expect(s.mean).toBeCloseTo(0.95, 12);
		expect(s.ci95![0]).toBeCloseTo(0.82578, 4);
		expect(s.ci95![1]).toBeCloseTo(1.07422, 4);
		expect(meanInterval([0.5]).ci95).toBeNull();
		const summary = summariseSweep([
			{ name: 'a1', arm: 'a', scores: { acc: 0.5 } },
			{ name: 'b1', arm: 'b', scores: { acc: 1 } },
			{ name: 'a2', arm: 'a', scores: { acc: 0.7 } }
		]);
		expect(summary.map((a) => [a.arm, a.runs])).toEqual([
			['a', ['a1', 'a2']],
			['b', ['b1']]
		]);
		expect(sweepCsv(summary).split('\n')[1]).toMatch(/^a,acc,0\.6(0+\d)?,-0\.67\d*,1\.87\d*,2$/);
	});
});

describe('npm run sweep', () => {
	it('trains a 2 × 2 grid, writes the summary, and skips finished runs when run again', async () => {
		const out = join(mkdtempSync(join(tmpdir(), 'tunix-sweep-')), 'sweep');
		const args = ['--config', 'configs/ci_smoke.yaml', '--grid', 'run.seed=1,2', '--grid', 'train.lr=0.01,0.02'];
		const first = io();
		expect(await runCommand(sweepCommand, [...args, '--out', out, '--backend', 'cpu'], first)).toBe(0);
		expect(first.text()).toMatch(/sweep: 4 runs/);
		const md = readFileSync(join(out, 'summary.md'), 'utf8');
		expect(md).toMatch(/\| train\.lr=0\.01 \| 2 \|/);
		expect(md).toMatch(/\| train\.lr=0\.02 \| 2 \|/);
		expect(md).toMatch(/golden-v2-heldout accuracy/);
		expect(existsSync(join(out, 'run.seed=2,train.lr=0.02', 'eval.json'))).toBe(true);
		const again = io();
		expect(await runCommand(sweepCommand, [...args, '--out', out, '--backend', 'cpu'], again)).toBe(0);
		expect(again.text().match(/completed before, skipped/g)).toHaveLength(4);
		expect(readFileSync(join(out, 'summary.md'), 'utf8')).toBe(md);
	}, 120_000);
});

describe('npm run sweep refuses what it cannot do before it trains', () => {
	const base = () => readFileSync('configs/ci_smoke.yaml', 'utf8').replace(/steps: \d+/, 'steps: 2');
	const sweep = async (grid: string[], out: string, yaml = base()) => {
		const config = join(out, 'base.yaml');
		mkdirSync(out, { recursive: true });
		writeFileSync(config, yaml);
		const log = io();
		const args = ['--config', config, ...grid.flatMap((g) => ['--grid', g]), '--out', out, '--backend', 'cpu'];
		return { code: await runCommand(sweepCommand, args, log), log };
	};

	it('checks every point first: an invalid value anywhere trains nothing and names each bad point', async () => {
		const out = mkdtempSync(join(tmpdir(), 'sweep-check-'));
		const { code, log } = await sweep(['train.lr=1e-3,1e9', 'train.steps=2,0'], out);
		expect(code).not.toBe(0);
		expect(log.text()).toMatch(/3 of 4 points cannot run/);
		expect(log.text()).toMatch(/train\.lr=1000000000,train\.steps=2: .*train\.lr/);
		expect(log.text()).toMatch(/train\.lr=0\.001,train\.steps=0: .*train\.steps/);
		expect(readdirSync(out).filter((f) => !f.endsWith('.yaml'))).toEqual([]); // no run directory
	});

	it('gives values that make the same directory name their own directories and runs', async () => {
		const out = mkdtempSync(join(tmpdir(), 'sweep-names-'));
		const { code } = await sweep(['run.name=a b,a_b'], out);
		expect(code).toBe(0);
		const dirs = readdirSync(out, { withFileTypes: true })
			.filter((d) => d.isDirectory())
			.map((d) => d.name);
		expect(dirs).toHaveLength(2);
		const names = dirs.map((d) => JSON.parse(readFileSync(join(out, d, 'run.json'), 'utf8')).name).sort();
		expect(names).toEqual(['a b', 'a_b']);
	}, 60_000);

	it('refuses a run left by the same sweep with another base config, instead of reporting it as current', async () => {
		const out = mkdtempSync(join(tmpdir(), 'sweep-changed-'));
		expect((await sweep(['run.seed=1'], out)).code).toBe(0);
		const changed = await sweep(['run.seed=1'], out, base().replace(/lr: [\d.e-]+/, 'lr: 0.0123'));
		expect(changed.code).not.toBe(0);
		expect(changed.log.text()).toMatch(/holds a run trained with another config \(train\.lr differ/);
		expect(changed.log.text()).not.toMatch(/completed before, skipped/);
	}, 60_000);
});
