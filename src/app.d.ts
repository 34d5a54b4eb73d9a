// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
	/** package.json version, injected by vite.config.ts. */
	const __APP_VERSION__: string;
	namespace App {}
}

export {};
