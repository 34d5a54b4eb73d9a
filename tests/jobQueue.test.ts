// The worker's job queue (src/lib/worker/jobQueue.ts): a job holds its backend from start to end.
// A fake selector stands in for tf.setBackend; each job records the active backend while it works.
import { describe, expect, it } from 'vitest';
import { JobQueue } from '../src/lib/worker/jobQueue';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

function fixture(failOn: string | null = null) {
	let active = 'none';
	const log: string[] = [];
	const queue = new JobQueue(async (choice: string) => {
		await tick();
		if (choice === failOn) throw new Error(`${choice} failed to initialise`);
		active = choice === 'auto' ? 'wasm' : choice;
		log.push(`select ${active}`);
		return { backend: active };
	});
	/** A job that works for `ms`, checking at every await that its backend stays active. */
	const job = (label: string, choice: string, ms: number, anyHeld = false) =>
		queue.run({ label, choice, anyHeld }, async (held) => {
			log.push(`start ${label} on ${held.backend}`);
			for (let t = 0; t < ms; t += 2) {
				await tick(2);
				if (active !== held.backend) throw new Error(`${label}: backend switched to ${active} under it`);
			}
			log.push(`end ${label}`);
			return held.backend;
		});
	return { queue, job, log, active: () => active };
}

describe('JobQueue', () => {
	it('never switches the backend under a running job: another backend waits until it ends', async () => {
		const { job, log } = fixture();
		const run = job('run', 'cpu', 30);
		await tick();
		const gen = job('generation', 'wasm', 4);
		await expect(Promise.all([run, gen])).resolves.toEqual(['cpu', 'wasm']);
		expect(log).toEqual([
			'select cpu',
			'start run on cpu',
			'end run',
			'select wasm',
			'start generation on wasm',
			'end generation'
		]);
	});

	it('runs jobs on the held backend side by side, and an anyHeld job joins whatever is held', async () => {
		const { job, log } = fixture();
		const run = job('run', 'wasm', 30);
		await tick(5);
		const gen = job('generation', 'wasm', 4);
		const any = job('generation 2', 'cpu', 4, true);
		await expect(Promise.all([run, gen, any])).resolves.toEqual(['wasm', 'wasm', 'wasm']);
		expect(log.indexOf('end generation')).toBeLessThan(log.indexOf('end run'));
		expect(log.indexOf('end generation 2')).toBeLessThan(log.indexOf('end run'));
		expect(log.filter((l) => l.startsWith('select'))).toEqual(['select wasm']);
	});

	it('tells a waiting job what it waits for, and starts waiting jobs in arrival order', async () => {
		const { queue, job, log } = fixture();
		const run = job('run A', 'cpu', 20);
		await tick();
		const told: string[] = [];
		const other = queue.run(
			{ label: 'bench', choice: 'wasm' },
			async (h) => log.push(`bench on ${h.backend}`),
			(w) => told.push(w)
		);
		// a later cpu job must not join run A ahead of the waiting wasm bench
		const later = job('run B', 'cpu', 2);
		await Promise.all([run, other, later]);
		expect(told).toEqual(['waiting for run A on cpu to finish']);
		expect(log.indexOf('bench on wasm')).toBeLessThan(log.indexOf('start run B on cpu'));
	});

	it('an exclusive job (a bench) runs alone, even on the held backend', async () => {
		const { queue, job, log } = fixture();
		const run = job('run', 'wasm', 20);
		await tick(3);
		const bench = queue.run({ label: 'bench', choice: 'wasm', exclusive: true }, async () => log.push('bench'));
		const gen = job('generation', 'wasm', 2); // arrives during the bench's wait: after it
		await Promise.all([run, bench, gen]);
		expect(log.indexOf('bench')).toBeGreaterThan(log.indexOf('end run'));
		expect(log.indexOf('start generation on wasm')).toBeGreaterThan(log.indexOf('bench'));
	});

	it('gives the backend to the next job when a selection fails', async () => {
		const { job } = fixture('webgpu');
		const failing = job('run', 'webgpu', 5);
		const next = job('generation', 'cpu', 2);
		await expect(failing).rejects.toThrow('webgpu failed to initialise');
		await expect(next).resolves.toBe('cpu');
	});

	it('is idle again after a job throws', async () => {
		const { queue } = fixture();
		await expect(
			queue.run({ label: 'x', choice: 'cpu' }, async () => Promise.reject(new Error('boom')))
		).rejects.toThrow('boom');
		expect(queue.jobs).toEqual([]);
		expect(queue.current).toBeNull();
		await expect(queue.run({ label: 'y', choice: 'wasm' }, async (h) => h.backend)).resolves.toBe('wasm');
	});
});
