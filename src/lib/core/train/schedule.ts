// Learning-rate schedule (docs/specification.md §5): linear warmup to lr, then cosine decay to min_lr.

export interface ScheduleConfig {
	/** Peak learning rate. */
	lr: number;
	/** Final learning rate. */
	min_lr: number;
	/** Warmup steps. */
	warmup_steps: number;
	/** Total steps. */
	steps: number;
}

/** The learning rate for the update with 0-based index `s` (the (s+1)-th step). */
export function learningRate(s: number, c: ScheduleConfig): number {
	if (s < c.warmup_steps) return (c.lr * (s + 1)) / c.warmup_steps;
	const span = Math.max(1, c.steps - c.warmup_steps);
	const ratio = Math.min(1, (s - c.warmup_steps) / span);
	return c.min_lr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (c.lr - c.min_lr);
}
