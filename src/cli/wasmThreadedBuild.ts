// tfjs-backend-wasm's threaded build in Node, for its shared memory (docs/performance.md "wasm
// kernels"): the lab's kernels run on tfjs's own WebAssembly.Memory, and with threads that needs it
// shared, which only the threaded build's is. Its emscripten start-up creates a pool of 8 pthread
// workers from a blob: URL, which Node's worker_threads refuses. tfjs's own XNNPACK kernels are
// told to use one thread (setThreadsCount(1)), so no pthread is ever started; emscripten gets
// placeholder workers while the backend starts, which answer "loaded" and refuse any other job
// loudly (an error, never a hang). The lab's kernel threads are real worker_threads
// (src/lib/backend/kernelPool.ts).

import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';

type Listener = (data: unknown) => void;

/** Stands in for an emscripten pthread worker that is never given a thread to run. */
class PlaceholderWorker {
	private readonly listeners = new Map<string, Listener[]>();
	onmessage: ((e: { data: unknown }) => void) | null = null;

	on(event: string, fn: Listener): this {
		this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
		return this;
	}

	postMessage(message: { cmd?: string }): void {
		if (message?.cmd === 'load') return void setTimeout(() => this.emit({ cmd: 'loaded' }), 0);
		const error = new Error(
			`tfjs's wasm backend started a pthread ("${message?.cmd}"), but in Node the lab runs tfjs's own kernels on one thread; run with LAB_WASM_THREADS=1`
		);
		setTimeout(() => (this.listeners.get('error') ?? []).forEach((fn) => fn(error)), 0);
	}

	private emit(data: unknown): void {
		(this.listeners.get('message') ?? []).forEach((fn) => fn(data));
		this.onmessage?.({ data });
	}

	unref(): void {}
	ref(): void {}
	terminate(): Promise<number> {
		return Promise.resolve(0);
	}
}

/**
 * Runs `start` (which starts the wasm backend) with tfjs's threaded build chosen, XNNPACK on one
 * thread, and placeholder pthread workers; Node's Worker is restored afterwards.
 */
export async function withThreadedBuild<T>(start: () => Promise<T>): Promise<T> {
	const workerThreads = createRequire(import.meta.url)('node:worker_threads') as { Worker: unknown };
	const real = workerThreads.Worker;
	tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
	setThreadsCount(1);
	workerThreads.Worker = PlaceholderWorker;
	try {
		return await start();
	} finally {
		workerThreads.Worker = real;
	}
}
