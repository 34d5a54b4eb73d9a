// Experiments (issue 15): the queue's decisions, the metrics table (CSV parsed back with a
// standard parser), intervals clipped to a score's range, and experiment bundles that import back.
import 'fake-indexeddb/auto';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { goldenV2, goldenV2Heldout } from '../src/lib/core/data/golden';
import { metricsTable, tableCsv, tableJsonl } from '../src/lib/core/export/metricsTable';
import { newRunRecord, type RunRecord } from '../src/lib/core/run/record';
import { trainRun } from '../src/lib/core/run/driver';
import { meanInterval, summariseSweep } from '../src/lib/core/experiment/aggregate';
import { tryParse } from '../src/lib/core/schema';
import {
	ExperimentSchema,
	experimentFinished,
	experimentStatus,
	newExperiment,
	nextWork,
	parseGridText,
	pointStatus,
	reorderPoint,
	type ExperimentRecord
} from '../src/lib/core/experiment/experiment';
import { armDiff, finalSummary, lossCurves, tableRuns, type ExperimentView } from '../src/lib/core/experiment/view';
import { armScoreRows } from '../src/lib/core/experiment/armTable';
import { armCurve } from '../src/lib/core/experiment/bands';
import { exportBundle, exportExperimentBundle, importBundle, readBundle } from '../src/lib/storage/bundles';
import { CheckpointRepo } from '../src/lib/storage/checkpoints';
import { LabDb } from '../src/lib/storage/db';
import {
	createExperiment,
	ExperimentViewReader,
	experimentView,
	listExperimentsWithStatus,
	setExperimentState,
	updatePoint
} from '../src/lib/storage/experiments';
import { IdbRunStorage } from '../src/lib/storage/runStorage';
import { zipSync, unzipSync, strToU8 } from 'fflate';
import { readFileSync } from 'node:fs';
import { bundleUrl, experimentViewOf, fetchBundleBytes } from '../src/lib/state/bundleUrl';
import { backend, smokeConfig } from './helpers';

let n = 0;
const freshDb = () => new LabDb(`exp-${Date.now()}-${n++}`);
const grid = () => parseGridText('train.lr = 0.01, 0.003\nrun.seed = 1, 2');
const runWith = (id: string, status: RunRecord['status']): RunRecord => ({
	...newRunRecord(smokeConfig(), goldenV2().manifest, []),
	id,
	status
});
/** The experiment with point i's run set. */
const withRuns = (e: ExperimentRecord, ids: (string | null)[]) => ({
	...e,
	points: e.points.map((p, i) => ({ ...p, run_id: ids[i] ?? null }))
});

