// `npm run bench`: training-step speed of the train_golden_v2 model on each Node backend.
// One JSON line per available backend on stdout; notes on skipped backends on stderr.
// Fixed batch: the longest golden-v2 traces, so every step has the same shape (B × T).

import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { builtInDataset } from '../lib/core/data/registry';
import { encodeExample, makeBatch } from '../lib/core/text/examples';
import { Trainer } from '../lib/core/train/trainer';
import { runCommand, type CliIo } from './io';
import { NODE_BACKENDS, useNodeBackend, type NodeBackend } from './nodeBackend';
import { loadConfig } from './trainCommand';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function benchBackend(name: NodeBackend, configPath: string, steps: number, io: CliIo): Promise<void> {
	await useNodeBackend(name);
	const config = loadConfig(configPath);
	const dataset = builtInDataset(config.data.dataset);
	const trainer = new Trainer(config, dataset);
	try {
		const longest = dataset.traces
			.map((t) => encodeExample(t, trainer.tokenizer))
			.sort((a, b) => b.ids.length - a.ids.length)
			.slice(0, config.train.batch_size);
		const batch = makeBatch(longest, config.data.loss_on);
		const t0 = performance.now();
		await trainer.trainOnBatch(batch); // warm-up: kernels, shader compilation, allocations
		const firstStepMs = performance.now() - t0;
		const times: number[] = [];
		for (let i = 0; i < steps; i++) {
			const t = performance.now();
			await trainer.trainOnBatch(batch);
			times.push(performance.now() - t);
		}
		const ms = median(times);
		const m = config.model;
		io.out(
			JSON.stringify({
				runtime: 'node',
				backend: name,
				model: `gpt n_layer=${m.n_layer} n_head=${m.n_head} n_embd=${m.n_embd} vocab=${trainer.tokenizer.size}`,
				batch_size: batch.B,
				seq_len: batch.T,
				ms_per_step: Math.round(ms * 10) / 10,
				tokens_per_s: Math.round((batch.B * batch.T) / (ms / 1000)),
				first_step_ms: Math.round(firstStepMs),
				steps_measured: steps,
				num_tensors: tf.memory().numTensors
			}) + '\n'
		);
	} finally {
		trainer.dispose();
	}
}

export async function benchCommand(argv: string[], io: CliIo): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			config: { type: 'string', default: 'configs/train_golden_v2.yaml' },
			backend: { type: 'string', multiple: true },
			steps: { type: 'string', default: '5' }
		}
	});
	const steps = Number(values.steps);
	if (!Number.isInteger(steps) || steps < 5) throw new Error(`--steps must be an integer >= 5, got ${values.steps}`);
	const backends = (values.backend ?? [...NODE_BACKENDS]) as NodeBackend[];
	for (const name of backends) {
		try {
			await benchBackend(name, values.config!, steps, io);
		} catch (err) {
			io.err(`bench: skipped ${name}: ${(err as Error).message}\n`);
		}
	}
	return 0;
}

process.exitCode = await runCommand(benchCommand, process.argv.slice(2));
