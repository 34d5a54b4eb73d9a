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

/** An error the device reported. */
interface Reported {
	kind: GpuErrorKind;
	message: string;
}

/** What one watched device has reported. */
interface DeviceState {
	/** The first error no read-back has failed with yet. */
	pending: Reported | null;
	/** The device's loss, once it is lost (a destroyed device rejects read-backs first). */
	lost: Reported | null;
	/** Read-backs in flight, each failed by the next reported error. */
	waiters: Set<(r: Reported) => void>;
}

/** How long a failed read-back waits for the device to report its loss. */
const LOSS_GRACE_MS = 200;

/** Per device: errors of one device never fail work on another (or on another backend). */
const states = new WeakMap<object, DeviceState>();

function kindOf(error: object): GpuErrorKind {
	const name = error.constructor?.name ?? '';
	if (name.includes('OutOfMemory')) return 'out-of-memory';
	if (name.includes('Internal')) return 'internal';
	return 'validation';
}

function report(state: DeviceState, r: Reported): void {
	if (state.waiters.size === 0) {
		state.pending ??= r;
		return;
	}
	for (const fail of state.waiters) fail(r);
	state.waiters.clear();
}

/** The active backend's WebGPU device, or null on other backends. */
export function activeGpuDevice(): (ErrorSource & object) | null {
	if (tf.getBackend() !== 'webgpu') return null;
	return (tf.backend() as unknown as { device?: ErrorSource & object }).device ?? null;
}

/**
 * Starts collecting the active WebGPU device's errors (once per device; no-op elsewhere) and
 * forgets errors left from earlier work on it: a new run or evaluation starts clean.
 */
export function watchGpuErrors(): void {
	const device = activeGpuDevice();
	if (!device) return;
	const known = states.get(device);
	if (known) {
		known.pending = null;
		return;
	}
	const state: DeviceState = { pending: null, lost: null, waiters: new Set() };
	states.set(device, state);
	device.addEventListener('uncapturederror', (e) => report(state, { kind: kindOf(e.error), message: e.error.message }));
	void device.lost.then((info) => {
		state.lost = { kind: 'device-lost', message: info.message || info.reason || '' };
		report(state, state.lost);
	});
}

/** The active device's state, watching it if nobody has yet; null off WebGPU. */
function activeState(): DeviceState | null {
	const device = activeGpuDevice();
	if (!device) return null;
	if (!states.has(device)) watchGpuErrors();
	return states.get(device)!;
}

/** Throws the first WebGPU error the active device reported since the last call, as a GpuError naming `where`. */
export function throwIfGpuError(where: string): void {
	const state = activeState();
	if (!state?.pending) return;
	const { kind, message } = state.pending;
	state.pending = null;
	throw new GpuError(kind, message, where);
}

/**
 * Awaits a read-back (tensor.data() and the like), failing with a GpuError as soon as the active
 * WebGPU device reports an error — before or while it is pending — instead of returning zeros or
 * hanging. Off WebGPU it is a plain await.
 */
export async function readBack<T>(work: Promise<T>, where: string): Promise<T> {
	const state = activeState();
	if (!state) return work;
	throwIfGpuError(where);
	let fail!: (r: Reported) => void;
	const failed = new Promise<never>((_, reject) => {
		fail = (r) => reject(new GpuError(r.kind, r.message, where));
	});
	state.waiters.add(fail);
	work.catch(() => undefined); // a read-back that loses the race may still fail later, on its own
	try {
		const value = await Promise.race([work, failed]);
		// the read-back may resolve (with zeros) before the device's error event is delivered: the
		// error was raised when the work was submitted, so one more task lets its event arrive
		await new Promise((r) => setTimeout(r, 0));
		throwIfGpuError(where);
		return value;
	} catch (err) {
		if (err instanceof GpuError) throw err;
		// a lost device fails pending read-backs ("buffer unmapped") before device.lost resolves
		await new Promise((r) => setTimeout(r, LOSS_GRACE_MS));
		if (state.lost) throw new GpuError(state.lost.kind, state.lost.message, where);
		throw err;
	} finally {
		state.waiters.delete(fail);
	}
}