describe('the experiment queue', () => {
	it('expands a grid into points, first axis slowest, arms without the seed', () => {
		const e = newExperiment('lr sweep', 'ci_smoke.yaml', 'run: {}', grid());
		expect(e.points.map((p) => p.name)).toEqual([
			'train.lr=0.01,run.seed=1',
			'train.lr=0.01,run.seed=2',
			'train.lr=0.003,run.seed=1',
			'train.lr=0.003,run.seed=2'
		]);
		expect(new Set(e.points.map((p) => p.arm))).toEqual(new Set(['train.lr=0.01', 'train.lr=0.003']));
		expect(e.id).toMatch(/^exp-\d{8}-\d{6}-[a-z0-9]+$/);
	});

	it('refuses a grid line it cannot read, saying how to write it', () => {
		expect(() => parseGridText('')).toThrow(/run\.seed = 1, 2, 3/);
		expect(() => parseGridText('lr 1')).toThrow(/key\.path=value1,value2/);
		expect(() => parseGridText('run.seed = 1, 1')).toThrow(/listed twice/);
		expect(() => parseGridText('run.seed = 1\nrun.seed = 2')).toThrow(/names a key twice/);
	});

	it('continues a cut-off run before starting the next point, and waits on a live one', () => {
		const e = newExperiment('x', 'c.yaml', '', grid());
		expect(nextWork(e, new Map())).toEqual({ index: 0, action: 'start' });
		const runs = new Map([
			['a', runWith('a', 'completed')],
			['b', runWith('b', 'interrupted')]
		]);
		expect(nextWork(withRuns(e, ['a', 'b']), runs)).toEqual({ index: 1, action: 'resume' });
		runs.set('b', runWith('b', 'training'));
		expect(nextWork(withRuns(e, ['a', 'b']), runs)).toEqual({ index: 1, action: 'wait' });
		runs.set('b', runWith('b', 'pending'));
		expect(nextWork(withRuns(e, ['a', 'b']), runs)).toEqual({ index: 1, action: 'train' });
		// cancelled by hand after it started: stays cancelled; cancelled by a pause: resumed
		runs.set('b', { ...runWith('b', 'cancelled'), started: '2026-11-29T00:00:00Z' });
		expect(nextWork(withRuns(e, ['a', 'b']), runs)).toEqual({ index: 2, action: 'start' });
		// cancelled before it ever started (a closed tab's pending run): trained after all
		runs.set('b', runWith('b', 'cancelled'));
		expect(nextWork(withRuns(e, ['a', 'b']), runs)).toEqual({ index: 1, action: 'resume' });
		runs.set('b', { ...runWith('b', 'cancelled'), started: '2026-11-29T00:00:00Z' });
		const paused = withRuns(e, ['a', 'b']);
		paused.points[1].resume = true;
		expect(nextWork(paused, runs)).toEqual({ index: 1, action: 'resume' });
		expect(nextWork({ ...paused, state: 'paused' }, runs)).toBeNull();
		expect(nextWork({ ...paused, state: 'cancelled' }, runs)).toBeNull();
	});

	it('calls a run stopped by a pause paused, and a run cancelled by hand cancelled', () => {
		const e = withRuns(newExperiment('x', 'c.yaml', '', parseGridText('run.seed = 1, 2')), ['a']);
		const run = { ...runWith('a', 'cancelled'), started: '2026-11-29T00:00:00Z' };
		expect(pointStatus(e, e.points[0], run)).toBe('cancelled');
		e.points[0].resume = true; // the queue's pause stopped it
		expect(pointStatus({ ...e, state: 'paused' }, e.points[0], run)).toBe('paused');
		expect(pointStatus({ ...e, state: 'cancelled' }, e.points[0], run)).toBe('cancelled');
		expect(pointStatus(e, e.points[1], undefined)).toBe('queued');
	});

	it('starts no point of an experiment paused or cancelled while the queue chose it', async () => {
		const db = freshDb();
		const e = newExperiment('x', 'c.yaml', '', parseGridText('run.seed = 1, 2'));
		await createExperiment(db, e);
		await setExperimentState(db, e.id, 'paused');
		await expect(updatePoint(db, e.id, e.points[0].name, { run_id: 'r' }, true)).rejects.toThrow(
			/is paused: point .* waits/
		);
		await setExperimentState(db, e.id, 'running');
		await updatePoint(db, e.id, e.points[0].name, { run_id: 'r' }, true);
		expect((await db.experiments.get(e.id))!.points[0].run_id).toBe('r');
	});

	it('is finished when every point completed, failed, was refused or skipped by a cancel', () => {
		const e = newExperiment('x', 'c.yaml', '', parseGridText('run.seed = 1, 2'));
		const runs = new Map([
			['a', runWith('a', 'completed')],
			['b', runWith('b', 'training_failed')]
		]);
		expect(experimentFinished(e, runs)).toBe(false);
		expect(experimentFinished(withRuns(e, ['a']), runs)).toBe(false);
		expect(experimentFinished(withRuns(e, ['a', 'b']), runs)).toBe(true);
		expect(experimentFinished({ ...withRuns(e, ['a']), state: 'cancelled' }, runs)).toBe(true);
		const refused = withRuns(e, ['a']);
		refused.points[1].error = 'config refused';
		expect(experimentFinished(refused, runs)).toBe(true);
	});

	it('never offers a refused point again, whatever its run says', () => {
		const e = withRuns(newExperiment('x', 'c.yaml', '', parseGridText('run.seed = 1, 2')), ['a']);
		e.points[0].error = 'its run could not be continued: dataset gone';
		const runs = new Map([['a', runWith('a', 'interrupted')]]);
		expect(nextWork(e, runs)).toEqual({ index: 1, action: 'start' });
		e.points[1].error = 'config refused';
		expect(nextWork(e, runs)).toBeNull();
		expect(experimentFinished(e, runs)).toBe(true);
	});

	it('shows pending for an arm without results while the queue works; a band of two runs is their min–max', () => {
		const summary = [{ arm: 'a', runs: ['r'], scores: { 'h accuracy': { mean: 0.5, ci95: null, n: 1 } } }];
		expect(armScoreRows(['a', 'b'], summary, false)[0].cells.map((c) => c.text)).toEqual(['50.0%', 'pending']);
		expect(armScoreRows(['a', 'b'], summary, true)[0].cells[1]).toEqual({ text: '—', best: false });
		// two arms tied at the top: no winner; a score no run has (NaN) is shown as none
		const s = (mean: number) => ({ 'h accuracy': { mean, ci95: null, n: 1 } });
		const tied = [
			{ arm: 'a', runs: ['r'], scores: s(0.9) },
			{ arm: 'b', runs: ['r'], scores: s(0.9) },
			{ arm: 'c', runs: ['r'], scores: s(NaN) }
		];
		expect(armScoreRows(['a', 'b', 'c'], tied, true)[0].cells).toEqual([
			{ text: '90.0%', best: false },
			{ text: '90.0%', best: false },
			{ text: '—', best: false }
		]);
		// two runs at 0 and 0.5: a t interval would span 0–100%; the band is what the runs did
		const two = armCurve([new Map([[1, 0]]), new Map([[1, 0.5]])], [1], 'ci95', [0, 1]);
		expect([two.low[0], two.high[0]]).toEqual([0, 0.5]);
		const three = armCurve([new Map([[1, 0]]), new Map([[1, 0.5]]), new Map([[1, 0.25]])], [1], 'ci95', [0, 1]);
		expect(three.low[0]).toBe(0); // clipped t interval: wider than the runs
		expect(three.high[0]).toBeGreaterThan(0.5);
	});

	it('reorders queued points only, never across a started one', () => {
		const e = newExperiment('x', 'c.yaml', '', grid());
		const moved = reorderPoint(e, 3, 1);
		expect(moved.points.map((p) => p.name)[1]).toBe('train.lr=0.003,run.seed=2');
		expect(() => reorderPoint(withRuns(e, ['a']), 0, 1)).toThrow(/not started/);
		expect(() => reorderPoint(withRuns(e, [null, 'b']), 0, 3)).toThrow(/not started/);
	});

	it('refuses a grid that names a value twice as read, or a record that repeats a point or a run', () => {
		expect(() => parseGridText('train.lr = 1e-3, 0.001')).toThrow(/listed twice/);
		const e = newExperiment('x', 'c.yaml', '', parseGridText('eval.max_items = 4, null'));
		expect(e.points.map((p) => p.values['eval.max_items'])).toEqual([4, null]);
		const twice = { ...e, points: [e.points[0], e.points[0]] };
		expect(tryParse(ExperimentSchema, twice)).toMatchObject({ ok: false, problems: [expect.stringMatching(/twice/)] });
		const sameRun = withRuns(e, ['r', 'r']);
		expect(tryParse(ExperimentSchema, sameRun)).toMatchObject({
			ok: false,
			problems: [expect.stringMatching(/two points/)]
		});
	});
});

