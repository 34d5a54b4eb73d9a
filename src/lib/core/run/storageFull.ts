// The one storage failure the run driver acts on: a RunStorage (IndexedDB, a disk) throws it when
// the device is full, and the run records error_kind "storage-full", so the experiment queue
// pauses instead of failing every point after it.

/** The browser refused a write because the origin's storage quota is used up. */
export class StorageFullError extends Error {
	constructor(usedBytes: number | null, quotaBytes: number | null) {
		const mb = (b: number | null) => (b === null ? '?' : (b / 1e6).toFixed(1));
		super(
			`Storage full: ${mb(usedBytes)} MB used of ${mb(quotaBytes)} MB. Delete old runs or checkpoints (or lower checkpoint.keep_last), then resume.`
		);
		this.name = 'StorageFullError';
	}
}
