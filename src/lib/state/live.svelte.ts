// Dexie liveQuery as rune state: `value` follows the query across this tab, the worker and other tabs.

import { liveQuery } from 'dexie';

/** What a page reads: the value (undefined while loading), why reading it failed, and how to stop following it. */
export interface Read<T> {
	readonly value: T | undefined;
	readonly error: string | null;
	stop(): void;
}

export class Live<T> implements Read<T> {
	value = $state<T | undefined>(undefined);
	error = $state<string | null>(null);
	private sub: { unsubscribe(): void } | null = null;

	constructor(query: () => Promise<T>) {
		this.sub = liveQuery(query).subscribe({
			next: (v) => {
				this.value = v;
				this.error = null;
			},
			error: (e: Error) => (this.error = e.message)
		});
	}

	stop(): void {
		this.sub?.unsubscribe();
		this.sub = null;
	}
}

/** The shape of a Live read (value, error, stop) over values computed elsewhere (a bundle in memory). */
export class Fixed<T> implements Read<T> {
	constructor(
		private readonly read: () => T | undefined,
		private readonly failed: () => string | null
	) {}
	get value(): T | undefined {
		return this.read();
	}
	get error(): string | null {
		return this.failed();
	}
	stop(): void {}
}
