// The size ladder (docs/performance.md "The size ladder"): a training step of every rung of
// core/bench/ladder.ts on the Node backends, PyTorch's step beside each in the same sitting, the
// products' rate against the peak of the lab's matmul kernel measured on this machine.
//
//   npm run bench:ladder                               every cell, one process each; JSON lines,
//        [-- --out ladder.jsonl] [--python python3]    then the table (markdown) and the plot (SVG)
//        [--rungs S,M] [--svg docs/images/ladder.svg]
//   … -- --cell S --backend wasm --threads 2           one cell: one JSON line
//   … -- --cell L --threads 2 --shapes                 … and each product kernel's time on stderr
//   … -- --peak [--kernels file.wasm]                  the kernel's peak, one thread: one JSON line
//
// A cell runs in its own process so its peak resident memory is its own. Timing: the median of
// the timed steps after a warm-up step, on a fixed batch of random tokens, every target counted.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { useNodeBackend, type NodeBackend } from '../src/cli/nodeBackend';
import { LADDER, rungGpt, rungNamed, rungParameters, stepFlops, type Rung } from '../src/lib/core/bench/ladder';
import { parseConfig } from '../src/lib/core/config';
import { countGpuCalls } from '../src/lib/core/gpu/gpuCounters';
import { builtInDataset } from '../src/lib/core/data/registry';
import type { PretrainedModel } from '../src/lib/core/hf/gpt2Import';
import { modelOps } from '../src/lib/core/model/chooseOps';
import { initParamValues } from '../src/lib/core/model/gpt';
import { gpt2TokenizerJson } from '../src/lib/core/text/bpe';
import type { Batch } from '../src/lib/core/text/examples';
import { Trainer } from '../src/lib/core/train/trainer';
import { gpt2Vocabulary } from './gpt2Vocabulary';

