// The UI thread's handle on the training worker (one per page).

import * as Comlink from 'comlink';
import type { LabListener, LabWorkerApi } from './api';

let worker: Comlink.Remote<LabWorkerApi> | null = null;

export function labWorker(): Comlink.Remote<LabWorkerApi> {
	worker ??= Comlink.wrap<LabWorkerApi>(new Worker(new URL('./lab.worker.ts', import.meta.url), { type: 'module' }));
	return worker;
}

/** Wraps a listener so the worker can call it across the boundary. */
export function listen(listener: LabListener): LabListener {
	return Comlink.proxy(listener);
}
