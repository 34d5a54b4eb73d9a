import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/**
 * Content-Security-Policy, delivered as a <meta> tag in every page (static hosts cannot set headers;
 * SvelteKit adds hashes for its own inline bootstrap script). Only what the lab needs:
 * - script-src: the app's own scripts; 'wasm-unsafe-eval' to compile the wasm backend; blob: for
 *   the threaded wasm backend, whose pthread workers load the backend's script from a Blob URL;
 * - worker-src: the training worker and the service worker ('self'), the wasm pthreads (blob:);
 * - img-src data: blob:: icons and chart exports; connect-src 'self': the wasm binaries and datasets,
 *   plus the hosts in MODEL_HOSTS (space-separated) a deployer allows the Models page to import from
 *   (docs/deploy.md "Importing models from the Hugging Face Hub").
 * - style-src-attr 'unsafe-inline': style attributes only (SvelteKit's route announcer and the body
 *   wrapper in app.html carry one); style sheets stay 'self'.
 */
const csp = {
	mode: 'hash',
	directives: {
		'default-src': ['self'],
		'script-src': ['self', 'wasm-unsafe-eval', 'blob:'],
		'worker-src': ['self', 'blob:'],
		'style-src': ['self'],
		'style-src-attr': ['unsafe-inline'],
		'img-src': ['self', 'data:', 'blob:'],
		'font-src': ['self'],
		'connect-src': ['self', ...(process.env.MODEL_HOSTS ?? '').split(/\s+/).filter(Boolean)],
		'object-src': ['none'],
		'base-uri': ['self'],
		'form-action': ['self']
	}
};

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// build/ by default; BUILD_DIR lets a second build (e.g. under BASE_PATH) sit beside it
		adapter: adapter({ pages: process.env.BUILD_DIR ?? 'build', fallback: '404.html' }),
		paths: { base: process.env.BASE_PATH ?? '' },
		csp
	}
};

export default config;
