// Backend selection in the browser worker (docs/specification.md §10): auto tries webgpu, webgl, wasm, cpu in that
// order and says which one it got and why the others were skipped. Backends are registered here
// (the worker entry) only.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerWasmKernelOverrides } from '../kernels/wasmBufferSharing';
import { registerCpuKernelOverrides } from '../kernels/cpuKernels';
import { HELPER_SOURCE, type HelperData } from '../kernels/kernelPool';
import {
	kernelModeNote,
	LAB_KERNELS_THREADS_URL,
	LAB_KERNELS_URL,
	registerWasmLabKernels,
	threadCount,
	type KernelMode
} from '../kernels/wasmLabKernels';
import { chooseWebgpuProductsOnce, registerWebgpuKernels } from '../kernels/webgpuKernels';
import { BACKENDS as AUTO_ORDER, type BackendChoice, type BackendName } from '../core/config';
import { AUTO_GIVE_UP_FACTOR, autoNote, fastest, type BackendTiming } from '../core/train/autoSelect';
import type { BackendReport } from './api';
import { JobQueue } from './jobQueue';

setWasmPaths({
	'tfjs-backend-wasm.wasm': wasmPlain,
	'tfjs-backend-wasm-simd.wasm': wasmSimd,
	'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded
});
registerWasmKernelOverrides();
registerCpuKernelOverrides();
registerWebgpuKernels();
// WebGL: shapes as uniforms, so one compiled shader serves an op at every shape (a step's ops
// otherwise compile a program per distinct shape: the first steps and every evaluation's new lengths)
tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
// Threads for the wasm backend (tfjs's and the lab's kernels) when the page is cross-origin
// isolated: one per core, up to 4 (tfjs's default takes half the cores; the UI thread is mostly
// idle while training).
const CORE_THREADS = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
setThreadsCount(CORE_THREADS);

let labKernels: Promise<((backend: unknown) => Promise<KernelMode>) | string> | null = null;

const fetchBytes = async (url: URL) => {
	const r = await fetch(url);
	if (!r.ok) throw new Error(`${url.pathname}: ${r.status} ${r.statusText}`);
	return r.arrayBuffer();
};

/** A helper thread for the lab's kernels: a Web Worker running HELPER_SOURCE from a blob URL. */
function spawnHelper(data: HelperData): void {
	const url = URL.createObjectURL(new Blob([HELPER_SOURCE], { type: 'text/javascript' }));
	new Worker(url).postMessage(data);
	URL.revokeObjectURL(url);
}

/**
 * Registers the lab's wasm kernels (kernels/lab_kernels.c) once: with one thread per core (up to
 * 4) when the page is cross-origin isolated (shared memory), else one. Resolves with how to
 * prepare them for the backend, or why they did not load (wasm then trains on tfjs's own kernels,
 * slower, and says so).
 */
function loadLabKernels(): Promise<((backend: unknown) => Promise<KernelMode>) | string> {
	const isolated = self.crossOriginIsolated === true;
	const count = isolated ? CORE_THREADS : 1;
	// isolated: tfjs's memory is shared (its threaded build), which only the shared-memory build imports
	labKernels ??= Promise.all([fetchBytes(LAB_KERNELS_URL), isolated ? fetchBytes(LAB_KERNELS_THREADS_URL) : null])
		.then(([one, threaded]) =>
			registerWasmLabKernels(one, threaded ? { bytes: threaded, count, spawn: spawnHelper } : undefined)
		)
		.catch(
			(err: Error) => `wasm: the lab's fused kernels did not load (${err.message}); tfjs's own kernels are used, slower`
		);
	return labKernels;
}

/**
 * Prepares the lab's kernels for the wasm backend just started (before any kernel runs: helper
 * threads must start while this worker can still yield); says how they run, or why they do not.
 */
async function labKernelsNote(): Promise<string> {
	const loaded = await loadLabKernels();
	labKernelThreads = null;
	if (typeof loaded === 'string') return loaded;
	const mode = await loaded(tf.backend());
	labKernelThreads = mode.threads;
	const note = kernelModeNote(mode);
	return self.crossOriginIsolated === true
		? note
		: `${note} (the page is not cross-origin isolated: no shared memory for more)`;
}

/** How the lab's kernels run on wasm, and on how many threads, from when the wasm backend last started. */
let kernelsNote = '';
/** Which WebGPU product kernel the measurement kept on this adapter (webgpuKernels.ts). */
let productsNote = '';
let labKernelThreads: number | null = null;

/** Why a backend cannot be used here, or null when it initialised. */
async function tryBackend(name: BackendName): Promise<string | null> {
	if (name === 'wasm') await loadLabKernels();
	if (name === 'webgpu' && !('gpu' in navigator)) return 'navigator.gpu is not available in this browser';
	if (name === 'webgpu') {
		const adapter = await (navigator as Navigator & { gpu: GPU }).gpu.requestAdapter();
		if (!adapter) return 'no WebGPU adapter (the GPU is blocklisted or absent)';
	}
	if (name === 'webgl' && typeof OffscreenCanvas === 'undefined')
		return 'OffscreenCanvas is not available in workers here';
	try {
		const ok = await tf.setBackend(name);
		await tf.ready();
		if (!ok || tf.getBackend() !== name) return 'failed to initialise';
		if (name === 'wasm') kernelsNote = await labKernelsNote();
		if (name === 'webgpu') productsNote = await chooseWebgpuProductsOnce();
		return null;
	} catch (err) {
		return `failed to initialise: ${(err as Error).message}`;
	}
}

