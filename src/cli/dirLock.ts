// One trainer per run directory: a lock file `.lock` holding the owner's pid, created exclusively
// (O_EXCL) before anything in the directory is read or written. A lock whose process is gone is
// stale and taken over; a live one is refused, naming the process.

import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a process with this pid runs (EPERM: it runs, as another user). */
function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Takes the directory's lock; returns the function that releases it (also run at process exit). */
export function lockRunDir(dir: string): () => void {
	const path = join(dir, '.lock');
	for (let attempt = 0; attempt < 3; attempt++) {
		try {
			const fd = openSync(path, 'wx');
			writeSync(fd, `${process.pid}\n`);
			closeSync(fd);
			const release = () => {
				process.off('exit', release);
				try {
					if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
				} catch {
					// already gone
				}
			};
			process.on('exit', release);
			return release;
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
			let text: string;
			try {
				text = readFileSync(path, 'utf8').trim();
			} catch {
				continue; // released meanwhile: try again
			}
			const owner = Number(text);
			// an empty lock is one being written this instant (or a crash mid-write long ago)
			const young = text === '' && Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 10_000;
			if (young || (Number.isInteger(owner) && owner > 0 && alive(owner)))
				throw new Error(
					`${dir} is being trained by process ${owner} (lock file ${path}): wait for it to end or stop it; ` +
						`if no such process runs, delete ${path}`,
					{ cause: err }
				);
			rmSync(path, { force: true }); // stale: its process is gone
		}
	}
	throw new Error(`${dir}: could not take the lock file ${path}`);
}
