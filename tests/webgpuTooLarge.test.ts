// A model too large for the WebGPU device fails with a message naming its size, not a hang.
// Its own file: the device keeps the failed allocations' state.
import { describe, expect, it } from 'vitest';
import { goldenV2 } from '../src/lib/core/data/golden';
import { Trainer } from '../src/lib/core/train/trainer';
import { backend, smokeConfig } from './helpers';

const dataset = goldenV2();

describe('a model too large for the WebGPU device (Dawn in Node)', () => {
	it('names the model size when a model does not fit the device', async () => {
		await backend('webgpu');
		// attention scores of 32 × 1024 heads × T × T floats: past WebGPU's default maxBufferSize (256 MiB)
		const config = smokeConfig({
			model: { n_layer: 1, n_head: 1024, n_embd: 1024 },
			train: { steps: 1, batch_size: 32 }
		});
		const trainer = new Trainer(config, dataset);
		try {
			await expect(trainer.trainStep()).rejects.toThrow(
				/WebGPU .* error .*The model has [\d,]+ parameters \([\d.]+ MB/
			);
		} finally {
			trainer.dispose();
		}
	});
});
