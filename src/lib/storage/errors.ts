// Storage failures in words a user can act on.

import { CheckpointFormatError } from '../core/checkpoint/safetensors';
import { StorageFullError } from '../core/run/storageFull';

/** The run was deleted (in this tab or another) while a trainer or evaluation still worked on it. */
export class RunDeletedError extends Error {
	constructor(runId: string) {
		super(`run ${runId} was deleted while it was being worked on; nothing more was stored`);
		this.name = 'RunDeletedError';
	}
}

/** A stored checkpoint whose bytes do not match their checksums: damaged, as a bad file is. */
export class CorruptCheckpointError extends CheckpointFormatError {}

/** True for QuotaExceededError, also when Dexie wraps it (AbortError, OpenFailedError, BulkError …). */
export function isQuotaError(err: unknown, depth = 0): boolean {
	if (!err || typeof err !== 'object' || depth > 5) return false;
	const e = err as { name?: string; inner?: unknown; cause?: unknown; failures?: unknown[]; message?: string };
	if (e.name === 'QuotaExceededError' || e.name === 'QuotaExceeded') return true;
	if (typeof e.message === 'string' && /QuotaExceeded/i.test(e.message)) return true;
	return (
		isQuotaError(e.inner, depth + 1) ||
		isQuotaError(e.cause, depth + 1) ||
		(Array.isArray(e.failures) && e.failures.some((f) => isQuotaError(f, depth + 1)))
	);
}

/** Rethrows quota errors as StorageFullError with the numbers from navigator.storage.estimate(). */
export async function translateStorageError(err: unknown): Promise<never> {
	if (!isQuotaError(err)) throw err;
	let usage: number | null = null;
	let quota: number | null = null;
	try {
		const est = await globalThis.navigator?.storage?.estimate?.();
		usage = est?.usage ?? null;
		quota = est?.quota ?? null;
	} catch {
		// estimate unavailable: the message says "?"
	}
	throw new StorageFullError(usage, quota);
}
