import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// `npm run screenshots`: every page at 1280×800 and 390×844, into screenshots/.
export default defineConfig({ ...base, testDir: 'tests/screens' });
