// Per-epoch seeded shuffle of the training traces (docs/specification.md §5). Each epoch's order is drawn from the
// PRNG state saved at the epoch's start, so (epoch, cursor, state) is enough to resume exactly.

import { Mt19937, type PrngState } from '../prng';

export interface DataOrderState {
	epoch: number;
	cursor: number;
	rng: PrngState;
}

export class DataOrder {
	private rng: Mt19937;
	private epochStart: PrngState;
	private order: number[] = [];
	epoch = 0;
	cursor = 0;

	/** A fresh order from `seed`, or a saved one. */
	constructor(
		private readonly n: number,
		from: { seed: number } | DataOrderState
	) {
		if (n < 1) throw new Error('the training dataset is empty');
		if ('seed' in from) {
			this.rng = new Mt19937(from.seed);
			this.epochStart = this.rng.getState();
			this.shuffle();
		} else {
			this.rng = Mt19937.fromState(from.rng);
			this.epochStart = from.rng;
			this.epoch = from.epoch;
			this.shuffle();
			this.cursor = from.cursor;
		}
	}

	private shuffle(): void {
		this.order = this.rng.shuffle(Array.from({ length: this.n }, (_, i) => i));
	}

	/** The next `size` trace indices; an epoch that runs out mid-batch is continued by the next one. */
	next(size: number): number[] {
		const out: number[] = [];
		while (out.length < size) {
			if (this.cursor >= this.n) {
				this.epoch += 1;
				this.cursor = 0;
				this.epochStart = this.rng.getState();
				this.shuffle();
			}
			out.push(this.order[this.cursor++]);
		}
		return out;
	}

	state(): DataOrderState {
		return { epoch: this.epoch, cursor: this.cursor, rng: this.epochStart };
	}
}
