// Backend registration for Node (docs/specification.md §1: backends are registered only in the entries).
// wasm is the default: fast on CPU. cpu is the reference (bit-for-bit determinism). webgpu needs
// the optional `webgpu` package (Dawn for Node) and a Vulkan/Metal/D3D adapter.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { registerWasmKernelOverrides } from '../lib/kernels/wasmBufferSharing';
import { registerCpuKernelOverrides } from '../lib/kernels/cpuKernels';
import { kernelModeNote, registerWasmLabKernels, type KernelMode } from '../lib/kernels/wasmLabKernels';
import { HELPER_SOURCE, type HelperData } from '../lib/kernels/kernelPool';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chooseWebgpuProductsOnce, registerWebgpuKernels } from '../lib/kernels/webgpuKernels';
import type { Provenance } from '../lib/core/run/record';
import { APP_VERSION } from './appVersion';
import { withThreadedBuild } from './wasmThreadedBuild';

export const NODE_BACKENDS = ['wasm', 'cpu', 'webgpu'] as const;
export type NodeBackend = (typeof NODE_BACKENDS)[number];

export class BackendError extends Error {}

let webgpuAdapter: Promise<{ vendor: string; architecture: string }> | null = null;

/** Registers Dawn's WebGPU and the webgpu backend once per process (one Dawn instance). */
function registerWebgpu(): Promise<{ vendor: string; architecture: string }> {
	webgpuAdapter ??= startWebgpu().catch((err) => {
		webgpuAdapter = null;
		throw err;
	});
	return webgpuAdapter;
}

async function startWebgpu(): Promise<{ vendor: string; architecture: string }> {
	let create: (options: string[]) => GPU;
	let globals: Record<string, unknown>;
	try {
		// optional native package, never bundled
		const name = 'webgpu';
		({ create, globals } = (await import(/* @vite-ignore */ name)) as {
			create: (o: string[]) => GPU;
			globals: Record<string, unknown>;
		});
	} catch {
		throw new BackendError(
			'backend webgpu needs the optional package "webgpu" (Dawn for Node): npm install webgpu, or use --backend wasm'
		);
	}
	Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, … as a browser has them
	const gpu = create([]);
	Object.assign(globalThis, { navigator: { ...(globalThis.navigator ?? {}), gpu } });
	const adapter = await gpu.requestAdapter();
	if (!adapter) {
		throw new BackendError(
			'backend webgpu: no WebGPU adapter found (on Linux without a GPU try VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium), or use --backend wasm'
		);
	}
	await import('@tensorflow/tfjs-backend-webgpu');
	registerWebgpuKernels();
	return { vendor: adapter.info?.vendor ?? '', architecture: adapter.info?.architecture ?? '' };
}

/**
 * labKernels.wasm, found from this file upward: the CLI runs as a bundle in node_modules/.cache,
 * the tests from src/cli, so the distance to the repository root differs.
 */
function labKernelsPath(file: string): string {
	let dir = dirname(fileURLToPath(import.meta.url));
	for (;;) {
		const candidate = join(dir, 'src', 'lib', 'kernels', file);
		if (existsSync(candidate)) return candidate;
		if (dirname(dir) === dir)
			throw new BackendError(`backend wasm: src/lib/kernels/${file} not found (npm run build:kernels)`);
		dir = dirname(dir);
	}
}

/**
 * Threads for the lab's wasm kernels: LAB_WASM_THREADS, else one per core up to 4. Node always
 * has shared memory; the helpers are worker_threads. With more than one, tfjs's threaded build is
 * used, whose memory is shared (wasmThreadedBuild.ts).
 */
function kernelThreads(): number {
	const wanted = process.env.LAB_WASM_THREADS;
	if (wanted === undefined) return Math.min(4, availableParallelism());
	const n = Number(wanted);
	if (!Number.isInteger(n) || n < 1 || n > 64)
		throw new BackendError(`LAB_WASM_THREADS=${wanted}: give a whole number of threads from 1 to 64`);
	return n;
}

/** Instantiates the lab's wasm kernels for the active wasm backend; says how they run. */
let prepareKernels: ((backend: unknown) => Promise<KernelMode>) | null = null;

/** Makes `name` the active backend and says what was used. */
export async function useNodeBackend(name: NodeBackend): Promise<Provenance> {
	tf.enableProdMode(); // no debug checks, no "install tfjs-node" banner
	registerCpuKernelOverrides();
	let adapter: Provenance['adapter'] = null;
	const threads = name === 'wasm' ? kernelThreads() : 1;
	if (name === 'wasm') {
		await import('@tensorflow/tfjs-backend-wasm');
		const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
		setWasmPaths(join(dirname(pkg), 'dist') + '/');
		registerWasmKernelOverrides();
		// one thread: tfjs's plain build, which only the one-thread module imports
		prepareKernels ??= await registerWasmLabKernels(
			readFileSync(labKernelsPath('labKernels.wasm')),
			threads > 1
				? {
						bytes: readFileSync(labKernelsPath('labKernelsThreads.wasm')),
						count: threads,
						// unref: the helpers never keep the process alive
						spawn: (data: HelperData) => void new Worker(HELPER_SOURCE, { eval: true, workerData: data }).unref()
					}
				: undefined
		);
	} else if (name === 'webgpu') {
		adapter = await registerWebgpu();
	}
	// threads: tfjs's threaded build, for its shared memory (the kernels then run in tfjs's memory)
	const ok = await (threads > 1 ? withThreadedBuild(() => tf.setBackend(name)) : tf.setBackend(name));
	await tf.ready();
	if (!ok || tf.getBackend() !== name) throw new BackendError(`backend ${name} failed to initialise`);
	// the lab's wasm kernels, started for this backend before any kernel runs
	const kernelNote =
		name === 'wasm' && prepareKernels
			? kernelModeNote(await prepareKernels(tf.backend()))
			: name === 'webgpu'
				? await chooseWebgpuProductsOnce()
				: null;
	return {
		backend: name,
		backend_notes: [
			`chosen on the command line (Node: ${NODE_BACKENDS.join(', ')})`,
			...(kernelNote ? [kernelNote] : [])
		],
		adapter,
		tfjs_version: tf.version_core,
		app_version: APP_VERSION,
		runtime: `node ${process.version}`
	};
}