describe('intervals', () => {
	it('clip a t interval to what the quantity can be', () => {
		const raw = meanInterval([1, 1, 0.946]);
		expect(raw.ci95![1]).toBeGreaterThan(1);
		const [summary] = summariseSweep([
			{ name: 'a', arm: 'x', scores: { 'h accuracy': 1, 'final training loss': 1e-9 } },
			{ name: 'b', arm: 'x', scores: { 'h accuracy': 1, 'final training loss': 2e-8 } },
			{ name: 'c', arm: 'x', scores: { 'h accuracy': 0.946, 'final training loss': 1e-9 } }
		]);
		expect(summary.scores['h accuracy'].ci95![1]).toBe(1);
		expect(summary.scores['final training loss'].ci95![0]).toBe(0);
	});
});

/** Two short real runs of an lr sweep, stored in `db`, and the experiment that names them. */
async function storedExperiment(db: LabDb): Promise<ExperimentRecord> {
	await backend('cpu');
	const e = newExperiment('tiny, "quoted"\nsweep', 'ci_smoke.yaml', 'run: {}', parseGridText('train.lr = 0.01, 0.003'));
	const ids: string[] = [];
	for (const p of e.points) {
		const config = smokeConfig({ train: { lr: Number(p.values['train.lr']), steps: 4 } });
		const run = newRunRecord(config, goldenV2().manifest, [goldenV2Heldout().manifest]);
		run.name = `${e.name} · ${p.name}`;
		const storage = new IdbRunStorage(db, run.id);
		await storage.createRun(run);
		await trainRun({
			storage,
			run,
			config,
			dataset: goldenV2(),
			evalDatasets: [goldenV2Heldout()],
			provenance: run.provenance
		});
		ids.push(run.id);
	}
	const stored = withRuns(e, ids);
	await db.experiments.add(stored);
	return stored;
}

