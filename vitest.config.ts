import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

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

/**
 * The files that take longest start first, so that the two workers end together (on a fresh clone
 * vitest has no timings and starts the largest files first: curriculum.test.ts, short and 100 s
 * long, began last and ran alone for a minute). In the order of their time in CI (2 cores).
 */
const LONGEST_FIRST = ['finetune', 'curriculum', 'pretrained', 'webgpu', 'speed', 'cli', 'torch', 'hfExport'];

class LongestFirst extends BaseSequencer {
	override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
		const rank = (f: TestSpecification) => {
			const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(`/tests/${name}.test.ts`));
			return i < 0 ? LONGEST_FIRST.length : i;
		};
		return [...(await super.sort(files))].sort((a, b) => rank(a) - rank(b));
	}
}

export default defineConfig({
	test: {
		include: ['tests/**/*.test.ts'],
		exclude: ['tests/e2e/**', 'node_modules/**'],
		// tfjs-core's ES modules need Vite's resolver (extension-less imports), as in the browser
		server: { deps: { inline: [/@tensorflow\//] } },
		// both of CI's 2 cores (vitest's default leaves one idle): 264 s instead of 355 s there
		maxWorkers: 2,
		// and so the lab's wasm kernels run on one thread in each: two workers of two threads each
		// made four on two cores, whose waits spin (the curriculum's 800 wasm steps: 86 → 64 s).
		// tests/fusedKernels.test.ts runs them on a thread per core, as Node does by default.
		env: { LAB_WASM_THREADS: '1' },
		sequence: { sequencer: LongestFirst },
		testTimeout: 120_000,
		hookTimeout: 60_000
	}
});
