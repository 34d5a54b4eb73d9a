// What a training step costs the GPU, counted, not guessed (docs/performance.md "WebGPU"): the
// bench wraps the active WebGPU device's calls — compute dispatches, queue submits and buffers
// created — while it times steps. Wrapping is per device instance and undone by stop().

import { activeGpuDevice } from './gpuErrors';

/** WebGPU calls made while counting. */
export interface GpuCounts {
	/** dispatchWorkgroups calls on compute passes: one per kernel launch. */
	dispatches: number;
	/** queue.submit calls: command buffers handed to the GPU. */
	submits: number;
	/** device.createBuffer calls: new allocations (tfjs reuses freed buffers of the same size). */
	buffersCreated: number;
}

type Fn = (...args: never[]) => unknown;

/** Replaces `obj[key]` with a wrapper that calls `before` first; returns the undo. */
function wrap<T extends object>(obj: T, key: keyof T & string, before: (result: unknown) => void): () => void {
	const original = obj[key] as unknown as Fn;
	(obj as Record<string, unknown>)[key] = (...args: never[]) => {
		const result = original.apply(obj, args);
		before(result);
		return result;
	};
	return () => void ((obj as Record<string, unknown>)[key] = original);
}

/**
 * Counts the active WebGPU device's dispatches, submits and buffer creations from now until
 * stop(); null on other backends.
 */
export function countGpuCalls(): { counts: GpuCounts; stop(): void } | null {
	const device = activeGpuDevice() as unknown as GPUDevice | null;
	if (!device) return null;
	const counts: GpuCounts = { dispatches: 0, submits: 0, buffersCreated: 0 };
	const undo = [
		wrap(device, 'createBuffer', () => counts.buffersCreated++),
		wrap(device.queue, 'submit', () => counts.submits++),
		wrap(device, 'createCommandEncoder', (encoder) =>
			wrap(encoder as GPUCommandEncoder, 'beginComputePass', (pass) =>
				wrap(pass as GPUComputePassEncoder, 'dispatchWorkgroups', () => counts.dispatches++)
			)
		)
	];
	return { counts, stop: () => undo.forEach((u) => u()) };
}
