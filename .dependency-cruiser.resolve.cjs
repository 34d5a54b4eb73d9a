// How the dependency check resolves SvelteKit's $lib alias (svelte.config.js's default).
module.exports = { resolve: { alias: { $lib: `${__dirname}/src/lib` } } };
