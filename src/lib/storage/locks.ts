// Web Locks for work that must not overlap across tabs (checkpoint writes against the orphan
// cleanup, imports against each other). Where there are none (Node, the tests), exclusive work on
// one name still runs one at a time in this JavaScript context; shared work runs as it comes.

/** The last exclusive work queued on each name, where there are no Web Locks. */
const chains = new Map<string, Promise<unknown>>();

/** Runs `work` holding the lock `name` in `mode` (exclusive by default). */
export function withLock<T>(name: string, work: () => Promise<T>, mode: LockMode = 'exclusive'): Promise<T> {
	const locks = globalThis.navigator?.locks;
	if (locks) return locks.request(name, { mode }, work) as Promise<T>;
	if (mode === 'shared') return work();
	const run = (chains.get(name) ?? Promise.resolve()).then(work, work);
	chains.set(
		name,
		run.catch(() => undefined)
	);
	return run;
}
