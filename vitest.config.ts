import { defineConfig } from 'vitest/config';

// Vitest 5's reporter calls Map.groupBy, which Node 20 lacks: without this, a failing test
// crashes the reporter instead of being printed.
if (!('groupBy' in Map)) {
	Object.defineProperty(Map, 'groupBy', {
		value<K, V>(items: Iterable<V>, key: (item: V, index: number) => K): Map<K, V[]> {
			const out = new Map<K, V[]>();
			let i = 0;
			for (const item of items) {
				const k = key(item, i++);
				const list = out.get(k);
				if (list) list.push(item);
				else out.set(k, [item]);
			}
			return out;
		}
	});
}

export default defineConfig({
	test: {
		include: ['tests/**/*.test.ts'],
		exclude: ['tests/e2e/**', 'node_modules/**'],
		// tfjs-core's ES modules need Vite's resolver (extension-less imports), as in the browser
		server: { deps: { inline: [/@tensorflow\//] } },
		// both of CI's 2 cores (vitest's default leaves one idle): 264 s instead of 355 s there
		maxWorkers: 2,
		testTimeout: 120_000,
		hookTimeout: 60_000
	}
});
