// A WebGPU error never reads back as zeros or hangs: it fails the read-back (the loss-0 bug).
// Its own file: the test leaves its device destroyed.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GpuError, readBack, throwIfGpuError, watchGpuErrors } from '../src/lib/core/gpu/gpuErrors';
import { backend } from './helpers';

describe('WebGPU errors (Dawn in Node)', () => {
	it('turns a WebGPU validation error into a GpuError instead of reading back zeros', async () => {
		await backend('webgpu');
		watchGpuErrors();
		// an AddN of 16 inputs binds 17 storage buffers: an invalid pipeline on this device
		const limit = (tf.backend() as unknown as { device: GPUDevice }).device.limits.maxStorageBuffersPerShaderStage;
		const parts = Array.from({ length: limit + 8 }, (_, i) => tf.fill([300, 4], i));
		const sum = tf.addN(parts);
		// the read-back was queued in the dropped command buffer: unwatched, it reads zeros or hangs
		const read = sum.data();
		await expect(readBack(read, 'the test')).rejects.toThrow(GpuError);
		// another error on this device, not read back yet …
		const again = tf.addN(parts);
		void again.data().catch(() => undefined);
		// … does not fail work on another backend …
		await backend('cpu');
		await expect(readBack(tf.scalar(2).data(), 'a cpu read')).resolves.toEqual(new Float32Array([2]));
		// … is still this device's to report …
		await backend('webgpu');
		expect(() => throwIfGpuError('the next step')).toThrow(GpuError);
		// … and a new run or evaluation on it starts clean
		tf.addN(parts).dispose();
		watchGpuErrors();
		expect(() => throwIfGpuError('the next run')).not.toThrow();
		again.dispose();
		tf.dispose([...parts, sum]);
		// a dropped read-back resolves with zeros or stays pending until its device goes
		(tf.backend() as unknown as { device: GPUDevice }).device.destroy();
		await read.catch(() => undefined);
	});
});
