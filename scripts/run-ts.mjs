#!/usr/bin/env node
// Runs one of the Node entry points in src/cli/ (TypeScript) after bundling it with esbuild.
// Why a bundle: tfjs-core's ES modules use extension-less imports that Node cannot load, and its
// CommonJS build registers no gradients. Bundled (module field first, as Vite does for the
// browser), the CLI runs exactly the code the browser worker runs.
// Concurrent starts share the cache folder: each builds to a file of its own and renames it into
// place (atomic), and a bundle that did not run to its end never exits 0.
//   node scripts/run-ts.mjs src/cli/train.ts --config …
import { build } from 'esbuild';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
	console.error('usage: node scripts/run-ts.mjs <src/cli/file.ts> [args…]');
	process.exit(2);
}
const outDir = join(root, 'node_modules', '.cache', 'tunix-cli');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, basename(entry).replace(/\.ts$/, '.mjs'));
const building = `${outfile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
try {
	await build({
		entryPoints: [resolve(root, entry)],
		outfile: building,
		bundle: true,
		platform: 'node',
		format: 'esm',
		target: 'node20',
		mainFields: ['module', 'main'],
		// the optional WebGPU-for-Node package is native: load it at run time, never bundle it
		external: ['webgpu'],
		logLevel: 'error',
		// no source map: Node applies one only under --enable-source-maps, and inline it made every
		// start parse twice the text (train.ts 1.54 → 0.9 s a start); the bundle is not minified
		sourcemap: false,
		banner: {
			js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
		},
		// runs once the entry's top-level code has: a bundle without it did not run
		footer: { js: 'globalThis.__tunixBundleRan = true;' }
	});
	renameSync(building, outfile);
} catch (err) {
	rmSync(building, { force: true });
	console.error(`cannot build ${entry}: ${err instanceof Error ? err.message : String(err)}`);
	process.exit(1);
}
process.argv = [process.argv[0], resolve(root, entry), ...args];
await import(pathToFileURL(outfile).href);
if (!Reflect.get(globalThis, '__tunixBundleRan')) {
	console.error(`${entry}: its bundle (${outfile}) ended before its last line ran: run the command again`);
	process.exit(70);
}
