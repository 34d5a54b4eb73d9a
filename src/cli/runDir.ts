// A run directory on disk — the CLI's RunStorage: checkpoint-step{N}.safetensors, metrics.jsonl,
// run.json and eval.json. Every write goes to a temporary name and is renamed into place.

import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { latestEvaluation, type EvalJson, type LatestEvaluation } from '../lib/core/eval/runEvaluation';
import { evalJsonText, metricsJsonlText, runJsonText } from '../lib/core/run/artifacts';
import type { RunStorage } from '../lib/core/run/driver';
import type { RunRecord } from '../lib/core/run/record';
import type { StepMetrics } from '../lib/core/train/trainer';
import { writeFileAtomic } from './files';

export const checkpointName = (step: number) => `checkpoint-step${step}.safetensors`;

type MetricLine = Record<string, unknown>;
const isEvalLine = (m: MetricLine) => 'split' in m;

export class RunDir implements RunStorage {
	private lines: MetricLine[] | null = null;

	constructor(readonly dir: string) {}

	path(name: string): string {
		return join(this.dir, name);
	}

	hasRun(): boolean {
		return existsSync(this.path('run.json')) || this.steps().length > 0;
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

	/** getLatestEvaluation for the CLI: the newest evaluation summary in eval.json, or null. */
	getLatestEvaluation(): LatestEvaluation | null {
		const p = this.path('eval.json');
		return existsSync(p) ? latestEvaluation(JSON.parse(readFileSync(p, 'utf8')) as EvalJson) : null;
	}

	/** Checkpoint steps present, ascending. */
	steps(): number[] {
		if (!existsSync(this.dir)) return [];
		return readdirSync(this.dir)
			.map((f) => /^checkpoint-step(\d+)\.safetensors$/.exec(f))
			.filter((m): m is RegExpExecArray => m !== null)
			.map((m) => Number(m[1]))
			.sort((a, b) => a - b);
	}

	/** Every metrics.jsonl line (training steps and evaluation lines). */
	allMetrics(): MetricLine[] {
		if (this.lines) return this.lines;
		const p = this.path('metrics.jsonl');
		if (!existsSync(p)) return (this.lines = []);
		this.lines = readFileSync(p, 'utf8')
			.split('\n')
			.filter((l) => l.trim() !== '')
			.map((l, i) => {
				try {
					return JSON.parse(l) as MetricLine;
				} catch (err) {
					throw new Error(`${p}:${i + 1}: not valid JSON`, { cause: err });
				}
			});
		return this.lines;
	}

	private writeMetricLines(lines: MetricLine[]): void {
		writeFileAtomic(
			this.path('metrics.jsonl'),
			metricsJsonlText(
				lines.filter((m) => !isEvalLine(m)),
				lines.filter(isEvalLine)
			)
		);
		this.lines = lines;
	}

	// RunStorage

	async saveRun(run: RunRecord): Promise<void> {
		writeFileAtomic(this.path('run.json'), runJsonText(run));
	}

	async writeCheckpoint(step: number, bytes: Uint8Array): Promise<{ file: string; bytes: number }> {
		const file = checkpointName(step);
		writeFileAtomic(this.path(file), bytes);
		return { file, bytes: statSync(this.path(file)).size };
	}

	async deleteCheckpoint(step: number): Promise<void> {
		rmSync(this.path(checkpointName(step)), { force: true });
	}

	async checkpointSteps(): Promise<number[]> {
		return this.steps();
	}

	async readCheckpoint(step: number): Promise<Uint8Array> {
		return new Uint8Array(readFileSync(this.path(checkpointName(step))));
	}

	async appendMetrics(lines: StepMetrics[]): Promise<void> {
		this.writeMetricLines([...this.allMetrics(), ...(lines as unknown as MetricLine[])]);
	}

	async truncateMetrics(step: number): Promise<void> {
		this.writeMetricLines(this.allMetrics().filter((m) => !isEvalLine(m) && (m.step as number) <= step));
	}

	async readMetrics(): Promise<StepMetrics[]> {
		return this.allMetrics().filter((m) => !isEvalLine(m)) as unknown as StepMetrics[];
	}

	async saveEvaluation(evalJson: EvalJson, lines: Record<string, unknown>[]): Promise<void> {
		writeFileAtomic(this.path('eval.json'), evalJsonText(evalJson));
		this.writeMetricLines([...this.allMetrics().filter((m) => !isEvalLine(m)), ...lines]);
	}
}