describe('an experiment in storage', () => {
	it('exports one metrics row per (run, step) with config columns, and CSV parses back the same', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		const read = await experimentView(db, e.id);
		if (!read?.ok) throw new Error('experiment not read');
		const table = metricsTable(tableRuns(read.view));
		const rows = parseCsv(tableCsv(table), { columns: true }) as Record<string, string>[];
		expect(rows).toHaveLength(table.rows.length);
		// steps 0 (the untrained baseline's evaluation) and 1..4 for each of the two runs
		expect(rows.map((r) => [r.run_id, r.step])).toEqual(
			e.points.flatMap((p) => ['0', '1', '2', '3', '4'].map((s) => [p.run_id, s]))
		);
		expect(rows[0].experiment).toBe('tiny, "quoted"\nsweep'); // a comma, quotes and a line break survive
		expect(rows.map((r) => r['train.lr'])).toEqual([...Array(5).fill('0.01'), ...Array(5).fill('0.003')]);
		expect(rows[0].arm).toBe('train.lr=0.01');
		expect(rows[0]['data.eval_datasets']).toBe('["golden-v2-heldout"]');
		const training = read.view.training.get(e.points[1].run_id!)!;
		expect(Number(rows[7].loss)).toBe(training[1].loss); // run 2, step 2: the exact float
		expect(rows.map((r) => r.weights).slice(0, 2)).toEqual(['untrained', 'trained']); // what step 0 scored
		expect(rows[0].loss).toBe(''); // step 0 has no training line…
		expect(Number(rows[0]['scores.golden-v2-heldout.loss'])).toBeGreaterThan(0); // …but an evaluation
		// the backend it trained on is a column; the run's name is run_name only, not run.name again
		expect(rows[0].backend).toBe(read.view.runs.get(rows[0].run_id)!.provenance.backend || '');
		expect(Object.keys(rows[0])).not.toContain('run.name');
		// JSONL: the same rows
		const lines = tableJsonl(table)
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l));
		expect(lines).toHaveLength(rows.length);
		expect(lines[7].loss).toBe(training[1].loss);
	});

	it('summarises and draws by arm from the stored runs', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		const read = await experimentView(db, e.id);
		if (!read?.ok) throw new Error('experiment not read');
		const view: ExperimentView = read.view;
		const summary = finalSummary(view);
		expect(summary.map((a) => [a.arm, a.runs.length])).toEqual([
			['train.lr=0.01', 1],
			['train.lr=0.003', 1]
		]);
		const run0 = view.runs.get(e.points[0].run_id!)!;
		expect(summary[0].scores['final training loss'].mean).toBe(run0.summary.final_loss);
		const curves = lossCurves(view, 'minmax');
		expect(curves.x).toEqual([1, 2, 3, 4]);
		expect(curves.arms[1].curve.mean).toEqual(view.training.get(e.points[1].run_id!)!.map((m) => m.loss));
		expect(armDiff(view).keys).toEqual(['train.lr']);
	});

	it('exports an experiment bundle that imports back whole into another browser, once', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		const zip = await exportExperimentBundle(db, e.id);
		const other = freshDb();
		expect(await importBundle(other, zip, 'exp.zip')).toEqual({ kind: 'experiment', id: e.id });
		const back = await experimentView(other, e.id);
		const here = await experimentView(db, e.id);
		if (!back?.ok || !here?.ok) throw new Error('not read');
		expect(back.view.experiment.points).toEqual(here.view.experiment.points);
		expect([...back.view.training.values()]).toEqual([...here.view.training.values()]);
		expect(metricsTable(tableRuns(back.view)).rows).toEqual(metricsTable(tableRuns(here.view)).rows);
		// the queue does not start again by itself in the browser that imported it
		expect(back.view.experiment.state).toBe('paused');
		await expect(importBundle(other, zip, 'exp.zip')).rejects.toThrow(/already in this browser; nothing was imported/);
	});

	it('imports one bundle twice at once (a double click, two tabs): one stores it whole, the other stores nothing', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		const zip = await exportExperimentBundle(db, e.id);
		for (let attempt = 0; attempt < 5; attempt++) {
			const other = freshDb();
			const results = await Promise.allSettled([importBundle(other, zip, 'a.zip'), importBundle(other, zip, 'b.zip')]);
			expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
			const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
			expect(String(refused.reason)).toMatch(/already in this browser; nothing was imported/);
			// every checkpoint the stored runs list reads back
			const repo = new CheckpointRepo(other);
			for (const run of await other.runs.toArray())
				for (const c of run.checkpoints) expect((await repo.read(run.id, c.step)).length).toBe(c.bytes);
			// and no metrics line is stored twice
			const lines = await other.metrics.toArray();
			const keys = lines.map((m) => `${m.runId}:${m.step}:${m.split ?? ''}`);
			expect(new Set(keys).size).toBe(keys.length);
		}
	});

	it('re-reads only the runs whose metrics changed, for a page that follows the queue', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		const reader = new ExperimentViewReader(db, e.id);
		const first = await reader.read();
		expect(reader.lastReadRuns.sort()).toEqual([e.points[0].run_id, e.points[1].run_id].sort());
		await reader.read();
		expect(reader.lastReadRuns).toEqual([]); // nothing changed: nothing read again
		// one run gains a step: only it is read again, and the view has the new line
		const runId = e.points[1].run_id!;
		const line = { step: 5, loss: 1.5, lr: 1e-3, grad_norm: 1, tokens_per_s: 10, elapsed_s: 1 };
		await db.metrics.add({ runId, step: 5, line });
		const again = await reader.read();
		expect(reader.lastReadRuns).toEqual([runId]);
		if (!first?.ok || !again?.ok) throw new Error('not read');
		expect(again.view.training.get(runId)!.at(-1)).toEqual(line);
		expect(again.view.training.get(e.points[0].run_id!)).toEqual(first.view.training.get(e.points[0].run_id!));
	});

	it('says finished wherever it is listed once no point needs work, though its stored state is running', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		expect(e.state).toBe('running');
		const [listed] = await listExperimentsWithStatus(db);
		expect(listed.status).toBe('finished');
		const read = await experimentView(db, e.id);
		if (!read?.ok) throw new Error('not read');
		expect(experimentStatus(read.view.experiment, read.view.runs)).toBe('finished');
	});

	it('imports one run bundle twice at once: its metrics are stored once', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		const zip = await exportBundle(db, e.points[0].run_id!);
		const other = freshDb();
		const results = await Promise.allSettled([importBundle(other, zip, 'a.zip'), importBundle(other, zip, 'b.zip')]);
		expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
		const steps = (await other.metrics.toArray()).filter((m) => m.split === undefined).map((m) => m.step);
		expect(steps).toEqual([...new Set(steps)]);
	});

	it('exports an experiment whose run was deleted by hand as a bundle that still imports', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		await db.runs.delete(e.points[1].run_id!);
		const other = freshDb();
		await importBundle(other, await exportExperimentBundle(db, e.id), 'exp.zip');
		const back = await other.experiments.get(e.id);
		expect(back!.points[1]).toMatchObject({ run_id: null, error: expect.stringMatching(/deleted before the export/) });
		expect(await other.runs.count()).toBe(1);
	});

	it('refuses an experiment bundle whose manifest names a run it lacks, storing nothing', async () => {
		const db = freshDb();
		const e = await storedExperiment(db);
		const files = unzipSync(await exportExperimentBundle(db, e.id));
		for (const name of Object.keys(files)) if (name.startsWith(e.points[1].run_id!)) delete files[name];
		const broken = zipSync(files);
		expect(() => readBundle(broken, 'broken.zip')).toThrow(`names run ${e.points[1].run_id}, which the bundle lacks`);
		const other = freshDb();
		await expect(importBundle(other, broken, 'broken.zip')).rejects.toThrow(/lacks/);
		expect(await other.runs.count()).toBe(0);
		files['experiment.json'] = strToU8('{"id": "x"}');
		expect(() => readBundle(zipSync(files), 'bad.zip')).toThrow(/bad\.zip: experiment\.json/);
	});
});

