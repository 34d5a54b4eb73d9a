// A one-line progress bar for the CLI: step/total, loss, steps/s, ETA. On a terminal it redraws in
// place; in a log file it prints a line every 1% of the run.

export function formatDuration(seconds: number): string {
	if (!Number.isFinite(seconds)) return '?';
	const s = Math.round(seconds);
	const h = Math.floor(s / 3600);
	const m = Math.floor((s % 3600) / 60);
	return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

export class Progress {
	private readonly started = performance.now();
	private readonly every: number;

	constructor(
		private readonly total: number,
		private readonly firstStep: number,
		private readonly out: { write(s: string): unknown; isTTY?: boolean }
	) {
		this.every = Math.max(1, Math.round((total - firstStep) / 100));
	}

	update(step: number, loss: number): void {
		const done = step - this.firstStep;
		const rate = done / ((performance.now() - this.started) / 1000);
		const eta = (this.total - step) / rate;
		const width = 24;
		const filled = Math.round((width * step) / this.total);
		const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
		const line = `[${bar}] step ${step}/${this.total}  loss ${loss.toFixed(4)}  ${rate.toFixed(2)} steps/s  ETA ${formatDuration(eta)}`;
		if (this.out.isTTY) this.out.write(`\r${line}`);
		else if (step % this.every === 0 || step === this.total) this.out.write(`${line}\n`);
	}

	end(): void {
		if (this.out.isTTY) this.out.write('\n');
	}
}
