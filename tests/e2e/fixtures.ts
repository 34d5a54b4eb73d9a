// The Playwright `test` every e2e spec uses: it fails a test on any Content-Security-Policy
// violation, in the page (securitypolicyviolation events) or in a worker (Chromium reports those
// as console errors, which Playwright forwards from workers too).
import { test as base, expect } from '@playwright/test';

export { expect };

export const test = base.extend<{ cspViolations: string[] }>({
	cspViolations: [
		async ({ page }, use) => {
			const violations: string[] = [];
			await page.exposeFunction('__reportCsp', (v: string) => void violations.push(v));
			await page.addInitScript(() => {
				document.addEventListener('securitypolicyviolation', (e) =>
					(window as unknown as { __reportCsp(v: string): void }).__reportCsp(
						`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile}:${e.lineNumber}`
					)
				);
			});
			page.on('console', (m) => {
				if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
			});
			await use(violations);
			expect(violations, 'Content-Security-Policy violations').toEqual([]);
		},
		{ auto: true }
	]
});
