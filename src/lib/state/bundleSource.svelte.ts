// A run or experiment bundle opened read-only from a URL (`/run/?bundle=…`, `/experiment/?bundle=…`):
// fetched from this site, read and checked in memory (storage/bundles.ts readBundle), never
// stored unless the visitor imports it. The lab's Content-Security-Policy lets pages fetch from
// their own origin only (docs/deploy.md), so another site's URL is refused with what to do instead.

import { bundleUrl, fetchBundleBytes } from './bundleUrl';
import { BUNDLE_LIMITS, readBundle, type Bundle } from '../storage/bundles';

export class BundleSource {
	/** The bundle once read; null while loading or after an error. */
	bundle = $state<Bundle | null>(null);
	error = $state<string | null>(null);
	/** The bundle's absolute address, once checked. */
	href = $state<string | null>(null);
	/** The file's bytes (for Import into this lab). */
	bytes: Uint8Array | null = null;
	/** The file's name, from its address. */
	readonly name: string;

	constructor(
		readonly param: string,
		appRoot: URL
	) {
		this.name = param.split('/').pop() || 'bundle.zip'; // searchParams decoded it already
		void this.load(appRoot);
	}

	private async load(appRoot: URL): Promise<void> {
		try {
			const url = bundleUrl(this.param, appRoot);
			this.href = url.href;
			this.bytes = await fetchBundleBytes(url, BUNDLE_LIMITS.totalBytes);
			this.bundle = readBundle(this.bytes, this.name);
		} catch (err) {
			this.error = (err as Error).message;
		}
	}
}
