// What a CLI command writes to, so tests can run commands in-process and read their output.

export interface CliIo {
	/** Standard output (data: JSONL, JSON). */
	out(text: string): void;
	/** Standard error (messages). */
	err(text: string): void;
	/** Where the progress bar draws. */
	progressStream: { write(s: string): unknown; isTTY?: boolean };
}

export const processIo: CliIo = {
	out: (t) => void process.stdout.write(t),
	err: (t) => void process.stderr.write(t),
	progressStream: process.stderr
};

/** Wrong flags: exit code 2. */
export class UsageError extends Error {}

/** Runs a command: every error becomes one message naming what failed, and a non-zero exit. */
export async function runCommand(
	command: (argv: string[], io: CliIo) => Promise<number>,
	argv: string[],
	io: CliIo = processIo
): Promise<number> {
	try {
		return await command(argv, io);
	} catch (err) {
		const e = err as Error;
		io.err(`error: ${e.message}\n`);
		return e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith?.('ERR_PARSE_ARGS') ? 2 : 1;
	}
}
