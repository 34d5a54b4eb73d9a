// tfjs-backend-wasm's threaded build in Node, for its shared memory (docs/performance.md "wasm
// kernels"): the lab's kernels run on tfjs's own WebAssembly.Memory, and with threads that needs it
// shared, which only the threaded build's is. Its emscripten start-up creates a pool of 8 pthread
// workers from a blob: URL, which Node's worker_threads refuses. tfjs's own XNNPACK kernels are
// told to use one thread (setThreadsCount(1)), so no pthread is ever started; emscripten gets
// placeholder workers while the backend starts, which answer "loaded" and throw at once on any
// other job (a thread asked for fails where it is asked for, instead of waiting for a thread that
// never comes). The lab's kernel threads are real worker_threads (src/lib/kernels/kernelPool.ts).

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
		throw new Error(
			`tfjs's wasm backend asked for a pthread ("${message?.cmd}"), but in Node the lab runs tfjs's own kernels on one thread; run with LAB_WASM_THREADS=1`
		);
	}

	/** To the 'message' listeners (emscripten's own calls its onmessage). */
	private emit(data: unknown): void {
		(this.listeners.get('message') ?? []).forEach((fn) => fn(data));
	}

	unref(): void {}
	ref(): void {}
	terminate(): Promise<number> {
		return Promise.resolve(0);
	}
}

/**
 * Starts the wasm backend (`start`, a tf.setBackend) on tfjs's threaded build, with XNNPACK on one
 * thread and placeholder pthread workers; Node's Worker is restored afterwards, both the module's
 * and the global one emscripten sets from it. When the threaded build does not start, the plain
 * build is started instead (its memory is not shared: the lab's kernels then run one thread and
 * say why in the run's provenance).
 */
export async function withThreadedBuild(start: () => Promise<boolean>): Promise<boolean> {
	const workerThreads = createRequire(import.meta.url)('node:worker_threads') as { Worker: unknown };
	const global = globalThis as { Worker?: unknown };
	const [real, realGlobal] = [workerThreads.Worker, global.Worker];
	tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
	setThreadsCount(1);
	workerThreads.Worker = PlaceholderWorker;
	const restore = () => {
		workerThreads.Worker = real;
		if (realGlobal === undefined) delete global.Worker;
		else global.Worker = realGlobal;
	};
	if (await start().finally(restore)) return true;
	tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
	return start();
}