describe('bundles from a URL', () => {
	const root = new URL('https://lab.example/lab/');
	it('resolve against the app root and refuse another site', () => {
		expect(bundleUrl('demo/a.zip', root).href).toBe('https://lab.example/lab/demo/a.zip');
		expect(bundleUrl('/other/a.zip', root).href).toBe('https://lab.example/other/a.zip');
		expect(() => bundleUrl('https://evil.example/a.zip', root)).toThrow(
			/another site.*Content-Security-Policy.*Download the bundle and import it/
		);
	});

	it('refuses a javascript: or data: address as no file, not as "null is another site"', () => {
		const root = new URL('https://lab.example/lab/');
		for (const param of ['javascript:alert(1)', 'data:application/zip;base64,UEsF'])
			expect(() => bundleUrl(param, root)).toThrow(
				/is a (javascript|data): address, not a file: give a path on this site/
			);
	});

	it('stops reading a bundle address larger than a bundle can be: by its announced size, else while it streams', async () => {
		const url = new URL('https://lab.example/lab/huge.zip');
		const limit = 1024;
		let pulled = 0;
		const endless = () =>
			new ReadableStream<Uint8Array>({
				pull(c) {
					pulled += 256;
					c.enqueue(new Uint8Array(256));
				}
			});
		const announced = async () => new Response(endless(), { headers: { 'content-length': String(2 * 2 ** 30) } });
		await expect(fetchBundleBytes(url, limit, announced)).rejects.toThrow(
			/huge\.zip is 2048 MB, more than a bundle holds/
		);
		pulled = 0;
		await expect(fetchBundleBytes(url, limit, async () => new Response(endless()))).rejects.toThrow(
			/huge\.zip grew past 0 MB \(the download was stopped there\), more than a bundle holds/
		);
		expect(pulled).toBeLessThan(4 * limit); // it stopped reading instead of taking it all
		const small = await fetchBundleBytes(url, limit, async () => new Response(new Uint8Array([1, 2, 3])));
		expect([...small]).toEqual([1, 2, 3]);
		await expect(fetchBundleBytes(url, limit, async () => new Response('', { status: 404 }))).rejects.toThrow(
			/the server answered 404/
		);
	});

	it('the shipped demo bundles read back as the results docs/results report', () => {
		const full = readBundle(readFileSync('static/demo/golden-v2-full.zip'), 'golden-v2-full.zip');
		expect(full.experiment).toBeNull();
		expect(full.runs[0].run.status).toBe('completed');
		expect(full.runs[0].metrics.training).toHaveLength(2000);
		expect(full.runs[0].checkpoints.map((c) => c.step)).toEqual([2000]);

		const ablation = readBundle(readFileSync('static/demo/reasoning-trace-ablation.zip'), 'ablation.zip');
		const view = experimentViewOf(ablation)!;
		expect(view.experiment.state).toBe('paused'); // an imported queue never starts by itself
		const summary = finalSummary(view);
		expect(summary.map((a) => [a.arm, a.runs.length])).toEqual([
			['data.dataset=add3-steps', 3],
			['data.dataset=add3-no-steps', 3]
		]);
		// each evaluation under its role: both arms' held-out sets on one row, their training sets on another
		const heldOut = 'add3-steps-heldout / add3-no-steps-heldout accuracy';
		expect(summary[0].scores[heldOut].mean).toBe(1);
		expect(summary[1].scores[heldOut].mean).toBeGreaterThan(0.98);
		const rows = armScoreRows(
			summary.map((a) => a.arm),
			summary,
			true
		);
		expect(rows.map((r) => r.key)).toContain('add3-steps / add3-no-steps accuracy');
		const held = rows.find((r) => r.key === heldOut)!;
		expect(held.cells[0]).toEqual({ text: expect.stringMatching(/^100\.0%/), best: true });
		expect(held.cells[1].best).toBe(false);
		expect(held.cells[1].text).toMatch(/^\d+\.\d% \[\d+\.\d–\d+\.\d%\]$/); // a share in percent, one decimal
		const lossRow = rows.find((r) => r.key === 'final training loss')!;
		expect(lossRow.cells[0].text).toMatch(/^\d\.\de-\d+ \[/); // 7.7e-9, not 7.711e-9
		expect(lossRow.cells[0].best).toBe(true); // the lower loss
		const length = rows.find((r) => r.key === 'add4-steps-length / add4-no-steps-length accuracy')!;
		expect(length.cells.map((c) => c.best)).toEqual([false, false]); // both 0%: no winner
		// the arms' configs differ in their evaluation sets too, which the grid does not list
		expect(armDiff(view).keys).toEqual(['data.dataset', 'data.eval_datasets']);
	});
});
