// `npm run sweep -- --config X --grid run.seed=1,2,3 --grid data.dataset=a,b [--out dir] [--backend wasm]`
// Trains every point of the grid one after another, each in `<out>/<point>/` (a normal run
// directory), then writes `<out>/summary.md` and `<out>/summary.csv`: per arm, the mean of each
// final score across seeds with a 95% interval. Resumable: a point whose run completed is skipped,
// one that was cut off is resumed. `<out>/metrics.csv` is every run's metrics by step with its
// config keys as columns (the lab's metrics table, core/export/metricsTable.ts). Every point's
// config is checked before any trains; a point's directory is its own (names that would share one
// get a hash of the name); a run left by an earlier sweep with another config is refused, never
// reported as this sweep's.

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { finalScores, summariseSweep, sweepCsv, sweepMarkdown, type SweepRun } from '../lib/core/experiment/aggregate';
import { metricsTable, tableCsv, type RunMetrics } from '../lib/core/export/metricsTable';
import { configForPoint, expandGrid, parseGridAxis, type GridPoint } from '../lib/core/experiment/grid';
import { sha256Bytes } from '../lib/core/sha256';
import { configDifferences } from '../lib/core/train/resumable';
import { encodedTraces } from '../lib/core/train/trainer';
import { loadDataset } from './datasets';
import { readText, writeFileAtomic } from './files';
import { UsageError, type CliIo } from './io';
import { RunDir } from './runDir';
import { loadConfig, trainCommand, type EvalDeps } from './trainCommand';

/**
 * A point's directory name: its values, safe on any file system. Where making it safe changed the
 * name, a hash of the name follows, so two values never share a directory (`a b` and `a_b`).
 */
function dirName(p: GridPoint): string {
	const safe = p.name.replace(/[^A-Za-z0-9._=,-]+/g, '_');
	if (safe === p.name) return safe;
	return `${safe}~${sha256Bytes(new TextEncoder().encode(p.name)).slice(0, 8)}`;
}

/** One point of the sweep, checked: where it trains and its config. */
interface PlannedPoint {
	point: GridPoint;
	/** Its run directory. */
	dir: string;
	/** Its config file, written beside the directory. */
	configPath: string;
}

/**
 * Writes every point's config and checks each (the config's own rules, a run already in its
 * directory trained with another config): throws listing every problem, before anything trains.
 */
function planSweep(base: string, points: GridPoint[], out: string): PlannedPoint[] {
	const problems: string[] = [];
	const planned = points.map((point) => {
		const dir = join(out, dirName(point));
		const configPath = join(out, `${dirName(point)}.yaml`);
		writeFileAtomic(configPath, configForPoint(base, point));
		try {
			const config = loadConfig(configPath);
			encodedTraces(config, loadDataset(config.data.dataset)); // every trace fits the model
			const before = new RunDir(dir).readRun();
			const differ = before ? configDifferences(before.config, config) : [];
			if (differ.length > 0)
				problems.push(
					`${point.name}: ${dir} holds a run trained with another config (${differ.join(', ')} differ): ` +
						'choose another --out for the changed sweep, or delete that directory to train it again'
				);
		} catch (err) {
			problems.push(`${point.name}: ${(err as Error).message}`);
		}
		return { point, dir, configPath };
	});
	if (problems.length > 0)
		throw new UsageError(
			`the sweep was not started; ${problems.length} of ${points.length} points cannot run:\n  ${problems.join('\n  ')}`
		);
	return planned;
}

export async function sweepCommand(argv: string[], io: CliIo, deps: EvalDeps = {}): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			config: { type: 'string' },
			grid: { type: 'string', multiple: true },
			out: { type: 'string', default: 'artifacts/sweeps/sweep' },
			backend: { type: 'string' }
		},
		strict: true
	});
	if (!values.config) throw new UsageError('--config <file.yaml> is required');
	if (!values.grid?.length) throw new UsageError('give at least one --grid key.path=value1,value2');
	const base = readText(values.config, 'config file');
	const points = expandGrid(values.grid.map(parseGridAxis));
	mkdirSync(values.out, { recursive: true });

	const planned = planSweep(base, points, values.out);
	io.err(`sweep: ${points.length} runs in ${values.out}\n`);
	const finished: SweepRun[] = [];
	const table: RunMetrics[] = [];
	for (const [i, { point, dir, configPath }] of planned.entries()) {
		const runDir = new RunDir(dir);
		const before = runDir.readRun(); // null when there is no run.json
		if (before?.status === 'completed') {
			io.err(`[${i + 1}/${points.length}] ${point.name}: completed before, skipped\n`);
		} else {
			io.err(`[${i + 1}/${points.length}] ${point.name}${before ? ': resuming' : ''}\n`);
			const args = ['--config', configPath, '--checkpoint-dir', dir, ...(before ? ['--resume'] : [])];
			if (values.backend) args.push('--backend', values.backend);
			const code = await trainCommand(args, io, deps);
			if (code !== 0) {
				io.err(`sweep: ${point.name} stopped (exit ${code}); run the same command again to resume\n`);
				return code;
			}
		}
		const run = runDir.readRun();
		if (run?.status === 'completed') finished.push({ name: point.name, arm: point.arm, scores: finalScores(run) });
		if (run) table.push({ run, ...runDir.allMetrics(), experiment: { name: basename(values.out), arm: point.arm } });
	}
	const summary = summariseSweep(finished);
	writeFileSync(join(values.out, 'summary.md'), sweepMarkdown(summary));
	writeFileSync(join(values.out, 'summary.csv'), sweepCsv(summary));
	writeFileSync(join(values.out, 'metrics.csv'), tableCsv(metricsTable(table)));
	io.out(sweepMarkdown(summary));
	io.err(`wrote ${join(values.out, 'summary.md')}, summary.csv and metrics.csv (every run's metrics by step)\n`);
	return 0;
}
