// Evaluation of a run directory: baseline + kept checkpoints on the training and eval datasets,
// then eval.json, eval lines in metrics.jsonl, run.json summary and status (SPEC §7–§9).
// A failed evaluation ends as evaluation_failed and leaves checkpoints and training metrics as they were.

import { decodeCheckpoint } from '../lib/core/checkpoint/checkpoint';
import type { Dataset } from '../lib/core/data/manifest';
import type { evaluate } from '../lib/core/eval/evaluate';
import {
	evalMetricLines,
	evalRunSummary,
	RunEvaluator,
	stepsToEvaluate,
	type EvalJson
} from '../lib/core/eval/runEvaluation';
import type { RunRecord } from '../lib/core/run/record';
import { transition } from '../lib/core/run/status';
import { loadDataset } from './datasets';
import type { CliIo } from './io';
import type { RunDir } from './runDir';

/** Hooks for tests (fault injection). */
export interface EvalDeps {
	evaluateModel?: typeof evaluate;
}

/** The run's datasets, checked against the manifests it recorded. */
export function runDatasets(run: RunRecord): Dataset[] {
	return [run.config.data.dataset, ...run.config.data.eval_datasets].map((key, i) => {
		const ds = loadDataset(key);
		const recorded = i === 0 ? run.datasets.train : run.datasets.eval.find((m) => m.key === ds.manifest.key);
		if (recorded && recorded.sha256 !== ds.manifest.sha256) {
			throw new Error(
				`dataset ${key} has changed since the run recorded it (sha256 ${recorded.sha256.slice(0, 12)}… → ${ds.manifest.sha256.slice(0, 12)}…)`
			);
		}
		return ds;
	});
}

export function makeEvaluator(run: RunRecord, vocab: string[], io: CliIo, deps: EvalDeps): RunEvaluator {
	return new RunEvaluator({
		runId: run.id,
		config: run.config,
		vocab,
		datasets: runDatasets(run),
		evaluateModel: deps.evaluateModel,
		onProgress: ({ step, dataset }) => io.err(`evaluating step ${step} on ${dataset}\n`)
	});
}

/**
 * Runs the evaluation phase of a run that is `evaluating`. `evaluator` may already hold results
 * (eval.during_training). Returns the eval.json written, or throws after recording the failure.
 */
export async function evaluateRunDir(
	dir: RunDir,
	run: RunRecord,
	io: CliIo,
	deps: EvalDeps = {},
	evaluator?: RunEvaluator
): Promise<EvalJson> {
	try {
		const kept = dir.checkpointSteps();
		if (kept.length === 0) throw new Error(`${dir.dir} holds no checkpoints to evaluate`);
		const checkpoints = new Map(
			stepsToEvaluate(kept, run.config.eval.every_checkpoints).map((s) => [
				s,
				() => decodeCheckpoint(dir.readCheckpoint(s))
			])
		);
		const ev =
			evaluator ?? makeEvaluator(run, decodeCheckpoint(dir.readCheckpoint(kept[kept.length - 1])).vocab, io, deps);
		if (!ev.evaluatedSteps.includes(0)) await ev.baseline();
		for (const [step, load] of checkpoints) if (!ev.evaluatedSteps.includes(step)) await ev.checkpoint(load());
		const result = ev.result();
		const trainingLines = dir.readMetrics().filter((m) => !('split' in m));
		dir.writeFile('eval.json', JSON.stringify(result, null, 2) + '\n');
		dir.writeMetrics([...trainingLines, ...evalMetricLines(result)]);
		run.summary = { ...run.summary, ...evalRunSummary(result) };
		run.status = transition(run.status, 'evaluation_done');
		run.error = null;
		run.finished = new Date().toISOString();
		dir.writeRun(run);
		return result;
	} catch (err) {
		run.status = transition(run.status, 'evaluation_error');
		run.error = `evaluation failed: ${(err as Error).message}. Checkpoints and training metrics are intact; re-run it with npm run eval -- --run-dir ${dir.dir}`;
		run.finished = new Date().toISOString();
		dir.writeRun(run);
		throw new Error(run.error, { cause: err });
	}
}
