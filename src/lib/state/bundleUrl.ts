// Bundles opened read-only from a URL (`/run/?bundle=…`, `/experiment/?bundle=…`): where the
// address points, and an experiment bundle as the Experiment page reads it.

import type { ExperimentView } from '../core/experiment/view';
import type { Bundle } from '../storage/bundles';

/**
 * The bundle's address: a path relative to the app's root (e.g. `demo/golden-v2-full.zip`), a
 * root-relative path, or an absolute URL on this site. Throws for another site's URL.
 */
export function bundleUrl(param: string, appRoot: URL): URL {
	let url: URL;
	try {
		url = new URL(param, appRoot);
	} catch (err) {
		throw new Error(`"${param}" is not a bundle address: give a path on this site, e.g. demo/golden-v2-full.zip`, {
			cause: err
		});
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:')
		throw new Error(
			`"${param}" is a ${url.protocol} address, not a file: give a path on this site, e.g. demo/golden-v2-full.zip`
		);
	if (url.origin !== appRoot.origin)
		throw new Error(
			`${url.origin} is another site, and this lab's Content-Security-Policy only fetches from its own ` +
				`(${appRoot.origin}). Download the bundle and import it on the Lab page, or serve it from this site.`
		);
	return url;
}

/**
 * The bundle's bytes from `url`, refused before they fill memory when larger than `limit`: by the
 * size the server announces, else while reading (the download stops there). Errors say what went
 * wrong and what to do.
 */
export async function fetchBundleBytes(url: URL, limit: number, get: typeof fetch = fetch): Promise<Uint8Array> {
	const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
	const tooLarge = (what: string) =>
		new Error(
			`${url.href} ${what}, more than a bundle holds (at most ${mb(limit)}): it is not a run or ` +
				'experiment bundle, or it holds too many checkpoints (export it with a lower checkpoint.keep_last)'
		);
	let res: Response;
	try {
		res = await get(url);
	} catch (err) {
		throw new Error(`fetching ${url.href} failed (${(err as Error).message}): check the address and the network`, {
			cause: err
		});
	}
	if (!res.ok) throw new Error(`${url.href}: the server answered ${res.status} ${res.statusText}`.trim());
	const announced = Number(res.headers.get('content-length'));
	if (announced > limit) throw tooLarge(`is ${mb(announced)}`);
	if (!res.body) return new Uint8Array(await res.arrayBuffer());
	const reader = res.body.getReader();
	const parts: Uint8Array[] = [];
	let total = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.length;
		if (total > limit) {
			await reader.cancel();
			throw tooLarge(`grew past ${mb(limit)} (the download was stopped there)`);
		}
		parts.push(value);
	}
	const bytes = new Uint8Array(total);
	let at = 0;
	for (const p of parts) {
		bytes.set(p, at);
		at += p.length;
	}
	return bytes;
}

/** An experiment bundle as the Experiment page reads it; null for a run bundle. */
export function experimentViewOf(bundle: Bundle): ExperimentView | null {
	if (!bundle.experiment) return null;
	return {
		experiment: bundle.experiment,
		runs: new Map(bundle.runs.map((b) => [b.run.id, b.run])),
		training: new Map(bundle.runs.map((b) => [b.run.id, b.metrics.training])),
		evaluation: new Map(bundle.runs.map((b) => [b.run.id, b.metrics.evaluation]))
	};
}
