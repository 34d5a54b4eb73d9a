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
	// one spec file at a time: two at once were measured on CI's 2 cores (9.6 min against 10.6 min
	// for one, in different sittings) and each test then took about twice as long, so the gain is
	// within the VM's drift and timing-sensitive tests (auto's measurement) would share the CPU
	fullyParallel: false,
	workers: 1,
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
