// WebGPU errors made loud. A WebGPU validation or out-of-memory error does not throw: the device
// drops the failing command buffer — every op queued with it — and reports the error as an
// `uncapturederror` event that tfjs never listens to. Training then reads back zeros and goes on
// (the loss-0 bug), or a read-back queued in the dropped buffer never resolves (docs/performance.md,
// "WebGPU"). The trainer and the evaluation watch the active device: a read-back fails with a
// GpuError as soon as the device reports an error.

import * as tf from '@tensorflow/tfjs-core';

/** What kind of WebGPU error the device reported. */
export type GpuErrorKind = 'validation' | 'out-of-memory' | 'internal' | 'device-lost';

/** A WebGPU error reported by the device: the results of the work queued with it are lost. */
export class GpuError extends Error {
	constructor(
		/** Validation, out-of-memory, internal, or the device was lost. */
		readonly kind: GpuErrorKind,
		/** The device's own message. */
		readonly deviceMessage: string,
		/** What was running (e.g. "training step 3"). */
		readonly where: string
	) {
		const first = deviceMessage.split('\n')[0].replace(/\.$/, '') || 'no reason given';
		super(
			kind === 'device-lost'
				? `WebGPU device lost during ${where}: ${first}. The checkpoints so far are kept; resume the run on another backend (wasm).`
				: `WebGPU ${kind} error during ${where}: ${first}. ` +
						'The GPU dropped that work, so its results cannot be trusted; nothing from it was stored. ' +
						'Resume on the wasm backend, and report the message if it repeats.'
		);
		this.name = 'GpuError';
	}
}

/** The part of a GPUDevice this module uses. */
interface ErrorSource {
	addEventListener(type: 'uncapturederror', listener: (e: { error: { message: string } }) => void): void;
	/** Resolves when the device is lost (destroyed, driver reset, GPU removed). */
	lost: Promise<{ message: string; reason?: string }>;
}

/** An error the device reported that no read-back has failed with yet. */
interface Reported {
	kind: GpuErrorKind;
	message: string;
}

/** How long a failed read-back waits for the device to report its loss. */
const LOSS_GRACE_MS = 200;

const watched = new WeakSet<object>();
/** The watched device's loss, once it is lost (a destroyed device rejects read-backs first). */
let lostWith: Reported | null = null;
let pending: Reported | null = null;
/** Read-backs in flight, each failed by the next reported error. */
const waiters = new Set<(r: Reported) => void>();

function kindOf(error: object): GpuErrorKind {
	const name = error.constructor?.name ?? '';
	if (name.includes('OutOfMemory')) return 'out-of-memory';
	if (name.includes('Internal')) return 'internal';
	return 'validation';
}

function report(r: Reported): void {
	if (waiters.size === 0) {
		pending ??= r;
		return;
	}
	for (const fail of waiters) fail(r);
	waiters.clear();
}

/** The active backend's WebGPU device, or null on other backends. */
export function activeGpuDevice(): (ErrorSource & object) | null {
	if (tf.getBackend() !== 'webgpu') return null;
	return (tf.backend() as unknown as { device?: ErrorSource & object }).device ?? null;
}

/** Starts collecting the active WebGPU device's uncaptured errors (once per device; no-op elsewhere). */
export function watchGpuErrors(): void {
	const device = activeGpuDevice();
	if (!device || watched.has(device)) return;
	watched.add(device);
	device.addEventListener('uncapturederror', (e) => report({ kind: kindOf(e.error), message: e.error.message }));
	lostWith = null;
	void device.lost.then((info) => {
		lostWith = { kind: 'device-lost', message: info.message || info.reason || '' };
		report(lostWith);
	});
}

/** Throws the first WebGPU error reported since the last call, as a GpuError naming `where`. */
export function throwIfGpuError(where: string): void {
	if (pending === null) return;
	const { kind, message } = pending;
	pending = null;
	throw new GpuError(kind, message, where);
}

/**
 * Awaits a read-back (tensor.data() and the like), failing with a GpuError as soon as the device
 * reports an error — before or while it is pending — instead of returning zeros or hanging.
 */
export async function readBack<T>(work: Promise<T>, where: string): Promise<T> {
	throwIfGpuError(where);
	let fail!: (r: Reported) => void;
	const failed = new Promise<never>((_, reject) => {
		fail = (r) => reject(new GpuError(r.kind, r.message, where));
	});
	waiters.add(fail);
	work.catch(() => undefined); // a read-back that loses the race may still fail later, on its own
	try {
		return await Promise.race([work, failed]);
	} catch (err) {
		if (err instanceof GpuError) throw err;
		// a lost device fails pending read-backs ("buffer unmapped") before device.lost resolves
		await new Promise((r) => setTimeout(r, LOSS_GRACE_MS));
		if (lostWith) throw new GpuError(lostWith.kind, lostWith.message, where);
		throw err;
	} finally {
		waiters.delete(fail);
	}
}
