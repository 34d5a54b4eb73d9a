// A sweep's grid: `--grid run.seed=1,2,3 --grid data.dataset=a,b` is every combination of the
// listed values, one run each, applied to a base config YAML. Shared by the CLI's `npm run sweep`
// and (later) the browser's sweeps.

import { parse } from 'yaml';
import { setYamlValue } from '../config';

/** One axis of the grid: a config key path and the values it takes. */
export interface GridAxis {
	/** e.g. ['run', 'seed'] */
	path: string[];
	/** Values as YAML reads them: 1e-3 is a number, golden-v2 a string. */
	values: unknown[];
}

/** One run of the sweep: the value of every axis. */
export interface GridPoint {
	/** `key.path` → value, in axis order. */
	values: Record<string, unknown>;
	/** A name for its directory and its run, e.g. "run.seed=1,train.lr=0.001". */
	name: string;
	/** Its arm: the values of every axis but run.seed (seeds are repeats of one arm). */
	arm: string;
}

/** Parses `key.path=v1,v2,…`; throws saying what is wrong. */
export function parseGridAxis(text: string): GridAxis {
	const eq = text.indexOf('=');
	if (eq <= 0) throw new Error(`--grid ${text}: write it as key.path=value1,value2 (e.g. run.seed=1,2,3)`);
	const path = text.slice(0, eq).trim().split('.');
	if (path.some((p) => !/^[a-z_]+$/.test(p)) || path.length !== 2)
		throw new Error(`--grid ${text}: the key is group.key, as in the config (e.g. train.lr)`);
	const raw = text
		.slice(eq + 1)
		.split(',')
		.map((v) => v.trim());
	if (raw.length === 0 || raw.some((v) => v === '')) throw new Error(`--grid ${text}: list values separated by commas`);
	const values = raw.map((v) => parse(v) as unknown);
	// compared as read: 1e-3 and 0.001 are the same value
	if (new Set(values.map((v) => JSON.stringify(v))).size !== values.length)
		throw new Error(`--grid ${text}: a value is listed twice`);
	return { path, values };
}

/** Every combination of the axes' values, the first axis varying slowest. */
export function expandGrid(axes: GridAxis[]): GridPoint[] {
	const keys = axes.map((a) => a.path.join('.'));
	if (new Set(keys).size !== keys.length) throw new Error(`--grid: ${keys.join(', ')} names a key twice`);
	let points: Record<string, unknown>[] = [{}];
	for (const [i, axis] of axes.entries())
		points = points.flatMap((p) => axis.values.map((v) => ({ ...p, [keys[i]]: v })));
	return points.map((values) => {
		const shown = (entries: [string, unknown][]) => entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
		const all = Object.entries(values);
		return { values, name: shown(all), arm: shown(all.filter(([k]) => k !== 'run.seed')) || '(all)' };
	});
}

/** The base config YAML with a point's values set (comments and layout kept). */
export function configForPoint(baseYaml: string, point: GridPoint): string {
	let yaml = baseYaml;
	for (const [key, value] of Object.entries(point.values)) yaml = setYamlValue(yaml, key.split('.'), value);
	return yaml;
}
