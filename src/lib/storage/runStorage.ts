// The browser's RunStorage: one run's record, metrics, checkpoints and evaluation in IndexedDB.

import type { EvalJson, EvalLine } from '../core/eval/evalJson';
import type { RunStorage } from '../core/run/driver';
import type { RunRecord } from '../core/run/record';
import type { StepMetrics } from '../core/train/metrics';
import { CheckpointRepo } from './checkpoints';
import type { LabDb, StoredRun } from './db';
import { translateStorageError } from './errors';
import { trainingMetrics } from './queries';

async function guarded<T>(work: () => Promise<T>): Promise<T> {
	try {
		return await work();
	} catch (err) {
		return translateStorageError(err);
	}
}

export class IdbRunStorage implements RunStorage {
	private readonly checkpoints: CheckpointRepo;

	constructor(
		private readonly db: LabDb,
		readonly runId: string
	) {
		this.checkpoints = new CheckpointRepo(db);
	}

	async saveRun(run: RunRecord): Promise<void> {
		await guarded(async () => {
			const old = await this.db.runs.get(run.id);
			await this.db.runs.put({ ...run, notes: (old as StoredRun | undefined)?.notes ?? '' });
		});
	}

	async writeCheckpoint(step: number, bytes: Uint8Array): Promise<{ file: string; bytes: number }> {
		const meta = await this.checkpoints.write(this.runId, step, bytes);
		return { file: `checkpoint-step${step}.safetensors`, bytes: meta.bytes };
	}

	deleteCheckpoint(step: number): Promise<void> {
		return this.checkpoints.delete(this.runId, step);
	}

	async checkpointSteps(): Promise<number[]> {
		return (await this.checkpoints.list(this.runId)).map((c) => c.step);
	}

	readCheckpoint(step: number): Promise<Uint8Array> {
		return this.checkpoints.read(this.runId, step);
	}

	async appendMetrics(lines: StepMetrics[]): Promise<void> {
		await guarded(() => this.db.metrics.bulkAdd(lines.map((line) => ({ runId: this.runId, step: line.step, line }))));
	}

	async truncateMetrics(step: number): Promise<void> {
		await this.db.metrics
			.where('runId')
			.equals(this.runId)
			.filter((m) => m.split !== undefined || m.step > step)
			.delete();
	}

	async readMetrics(): Promise<StepMetrics[]> {
		return (await trainingMetrics(this.db, this.runId)).lines;
	}

	async saveEvaluation(evalJson: EvalJson, lines: EvalLine[]): Promise<void> {
		await guarded(() =>
			this.db.transaction('rw', this.db.evaluations, this.db.metrics, async () => {
				await this.db.evaluations.put({ runId: this.runId, evalJson });
				await this.db.metrics
					.where('runId')
					.equals(this.runId)
					.filter((m) => m.split !== undefined)
					.delete();
				await this.db.metrics.bulkAdd(
					lines.map((line) => ({ runId: this.runId, step: line.step, split: line.split, line }))
				);
			})
		);
	}
}
