import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

export default ts.config(
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } }
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts'],
		languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'], svelteConfig } }
	},
	{
		rules: {
			'svelte/no-at-html-tags': 'error',
			'@typescript-eslint/no-explicit-any': 'error',
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
		}
	},
	{
		// the core runs in workers and Node: nothing of the DOM, Svelte, Dexie, Comlink or fs
		files: ['src/lib/core/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{
							group: ['svelte', 'svelte/*', '$app/*', 'dexie', 'comlink', 'node:*', 'fs', 'path'],
							message: 'src/lib/core imports tfjs-core only (docs/specification.md §1).'
						},
						{
							group: ['@tensorflow/tfjs-backend-*'],
							message: 'backends are registered only in the worker and CLI entries (docs/specification.md §1).'
						}
					]
				}
			],
			'no-restricted-globals': ['error', 'window', 'document', 'localStorage', 'indexedDB']
		}
	},
	{
		ignores: ['build/', 'build-lab/', '.svelte-kit/', 'dist/', 'node_modules/', 'artifacts/']
	}
);
