// Evaluation of a whole run (docs/specification.md §7, §9): the untrained baseline (step 0), then every
// `every_checkpoints`-th kept checkpoint and always the final one, on the training dataset and each
// eval dataset. Produces eval.json, the eval lines of metrics.jsonl and the run summary.
// Storage-agnostic: the CLI and the browser worker load checkpoints and persist results.

import type { Checkpoint } from '../checkpoint/checkpoint';
import type { LabConfig } from '../config';
import type { Dataset } from '../data/manifest';
import type { PretrainedModel } from '../hf/gpt2Import';
import { startValues } from '../train/trainer';
import type { EvalJson, EvalLine, EvalResult } from './evalJson';
import { disposeModel, evaluate, modelFromValues, summarise, type EvalModel } from './evaluate';
import { JUDGE } from './judge';

export type { EvalJson } from './evalJson';

/** Every `every`-th of the kept checkpoint steps (1-based), and always the last. */
export function stepsToEvaluate(kept: readonly number[], every: number): number[] {
	const picked = kept.filter((_, i) => (i + 1) % every === 0);
	const last = kept[kept.length - 1];
	if (last !== undefined && !picked.includes(last)) picked.push(last);
	return picked;
}

export interface RunEvaluatorOptions {
	runId: string;
	config: LabConfig;
	vocab: string[];
	/** The imported model the run started from: step 0 is it ("pretrained"), and LoRA checkpoints merge into it. */
	base?: PretrainedModel;
	/** Training dataset first, then the eval datasets. */
	datasets: Dataset[];
	/** Replaceable for fault-injection tests. */
	evaluateModel?: typeof evaluate;
	onProgress?(what: { step: number; dataset: string }): void;
}

export class RunEvaluator {
	private baselineResults: Record<string, EvalResult> = {};
	private latest: { step: number; results: Record<string, EvalResult> } | null = null;
	private readonly history: EvalJson['history'] = [];

	constructor(private readonly o: RunEvaluatorOptions) {}

	private async run(model: EvalModel): Promise<Record<string, EvalResult>> {
		const evaluateModel = this.o.evaluateModel ?? evaluate;
		const out: Record<string, EvalResult> = {};
		for (const ds of this.o.datasets) {
			this.o.onProgress?.({ step: model.step, dataset: ds.manifest.key });
			out[ds.manifest.key] = await evaluateModel(model, ds, {
				maxNewTokens: this.o.config.eval.max_new_tokens,
				maxItems: this.o.config.eval.max_items
			});
		}
		this.history.push({
			step: model.step,
			datasets: Object.fromEntries(Object.entries(out).map(([k, r]) => [k, summarise(r)]))
		});
		this.history.sort((a, b) => a.step - b.step);
		return out;
	}

	get evaluatedSteps(): number[] {
		return this.history.map((h) => h.step);
	}

	/** Step 0: the untrained weights rebuilt from the config's seed, or the pretrained model. */
	async baseline(): Promise<void> {
		const vocabSize = this.o.base?.gpt.vocab_size ?? this.o.vocab.length;
		const values = startValues(this.o.config, vocabSize, this.o.base);
		const model = modelFromValues(values, { config: this.o.config, vocab: this.o.vocab }, 0, this.o.base);
		try {
			this.baselineResults = await this.run(model);
		} finally {
			disposeModel(model);
		}
	}

	async checkpoint(ck: Checkpoint): Promise<void> {
		const model = modelFromValues(ck.params, ck, ck.step, this.o.base);
		try {
			const results = await this.run(model);
			if (!this.latest || ck.step >= this.latest.step) this.latest = { step: ck.step, results };
		} finally {
			disposeModel(model);
		}
	}

	result(): EvalJson {
		if (!this.latest) throw new Error('no checkpoint was evaluated');
		return {
			run_id: this.o.runId,
			step: this.latest.step,
			judge: JUDGE,
			datasets: this.latest.results,
			baseline: this.baselineResults,
			history: this.history
		};
	}
}

/** metrics.jsonl eval lines: `{step, split, ...summary}` per evaluated checkpoint and dataset. */
export function evalMetricLines(e: EvalJson): EvalLine[] {
	return e.history.flatMap((h) =>
		Object.entries(h.datasets).map(([key, s]) => {
			const { step: _s, dataset: _d, ...rest } = s;
			return { step: h.step, split: key, ...rest };
		})
	);
}