const { values } = parseArgs({
	options: {
		cell: { type: 'string' },
		backend: { type: 'string', default: 'wasm' },
		threads: { type: 'string', default: '2' },
		steps: { type: 'string' },
		peak: { type: 'boolean', default: false },
		gpu: { type: 'boolean', default: false },
		kernels: { type: 'string', default: 'src/lib/kernels/labKernels.wasm' },
		rungs: { type: 'string', default: LADDER.map((r) => r.name).join(',') },
		python: { type: 'string', default: 'python3' },
		out: { type: 'string', default: 'ladder.jsonl' },
		svg: { type: 'string', default: 'docs/images/ladder.svg' },
		plot: { type: 'string' },
		shapes: { type: 'boolean', default: false }
	}
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gflops = (flops: number, ms: number) => +(flops / ms / 1e6).toFixed(1);

// ---- one cell: a rung's step on one backend ----

/** The rung's config: golden-v2's full-run YAML with the rung's shape (and, at GPT-2's vocabulary, a stand-in base model). */
function rungTrainer(r: Rung): Trainer {
	const gpt = rungGpt(r);
	const pretrained = r.vocab > 1000;
	const yaml = readFileSync('configs/train_golden_v2.yaml', 'utf8')
		.replace(/n_layer: \d+/, `n_layer: ${r.n_layer}`)
		.replace(/n_head: \d+/, `n_head: ${r.n_head}`)
		.replace(/n_embd: \d+/, `n_embd: ${r.n_embd}`)
		.replace(/block_size: \d+/, `block_size: ${gpt.block_size}`)
		.replace(/batch_size: \d+/, `batch_size: ${r.batch}`)
		.replace(/^model:\n/m, pretrained ? 'model:\n  init: ladder\n' : 'model:\n')
		.replace(/^train:\n/m, pretrained ? 'train:\n  finetune: full\n' : 'train:\n');
	const config = parseConfig(yaml);
	if (!pretrained) return new Trainer(config, builtInDataset('golden-v2'));
	// GPT-2's shape and tokenizer with random weights: full fine-tuning is a from-scratch step's work
	const { vocab, merges } = gpt2Vocabulary();
	const base: PretrainedModel = {
		name: 'ladder',
		sha256: '0'.repeat(64),
		gpt,
		params: initParamValues(gpt, 1),
		tokenizerJson: gpt2TokenizerJson(vocab, merges),
		dtype: 'F32'
	};
	return new Trainer(config, builtInDataset('golden-v2'), undefined, base);
}

/** B × T random tokens, every target counted (as bench_pytorch.py's). */
function fixedBatch(r: Rung): Batch {
	const n = r.batch * r.seq;
	const inputs = Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % r.vocab);
	return {
		B: r.batch,
		T: r.seq,
		inputs,
		targets: inputs.map((x) => (x + 1) % r.vocab),
		mask: new Float32Array(n).fill(1),
		count: n
	};
}

/** The kernels that compute products (the lab's fused ones carry their epilogues; attention its softmax). */
const PRODUCT_KERNELS = /MatMul|Linear|ProductGeluGrad|Attention/;

/**
 * Three more steps under tf.profile, each just after a measurement of the kernel's peak on the
 * cell's threads (wasm): the time each step's product kernels took, by the backend's own timer (on
 * wasm, each kernel's wall time; its threads join before it returns), and the step whose rate
 * against its own peak is the median. The peak is measured beside each step because a VM's second
 * core is not always a whole core (two threads have measured 1.3× to 2× one, minutes apart).
 */
async function productTime(
	trainer: Trainer,
	batch: Batch,
	peakOn: number | null
): Promise<{ ms: number; kernels: number; peak: number | null }> {
	const steps: { ms: number; kernels: number; peak: number | null }[] = [];
	for (let s = 0; s < 3; s++) {
		const peak = peakOn ? await kernelPeak(values.kernels!, peakOn) : null;
		const profile = await tf.profile(() => trainer.trainOnBatch(batch));
		const products = profile.kernels.filter((k) => PRODUCT_KERNELS.test(k.name));
		let ms = 0;
		for (const k of products) {
			const kms = Number(await k.kernelTimeMs);
			ms += kms;
			// --shapes: each product kernel of the first step on stderr (the JSON line stays alone on stdout)
			if (values.shapes && s === 0)
				console.error(`${kms.toFixed(1).padStart(9)} ms ${k.name} ${JSON.stringify(k.inputShapes)}`);
		}
		steps.push({ ms, kernels: products.length, peak });
	}
	const ofPeak = (x: { ms: number; peak: number | null }) => (x.peak ? 1 / (x.ms * x.peak) : 1 / x.ms);
	return steps.sort((a, b) => ofPeak(a) - ofPeak(b))[1];
}

async function cell(r: Rung, backend: NodeBackend, threads: number, steps: number) {
	process.env.LAB_WASM_THREADS = String(threads);
	const provenance = await useNodeBackend(backend);
	const trainer = rungTrainer(r);
	const batch = fixedBatch(r);
	const times: number[] = [];
	let gpu: ReturnType<typeof countGpuCalls> = null;
	for (let s = 0; s <= steps; s++) {
		if (s === 1) gpu = countGpuCalls(); // webgpu: the timed steps' dispatches, submits, new buffers
		const t = performance.now();
		await trainer.trainOnBatch(batch);
		if (s > 0) times.push(performance.now() - t); // step 0 warms up
	}
	gpu?.stop();
	const perStep = (n: number | undefined) => (n === undefined ? null : Math.round((n / steps) * 10) / 10);
	const tfjsMb = Math.round(tf.memory().numBytes / 1e6);
	const products = await productTime(trainer, batch, backend === 'wasm' ? threads : null);
	trainer.dispose();
	const ms = median(times);
	return {
		rung: r.name,
		runtime: `node ${process.version}`,
		backend,
		threads: backend === 'wasm' ? threads : null,
		ops: modelOps().description,
		notes: provenance.backend_notes.join('; '),
		parameters: rungParameters(r),
		batch: `${r.batch}x${r.seq}`,
		ms_per_step: Math.round(ms * 10) / 10,
		tokens_per_s: Math.round((r.batch * r.seq) / (ms / 1000)),
		step_gflops: gflops(stepFlops(r), ms),
		products_ms: Math.round(products.ms * 10) / 10,
		products_kernels: products.kernels,
		products_gflops: gflops(stepFlops(r), products.ms),
		kernel_peak_gflops: products.peak,
		gpu_dispatches_per_step: perStep(gpu?.counts.dispatches),
		gpu_submits_per_step: perStep(gpu?.counts.submits),
		gpu_buffers_created_per_step: perStep(gpu?.counts.buffersCreated),
		tfjs_mb: tfjsMb,
		peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1e3),
		steps_timed: times.length
	};
}

// ---- the kernel's peak: its inner block on operands that sit in cache ----

/**
 * The lab's matmul export called straight (no tfjs) on (128, 256) @ (256, 128) again and again, on
 * `threads` threads at once (each its own instance and memory, started together): A is 128 kB, B's
 * panels 8 kB each, so the 4 × 8 register block runs from cache. The sum of the threads' rates is
 * the most the kernel does on that many threads of this machine at that moment; a cell's products
 * are judged against the peak measured just before each of its profiled steps (productTime).
 */
