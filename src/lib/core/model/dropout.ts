// Dropout of one forward pass: seeded per pass and per site, so a step's masks can be drawn again.

import * as tf from '@tensorflow/tfjs-core';

export class Dropout {
	private site = 0;
	constructor(
		/** Probability of dropping a value (model.dropout). */
		private readonly rate: number,
		/** Whether this pass trains (dropout applies only then). */
		private readonly training: boolean,
		/** Seed of this pass's masks (e.g. derived from the run's seed and the step). */
		private readonly seed = 'dropout'
	) {}

	/** Whether apply() drops anything (training with a rate above 0). */
	get active(): boolean {
		return this.training && this.rate > 0;
	}

	apply<T extends tf.Tensor>(x: T): T {
		if (!this.active) return x;
		return tf.dropout(x, this.rate, undefined, `${this.seed}:${this.site++}`) as T;
	}
}
