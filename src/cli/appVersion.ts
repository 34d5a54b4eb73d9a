import { readFileSync } from 'node:fs';

/** This package's version, read from package.json next to node_modules. */
export const APP_VERSION: string = (() => {
	try {
		return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
			.version;
	} catch {
		return JSON.parse(readFileSync('package.json', 'utf8')).version as string;
	}
})();
