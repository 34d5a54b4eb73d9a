// The whole lab's metrics table (core/export/metricsTable.ts): every sound run in this browser,
// each with the experiment and arm it belongs to.

import type { RunMetrics } from '../core/export/metricsTable';
import type { LabDb } from './db';
import { listExperiments } from './experiments';
import { listRuns, runMetrics } from './queries';

export async function labRunMetrics(db: LabDb): Promise<RunMetrics[]> {
	const membership = new Map<string, { name: string; arm: string }>();
	for (const entry of await listExperiments(db))
		if (entry.ok)
			for (const p of entry.experiment.points)
				if (p.run_id) membership.set(p.run_id, { name: entry.experiment.name, arm: p.arm });
	const out: RunMetrics[] = [];
	for (const entry of (await listRuns(db)).reverse()) {
		if (!entry.ok) continue;
		const { training, evaluation } = await runMetrics(db, entry.id);
		out.push({ run: entry.run, training, evaluation, experiment: membership.get(entry.id) });
	}
	return out;
}
