import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../src/lib/core/checkpoint/checkpoint';
import { goldenV2 } from '../src/lib/core/data/golden';
import type { StepMetrics } from '../src/lib/core/train/metrics';
import { NonFiniteError, Trainer } from '../src/lib/core/train/trainer';
import type { LabConfig } from '../src/lib/core/config';
import { backend, smokeConfig } from './helpers';

const dataset = goldenV2();

async function train(config: LabConfig, opts: { resume?: Uint8Array; stopAfter?: number } = {}) {
	const trainer = new Trainer(config, dataset, opts.resume ? decodeCheckpoint(opts.resume) : undefined);
	const losses: number[] = [];
	const checkpoints = new Map<number, Uint8Array>();
	try {
		const result = await trainer.run({
			onStep: (m: StepMetrics) => void losses.push(m.loss),
			onCheckpoint: (s, bytes) => void checkpoints.set(s, bytes),
			shouldStop: () => opts.stopAfter !== undefined && trainer.step >= opts.stopAfter
		});
		return { losses, checkpoints, result };
	} finally {
		trainer.dispose();
	}
}

const weights = (bytes: Uint8Array) => {
	const ck = decodeCheckpoint(bytes);
	return [
		...ck.params,
		...[...ck.m].map(([n, v]) => [`m.${n}`, v] as const),
		...[...ck.v].map(([n, v]) => [`v.${n}`, v] as const)
	];
};

describe('trainer (cpu backend)', () => {
	it('is deterministic: two runs give bit-identical losses, and the loss falls', async () => {
		await backend('cpu');
		const a = await train(smokeConfig());
		const b = await train(smokeConfig());
		expect(a.losses).toHaveLength(8);
		expect(b.losses).toEqual(a.losses);
		expect(a.losses.at(-1)!).toBeLessThan(a.losses[0]);
		expect([...a.checkpoints.keys()]).toEqual([4, 8]);
	});

	it('resumes exactly: N steps + stop + resume + N steps equals 2N steps straight', async () => {
		await backend('cpu');
		const straight = await train(smokeConfig());
		const first = await train(smokeConfig(), { stopAfter: 3 });
		expect(first.result).toEqual({ step: 3, stopped: true });
		expect([...first.checkpoints.keys()]).toEqual([3]);
		const second = await train(smokeConfig(), { resume: first.checkpoints.get(3)! });
		expect([...first.losses, ...second.losses]).toEqual(straight.losses);
		const want = weights(straight.checkpoints.get(8)!);
		const got = weights(second.checkpoints.get(8)!);
		expect(got.map(([n]) => n)).toEqual(want.map(([n]) => n));
		got.forEach(([n, v], i) => expect(v, n).toEqual(want[i][1]));
		expect(decodeCheckpoint(second.checkpoints.get(8)!).trainerState.adam_t).toBe(8);
	});

	it('refuses to resume with another config or dataset', async () => {
		await backend('cpu');
		const first = await train(smokeConfig({ train: { steps: 2 } }), {});
		const bytes = first.checkpoints.get(2)!;
		expect(() => new Trainer(smokeConfig({ train: { steps: 2, lr: 0.5 } }), dataset, decodeCheckpoint(bytes))).toThrow(
			/config differs/
		);
		const other = { ...dataset, manifest: { ...dataset.manifest, sha256: 'f'.repeat(64) } };
		expect(() => new Trainer(smokeConfig({ train: { steps: 2 } }), other, decodeCheckpoint(bytes))).toThrow(
			/trained on golden-v2/
		);
	});

	it('stops on a non-finite loss, naming the step, and writes no checkpoint from it', async () => {
		await backend('cpu');
		const first = await train(smokeConfig(), { stopAfter: 4 });
		const ck = decodeCheckpoint(first.checkpoints.get(4)!);
		ck.params.get('transformer.wte.weight')![7] = NaN;
		const poisoned = encodeCheckpoint(ck);
		const error = await train(smokeConfig(), { resume: poisoned }).catch((e) => e);
		expect(error).toBeInstanceOf(NonFiniteError);
		expect(error.step).toBe(5);
		// the weights were NaN before the step: the advice is about the checkpoint, not the learning rate
		expect(error.message).toMatch(
			/non-finite training value at step 5 .*weights this step started from are already not finite/
		);
		expect(error.message).not.toMatch(/Lower train\.lr/);
	});

	it('refuses a trace longer than block_size before training', async () => {
		await backend('cpu');
		expect(() => new Trainer(smokeConfig({ model: { block_size: 64 } }), dataset)).toThrow(
			/trace 51 of golden-v2 is \d+ tokens long.*raise model\.block_size/
		);
	});
});

describe('trainer memory (wasm backend)', () => {
	it('keeps tf.memory().numTensors and numBytes flat across 100 steps', async () => {
		await backend('wasm');
		const trainer = new Trainer(smokeConfig({ train: { steps: 105 } }), dataset);
		// the model seam chose the lab's fused kernels on wasm, once, for the whole run
		expect(trainer.ops.kind).toBe('fused');
		expect(trainer.ops.description).toMatch(/^fused lab kernels on wasm \(\d+ of \d+\)$/);
		const counts = new Map<number, [number, number]>();
		await trainer.run({
			onStep: (m) => void counts.set(m.step, [tf.memory().numTensors, tf.memory().numBytes]),
			onCheckpoint: () => undefined
		});
		expect(counts.get(5)![0]).toBeGreaterThan(0);
		expect(counts.get(105)).toEqual(counts.get(5));
		trainer.dispose();
		expect(tf.memory().numTensors).toBe(0);
	});
});
