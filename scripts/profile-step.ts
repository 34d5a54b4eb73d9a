// Where a training step's time goes: `node scripts/run-ts.mjs scripts/profile-step.ts [wasm|cpu] [--shapes]`.
// Profiles one step of the train_golden_v2 model (batch of the 16 longest golden-v2 traces) with
// tf.profile and prints the total kernel time per kernel name, and GFLOP/s for the products (2·M·N·K
// each, epilogue products included) and for fused attention (its causal products: half of T × T,
// 2 forward and 4 backward); --shapes also lists every product with its own rate.
// Nested kernels (a custom-gradient op and the kernels inside it) are counted at both levels.
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend, type NodeBackend } from '../src/cli/nodeBackend';
import { loadConfig } from '../src/cli/trainCommand';
import { builtInDataset } from '../src/lib/core/data/registry';
import { longestBatch } from '../src/lib/core/text/examples';
import { Trainer } from '../src/lib/core/train/trainer';
import { FUSED } from '../src/lib/core/model/fused';

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
/** Kernels that are products (the lab's, with or without an epilogue, and tfjs's). */
const PRODUCTS = new Set<string>([
	'BatchMatMul',
	FUSED.matMul,
	FUSED.linearGelu,
	FUSED.productGeluGrad,
	FUSED.linearAdd
]);
/** Flops of fused attention on qkv (B, T, 3C): per head, 2 products forward (4 backward) over the T(T+1)/2 causal pairs. */
const attentionFlops = (name: string, qkv: number[]) => {
	const [B, T, C3] = qkv;
	const products = name === FUSED.attention ? 2 : 4;
	return ((products * 2 * B * (T * (T + 1))) / 2) * (C3 / 3);
};
const size = (s: number[]) => s.reduce((a, d) => a * d, 1);
/** 2·M·N·K of a product: out (…, M, N), and K from a's size over the output's rows. */
const productFlops = (k: { inputShapes: number[][]; outputShapes: number[][] }) => {
	const out = k.outputShapes[0];
	const rows = size(out.slice(0, -1));
	return 2 * size(out) * (size(k.inputShapes[0]) / rows);
};
for (const k of info.kernels) {
	const ms = (await k.kernelTimeMs) as number;
	const isProduct = PRODUCTS.has(k.name);
	const shapes = k as unknown as { inputShapes: number[][]; outputShapes: number[][] };
	const isAttention = k.name === FUSED.attention || k.name === FUSED.attentionGrad;
	const flops = isProduct ? productFlops(shapes) : isAttention ? attentionFlops(k.name, shapes.inputShapes[0]) : 0;
	const e = byName.get(k.name) ?? { ms: 0, n: 0, flops: 0 };
	byName.set(k.name, { ms: e.ms + ms, n: e.n + 1, flops: e.flops + flops });
	if (isProduct || k.name === 'DepthwiseConv2dNative')
		matmuls.push(
			`${ms.toFixed(2).padStart(7)} ms ${(flops / ms / 1e6).toFixed(1).padStart(6)} GFLOP/s ${k.name} ${JSON.stringify(k.inputShapes)}`
		);
}
console.log(`${backend}: ${info.kernels.length} kernels in one step`);
const all = [...byName].filter(([name]) => PRODUCTS.has(name)).map(([, v]) => v);
const [productMs, productTotal] = [all.reduce((t, v) => t + v.ms, 0), all.reduce((t, v) => t + v.flops, 0)];
console.log(
	`every product: ${productMs.toFixed(1)} ms, ${(productTotal / 1e9).toFixed(2)} GFLOP, ${(productTotal / productMs / 1e6).toFixed(1)} GFLOP/s`
);
for (const [name, { ms, n, flops }] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
	const rate = flops ? `  ${(flops / ms / 1e6).toFixed(1)} GFLOP/s (${(flops / 1e9).toFixed(2)} GFLOP)` : '';
	console.log(`${name.padEnd(24)} ${ms.toFixed(1).padStart(8)} ms  ×${n}${rate}`);
}
if (process.argv.includes('--shapes')) console.log(matmuls.join('\n'));
trainer.dispose();
