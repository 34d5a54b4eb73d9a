// Results shipped with every build (static/demo/, docs/deploy.md "Demo data"): real runs a visitor
// can open read-only before training anything. Made by scripts/make-demo.ts (`npm run demo-data`) from CLI runs.

export interface DemoBundle {
	/** Path under the app's root. */
	file: string;
	kind: 'run' | 'experiment';
	title: string;
	/** One line on what it shows. */
	about: string;
}

export const DEMO_BUNDLES: DemoBundle[] = [
	{
		file: 'demo/golden-v2-full.zip',
		kind: 'run',
		title: 'Full run on golden-v2',
		about:
			'2,000 steps on wasm: training loss 3.30 → 0.05, every training question answered, held-out barely (memorised).'
	},
	{
		file: 'demo/reasoning-trace-ablation.zip',
		kind: 'experiment',
		title: 'Reasoning-trace ablation (3-digit addition)',
		about: 'Traces with steps vs answer only, 3 seeds each: held-out accuracy per arm with 95% intervals.'
	}
];
