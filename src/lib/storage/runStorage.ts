// The browser's RunStorage: one run's record, metrics, checkpoints and evaluation in IndexedDB.

import type { EvalJson, EvalLine } from '../core/eval/evalJson';
import type { CheckpointCommit, RunStorage } from '../core/run/driver';
import type { RunRecord } from '../core/run/record';
import type { StepMetrics } from '../core/train/metrics';
import { CheckpointRepo } from './checkpoints';
import type { LabDb } from './db';
import { RunDeletedError, translateStorageError } from './errors';
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

	/** Stores a new run (the user's notes start empty). */
	async createRun(run: RunRecord): Promise<void> {
		await guarded(() => this.db.runs.add({ ...run, notes: '' }));
	}

	/**
	 * Updates the trainer's fields of the stored run, never the user's (name, notes): a rename in
	 * another tab survives. A run deleted meanwhile is not brought back: RunDeletedError.
	 */
	async saveRun(run: RunRecord): Promise<void> {
		await guarded(() => this.updateRun(run));
	}

	private async updateRun(run: RunRecord): Promise<void> {
		// the user's fields stay theirs: a stored row read by a job carries its notes too
		const { name: _name, notes: _notes, ...fields } = run as RunRecord & { notes?: string };
		const changed = await this.db.runs.update(run.id, fields);
		if (changed === 0 && !(await this.db.runs.get(run.id))) throw new RunDeletedError(run.id);
	}

	async commitCheckpoint({ step, bytes, metrics, run, drop }: CheckpointCommit): Promise<void> {
		await this.checkpoints.write(this.runId, step, bytes, {
			commitWith: async () => {
				await this.db.metrics.bulkAdd(metrics.map((line) => ({ runId: this.runId, step: line.step, line })));
				for (const old of drop) await this.db.checkpoints.delete([this.runId, old]);
				await this.updateRun(run);
			}
		});
		// the dropped checkpoints are invisible now; their chunks go (or the next cleanup takes them)
		for (const old of drop) await this.checkpoints.delete(this.runId, old);
	}

	async checkpointSteps(): Promise<number[]> {
		return (await this.checkpoints.list(this.runId)).map((c) => c.step);
	}

	readCheckpoint(step: number): Promise<Uint8Array> {
		return this.checkpoints.read(this.runId, step);
	}

	async appendMetrics(lines: StepMetrics[]): Promise<void> {
		await guarded(() =>
			this.db.transaction('rw', this.db.metrics, this.db.runs, async () => {
				if (!(await this.db.runs.get(this.runId))) throw new RunDeletedError(this.runId);
				await this.db.metrics.bulkAdd(lines.map((line) => ({ runId: this.runId, step: line.step, line })));
			})
		);
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
