// A page action as rune state: `run` clears the last error, awaits the work, and keeps the message
// of a failure to show beside the buttons (never an unhandled rejection, never a stack trace).
// While one action runs, another is ignored: a double click starts work once.

export class Action {
	/** The last failure's message, or null. */
	error = $state<string | null>(null);
	/** Whether an action is running (buttons that start work show it and are disabled). */
	busy = $state(false);

	async run(work: () => Promise<unknown>): Promise<void> {
		if (this.busy) return; // a second click while the first one's work runs
		this.busy = true;
		this.error = null;
		try {
			await work();
		} catch (e) {
			this.error = (e as Error).message;
		} finally {
			this.busy = false;
		}
	}
}