function adapterOf(name: BackendName): BackendReport['adapter'] {
	if (name !== 'webgpu') return null;
	const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
	return { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '' };
}

function threadsNote(threads: number, isolated: boolean): string {
	const t = threadCount(threads);
	if (isolated) return `wasm: tfjs's own kernels on ${t} (page cross-origin isolated)`;
	return `wasm: ${t} (page not cross-origin isolated, so no SharedArrayBuffer: serve it with COOP/COEP headers or load it again once the service worker is active; see docs/deploy.md)`;
}

/** The device part of a measurement's cache key: WebGPU adapter, cores, isolation (wasm threads). */
export async function deviceKey(): Promise<string> {
	let gpu = 'no-webgpu';
	try {
		const adapter = 'gpu' in navigator ? await (navigator as Navigator & { gpu: GPU }).gpu.requestAdapter() : null;
		// GPUAdapter.info is Chrome 127+; older browsers only have requestAdapterInfo()
		const legacy = adapter as unknown as { requestAdapterInfo?(): Promise<GPUAdapterInfo> } | null;
		const info = adapter?.info ?? (await legacy?.requestAdapterInfo?.());
		if (adapter) gpu = `${info?.vendor ?? '?'}/${info?.architecture ?? '?'}`;
	} catch {
		gpu = 'webgpu-unknown';
	}
	return `${gpu} cores${navigator.hardwareConcurrency} isolated${self.crossOriginIsolated === true}`;
}

/**
 * backend: auto by measurement: `time` runs on each backend that starts (AUTO_ORDER); the fastest
 * is made active. `cached` timings (same device and model) skip the measuring. The report's notes
 * say what was measured and chosen.
 */
export async function selectMeasured(
	time: (cutoffMs: number) => Promise<number>,
	cached: BackendTiming[] | null
): Promise<{ report: BackendReport; timings: BackendTiming[]; complete: boolean }> {
	const skipped: BackendReport['skipped'] = [];
	let failed = false;
	let timings = cached;
	if (!timings) {
		timings = [];
		for (const name of AUTO_ORDER) {
			const why = await tryBackend(name);
			if (why !== null) {
				skipped.push({ backend: name, reason: why });
				continue;
			}
			const best = Math.min(...timings.map((t) => t.ms_per_step));
			try {
				timings.push({ backend: name, ms_per_step: await time(best * AUTO_GIVE_UP_FACTOR) });
			} catch (err) {
				failed = true;
				skipped.push({ backend: name, reason: `failed while timing this model: ${(err as Error).message}` });
			}
		}
	}
	if (timings.length === 0)
		throw new Error(`auto: no backend could train this model here: ${skipped.map(skipNote).join('; ')}`);
	const best = fastest(timings).backend as BackendName;
	const report = await selectBackend(best);
	report.notes = [autoNote(timings, cached !== null), ...skipped.map(skipNote), ...report.notes];
	report.skipped = [...skipped, ...report.skipped];
	report.fellBack = report.backend !== best;
	return { report, timings, complete: !failed };
}

/** Makes the best available backend for `choice` active and reports what happened. */
export async function selectBackend(choice: BackendChoice): Promise<BackendReport> {
	const order = choice === 'auto' ? AUTO_ORDER : [choice, ...AUTO_ORDER.filter((b) => b !== choice)];
	const skipped: BackendReport['skipped'] = [];
	for (const name of order) {
		const why = await tryBackend(name);
		if (why === null) {
			const isolated = self.crossOriginIsolated === true;
			const wasmThreads = name === 'wasm' ? getThreadsCount() : null;
			const notes = [...skipped.map(skipNote), `${name}: chosen`];
			if (wasmThreads !== null) notes.push(threadsNote(wasmThreads, isolated), kernelsNote);
			if (name === 'webgpu') notes.push(productsNote);
			return {
				isolated,
				wasmThreads,
				labKernelThreads: name === 'wasm' ? labKernelThreads : null,
				backend: name,
				notes,
				skipped,
				adapter: adapterOf(name),
				tfjs_version: tf.version_core,
				fellBack: choice !== 'auto' && name !== choice
			};
		}
		skipped.push({ backend: name, reason: why });
	}
	throw new Error(`no TensorFlow.js backend could start here: ${skipped.map(skipNote).join('; ')}`);
}

/** A skipped backend as a provenance line. */
const skipNote = (s: BackendReport['skipped'][number]) => `${s.backend}: skipped, ${s.reason}`;

/**
 * The worker's backend, held by one job at a time or by several on the same backend
 * (worker/jobQueue.ts). Nothing else in the worker calls tf.setBackend.
 */
export const backendQueue = new JobQueue<BackendReport>((choice) => selectBackend(choice as BackendChoice));

// Device loss is testable (tests/e2e/deviceLoss.spec.ts): Playwright calls this in the worker,
// and GPUDevice.destroy() resolves device.lost as a driver reset would.
(self as unknown as Record<string, unknown>).__destroyGpuDeviceForTest = () =>
	(tf.backend() as unknown as { device?: GPUDevice }).device?.destroy();
