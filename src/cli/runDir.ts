// A run directory on disk (the CLI's storage): checkpoint-step{N}.safetensors, metrics.jsonl,
// run.json (and eval.json). Every write is atomic.

import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../lib/core/run/record';
import { writeFileAtomic } from './files';

export const checkpointName = (step: number) => `checkpoint-step${step}.safetensors`;

export class RunDir {
	constructor(readonly dir: string) {}

	path(name: string): string {
		return join(this.dir, name);
	}

	/** Checkpoint steps present, ascending. */
	checkpointSteps(): number[] {
		if (!existsSync(this.dir)) return [];
		return readdirSync(this.dir)
			.map((f) => /^checkpoint-step(\d+)\.safetensors$/.exec(f))
			.filter((m): m is RegExpExecArray => m !== null)
			.map((m) => Number(m[1]))
			.sort((a, b) => a - b);
	}

	hasRun(): boolean {
		return existsSync(this.path('run.json')) || this.checkpointSteps().length > 0;
	}

	readRun(): RunRecord | null {
		const p = this.path('run.json');
		if (!existsSync(p)) return null;
		try {
			return JSON.parse(readFileSync(p, 'utf8')) as RunRecord;
		} catch (err) {
			throw new Error(`${p}: not valid JSON (${(err as Error).message}); restore it or start a new run directory`, {
				cause: err
			});
		}
	}

	writeRun(run: RunRecord): void {
		writeFileAtomic(this.path('run.json'), JSON.stringify(run, null, 2) + '\n');
	}

	writeCheckpoint(step: number, bytes: Uint8Array): { file: string; bytes: number } {
		const file = checkpointName(step);
		writeFileAtomic(this.path(file), bytes);
		return { file, bytes: statSync(this.path(file)).size };
	}

	readCheckpoint(step: number): Uint8Array {
		return new Uint8Array(readFileSync(this.path(checkpointName(step))));
	}

	deleteCheckpoint(step: number): void {
		rmSync(this.path(checkpointName(step)), { force: true });
	}

	/** metrics.jsonl lines as objects (blank lines skipped). */
	readMetrics(): Record<string, unknown>[] {
		const p = this.path('metrics.jsonl');
		if (!existsSync(p)) return [];
		return readFileSync(p, 'utf8')
			.split('\n')
			.filter((l) => l.trim() !== '')
			.map((l, i) => {
				try {
					return JSON.parse(l) as Record<string, unknown>;
				} catch {
					throw new Error(`${p}:${i + 1}: not valid JSON`);
				}
			});
	}

	writeFile(name: string, text: string): void {
		writeFileAtomic(this.path(name), text);
	}

	writeMetrics(lines: readonly object[]): void {
		writeFileAtomic(this.path('metrics.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
	}
}
