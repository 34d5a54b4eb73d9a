import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	plugins: [sveltekit()],
	worker: { format: 'es' },
	// pre-bundled up front, so the first visit to the dev server does not reload when the worker
	// discovers them
	optimizeDeps: {
		include: [
			'@tensorflow/tfjs-core',
			'@tensorflow/tfjs-core/dist/register_all_gradients',
			'@tensorflow/tfjs-backend-cpu',
			'@tensorflow/tfjs-backend-wasm',
			'@tensorflow/tfjs-backend-webgl',
			'@tensorflow/tfjs-backend-webgpu',
			'comlink',
			'dexie',
			'fflate',
			'uplot',
			'yaml'
		]
	},
	define: { __APP_VERSION__: JSON.stringify(process.env.npm_package_version ?? '0.0.0') }
});
