// Run before the Playwright suites: says how to get a Chromium when this machine has none, instead
// of letting every browser test fail with a launch error. Looks where playwright.config.ts looks:
// CHROMIUM_PATH, Debian's /usr/bin/chromium, then the browser Playwright installed.
import { chromium } from '@playwright/test';
import { existsSync } from 'node:fs';

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', chromium.executablePath()].filter(Boolean);
if (!candidates.some((p) => p !== undefined && existsSync(p))) {
	console.error(
		[
			'The browser tests need a Chromium, and none was found (looked at CHROMIUM_PATH, /usr/bin/chromium and',
			"Playwright's own browsers). Get one, then run npm test again:",
			'  Debian/Ubuntu:  sudo apt-get install chromium',
			'  anywhere else:  npx playwright install chromium',
			'  or point CHROMIUM_PATH at an installed Chromium or Chrome.'
		].join('\n')
	);
	process.exit(1);
}
