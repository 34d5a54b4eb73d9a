// Hostile imports (issue: nothing lost): hundreds of mutated run bundles and datasets — fields
// removed, retyped, oversized, files missing or damaged — are each refused with a reason and store
// nothing, or imported whole; afterwards the lists of runs and datasets still read, every entry
// sound. A record damaged in storage (from an older version, say) reads back as damaged.
import 'fake-indexeddb/auto';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../src/cli/io';
import { trainCommand } from '../src/cli/trainCommand';
import { canonicalJsonl } from '../src/lib/core/data/traces';
import { goldenV2 } from '../src/lib/core/data/golden';
import { Mt19937 } from '../src/lib/core/prng';
import { exportRunFiles, importBundle } from '../src/lib/storage/bundles';
import { importDataset } from '../src/lib/storage/datasets';
import { LabDb } from '../src/lib/storage/db';
import { evaluationOf, getRun, importedDatasets, listRuns, trainingMetrics } from '../src/lib/storage/queries';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value in a JSON document (objects and arrays descended), up to `depth`. */
function paths(v: Json, depth: number, at: (string | number)[] = []): (string | number)[][] {
	if (depth === 0 || v === null || typeof v !== 'object') return [at];
	const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i).slice(0, 3) : Object.keys(v);
	return [at, ...keys.flatMap((k) => paths((v as Record<string, Json>)[k], depth - 1, [...at, k]))];
}

function getAt(v: Json, path: (string | number)[]): Json {
	return path.reduce<Json>((o, k) => (o as Record<string, Json>)[k], v);
}

/** The document with the value at `path` replaced (undefined: removed). */
function setAt(v: Json, path: (string | number)[], value: Json | undefined): Json {
	const out = structuredClone(v);
	const parent = getAt(out, path.slice(0, -1)) as Record<string, Json>;
	if (value === undefined) {
		if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
		else delete parent[path.at(-1)!];
	} else parent[path.at(-1)!] = value;
	return out;
}

/** Ways to break one value: gone, another type, absurdly large. */
const MUTATIONS: [string, (old: Json) => Json | undefined][] = [
	['removed', () => undefined],
	['null', () => null],
	['a string', () => 'bogus'],
	['a number', () => -1.5],
	['an object', () => ({})],
	['an array', () => []],
	[
		'oversized',
		(old) => (typeof old === 'string' ? 'x'.repeat(200_000) : typeof old === 'number' ? 1e300 : 'x'.repeat(5000))
	]
];

let bundleFiles: Record<string, Uint8Array>;
const db = new LabDb('fuzz-imports');
const rng = new Mt19937(20261129);
const pick = <T>(xs: T[]) => xs[Math.floor(rng.random() * xs.length)];

beforeAll(async () => {
	const dir = mkdtempSync(join(tmpdir(), 'tunix-fuzz-'));
	const io = { out: () => undefined, err: () => undefined, progressStream: { write: () => true, isTTY: false } };
	const args = ['--config', 'configs/ci_smoke.yaml', '--checkpoint-dir', dir, '--backend', 'cpu'];
	expect(await runCommand(trainCommand, args, io)).toBe(0);
	bundleFiles = Object.fromEntries(
		readdirSync(dir).map((f) => [`run/${f}`, new Uint8Array(readFileSync(join(dir, f)))])
	);
}, 60_000);

const json = (name: string) => JSON.parse(new TextDecoder().decode(bundleFiles[`run/${name}`])) as Json;
const counts = async () =>
	Promise.all([db.runs, db.metrics, db.checkpoints, db.chunks, db.evaluations].map((t) => t.count()));

