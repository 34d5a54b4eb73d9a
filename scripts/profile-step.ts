// Where a training step's time goes: `node scripts/run-ts.mjs scripts/profile-step.ts [wasm|cpu] [--shapes]`.
// Profiles one step of the train_golden_v2 model (batch of the 16 longest golden-v2 traces) with
// tf.profile and prints the total kernel time per kernel name; --shapes also lists every matmul.
// Nested kernels (a custom-gradient op and the kernels inside it) are counted at both levels.
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend, type NodeBackend } from '../src/cli/nodeBackend';
import { loadConfig } from '../src/cli/trainCommand';
import { builtInDataset } from '../src/lib/core/data/registry';
import { longestBatch } from '../src/lib/core/train/bench';
import { Trainer } from '../src/lib/core/train/trainer';

const backend = (process.argv[2] ?? 'wasm') as NodeBackend;
await useNodeBackend(backend);
const config = loadConfig('configs/train_golden_v2.yaml');
const dataset = builtInDataset(config.data.dataset);
const trainer = new Trainer(config, dataset);
const batch = longestBatch(config, dataset, trainer.tokenizer);
await trainer.trainOnBatch(batch); // warm-up
const info = await tf.profile(async () => void (await trainer.trainOnBatch(batch)));
const byName = new Map<string, { ms: number; n: number }>();
const matmuls: string[] = [];
for (const k of info.kernels) {
	const ms = (await k.kernelTimeMs) as number;
	const e = byName.get(k.name) ?? { ms: 0, n: 0 };
	byName.set(k.name, { ms: e.ms + ms, n: e.n + 1 });
	if (k.name === 'BatchMatMul' || k.name === 'DepthwiseConv2dNative')
		matmuls.push(`${ms.toFixed(1).padStart(7)} ms ${k.name} ${JSON.stringify(k.inputShapes)}`);
}
console.log(`${backend}: ${info.kernels.length} kernels in one step`);
for (const [name, { ms, n }] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20))
	console.log(`${name.padEnd(24)} ${ms.toFixed(1).padStart(8)} ms  ×${n}`);
if (process.argv.includes('--shapes')) console.log(matmuls.join('\n'));
trainer.dispose();
