#!/usr/bin/env node
// A plain static file server, as a static host (GitHub Pages) behaves: files under a base path,
// "/x" → x.html, "/x/" → x/index.html ("/x" to a folder redirects to "/x/", query kept), anything
// else → the 404.html fallback with status 404. No special headers unless a site asks for
// cross-origin isolation.
//   node scripts/static-server.mjs PORT:BASE:DIR[:isolated] [...]
//   e.g. node scripts/static-server.mjs 4174:/lab:build-lab
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

/** @type {Record<string, string>} */
const TYPES = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript',
	'.mjs': 'text/javascript',
	'.css': 'text/css',
	'.json': 'application/json',
	'.wasm': 'application/wasm',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.txt': 'text/plain',
	'.webmanifest': 'application/manifest+json'
};

/** @param {string} dir @param {string} rel @returns {string | null} */
function resolveFile(dir, rel) {
	const path = normalize(join(dir, rel));
	if (!path.startsWith(normalize(dir))) return null;
	for (const candidate of [path, `${path}.html`, join(path, 'index.html')]) {
		if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
	}
	return null;
}

/**
 * Starts one site; resolves with the http.Server once it listens.
 * @param {{ port: number, base: string, dir: string, isolated?: boolean }} site
 * @returns {Promise<import('node:http').Server>}
 */
export function serveStatic({ port, base, dir, isolated = false }) {
	const prefix = base.replace(/\/$/, '');
	const server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const headers = isolated
			? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
			: {};
		const path = decodeURIComponent(url.pathname);
		const folder = normalize(join(dir, path.slice(prefix.length)));
		if (!path.endsWith('/') && folder.startsWith(normalize(dir)) && existsSync(join(folder, 'index.html'))) {
			res.writeHead(301, { Location: `${url.pathname}/${url.search}`, ...headers });
			res.end();
			return;
		}
		let file = path === prefix || path.startsWith(`${prefix}/`) ? resolveFile(dir, path.slice(prefix.length)) : null;
		let status = 200;
		if (!file) {
			file = join(dir, '404.html');
			status = 404;
		}
		res.writeHead(status, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', ...headers });
		createReadStream(file).pipe(res);
	});
	return new Promise((resolve) => server.listen(port, () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const sites = process.argv.slice(2);
	if (sites.length === 0) {
		console.error('usage: node scripts/static-server.mjs PORT:BASE:DIR[:isolated] [...]');
		process.exit(2);
	}
	for (const site of sites) {
		const [port, base, dir, flag] = site.split(':');
		if (!existsSync(dir)) {
			console.error(`static-server: ${dir} does not exist; build it first (npm run build)`);
			process.exit(1);
		}
		await serveStatic({ port: Number(port), base, dir, isolated: flag === 'isolated' });
		console.log(`serving ${dir} at http://localhost:${port}${base}`);
	}
}
