// Fine-tuning speed and memory at real model sizes (docs/performance.md "Fine-tuning"): one
// imported GPT-2 folder, full or LoRA, on one Node backend, a fixed batch of B × T tokens. Prints
// one JSON line: ms per step (median of the timed steps after a warm-up), tokens/s, the tensors
// tfjs holds after training, and the process's peak resident memory.
//
//   node scripts/run-ts.mjs scripts/bench-finetune.ts --model <HF folder> --method lora|full
//        [--backend wasm] [--batch 4] [--seq 128] [--steps 3]

import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { readHfFolder } from '../src/cli/models';
import { useNodeBackend, type NodeBackend } from '../src/cli/nodeBackend';
import { parseConfig } from '../src/lib/core/config';
import { builtInDataset } from '../src/lib/core/data/registry';
import { importGpt2 } from '../src/lib/core/hf/gpt2Import';
import { parameterCount } from '../src/lib/core/model/shapes';
import { trainedShapes } from '../src/lib/core/checkpoint/checkpoint';
import { Trainer } from '../src/lib/core/train/trainer';
import { readFileSync } from 'node:fs';

const { values } = parseArgs({
	options: {
		model: { type: 'string' },
		method: { type: 'string', default: 'lora' },
		backend: { type: 'string', default: 'wasm' },
		batch: { type: 'string', default: '4' },
		seq: { type: 'string', default: '128' },
		steps: { type: 'string', default: '3' }
	}
});
if (!values.model || !['lora', 'full'].includes(values.method!)) {
	console.error('usage: … --model <HF folder> --method lora|full [--backend wasm] [--batch 4] [--seq 128] [--steps 3]');
	process.exit(2);
}
const [B, T, steps] = [Number(values.batch), Number(values.seq), Number(values.steps)];
const t0 = performance.now();
const base = importGpt2('bench', readHfFolder(values.model));
const importS = (performance.now() - t0) / 1000;
await useNodeBackend(values.backend as NodeBackend);
const { n_layer, n_head, n_embd, block_size } = base.gpt;
const yaml = readFileSync('configs/lora_golden_v2.yaml', 'utf8')
	.replace(/init: \S+/, 'init: bench')
	.replace(/n_layer: \d+/, `n_layer: ${n_layer}`)
	.replace(/n_head: \d+/, `n_head: ${n_head}`)
	.replace(/n_embd: \d+/, `n_embd: ${n_embd}`)
	.replace(/block_size: \d+/, `block_size: ${block_size}`)
	.replace(/finetune: lora/, `finetune: ${values.method}`)
	.replace(/\nlora:[\s\S]*?targets: \[[^\]]*\]\n/, values.method === 'lora' ? '$&' : '\n')
	.replace(/batch_size: \d+/, `batch_size: ${B}`);
const config = parseConfig(yaml);
const trainer = new Trainer(config, builtInDataset('golden-v2'), undefined, base);
// a fixed batch of B × T tokens, every target counted
const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7919) % 50000);
const batch = {
	B,
	T,
	inputs: ids,
	targets: ids.map((x) => (x + 1) % 50000),
	mask: new Float32Array(B * T).fill(1),
	count: B * T
};
const times: number[] = [];
for (let s = 0; s <= steps; s++) {
	const t = performance.now();
	await trainer.trainOnBatch(batch);
	if (s > 0) times.push(performance.now() - t); // step 0 warms up
}
const ms = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
const trainable = trainedShapes(config, base.gpt.vocab_size).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
console.log(
	JSON.stringify({
		model: `${n_layer}x${n_embd}`,
		method: values.method,
		backend: values.backend,
		batch: `${B}x${T}`,
		parameters: parameterCount(base.gpt),
		trainable,
		import_s: +importS.toFixed(1),
		ms_per_step: Math.round(ms),
		tokens_per_s: Math.round((B * T) / (ms / 1000)),
		tfjs_mb: Math.round(tf.memory().numBytes / 1e6),
		peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1e3),
		steps_timed: times.length
	})
);
trainer.dispose();
