import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// `npm run bench` (browser part): the /bench page in headless Chromium, and a real run through the
// worker + UI against the bare core. Timing only: never part of `npm test`.
export default defineConfig({ ...base, testDir: 'tests/bench', testMatch: '*.bench.ts', timeout: 3_600_000 });
