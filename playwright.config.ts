import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';

// Debian's Chromium where present (CI, this machine), CHROMIUM_PATH to override, else the
// browser Playwright installed (a user's machine). The flags keep it off the network and give it
// WebGPU on the CPU (SwiftShader) when there is no GPU.
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
const port = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
	testDir: 'tests/e2e',
	timeout: 240_000,
	expect: { timeout: 120_000 },
	// two spec files at a time (a file's tests run in order, each in a fresh browser context): much of
	// a test is waiting on a page, a worker or a CLI reference, so CI's 2 cores take two
	// (e2e 10.6 → 7.3 min there)
	fullyParallel: false,
	workers: 2,
	retries: 0,
	reporter: [['list']],
	use: {
		baseURL: `http://localhost:${port}`,
		acceptDownloads: true,
		launchOptions: {
			executablePath,
			args: [
				'--no-sandbox',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--no-first-run',
				'--enable-unsafe-webgpu',
				// WebGPU on the CPU (SwiftShader) unless CHROMIUM_GPU=1 asks for the machine's GPU
				...(process.env.CHROMIUM_GPU ? [] : ['--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader'])
			]
		}
	},
	// Two builds, served as a static host would: build/ at / with the COOP/COEP headers `npm run
	// preview` sends, and a BASE_PATH=/lab build at /lab/ with no special headers (like GitHub Pages).
	webServer: {
		command:
			'npm run build && BASE_PATH=/lab BUILD_DIR=build-lab npm run build && ' +
			`node scripts/static-server.mjs ${port}:/:build:isolated ${port + 1}:/lab:build-lab`,
		url: `http://localhost:${port + 1}/lab/`,
		timeout: 300_000,
		reuseExistingServer: false
	}
});
