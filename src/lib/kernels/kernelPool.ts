// Threads for the lab's wasm kernels: helpers (Node worker_threads, or Web Workers from a blob)
// each instantiate labKernelsThreads.wasm on the same shared WebAssembly.Memory, and a kernel's
// rows are split between the caller and them. The caller is a worker thread (the training worker,
// or Node's main thread), so it may block: it posts a job in a shared control block, runs its own
// share, and waits (Atomics.wait) until every helper has run its share. Without shared memory (a
// page that is not cross-origin isolated) the pool is the caller alone.

/**
 * Runs kernel `fn` of the module over `rows`, split into shares of a multiple of `align` rows, each
 * of at least `least` rows (waking a helper for less costs more than it saves): on the caller alone
 * when there are fewer than 2 × `least`.
 */
export interface KernelPool {
	/** Threads, the caller included. */
	readonly size: number;
	run(fn: string, args: number[], rows: number, align: number, scratch: (part: number) => number, least?: number): void;
}

type Exports = Record<string, (...args: number[]) => unknown>;

/** The caller alone. */
export function onePool(ex: Exports): KernelPool {
	return { size: 1, run: (fn, args, rows, _align, scratch) => void ex[fn](...args, 0, rows, scratch(0)) };
}

// control block (Int32): the job's sequence number, helpers done, the kernel's index (−1: stop),
// the number of arguments, and helpers that failed to start (they still count each job as done,
// so the caller never waits forever, and it throws instead)
const LAYOUT = {
	SEQ: 0,
	DONE: 1,
	FN: 2,
	NARGS: 3,
	FAILED: 4,
	/** Helpers started (instantiated, or failed to): the pool is used only once all have. */
	STARTED: 5,
	/** Helper shares that trapped (a job still counts as done for them: the caller throws instead of waiting forever). */
	TRAPPED: 6,
	/** Float64 slots: the arguments, then (r0, r1, scratch) per share from SHARES on. */
	SHARES: 48,
	/** Checks of the control block a waiting thread makes before it sleeps (about 50–100 µs here). */
	SPIN: 20_000
};
const { SEQ, DONE, FN, NARGS, FAILED, STARTED, TRAPPED, SHARES, SPIN } = LAYOUT;

/** What a helper is started with (structured-cloned: the module and the memory are shared). */
export interface HelperData {
	module: WebAssembly.Module;
	memory: WebAssembly.Memory;
	control: SharedArrayBuffer;
	slots: SharedArrayBuffer;
	names: string[];
	/** Its share's index (1 …; the caller is 0). */
	part: number;
	/** Where things are in the control block and the slots. */
	layout: typeof LAYOUT;
}

/**
 * A helper thread's whole life: instantiate the module on the shared memory, then run each job's
 * share until told to stop. It runs in a thread of its own from its source text (HELPER_SOURCE),
 * so it refers to nothing outside its body: everything comes in `data`.
 */
function helperMain(data: HelperData): void {
	const { module, memory, control, slots, names, part, layout: L } = data;
	const c = new Int32Array(control);
	const a = new Float64Array(slots);
	let ex: Record<string, (...args: number[]) => unknown> | null = null;
	try {
		ex = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<
			string,
			(...args: number[]) => unknown
		>;
	} catch {
		Atomics.add(c, L.FAILED, 1);
	}
	Atomics.add(c, L.STARTED, 1);
	let seen = 0;
	for (;;) {
		// spin a little before sleeping: the next kernel usually follows within microseconds, and
		// waking a sleeping thread takes longer than many a kernel's share
		for (let i = 0; i < L.SPIN && Atomics.load(c, L.SEQ) === seen; i++);
		Atomics.wait(c, L.SEQ, seen);
		seen = Atomics.load(c, L.SEQ);
		const fn = c[L.FN];
		if (fn < 0) return;
		const args = Array.from(a.subarray(0, c[L.NARGS]));
		const at = L.SHARES + 3 * part;
		try {
			if (ex) ex[names[fn]](...args, a[at], a[at + 1], a[at + 2]);
		} catch {
			Atomics.add(c, L.TRAPPED, 1);
		}
		Atomics.add(c, L.DONE, 1);
		Atomics.notify(c, L.DONE);
	}
}

/**
 * The helper's source, run as a Node worker (eval) or a Web Worker (blob URL): helperMain, and
 * two lines that hand it its data in either.
 */
export const HELPER_SOURCE = `const helperMain = ${helperMain.toString()};
if (typeof require === 'function') helperMain(require('node:worker_threads').workerData);
else self.onmessage = (e) => helperMain(e.data);
`;

/** Starts one helper running HELPER_SOURCE (it runs until its process or worker ends). */
export type SpawnHelper = (data: HelperData) => void;

/**
 * The caller and `threads − 1` helpers on `memory` (shared), running `module`'s kernels `names`;
 * resolves once every helper has started. A helper is a worker its creator must let start (a
 * browser worker loads through its parent's event loop), so the caller never blocks on one that
 * has not: this waits asynchronously, and gives up after `timeoutMs`.
 */
export async function threadPool(
	ex: Exports,
	module: WebAssembly.Module,
	memory: WebAssembly.Memory,
	names: string[],
	threads: number,
	spawn: SpawnHelper,
	timeoutMs = 20_000
): Promise<KernelPool> {
	const control = new SharedArrayBuffer(16 * 4);
	const slots = new SharedArrayBuffer((SHARES + 3 * threads) * 8);
	const c = new Int32Array(control);
	const a = new Float64Array(slots);
	for (let part = 1; part < threads; part++) spawn({ module, memory, control, slots, names, part, layout: LAYOUT });
	const started = Date.now();
	while (Atomics.load(c, STARTED) < threads - 1) {
		if (Date.now() - started > timeoutMs)
			throw new Error(
				`${threads - 1 - Atomics.load(c, STARTED)} helper thread(s) did not start in ${timeoutMs / 1000} s`
			);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
	if (Atomics.load(c, FAILED) > 0)
		throw new Error(`${Atomics.load(c, FAILED)} helper thread(s) could not instantiate the module`);
	return {
		size: threads,
		run(fn, args, rows, align, scratch, least = align) {
			// as many shares as have `least` rows each (helpers past them get an empty range)
			const used = Math.min(threads, Math.floor(rows / Math.max(align, least)));
			if (used < 2) return void ex[fn](...args, 0, rows, scratch(0));
			const share = Math.ceil(rows / used / align) * align;
			a.set(args);
			for (let part = 0; part < threads; part++)
				a.set([Math.min(rows, part * share), Math.min(rows, (part + 1) * share), scratch(part)], SHARES + 3 * part);
			c[FN] = names.indexOf(fn);
			c[NARGS] = args.length;
			Atomics.store(c, DONE, 0);
			Atomics.store(c, TRAPPED, 0);
			Atomics.add(c, SEQ, 1);
			Atomics.notify(c, SEQ);
			try {
				ex[fn](...args, a[SHARES], a[SHARES + 1], a[SHARES + 2]);
			} finally {
				// always wait for the helpers, even when this share trapped: the next job must not
				// start while one of them still runs this one
				for (let i = 0; i < SPIN && Atomics.load(c, DONE) < threads - 1; i++);
				for (let done = Atomics.load(c, DONE); done < threads - 1; done = Atomics.load(c, DONE))
					Atomics.wait(c, DONE, done);
			}
			const trapped = Atomics.load(c, TRAPPED);
			if (trapped > 0) throw new Error(`${fn}: ${trapped} helper thread share(s) trapped in kernels/lab_kernels.c`);
		}
	};
}
