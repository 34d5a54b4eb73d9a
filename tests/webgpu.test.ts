// The WebGPU backend in Node (Dawn, the `webgpu` package; SwiftShader's Vulkan driver when there
// is no GPU): the same losses and gradient norms as the cpu backend step by step, no silent GPU
// errors, memory flat across steps. The browser side of the same check is tests/e2e/backends.spec.ts.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../src/lib/core/checkpoint/checkpoint';
import { goldenV2 } from '../src/lib/core/data/golden';
import { useFusedKernels } from '../src/lib/core/model/chooseOps';
import { benchTraining } from '../src/lib/core/bench/bench';
import type { StepMetrics } from '../src/lib/core/train/metrics';
import { Trainer } from '../src/lib/core/train/trainer';
import type { LabConfig } from '../src/lib/core/config';
import { backend, smokeConfig } from './helpers';

const dataset = goldenV2();

/** Every step's metrics and the last checkpoint's weights and moments. */
async function steps(config: LabConfig): Promise<{ metrics: StepMetrics[]; last: Map<string, Float32Array> }> {
	const trainer = new Trainer(config, dataset);
	const metrics: StepMetrics[] = [];
	let last = new Map<string, Float32Array>();
	try {
		await trainer.run({
			onStep: (m) => void metrics.push(m),
			onCheckpoint: (_, bytes) => {
				const ck = decodeCheckpoint(bytes);
				last = new Map([...ck.params, ...[...ck.m].map(([n, v]) => [`m.${n}`, v] as const)]);
			}
		});
	} finally {
		trainer.dispose();
	}
	return { metrics, last };
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));

describe('webgpu backend (Dawn in Node)', () => {
	it('trains ci_smoke with the cpu backend’s loss and gradient norm at every step (1e-3 relative)', async () => {
		// 2 layers: 28 parameter tensors, more than one WebGPU shader may bind (the loss-0 bug)
		const config = smokeConfig({ model: { n_layer: 2 } });
		await backend('cpu');
		const { metrics: want, last: wantLast } = await steps(config);
		await backend('webgpu');
		const { metrics: got, last: gotLast } = await steps(config);
		expect(got).toHaveLength(want.length);
		got.forEach((m, i) => {
			expect(m.loss, `step ${m.step} loss`).toBeGreaterThan(0);
			expect(relative(m.loss, want[i].loss), `step ${m.step} loss ${m.loss} vs ${want[i].loss}`).toBeLessThan(1e-3);
			expect(relative(m.grad_norm, want[i].grad_norm), `step ${m.step} grad_norm`).toBeLessThan(1e-3);
		});
		// the last checkpoint (the one at step 4 read the weights before the in-place updates went on)
		expect([...gotLast.keys()]).toEqual([...wantLast.keys()]);
		for (const [name, w] of wantLast) {
			const g = gotLast.get(name)!;
			const scale = Math.max(1e-6, ...w.map(Math.abs));
			const worst = Math.max(...w.map((x, i) => Math.abs(x - g[i])));
			expect(worst / scale, name).toBeLessThan(1e-3);
		}
	});

	it('keeps tensors and GPU bytes flat across steps', async () => {
		await backend('webgpu');
		const trainer = new Trainer(smokeConfig({ train: { steps: 12 } }), dataset);
		const counts = new Map<number, [number, number]>();
		await trainer.run({
			onStep: (m) => {
				const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
				counts.set(m.step, [mem.numTensors, mem.numBytesInGPU]);
			}
		});
		expect(counts.get(3)![0]).toBeGreaterThan(0);
		expect(counts.get(12)).toEqual(counts.get(3));
		trainer.dispose();
		expect(tf.memory().numTensors).toBe(0);
	});

	it('counts the GPU calls of a step: the fused kernels need fewer dispatches, submits and buffers', async () => {
		await backend('webgpu');
		const config = smokeConfig({ model: { n_layer: 2 } });
		const opts = { runtime: 'test', steps: 2, maxSeconds: 60, evalDatasets: [], evalMaxItems: 1 };
		const fused = await benchTraining(config, dataset, opts);
		useFusedKernels(false);
		const opByOp = await benchTraining(config, dataset, opts).finally(() => useFusedKernels(true));
		expect([fused.fused_kernels, opByOp.fused_kernels]).toEqual([true, false]);
		expect(fused.gpu_dispatches_per_step).toBeGreaterThan(0);
		expect(opByOp.gpu_dispatches_per_step! / fused.gpu_dispatches_per_step!).toBeGreaterThan(4);
		expect(fused.gpu_submits_per_step!).toBeLessThan(opByOp.gpu_submits_per_step!);
		expect(fused.gpu_buffers_created_per_step!).toBeLessThan(opByOp.gpu_buffers_created_per_step!);
		console.log(
			`webgpu step: ${opByOp.gpu_dispatches_per_step} → ${fused.gpu_dispatches_per_step} dispatches, ` +
				`${opByOp.gpu_submits_per_step} → ${fused.gpu_submits_per_step} submits`
		);
	});
});
