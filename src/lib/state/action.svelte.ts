// A page action's error as rune state: `run` clears it, awaits the work, and keeps the message of
// a failure to show beside the buttons (never an unhandled rejection, never a stack trace).

export class Action {
	/** The last failure's message, or null. */
	error = $state<string | null>(null);

	async run(work: () => Promise<unknown>): Promise<void> {
		this.error = null;
		try {
			await work();
		} catch (e) {
			this.error = (e as Error).message;
		}
	}
}
