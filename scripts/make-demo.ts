// Builds the demo bundles shipped in static/demo/ (docs/deploy.md "Demo data") from CLI run
// directories: the full golden-v2 run (with its final checkpoint, so an import can be generated
// from in the Playground) and the reasoning-trace ablation as an experiment bundle (two arms ×
// three seeds, metrics and evaluations only). The runs are the ones docs/results report.
//
//   npm run demo-data -- <golden-v2 run dir> <steps sweep dir> <no-steps sweep dir>
//   e.g. artifacts/checkpoints/golden-v2-run artifacts/abl/sweep-steps artifacts/abl/sweep-no_steps

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import type { RunRecord } from '../src/lib/core/run/record';
import type { ExperimentPoint, ExperimentRecord } from '../src/lib/core/experiment/experiment';

const [fullRun, stepsSweep, noStepsSweep] = process.argv.slice(2);
if (!noStepsSweep) {
	console.error('usage: npm run demo-data -- <golden-v2 run dir> <steps sweep dir> <no-steps sweep dir>');
	process.exit(2);
}
const out = 'static/demo';
mkdirSync(out, { recursive: true });
const TEXT_FILES = ['run.json', 'metrics.jsonl', 'eval.json'];

/** A run directory's files in a folder named after its run id; the newest checkpoint if asked. */
function runEntries(dir: string, withCheckpoint: boolean) {
	const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
	const entries: Record<string, Uint8Array> = {};
	for (const f of TEXT_FILES) if (existsSync(join(dir, f))) entries[`${run.id}/${f}`] = readFileSync(join(dir, f));
	if (withCheckpoint) {
		const last = readdirSync(dir)
			.filter((f) => /^checkpoint-step\d+\.safetensors$/.test(f))
			.sort((a, b) => stepOf(a) - stepOf(b))
			.at(-1);
		if (last) entries[`${run.id}/${last}`] = readFileSync(join(dir, last));
	}
	return { run, entries };
}

const stepOf = (file: string) => Number(/\d+/.exec(file)?.[0]);

function write(name: string, entries: Record<string, Uint8Array>) {
	const zip = zipSync(entries, { level: 9 });
	writeFileSync(join(out, name), zip);
	console.log(`${join(out, name)}: ${(zip.length / 1e6).toFixed(2)} MB`);
}

write('golden-v2-full.zip', runEntries(fullRun, true).entries);

// the ablation: one point per (dataset, seed), in the order the runs were made
const entries: Record<string, Uint8Array> = {};
const points: ExperimentPoint[] = [];
let created = '';
for (const sweep of [stepsSweep, noStepsSweep])
	for (const d of readdirSync(sweep)
		.filter((f) => /^run\.seed=\d+$/.test(f))
		.sort()) {
		const { run, entries: files } = runEntries(join(sweep, d), false);
		Object.assign(entries, files);
		const dataset = run.config.data.dataset;
		const seed = run.config.run.seed;
		created = created && created < run.created ? created : run.created;
		points.push({
			name: `data.dataset=${dataset},run.seed=${seed}`,
			arm: `data.dataset=${dataset}`,
			values: { 'data.dataset': dataset, 'run.seed': seed },
			run_id: run.id,
			error: null,
			resume: false
		});
	}
const experiment: ExperimentRecord = {
	id: 'exp-reasoning-trace-ablation',
	name: 'Reasoning-trace ablation (3-digit addition)',
	created,
	config_name: 'add3_steps.yaml',
	// each arm's runs carry their own config (the no-steps arm also evaluates on the no-steps sets)
	base_yaml: readFileSync('configs/add3_steps.yaml', 'utf8'),
	axes: [
		{ key: 'data.dataset', values: [...new Set(points.map((p) => p.values['data.dataset']))] },
		{ key: 'run.seed', values: [...new Set(points.map((p) => p.values['run.seed']))] }
	],
	state: 'running',
	points
};
entries['experiment.json'] = strToU8(JSON.stringify(experiment, null, 2) + '\n');
write('reasoning-trace-ablation.zip', entries);