async function kernelPeak(file: string, threads: number): Promise<number> {
	const bytes = readFileSync(file);
	const start = new Int32Array(new SharedArrayBuffer(4));
	const workers = Array.from(
		{ length: threads },
		() => new Worker(PEAK_WORKER, { eval: true, workerData: { bytes, start } })
	);
	// each says "ready" once warmed up, then its rate: start them together once all are ready
	const ready = workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject)));
	await Promise.all(ready);
	const rates = workers.map(
		(w) =>
			new Promise<number>((resolve) =>
				w.once('message', (rate: number) => void w.terminate().then(() => resolve(rate)))
			)
	);
	Atomics.store(start, 0, 1);
	Atomics.notify(start, 0);
	return +(await Promise.all(rates)).reduce((a, b) => a + b, 0).toFixed(1);
}

/** One thread of kernelPeak: instantiate, warm up, post "ready", wait for the start, time 7 rounds, post the median rate. */
const PEAK_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { bytes, start } = workerData;
const memory = new WebAssembly.Memory({ initial: 64 });
const matmul = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.matmul;
const [M, K, N] = [128, 256, 128];
const f32 = new Float32Array(memory.buffer);
const at = { A: 1024, B: 1024 + M * K * 4, C: 1024 + (M * K + K * N) * 4, pack: 1024 + (M * K + K * N + M * N) * 4 };
for (let i = 0; i < M * K + K * N; i++) f32[at.A / 4 + i] = Math.sin(i);
const once = () => matmul(at.A, at.B, 0, at.C, 1, M, N, K, 0, K, 1, 0, N, 1, 1, 0, 0, 0, N, at.pack);
for (let i = 0; i < 50; i++) once();
parentPort.postMessage('ready');
Atomics.wait(start, 0, 0);
const rates = [];
for (let round = 0; round < 7; round++) {
	const t = performance.now();
	for (let i = 0; i < 200; i++) once();
	rates.push((2 * M * K * N * 200) / (performance.now() - t) / 1e6);
}
parentPort.postMessage(rates.sort((a, b) => a - b)[3]);
`;

/** The kernel's peak on one thread, and its inner block's (below): one JSON line. */
async function peak(file: string) {
	return {
		peak: file,
		runtime: `node ${process.version}`,
		threads: 1,
		shape: '128x256x128',
		gflops: await kernelPeak(file, 1),
		...(await blockPeak())
	};
}

/**
 * kernels/block_peak.wat: the kernel's 4 × 8 inner block alone, as it runs (multiply, add) and with
 * relaxed SIMD's fused multiply-add. Needs wat2wasm (Debian's wabt) and, in Node 20, the flag
 * --experimental-wasm-relaxed-simd (Chromium has relaxed SIMD on).
 */
async function blockPeak(): Promise<Record<string, number | string>> {
	const wasm = `${tmpdir()}/block_peak.wasm`;
	const built = spawnSync('wat2wasm', ['--enable-relaxed-simd', 'kernels/block_peak.wat', '-o', wasm], {
		encoding: 'utf8'
	});
	if (built.status !== 0) return { block_error: `wat2wasm: ${built.error?.message ?? built.stderr.trim()}` };
	let instance: WebAssembly.Instance;
	try {
		instance = (await WebAssembly.instantiate(readFileSync(wasm))).instance;
	} catch (err) {
		return { block_error: `relaxed SIMD is not enabled here: ${(err as Error).message}` };
	}
	const K = 256;
	const f32 = new Float32Array((instance.exports.memory as WebAssembly.Memory).buffer);
	for (let i = 0; i < 4 * K + 8 * K; i++) f32[i] = Math.cos(i);
	const rate = (name: string) => {
		const block = instance.exports[name] as (...a: number[]) => void;
		const reps = 20_000;
		const call = () => block(0, K * 4, 4 * K * 4, K, reps, 12 * K * 4);
		call();
		const rates: number[] = [];
		for (let round = 0; round < 7; round++) {
			const t = performance.now();
			call();
			rates.push(gflops(64 * K * reps, performance.now() - t)); // 4 rows × 8 columns × 2 a step of K
		}
		return median(rates);
	};
	return { block_simd128_gflops: rate('block_mul_add'), block_relaxed_madd_gflops: rate('block_madd') };
}

// ---- every cell, PyTorch beside, then the table and the plot ----

/** Timed steps at a rung: a few seconds' worth (a step of S takes ~50 ms, of XL ~10 s). */
const timedSteps = (r: Rung) => Math.max(3, Math.min(40, Math.round(3e10 / stepFlops(r))));

function runCell(args: string[], node: string[] = [], timeoutS = 1800): Record<string, unknown> | null {
	const r = spawnSync('node', [...node, 'scripts/run-ts.mjs', 'scripts/bench-ladder.ts', ...args], {
		encoding: 'utf8',
		maxBuffer: 1 << 26,
		timeout: timeoutS * 1000
	});
	if (r.status !== 0) {
		const why = r.signal ? `stopped after ${timeoutS} s` : `failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`;
		console.error(`bench-ladder ${args.join(' ')}: ${why}`);
		return { cell: args.join(' '), error: why };
	}
	return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

function pytorch(r: Rung, threads: number): Record<string, unknown> | null {
	const args = ['scripts/bench_pytorch.py', '--steps', String(timedSteps(r)), '--threads', String(threads)];
	args.push('--n-layer', String(r.n_layer), '--n-head', String(r.n_head), '--n-embd', String(r.n_embd));
	args.push('--vocab', String(r.vocab), '--batch', String(r.batch), '--seq', String(r.seq));
	args.push('--positions', String(rungGpt(r).block_size), '--flops', String(stepFlops(r)));
	const p = spawnSync(values.python!, args, { encoding: 'utf8' });
	if (p.status !== 0) {
		console.error(`bench_pytorch.py (${r.name}, ${threads} threads): failed: ${p.stderr.trim().split('\n').at(-1)}`);
		return null;
	}
	return { rung: r.name, threads, ...JSON.parse(p.stdout.trim().split('\n').at(-1)!) };
}

type Line = Record<string, number | string | null>;

function table(lines: Line[]): string {
	const rows = [
		'| rung | parameters | batch | threads | lab wasm ms/step | PyTorch ms/step | lab ÷ PyTorch | lab tokens/s | step GFLOP/s | products GFLOP/s | of the kernel’s peak (GFLOP/s) | peak RSS |',
		'| ---- | ---------: | ----- | ------: | ---------------: | --------------: | ------------: | -----------: | -----------: | ---------------: | ------: | -------: |'
	];
	for (const r of LADDER)
		for (const threads of [1, 2]) {
			const lab = lines.find((l) => l.rung === r.name && l.backend === 'wasm' && l.threads === threads);
			const torch = lines.find((l) => l.rung === r.name && l.backend === 'pytorch-cpu' && l.threads === threads);
			if (!lab) continue;
			const ratio = torch ? (Number(lab.ms_per_step) / Number(torch.ms_per_step)).toFixed(2) : '—';
			const ofPeak = `${((100 * Number(lab.products_gflops)) / Number(lab.kernel_peak_gflops)).toFixed(0)}% of ${lab.kernel_peak_gflops}`;
			rows.push(
				`| ${r.name} | ${(rungParameters(r) / 1e6).toFixed(1)}M | ${r.batch} × ${r.seq} | ${threads} | ` +
					`${Number(lab.ms_per_step).toLocaleString('en-US')} | ${torch ? Number(torch.ms_per_step).toLocaleString('en-US') : '—'} | ${ratio} | ` +
					`${Number(lab.tokens_per_s).toLocaleString('en-US')} | ${lab.step_gflops} | ${lab.products_gflops} | ${ofPeak} | ${Number(lab.peak_rss_mb).toLocaleString('en-US')} MB |`
			);
		}
	return rows.join('\n');
}

/** ms/step against parameters, both axes log₁₀: one line per runtime and thread count. */
function plot(lines: Line[]): string {
	const [W, H, left, bottom, top, right] = [640, 400, 64, 48, 36, 170];
	const series = new Map<string, [number, number][]>();
	for (const l of lines) {
		if (!l.rung || l.ms_per_step === undefined) continue;
		const key = `${l.backend === 'pytorch-cpu' ? 'PyTorch' : `lab ${l.backend}`}, ${l.threads} thread${l.threads === 1 ? '' : 's'}`;
		const r = rungNamed(String(l.rung));
		series.set(key, [...(series.get(key) ?? []), [rungParameters(r), Number(l.ms_per_step)]]);
	}
	const xs = [...series.values()].flat().map(([x]) => Math.log10(x));
	const ys = [...series.values()].flat().map(([, y]) => Math.log10(y));
	const [x0, x1] = [Math.floor(Math.min(...xs)), Math.ceil(Math.max(...xs))];
	const [y0, y1] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys))];
	const px = (x: number) => left + ((Math.log10(x) - x0) / (x1 - x0)) * (W - left - right);
	const py = (y: number) => H - bottom - ((Math.log10(y) - y0) / (y1 - y0)) * (H - bottom - top);
	const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
	const out = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
		`<rect width="${W}" height="${H}" fill="white"/>`,
		`<text x="${left}" y="18" font-size="14">A training step against model size (npm run bench:ladder; log–log)</text>`
	];
	for (let e = x0; e <= x1; e++) {
		const x = px(10 ** e);
		out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${H - bottom}" stroke="#ddd"/>`);
		out.push(`<text x="${x}" y="${H - bottom + 16}" text-anchor="middle">10^${e}</text>`);
	}
	for (let e = y0; e <= y1; e++) {
		const y = py(10 ** e);
		out.push(`<line x1="${left}" y1="${y}" x2="${W - right}" y2="${y}" stroke="#ddd"/>`);
		out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${(10 ** e).toLocaleString('en-US')}</text>`);
	}
	out.push(`<text x="${(left + W - right) / 2}" y="${H - 10}" text-anchor="middle">parameters</text>`);
	out.push(
		`<text transform="translate(14 ${(top + H - bottom) / 2}) rotate(-90)" text-anchor="middle">ms per training step</text>`
	);
	[...series.entries()].forEach(([name, pts], i) => {
		const c = colours[i % colours.length];
		const dash = name.startsWith('PyTorch') ? ' stroke-dasharray="5 3"' : '';
		const d = pts.map(([x, y], j) => `${j ? 'L' : 'M'}${px(x).toFixed(1)} ${py(y).toFixed(1)}`).join(' ');
		out.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2"${dash}/>`);
		for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`);
		out.push(
			`<line x1="${W - right + 12}" y1="${top + 8 + i * 18}" x2="${W - right + 32}" y2="${top + 8 + i * 18}" stroke="${c}" stroke-width="2"${dash}/>`
		);
		out.push(`<text x="${W - right + 38}" y="${top + 12 + i * 18}">${name}</text>`);
	});
	out.push('</svg>');
	return out.join('\n') + '\n';
}

async function all() {
	const lines: Line[] = [];
	const keep = (l: Record<string, unknown> | null) => {
		if (!l || l.error) return;
		lines.push(l as Line);
		console.log(JSON.stringify(l));
		writeFileSync(values.out!, lines.map((x) => JSON.stringify(x)).join('\n') + '\n');
	};
	keep(runCell(['--peak'], ['--experimental-wasm-relaxed-simd']));
	const threads = Math.min(2, availableParallelism()) === 2 ? [1, 2] : [1];
	for (const name of values.rungs!.split(',')) {
		const r = rungNamed(name);
		for (const t of threads) {
			keep(runCell(['--cell', r.name, '--backend', 'wasm', '--threads', String(t), '--steps', String(timedSteps(r))]));
			keep(pytorch(r, t));
		}
	}
	console.log('\n' + table(lines));
	writeFileSync(values.svg!, plot(lines));
	console.error(`bench-ladder: ${values.out} and ${values.svg} written`);
}

/**
 * `npm run bench:gpu`: the ladder on webgpu in Node (Dawn, on the machine's Vulkan driver) beside
 * wasm, then the browser bench with Chromium on the machine's GPU; JSON lines; a time limit per cell
 * keeps the whole under 5 minutes (a rung that does not finish in it says so and the rest go on).
 */
async function gpu() {
	const started = performance.now();
	const left = () => 270 - (performance.now() - started) / 1000;
	for (const r of LADDER)
		for (const backend of ['webgpu', 'wasm']) {
			if (left() < 20) return console.error(`bench:gpu: out of time before ${r.name} on ${backend}`);
			const line = runCell(['--cell', r.name, '--backend', backend], [], Math.min(90, left()));
			console.log(JSON.stringify(line));
		}
	const browser = spawnSync(
		'npx',
		['playwright', 'test', '-c', 'playwright.bench.config.ts', 'tests/bench/browser.bench.ts'],
		{
			stdio: 'inherit',
			env: { ...process.env, CHROMIUM_GPU: '1', BENCH_BACKENDS: 'webgpu,wasm' },
			timeout: Math.max(30, left()) * 1000
		}
	);
	if (browser.status !== 0)
		console.error(`bench:gpu: the browser bench ${browser.signal ? 'ran out of time' : 'failed'}`);
}

if (values.gpu) await gpu();
else if (values.peak) console.log(JSON.stringify(await peak(values.kernels!)));
else if (values.cell)
	console.log(
		JSON.stringify(
			await cell(
				rungNamed(values.cell),
				values.backend as NodeBackend,
				Number(values.threads),
				Number(values.steps ?? timedSteps(rungNamed(values.cell)))
			)
		)
	);
else if (values.plot) {
	const lines = readFileSync(values.plot, 'utf8')
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l) as Line);
	console.log(table(lines));
	writeFileSync(values.svg!, plot(lines));
} else await all();
