// `npm test`: lint, type checks, the unit tests and the browser tests. The linters each use one
// core, so prettier, eslint, dependency-cruiser and svelte-check run side by side (after
// `svelte-kit sync`, which writes the generated types they read); the unit and browser tests run
// one after the other. (Side by side they measured 750 s once and 888 s on a fresh clone against
// 840 s in turn on this 2-core VM, and a WebGPU test then passed its timeout: SwiftShader's threads
// in Dawn and in Chromium slow each other down, so the overlap is not a reliable gain.)
// Each line of output is prefixed with its job; a job that fails is named at the end, and every
// job of a phase runs to its end so that one run reports every failure of that phase.
import { spawn } from 'node:child_process';

/** One command of a phase: a short name for its lines, and the npm script it runs. */
const phases = [
	[{ name: 'sync', script: 'sync' }],
	[
		{ name: 'prettier', script: 'lint:format' },
		{ name: 'eslint', script: 'lint:code' },
		{ name: 'deps', script: 'lint:deps' },
		{ name: 'check', script: 'check:types' }
	],
	[{ name: 'unit', script: 'test:unit' }],
	[{ name: 'e2e', script: 'test:e2e' }]
];

/**
 * Runs `npm run -s <script>`, each line of its output prefixed; resolves to its exit code.
 * @param {{ name: string, script: string }} job
 * @returns {Promise<number>}
 */
function run({ name, script }) {
	const started = Date.now();
	const child = spawn('npm', ['run', '-s', script], { stdio: ['ignore', 'pipe', 'pipe'] });
	const prefix = `[${name}] `;
	/** @type {[import('node:stream').Readable, NodeJS.WriteStream][]} */
	const pipes = [
		[child.stdout, process.stdout],
		[child.stderr, process.stderr]
	];
	for (const [stream, out] of pipes) {
		let rest = '';
		stream.setEncoding('utf8');
		stream.on('data', (chunk) => {
			const lines = (rest + chunk).split('\n');
			rest = lines.pop() ?? '';
			for (const line of lines) out.write(prefix + line + '\n');
		});
		stream.on('end', () => rest && out.write(prefix + rest + '\n'));
	}
	return new Promise((resolve) => {
		child.on('error', (err) => {
			process.stderr.write(`${prefix}could not start npm run ${script}: ${err.message}\n`);
			resolve(1);
		});
		child.on('close', (code, signal) => {
			const seconds = Math.round((Date.now() - started) / 1000);
			const how = code === 0 ? 'passed' : signal ? `stopped by ${signal}` : `failed (exit ${code})`;
			process.stdout.write(`${prefix}${how} in ${seconds} s\n`);
			resolve(code ?? 1);
		});
	});
}

for (const jobs of phases) {
	const codes = await Promise.all(jobs.map(run));
	const failed = jobs.filter((_, i) => codes[i] !== 0).map((j) => `npm run ${j.script}`);
	if (failed.length > 0) {
		console.error(`\nnpm test failed: ${failed.join(', ')}. Run it alone to see only its output.`);
		process.exit(1);
	}
}
