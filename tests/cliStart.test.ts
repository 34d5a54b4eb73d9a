// Concurrent CLI starts share one build cache (node_modules/.cache/tunix-cli): each must build its
// own bundle and rename it into place, so no start reads another's half-written file (a
// SyntaxError, or worse an empty module that exits 0 having run nothing).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { goldenV2 } from '../src/lib/core/data/golden';

/** Runs `npm run export-dataset`'s entry; resolves with its exit code and output. */
function exportDataset(): Promise<{ code: number | null; out: string; err: string }> {
	return new Promise((done) => {
		const child = spawn('node', ['scripts/run-ts.mjs', 'src/cli/export-dataset.ts', 'golden-v2']);
		let [out, err] = ['', ''];
		child.stdout.on('data', (d) => (out += d));
		child.stderr.on('data', (d) => (err += d));
		child.on('close', (code) => done({ code, out, err }));
	});
}

describe('concurrent CLI starts', () => {
	it('each builds its own bundle: every start runs to the end and says so', { timeout: 120_000 }, async () => {
		const lines = goldenV2().traces.length;
		for (let round = 0; round < 3; round++) {
			const results = await Promise.all(Array.from({ length: 8 }, exportDataset));
			for (const r of results) {
				expect(r.err).toBe('');
				expect(r.code).toBe(0);
				expect(r.out.trim().split('\n')).toHaveLength(lines);
			}
		}
	});
});
