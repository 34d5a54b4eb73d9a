// The dependency rules (docs/architecture.md "Layers"), checked by `npm run lint:deps` in `npm test`:
// no import cycle anywhere, the core as one stack of folders, and the outer layers importing downward only.

/** The core's folders (and root files), bottom to top: a folder imports only from folders below it. */
const CORE_STACK = [
	'(schema|prng|sha256|config|format)\\.ts|stats/|gpu/', // foundations: no lab concepts above them
	'data/',
	'text/',
	'model/',
	'checkpoint/',
	'hf/',
	'train/',
	'eval/',
	'run/',
	'export/',
	'experiment/',
	'bench/'
];

const core = (alternatives) => `^src/lib/core/(${alternatives})`;

/** A rule per layer: nothing in it imports a layer above it. */
const stackRules = CORE_STACK.slice(0, -1).map((layer, i) => ({
	name: `core-stack-${i}`,
	comment: `core/${layer} sits below ${CORE_STACK.slice(i + 1).join(', ')}: it may not import them`,
	severity: 'error',
	from: { path: core(layer) },
	to: { path: core(CORE_STACK.slice(i + 1).join('|')) }
}));

/** Outer layers: what each may not import. */
const outer = [
	[
		'src/lib/core/',
		'^src/(lib/(kernels|worker|storage|state|components)|routes|cli)/',
		'the core imports nothing outside it'
	],
	['src/lib/kernels/', '^src/(lib/(worker|storage|state|components)|routes|cli)/', 'kernels sit on the core only'],
	['src/lib/storage/', '^src/(lib/(kernels|worker|state|components)|routes|cli)/', 'storage sits on the core only'],
	['src/lib/worker/', '^src/(lib/(state|components)|routes|cli)/', 'the worker never imports the UI'],
	['src/cli/', '^src/(lib/(worker|storage|state|components)|routes)/', 'the CLI never imports browser layers'],
	['src/lib/(state|components)/', '^src/(routes|cli)/', 'shared UI never imports a route']
].map(([from, to, comment], i) => ({
	name: `layer-${i}`,
	comment,
	severity: 'error',
	from: { path: `^${from}` },
	to: { path: to }
}));

module.exports = {
	forbidden: [
		{
			name: 'no-circular',
			comment: 'an import cycle: split the shared part into a module both can import',
			severity: 'error',
			from: {},
			to: { circular: true }
		},
		...stackRules,
		...outer
	],
	options: {
		doNotFollow: { path: 'node_modules' },
		exclude: { path: '^(node_modules|\\.svelte-kit|build)' },
		tsPreCompilationDeps: true,
		webpackConfig: { fileName: '.dependency-cruiser.resolve.cjs' },
		enhancedResolveOptions: { extensions: ['.ts', '.js', '.svelte', '.mjs'] }
	}
};
