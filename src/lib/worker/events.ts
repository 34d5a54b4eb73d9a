// Events from the worker to the page, batched: at most one delivery per 100 ms, so a fast run
// does not flood the UI thread with one message per step.

import type { LabEvent, LabListener } from './api';

export interface EventSink {
	push(e: LabEvent): void;
	/** Delivers what is queued now. */
	flush(): void;
}

export function batcher(listener: LabListener): EventSink {
	let queue: LabEvent[] = [];
	let timer: ReturnType<typeof setTimeout> | null = null;
	const flush = () => {
		timer = null;
		if (queue.length === 0) return;
		const out = queue;
		queue = [];
		try {
			// a Comlink call: a page that went away rejects it asynchronously
			void Promise.resolve(listener(out)).catch(() => undefined);
		} catch {
			// the page went away; the run goes on and stays in IndexedDB
		}
	};
	return {
		push(e: LabEvent) {
			queue.push(e);
			timer ??= setTimeout(flush, 100);
		},
		flush
	};
}
