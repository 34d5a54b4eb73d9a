// A WebGPU error never reads back as zeros or hangs: it fails the read-back (the loss-0 bug).
// Its own file: the test leaves its device destroyed.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { GpuError, readBack, throwIfGpuError, watchGpuErrors } from '../src/lib/core/backend/gpuErrors';
import { backend } from './helpers';

describe('WebGPU errors (Dawn in Node)', () => {
	it('turns a WebGPU validation error into a GpuError instead of reading back zeros', async () => {
		await backend('webgpu');
		watchGpuErrors();
		// an AddN of 16 inputs binds 17 storage buffers: an invalid pipeline on this device
		const limit = (tf.backend() as unknown as { device: GPUDevice }).device.limits.maxStorageBuffersPerShaderStage;
		const parts = Array.from({ length: limit + 8 }, (_, i) => tf.fill([300, 4], i));
		const sum = tf.addN(parts);
		// the read-back was queued in the dropped command buffer: without the watch it never resolves
		const read = sum.data();
		await expect(readBack(read, 'the test')).rejects.toThrow(GpuError);
		expect(() => throwIfGpuError('the test')).not.toThrow(); // reported once
		tf.dispose([...parts, sum]);
		// the dropped read-back's buffer stays mapped-pending until its device goes
		(tf.backend() as unknown as { device: GPUDevice }).device.destroy();
		await expect(read).rejects.toThrow(); // the dropped read-back ends with its device
	});
});
