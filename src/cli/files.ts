// File helpers for the CLI: atomic writes (temp name + rename) so that a crash or Ctrl-C never
// leaves a half-written file under a real name.

import {
	closeSync,
	existsSync,
	fsyncSync,
	mkdirSync,
	openSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	writeSync
} from 'node:fs';
import { join } from 'node:path';

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
	const tmp = `${path}.tmp-${process.pid}`;
	try {
		const fd = openSync(tmp, 'w');
		try {
			const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
			let off = 0;
			while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
			fsyncSync(fd);
		} finally {
			closeSync(fd);
		}
		renameSync(tmp, path);
	} catch (err) {
		rmSync(tmp, { force: true });
		throw err;
	}
}

/** Creates `dir` if needed and proves it is writable, or throws a message saying what to do. */
export function ensureWritableDir(dir: string): void {
	try {
		mkdirSync(dir, { recursive: true });
		const probe = join(dir, `.write-probe-${process.pid}`);
		writeFileAtomic(probe, 'ok');
		rmSync(probe);
	} catch (err) {
		const code = (err as NodeJS.ErrnoException).code ?? 'error';
		throw new Error(`cannot write to ${dir} (${code}): choose another directory or fix its permissions`, {
			cause: err
		});
	}
}

/** Leftover temp files from a killed process. */
export function removeStaleTemps(dir: string): void {
	if (!existsSync(dir)) return;
	for (const f of readdirSync(dir)) if (/\.tmp-\d+$/.test(f)) rmSync(join(dir, f), { force: true });
}

export function readText(path: string, what: string): string {
	return new TextDecoder().decode(readBytes(path, what));
}

/** A file's bytes; a missing or unreadable one says which `what` it was and why. */
export function readBytes(path: string, what: string): Uint8Array {
	try {
		return new Uint8Array(readFileSync(path));
	} catch (err) {
		const code = (err as NodeJS.ErrnoException).code;
		throw new Error(code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${what} ${path} (${code})`, {
			cause: err
		});
	}
}
