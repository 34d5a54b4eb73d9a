import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';

/**
 * tfjs-backend-wasm sends its threaded factory to the pthread workers as source text
 * (Function.prototype.toString), so that function must not use variables of its enclosing
 * closure. It uses one, `_scriptDir` (undefined in browsers anyway); bundling renames it and every
 * pthread worker dies with "ReferenceError: e is not defined". Declaring it inside the function
 * makes the factory self-contained.
 */
function tfjsWasmThreadsFix(): Plugin {
	const head = 'function(WasmBackendModuleThreadedSimd) {';
	return {
		name: 'tfjs-wasm-threads-fix',
		transform(code, id) {
			if (!id.includes('tfjs-backend-wasm') || !code.includes(head)) return null;
			return { code: code.replace(head, `${head}\nvar _scriptDir = undefined;`), map: null };
		}
	};
}

// Cross-origin isolation (SharedArrayBuffer), so the wasm backend can run threads. Static hosts
// that cannot send headers get them from the service worker (src/service-worker.ts).
export const ISOLATION_HEADERS = {
	'Cross-Origin-Opener-Policy': 'same-origin',
	'Cross-Origin-Embedder-Policy': 'require-corp'
};

/**
 * `npm run preview` sends the isolation headers on every response. (Vite's `preview.headers` does
 * not reach the pages SvelteKit's preview serves, so a middleware sets them first.) The dev server
 * stays unisolated: the wasm backend runs one thread there.
 */
function isolatedPreview(): Plugin {
	return {
		name: 'isolated-preview',
		configurePreviewServer(server) {
			server.middlewares.use((_req, res, next) => {
				for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
				next();
			});
		}
	};
}

export default defineConfig({
	plugins: [isolatedPreview(), tfjsWasmThreadsFix(), sveltekit()],
	worker: { format: 'es', plugins: () => [tfjsWasmThreadsFix()] },
	// pre-bundled up front, so the first visit to the dev server does not reload when the worker
	// discovers them
	optimizeDeps: {
		rolldownOptions: { plugins: [tfjsWasmThreadsFix()] },
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
