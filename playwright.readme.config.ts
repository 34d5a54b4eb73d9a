import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// `npm run readme-image`: docs/images/run-completed.png from the documented full run.
export default defineConfig({ ...base, testDir: 'tests/readme-image' });
