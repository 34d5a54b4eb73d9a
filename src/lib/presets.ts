// The config presets shipped in configs/, as YAML text (one source for the CLI and the lab).

import ciSmoke from '../../configs/ci_smoke.yaml?raw';
import quick from '../../configs/quick_golden_v2.yaml?raw';
import full from '../../configs/train_golden_v2.yaml?raw';

export interface Preset {
	file: string;
	label: string;
	yaml: string;
}

export const PRESETS: Preset[] = [
	{ file: 'ci_smoke.yaml', label: 'Smoke test (seconds)', yaml: ciSmoke },
	{ file: 'quick_golden_v2.yaml', label: 'Quick (a few minutes)', yaml: quick },
	{ file: 'train_golden_v2.yaml', label: 'Full run (about 40 minutes on a CPU)', yaml: full }
];

/** The YAML with runtime.backend replaced. */
export function withBackend(yaml: string, backend: string): string {
	return yaml.replace(/^(\s*backend:\s*)\S+/m, `$1${backend}`);
}

/** runtime.backend as written in the YAML (auto when absent). */
export function backendOf(yaml: string): string {
	return /^\s*backend:\s*(\S+)/m.exec(yaml)?.[1] ?? 'auto';
}
