// Checkpoints in IndexedDB (docs/specification.md §9): bytes split into chunks of at most 8 MB, each with a sha256,
// written first; then one small transaction commits the metadata and makes the checkpoint visible.
// A checkpoint whose commit never happened is invisible, and its chunks are removed by cleanup().

import { CorruptCheckpointError, translateStorageError } from './errors';
import { withLock } from './locks';
import type { LabDb, StoredCheckpoint } from './db';

export const CHUNK_BYTES = 8 * 1024 * 1024;

// Writers (the worker, an import on the page, in any tab) hold this lock shared while they write
// chunks; cleanup holds it exclusively, so it never mistakes a write in progress for a dead one.
const WRITE_LOCK = 'tunix-rt-lab:checkpoint-writes';

export async function sha256Hex(data: Uint8Array): Promise<string> {
	const digest = await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
	return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface CheckpointWriteOptions {
	chunkBytes?: number;
	/** Runs inside the commit transaction (on the metrics and runs tables too): what must appear with the checkpoint. */
	commitWith?(): Promise<void>;
	/** Test hook: called before chunk k is written (throw to simulate a crash). */
	beforeChunk?(k: number): void;
}

export class CheckpointRepo {
	constructor(private readonly db: LabDb) {}

	write(runId: string, step: number, bytes: Uint8Array, opts: CheckpointWriteOptions = {}): Promise<StoredCheckpoint> {
		return withLock(WRITE_LOCK, () => this.writeChunks(runId, step, bytes, opts), 'shared');
	}

	private async writeChunks(
		runId: string,
		step: number,
		bytes: Uint8Array,
		opts: CheckpointWriteOptions
	): Promise<StoredCheckpoint> {
		const size = opts.chunkBytes ?? CHUNK_BYTES;
		const count = Math.max(1, Math.ceil(bytes.length / size));
		const checksums: string[] = [];
		try {
			// a rewrite of the same step starts invisible again
			await this.db.checkpoints.where({ runId, step }).modify({ committed: 0 });
			for (let k = 0; k < count; k++) {
				opts.beforeChunk?.(k);
				const data = bytes.slice(k * size, Math.min(bytes.length, (k + 1) * size));
				checksums.push(await sha256Hex(data));
				await this.db.chunks.put({ runId, step, index: k, data });
			}
			const meta: StoredCheckpoint = {
				runId,
				step,
				bytes: bytes.length,
				chunkCount: count,
				checksums,
				committed: 1,
				created: new Date().toISOString()
			};
			// the commit: the checkpoint becomes visible together with what belongs to it
			await this.db.transaction('rw', [this.db.checkpoints, this.db.metrics, this.db.runs], async () => {
				await this.db.checkpoints.put(meta);
				await opts.commitWith?.();
			});
			return meta;
		} catch (err) {
			return translateStorageError(err);
		}
	}

	/** Committed checkpoints of a run, ascending by step. */
	async list(runId: string): Promise<StoredCheckpoint[]> {
		const all = await this.db.checkpoints.where('runId').equals(runId).toArray();
		return all.filter((c) => c.committed === 1).sort((a, b) => a.step - b.step);
	}

	async read(runId: string, step: number): Promise<Uint8Array> {
		// metadata and chunks from one snapshot (a pruning commit cannot fall between them); the
		// checksums are computed after it, as WebCrypto's promises would end an IndexedDB transaction
		const [meta, chunks] = await this.db.transaction(
			'r',
			this.db.checkpoints,
			this.db.chunks,
			async () =>
				[
					await this.db.checkpoints.get([runId, step]),
					await this.db.chunks.where('[runId+step]').equals([runId, step]).sortBy('index')
				] as const
		);
		if (!meta || meta.committed !== 1) throw new Error(`run ${runId} has no checkpoint at step ${step}`);
		if (chunks.length !== meta.chunkCount) {
			throw new CorruptCheckpointError(
				`checkpoint step ${step} of run ${runId} is incomplete: ${chunks.length} of ${meta.chunkCount} chunks`
			);
		}
		const out = new Uint8Array(meta.bytes);
		let at = 0;
		for (const c of chunks) {
			if ((await sha256Hex(c.data)) !== meta.checksums[c.index]) {
				throw new CorruptCheckpointError(
					`checkpoint step ${step} of run ${runId} is corrupt: chunk ${c.index} does not match its checksum`
				);
			}
			out.set(c.data, at);
			at += c.data.length;
		}
		return out;
	}

	/** Uncommits first (one transaction), then removes the chunks. */
	async delete(runId: string, step: number): Promise<void> {
		await this.db.checkpoints.delete([runId, step]);
		await this.db.chunks.where('[runId+step]').equals([runId, step]).delete();
	}

	/** Removes chunks that belong to no committed checkpoint (writes cut short by a crash or close). */
	cleanup(): Promise<number> {
		return withLock(WRITE_LOCK, () => this.removeOrphans());
	}

	private async removeOrphans(): Promise<number> {
		const committed = new Set(
			(await this.db.checkpoints.where('committed').equals(1).toArray()).map((c) => `${c.runId}\u0000${c.step}`)
		);
		const orphans = await this.db.chunks.filter((c) => !committed.has(`${c.runId}\u0000${c.step}`)).primaryKeys();
		await this.db.chunks.bulkDelete(orphans);
		await this.db.checkpoints.where('committed').equals(0).delete();
		return orphans.length;
	}
}
