// The worker's one job queue (docs/architecture.md "The worker"). tfjs has one active backend per
// worker, global to every tensor op, so the backend is a resource that jobs hold: a run, an
// evaluation, a generation, a bench or a probe holds it from its start to its end, and only the
// queue calls the selector (tf.setBackend). Jobs on the backend already held run side by side
// (a Playground generation beside a run on the same backend); a job that needs another backend, or
// `auto` (which may pick any), waits until every holder is done. Waiting jobs start in arrival
// order, and a later job never joins the held backend ahead of an earlier one that waits.
// No DOM here: tests/jobQueue.test.ts drives it with a fake selector.

/** A backend selection's outcome: at least the backend it made active. */
export interface HeldBackend {
	backend: string;
}

/** What a job asks of the queue. */
export interface JobSpec<R extends HeldBackend> {
	/** Shown to whoever waits behind this job (e.g. "run 20261129-ab12 (training)"). */
	label: string;
	/** The backend wanted: a backend's name, or 'auto'. */
	choice: string;
	/** Take whatever backend is held now instead of waiting for `choice` (a generation). */
	anyHeld?: boolean;
	/** Run alone: nothing joins it and it joins nothing (a bench, whose timings and switches are global). */
	exclusive?: boolean;
	/** Replaces the plain selection of `choice` (auto by measurement). */
	select?: () => Promise<R>;
}

/** Tells a job that it waits, and for what. */
export type OnWait = (why: string) => void;

/** A job's place among the running ones: its label, and whether it selects the backend. */
interface Ticket {
	label: string;
	selects: boolean;
}

interface Waiter<R extends HeldBackend> {
	spec: JobSpec<R>;
	start: (ticket: Ticket) => void;
}

export class JobQueue<R extends HeldBackend> {
	/** The latest selection; running jobs hold it. */
	private held: R | null = null;
	/** Labels of the running jobs, the one selecting included. */
	private readonly running = new Set<string>();
	private readonly waiting: Waiter<R>[] = [];
	private selecting = false;
	/** The running job runs alone. */
	private exclusiveRunning = false;

	constructor(private readonly selectBackend: (choice: string) => Promise<R>) {}

	/** The backend held by running jobs, or null when none runs (or one is still selecting). */
	get current(): R | null {
		return this.running.size > 0 && !this.selecting ? this.held : null;
	}

	/** Labels of the running jobs, in start order. */
	get jobs(): string[] {
		return [...this.running];
	}

	/**
	 * Runs `work` holding a backend: joins the held one when the job may, otherwise waits for the
	 * running jobs to end and selects. `onWait` is told once if the job has to wait.
	 */
	async run<T>(spec: JobSpec<R>, work: (held: R) => Promise<T>, onWait?: OnWait): Promise<T> {
		let ticket: Ticket;
		if (this.waiting.length === 0 && this.startable(spec)) ticket = this.admit(spec);
		else {
			onWait?.(`waiting for ${this.jobs.join(', ')} on ${this.held?.backend ?? 'its backend'} to finish`);
			ticket = await new Promise<Ticket>((start) => this.waiting.push({ spec, start }));
		}
		try {
			if (ticket.selects) await this.select(spec);
			return await work(this.held!);
		} finally {
			this.running.delete(ticket.label);
			this.pump();
		}
	}

	/** Whether a job may start now: nothing runs, or it may join the held backend. */
	private startable(spec: JobSpec<R>): boolean {
		if (this.running.size === 0) return true;
		if (this.selecting || this.held === null || spec.exclusive || this.exclusiveRunning) return false;
		return spec.anyHeld === true || spec.choice === this.held.backend;
	}

	/** Counts a job as running; the first job on an idle queue selects the backend. */
	private admit(spec: JobSpec<R>): Ticket {
		const selects = this.running.size === 0;
		if (selects) this.selecting = true;
		this.exclusiveRunning = spec.exclusive === true;
		let label = spec.label;
		for (let i = 2; this.running.has(label); i++) label = `${spec.label} #${i}`;
		this.running.add(label);
		return { label, selects };
	}

	private async select(spec: JobSpec<R>): Promise<void> {
		try {
			this.held = await (spec.select ? spec.select() : this.selectBackend(spec.choice));
		} catch (err) {
			this.held = null; // which backend is active after a failed selection is unknown
			throw err;
		} finally {
			this.selecting = false;
		}
		this.pump(); // waiting jobs for this backend may join now
	}

	/** Starts waiting jobs in arrival order while the first of them may start. */
	private pump(): void {
		while (this.waiting.length > 0 && this.startable(this.waiting[0].spec)) {
			const first = this.waiting.shift()!;
			first.start(this.admit(first.spec));
		}
	}
}
