/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
// Offline support and cross-origin isolation for static hosts.
// - Install caches the app shell: every built file (pages, scripts, the training worker) and
//   static/, and the wasm binaries the worker loads (found in its chunk: `build` omits them). After one visit the lab loads and trains with the network off.
// - Assets are served cache-first (their names carry content hashes); pages network-first, falling
//   back to the cached page (any route's page boots the SPA, so unknown paths get the fallback).
// - Every response it serves carries COOP/COEP, so the page is cross-origin isolated on hosts that
//   cannot set headers (GitHub Pages): from the second load on, the wasm backend can use threads.

import { build, files, prerendered, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `tunix-rt-lab-${version}`;
const SHELL = [...build, ...files, ...prerendered];
const IN_SHELL = new Set(SHELL);
/** The lab's root page: any page boots the single-page app, which then renders the URL's route. */
const FALLBACK = [...prerendered].sort((a, b) => a.length - b.length)[0];

/**
 * Files a worker loads that SvelteKit's `build` list leaves out: the wasm binaries of the training
 * worker (`new URL('assets/….wasm', import.meta.url)` in its chunk). Without them an offline
 * worker cannot start wasm.
 */
async function workerAssets(cache: Cache): Promise<string[]> {
	const out: string[] = [];
	for (const path of SHELL.filter((p) => /\/workers\/[^/]+\.js$/.test(p))) {
		const text = await (await cache.match(path))?.text();
		for (const [name] of text?.matchAll(/assets\/[\w.-]+\.wasm/g) ?? [])
			out.push(new URL(name, new URL(path, sw.location.origin)).pathname);
	}
	return [...new Set(out)];
}

sw.addEventListener('install', (event) => {
	event.waitUntil(
		caches
			.open(CACHE)
			.then(async (cache) => {
				await cache.addAll(SHELL);
				const extra = await workerAssets(cache);
				await cache.addAll(extra);
				for (const p of extra) IN_SHELL.add(p);
			})
			.then(() => sw.skipWaiting())
	);
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		caches
			.keys()
			.then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
			.then(() => sw.clients.claim())
	);
});

/** The response with COOP/COEP added (opaque and error responses pass through unchanged). */
function isolated(response: Response): Response {
	if (response.status === 0 || response.type === 'opaque') return response;
	const headers = new Headers(response.headers);
	headers.set('Cross-Origin-Opener-Policy', 'same-origin');
	headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
	return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function respond(request: Request): Promise<Response> {
	const cache = await caches.open(CACHE);
	const url = new URL(request.url);
	// the shell, and any content-hashed file (a worker's wasm), cache-first
	if (request.mode !== 'navigate' && (IN_SHELL.has(url.pathname) || url.pathname.includes('/_app/immutable/'))) {
		const hit = await cache.match(url.pathname);
		if (hit) return hit;
	}
	try {
		return await fetch(request);
	} catch (err) {
		const page =
			(await cache.match(url.pathname, { ignoreSearch: true })) ??
			(await cache.match(`${url.pathname.replace(/\/$/, '')}.html`)) ??
			(request.mode === 'navigate' && FALLBACK ? await cache.match(FALLBACK) : undefined);
		if (page) return page;
		throw err;
	}
}

sw.addEventListener('fetch', (event) => {
	const url = new URL(event.request.url);
	if (event.request.method !== 'GET' || url.origin !== sw.location.origin) return;
	event.respondWith(respond(event.request).then(isolated));
});
