// A run directory on disk — the CLI's RunStorage: checkpoint-step{N}.safetensors, metrics.jsonl,
// run.json and eval.json. Every write goes to a temporary name and is renamed into place.

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalJson, EvalLine } from '../lib/core/eval/evalJson';
import {
	checkpointFileName,
	evalJsonText,
	metricsJsonlText,
	parseMetricsJsonl,
	runJsonText
} from '../lib/core/run/runFiles';
import type { CheckpointCommit, RunStorage } from '../lib/core/run/driver';
import { RunRecordSchema, type RunRecord } from '../lib/core/run/record';
import { checked } from '../lib/core/schema';
import type { StepMetrics } from '../lib/core/train/metrics';
import { writeFileAtomic } from './files';

/** metrics.jsonl as read: training lines, then evaluation lines. */
type Metrics = { training: StepMetrics[]; evaluation: EvalLine[] };

/** A JSON file's value; an unreadable one names the file and what to do. */
function readJson(path: string, fix: string): unknown {
	try {
		return JSON.parse(readFileSync(path, 'utf8'));
	} catch (err) {
		throw new Error(`${path}: not valid JSON (${(err as Error).message}); ${fix}`, { cause: err });
	}
}

export class RunDir implements RunStorage {
	private lines: Metrics | null = null;

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
		return checked(RunRecordSchema, readJson(p, 'restore it or start a new run directory'), p);
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

	/** Every metrics.jsonl line, checked (training steps and evaluation lines). */
	allMetrics(): Metrics {
		if (this.lines) return this.lines;
		const p = this.path('metrics.jsonl');
		this.lines = existsSync(p) ? parseMetricsJsonl(readFileSync(p, 'utf8'), p) : { training: [], evaluation: [] };
		return this.lines;
	}

	private writeMetricLines(lines: Metrics): void {
		writeFileAtomic(this.path('metrics.jsonl'), metricsJsonlText(lines.training, lines.evaluation));
		this.lines = lines;
	}

	// RunStorage

	async saveRun(run: RunRecord): Promise<void> {
		writeFileAtomic(this.path('run.json'), runJsonText(run));
	}

	/**
	 * Files are renamed into place one at a time, so the order makes a crash harmless: the metrics
	 * first (a resume from the older checkpoint truncates them), then the checkpoint, then run.json,
	 * then every checkpoint file that run.json no longer lists is removed.
	 */
	async commitCheckpoint({ step, bytes, metrics, run }: CheckpointCommit): Promise<void> {
		await this.appendMetrics(metrics);
		writeFileAtomic(this.path(checkpointFileName(step)), bytes);
		await this.saveRun(run);
		const kept = new Set(run.checkpoints.map((c) => c.step));
		for (const s of this.steps()) if (!kept.has(s)) rmSync(this.path(checkpointFileName(s)), { force: true });
	}

	async checkpointSteps(): Promise<number[]> {
		return this.steps();
	}

	async readCheckpoint(step: number): Promise<Uint8Array> {
		return new Uint8Array(readFileSync(this.path(checkpointFileName(step))));
	}

	async appendMetrics(lines: StepMetrics[]): Promise<void> {
		const { training, evaluation } = this.allMetrics();
		this.writeMetricLines({ training: [...training, ...lines], evaluation });
	}

	async truncateMetrics(step: number): Promise<void> {
		this.writeMetricLines({ training: this.allMetrics().training.filter((m) => m.step <= step), evaluation: [] });
	}

	async readMetrics(): Promise<StepMetrics[]> {
		return this.allMetrics().training;
	}

	async saveEvaluation(evalJson: EvalJson, lines: EvalLine[]): Promise<void> {
		writeFileAtomic(this.path('eval.json'), evalJsonText(evalJson));
		this.writeMetricLines({ training: this.allMetrics().training, evaluation: lines });
	}
}
