import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		include: ['tests/**/*.test.ts'],
		server: { deps: { inline: [/@tensorflow\//] } },
		testTimeout: 120_000
	}
});