/** Imports one mutated bundle: refused with a reason and nothing stored, or stored whole and readable. */
async function importOne(label: string, files: Record<string, Uint8Array>, outcomes: Record<string, number>) {
	const before = await counts();
	let id: string;
	try {
		id = (await importBundle(db, zipSync(files), `${label}.zip`)).id;
	} catch (err) {
		expect((err as Error).message, label).toMatch(
			new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.zip: .{10,}`)
		);
		expect(await counts(), `${label}: a refused bundle stores nothing`).toEqual(before);
		outcomes.refused += 1;
		return;
	}
	const entry = await getRun(db, id);
	expect(entry?.ok, `${label}: imported but unreadable`).toBe(true);
	await trainingMetrics(db, id);
	const ev = await evaluationOf(db, id);
	expect(ev === null || ev.ok, `${label}: eval.json stored damaged`).toBe(true);
	await exportRunFiles(db, id);
	outcomes.imported += 1;
}

describe('hostile imports', () => {
	it('refuses each of 200+ mutated run bundles with a reason, or imports it whole; the lists still read', async () => {
		const outcomes = { refused: 0, imported: 0 };
		const run = json('run.json');
		const evalJson = json('eval.json');
		let n = 0;
		const withFile = (name: string, bytes: Uint8Array, id: string) => {
			const files = { ...bundleFiles, [`run/${name}`]: bytes };
			// a fresh id each case, so a bundle that imports does not block the next as a duplicate
			if (name !== 'run.json') files['run/run.json'] = strToU8(JSON.stringify(setAt(run, ['id'], id)));
			return files;
		};
		// run.json: every path down to depth 3, each broken one way
		for (const path of paths(run, 4).filter((p) => p.length > 0)) {
			const [how, mutate] = pick(MUTATIONS);
			const id = `fuzz-${n++}`;
			const doc = setAt(
				setAt(run, path, mutate(getAt(run, path))),
				['id'],
				path[0] === 'id' ? (mutate('x') ?? null) : id
			);
			await importOne(
				`run.json ${path.join('.')} ${how}`,
				withFile('run.json', strToU8(JSON.stringify(doc)), id),
				outcomes
			);
		}
		// eval.json
		for (const path of paths(evalJson, 4)
			.filter((p) => p.length > 0)
			.slice(0, 80)) {
			const [how, mutate] = pick(MUTATIONS);
			const doc = setAt(evalJson, path, mutate(getAt(evalJson, path)));
			await importOne(
				`eval.json ${path.join('.')} ${how}`,
				withFile('eval.json', strToU8(JSON.stringify(doc)), `fuzz-${n++}`),
				outcomes
			);
		}
		// metrics.jsonl: one line broken
		const lines = new TextDecoder().decode(bundleFiles['run/metrics.jsonl']).trim().split('\n');
		for (let k = 0; k < 20; k++) {
			const i = Math.floor(rng.random() * lines.length);
			const line = JSON.parse(lines[i]) as Json;
			const key = pick(Object.keys(line as object));
			const [how, mutate] = pick(MUTATIONS);
			const broken = [...lines];
			broken[i] = JSON.stringify(setAt(line, [key], mutate(getAt(line, [key]))));
			await importOne(
				`metrics line ${i + 1} ${key} ${how}`,
				withFile('metrics.jsonl', strToU8(broken.join('\n') + '\n'), `fuzz-${n++}`),
				outcomes
			);
		}
		// files: not JSON, missing, checkpoints truncated or with a flipped byte
		const ckName = Object.keys(bundleFiles)
			.find((f) => f.endsWith('.safetensors'))!
			.slice('run/'.length);
		const ck = bundleFiles[`run/${ckName}`];
		const flipped = ck.slice();
		flipped[flipped.length - 5] ^= 0x10;
		const damaged: [string, Uint8Array][] = [
			['run.json', strToU8('{"id": ')],
			['eval.json', strToU8('[]')],
			['eval.json', strToU8('{}')],
			['metrics.jsonl', strToU8('not json\n')],
			[ckName, ck.slice(0, 100)],
			[ckName, flipped]
		];
		for (const [name, bytes] of damaged)
			await importOne(`${name} damaged`, withFile(name, bytes, `fuzz-${n++}`), outcomes);
		expect(n).toBeGreaterThanOrEqual(200);
		expect(outcomes.refused).toBeGreaterThan(100);
		// the lists read, and every listed run is sound
		const listed = await listRuns(db);
		expect(listed.every((e) => e.ok)).toBe(true);
		expect(listed.length).toBe(outcomes.imported);
		console.log(
			`bundles: ${n} mutated, ${outcomes.refused} refused with a reason, ${outcomes.imported} imported whole`
		);
	}, 240_000);

	it('refuses mutated datasets with a reason, or stores them; the dataset list still reads', async () => {
		const traces = goldenV2().traces.slice(0, 5) as unknown as Json[];
		let refused = 0;
		let stored = 0;
		let n = 0;
		for (const path of paths(traces[0], 3).filter((p) => p.length > 0)) {
			for (const [how, mutate] of MUTATIONS) {
				const broken = [setAt(traces[0], path, mutate(getAt(traces[0], path))), ...traces.slice(1)];
				const text = broken.map((t) => JSON.stringify(t)).join('\n');
				try {
					await importDataset(db, `fuzz-${n++}.jsonl`, text);
					stored += 1;
				} catch (err) {
					expect((err as Error).message, `${path.join('.')} ${how}`).toMatch(
						/fuzz-\d+\.jsonl: \d+ problem\(s\), nothing was loaded/
					);
					refused += 1;
				}
			}
		}
		for (const name of ['golden-v2 .jsonl', 'golden\u200b-v2.jsonl', 'GOLDEN-V2.jsonl', '../x.jsonl', '.jsonl']) {
			await expect(importDataset(db, name, canonicalJsonl(goldenV2().traces)), name).rejects.toThrow(/rename the file/);
			n++;
		}
		expect(n).toBeGreaterThanOrEqual(60);
		expect(refused).toBeGreaterThan(30);
		const list = await importedDatasets(db);
		expect(list.length).toBe(stored);
		console.log(`datasets: ${n} mutated, ${refused + 5} refused with a reason, ${stored} stored`);
	});

	it('a dataset never changes under its name: the same traces again change nothing, other traces get a new name', async () => {
		const a = canonicalJsonl(goldenV2().traces.slice(0, 3));
		const b = canonicalJsonl(goldenV2().traces.slice(3, 6));
		const first = await importDataset(db, 'mine.jsonl', a);
		expect(first.outcome).toBe('new');
		expect((await importDataset(db, 'mine.jsonl', a)).outcome).toBe('same');
		const other = await importDataset(db, 'mine.jsonl', b);
		expect(other.outcome).toBe('renamed');
		expect(other.manifest.key).toBe(`mine-${other.manifest.sha256.slice(0, 8)}`);
		expect((await db.datasets.get('mine'))!.manifest.sha256).toBe(first.manifest.sha256);
	});

	it('refuses a zip bomb from its directory, without inflating it, and skips entries that are not bundle files', async () => {
		const bomb = zipSync(
			{ ...bundleFiles, 'run/metrics.jsonl': new Uint8Array(50 * 2 ** 20).fill(0x0a) },
			{ level: 9 }
		);
		expect(bomb.length).toBeLessThan(2 ** 20);
		const before = await counts();
		await expect(importBundle(db, bomb, 'bomb.zip')).rejects.toThrow(
			/^bomb\.zip: refused without inflating it: run\/metrics\.jsonl inflates \d+× /
		);
		expect(await counts()).toEqual(before);
		// entries that are not bundle files (a path outside the folder, a stray file) are not even inflated
		const run = JSON.parse(new TextDecoder().decode(bundleFiles['run/run.json']));
		const extra = zipSync({
			...bundleFiles,
			'run/run.json': strToU8(JSON.stringify({ ...run, id: 'with-extras' })),
			'../../escape.txt': strToU8('x'),
			'run/notes.bin': new Uint8Array(50 * 2 ** 20)
		});
		expect(await importBundle(db, extra, 'extras.zip')).toEqual({ kind: 'run', id: 'with-extras' });
	});

	it('refuses a bundle entry with an unsafe path or outside a run folder, naming it, instead of dropping it', async () => {
		const ck = Object.keys(bundleFiles).find((f) => f.endsWith('.safetensors'))!;
		const name = ck.slice('run/'.length);
		const before = await counts();
		const traversal = { ...bundleFiles, [`run/../run/${name}`]: bundleFiles[ck] };
		delete (traversal as Record<string, Uint8Array>)[ck];
		await expect(importBundle(db, zipSync(traversal), 'dots.zip')).rejects.toThrow(
			`dots.zip: the entry "run/../run/${name}" has a path a bundle never writes`
		);
		const stray = { ...bundleFiles, [`elsewhere/${name}`]: bundleFiles[ck] };
		await expect(importBundle(db, zipSync(stray), 'stray.zip')).rejects.toThrow(
			`stray.zip: elsewhere/${name} is not in a run's folder`
		);
		expect(await counts()).toEqual(before);
	});

	it('imports a run zipped before its training started as interrupted and resumable, saying so', async () => {
		const run = json('run.json') as { [k: string]: Json };
		const pending = { ...run, id: 'was-pending', status: 'pending', started: null, finished: null };
		const files = { 'run/run.json': strToU8(JSON.stringify(pending)) };
		expect(await importBundle(db, zipSync(files), 'pending.zip')).toEqual({ kind: 'run', id: 'was-pending' });
		const stored = await db.runs.get('was-pending');
		expect(stored!.status).toBe('interrupted');
		expect(stored!.error).toMatch(/taken before its training started.*Resume continues it here/);
	});

	it('a record damaged in storage reads as damaged, and the others still read', async () => {
		const files = unzipSync(zipSync(bundleFiles));
		const id = await importBundle(db, zipSync(files), 'sound.zip').then(
			(r) => r.id,
			() => 'run'
		); // present already if imported above
		await db.runs.put({ ...(await db.runs.toCollection().first())!, id: 'damaged-1', provenance: undefined as never });
		const listed = await listRuns(db);
		const damaged = listed.find((e) => e.id === 'damaged-1')!;
		expect(damaged.ok).toBe(false);
		expect(!damaged.ok && damaged.problems).toEqual(['provenance: missing key']);
		expect(listed.filter((e) => e.ok).length).toBeGreaterThan(0);
		expect(id).toBeTruthy();
	});
});
