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
	if (url.origin !== appRoot.origin)
		throw new Error(
			`${url.origin} is another site, and this lab's Content-Security-Policy only fetches from its own ` +
				`(${appRoot.origin}). Download the bundle and import it on the Lab page, or serve it from this site.`
		);
	return url;
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
