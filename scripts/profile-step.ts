// Where a training step's time goes: `node scripts/run-ts.mjs scripts/profile-step.ts [wasm|cpu] [--shapes]`.
// Profiles one step of the train_golden_v2 model (batch of the 16 longest golden-v2 traces) with
// tf.profile and prints the total kernel time per kernel name (and GFLOP/s for products: 2·M·N·K
// per product); --shapes also lists every product with its own rate.
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
const byName = new Map<string, { ms: number; n: number; flops: number }>();
const matmuls: string[] = [];
const size = (s: number[]) => s.reduce((a, d) => a * d, 1);
/** 2·M·N·K of a product: out (…, M, N), and K from a's size over the output's rows. */
const productFlops = (k: { inputShapes: number[][]; outputShapes: number[][] }) => {
	const out = k.outputShapes[0];
	const rows = size(out.slice(0, -1));
	return 2 * size(out) * (size(k.inputShapes[0]) / rows);
};
for (const k of info.kernels) {
	const ms = (await k.kernelTimeMs) as number;
	const isProduct = k.name === 'BatchMatMul' || k.name === 'LabMatMul';
	const flops = isProduct ? productFlops(k as unknown as { inputShapes: number[][]; outputShapes: number[][] }) : 0;
	const e = byName.get(k.name) ?? { ms: 0, n: 0, flops: 0 };
	byName.set(k.name, { ms: e.ms + ms, n: e.n + 1, flops: e.flops + flops });
	if (isProduct || k.name === 'DepthwiseConv2dNative')
		matmuls.push(
			`${ms.toFixed(2).padStart(7)} ms ${(flops / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s ${k.name} ${JSON.stringify(k.inputShapes)}`
		);
}
console.log(`${backend}: ${info.kernels.length} kernels in one step`);
for (const [name, { ms, n, flops }] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
	const rate = flops ? `  ${(flops / ms / 1e6).toFixed(1)} GFLOP/s (${(flops / 1e9).toFixed(2)} GFLOP)` : '';
	console.log(`${name.padEnd(24)} ${ms.toFixed(1).padStart(8)} ms  ×${n}${rate}`);
}
if (process.argv.includes('--shapes')) console.log(matmuls.join('\n'));
trainer.dispose();
