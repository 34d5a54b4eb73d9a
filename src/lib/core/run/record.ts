// run.json (docs/specification.md §9): what a run is, what it trained on, where, and how it ended.

import * as v from 'valibot';
import { BACKENDS, ConfigSchema, type BackendChoice, type LabConfig } from '../config';
import { DatasetManifestSchema, type DatasetManifest } from '../data/manifest';
import { finite, int, oneOf, text } from '../schema';
import { ScoreSummarySchema, type ScoreSummary } from '../eval/evalJson';
import { ParitySchema } from './parity';
import { RUN_STATUSES } from './status';

export type { ScoreSummary };

const ProvenanceSchema = v.object({
	/** The backend actually used ('' before training started). */
	backend: v.union([v.literal(''), oneOf(BACKENDS)]),
	/** Why other backends were skipped, or why this one was chosen. */
	backend_notes: v.array(v.string()),
	/** WebGPU adapter vendor/architecture when present. */
	adapter: v.optional(v.nullable(v.object({ vendor: v.string(), architecture: v.string() }))),
	tfjs_version: v.string(),
	app_version: v.string(),
	/** Browser user agent, or "node vX" for the CLI. */
	runtime: v.string(),
	/** The model's ops the trainer chose (core/model/chooseOps.ts), e.g. "fused lab kernels on wasm (21 of 21)". */
	model_ops: v.optional(v.string()),
	/** The imported model the run started from (docs/pretrained.md): its name and model.safetensors' sha256. */
	base_model: v.optional(v.object({ name: v.string(), sha256: v.string() }))
});
export type Provenance = v.InferOutput<typeof ProvenanceSchema>;

const CheckpointEntrySchema = v.object({
	step: int(0, 1e9),
	/** File name (CLI) or storage key (browser). */
	file: text(),
	bytes: int(0, 2 ** 53),
	created: v.string()
});
export type CheckpointEntry = v.InferOutput<typeof CheckpointEntrySchema>;

/** What a finding is about. */
export const HEALTH_KINDS = [
	'non_finite', // training stopped on a NaN or infinite loss
	'zero_loss', // the loss was (almost) exactly 0 from the start: not a real number
	'constant_loss', // the loss never moved: nothing was learned
	'diverged', // the loss ended above where it began
	'stuck', // the loss barely fell over many steps
	'unstable', // the loss rose again late in training
	'overfitting', // held-out loss rose while training loss fell
	'memorised', // training questions answered, held-out ones no better than untrained
	'below_majority', // no better than always giving the most common answer
	'no_gain' // answers no more training questions than the untrained model
] as const;
export type HealthKind = (typeof HEALTH_KINDS)[number];

const RunSummarySchema = v.object({
	/** Mean loss of the first logged steps (up to 50). */
	initial_loss: v.nullable(finite()),
	/** Mean loss of the last logged steps (up to 50). */
	final_loss: v.nullable(finite()),
	steps_done: int(0, 1e9),
	/** Final checkpoint's scores per dataset key. */
	final_scores: v.optional(v.record(v.string(), ScoreSummarySchema)),
	/** Untrained (step 0) scores per dataset key. */
	baseline_scores: v.optional(v.record(v.string(), ScoreSummarySchema)),
	/** Best answer_accuracy seen per dataset key, with its step. */
	best_scores: v.optional(v.record(v.string(), v.object({ step: int(0, 1e9), answer_accuracy: finite() }))),
	/** Health checks (core/run/health.ts): what is wrong with the run's numbers, in plain sentences. */
	health: v.optional(
		v.array(
			v.object({
				/** What the finding is about. */
				kind: oneOf(HEALTH_KINDS),
				/** 'bad': the run did not train as it claims; 'warn': it trained, with a caveat. */
				severity: oneOf(['bad', 'warn']),
				/** One plain sentence with the numbers. */
				sentence: v.string(),
				/** The step it points to (overfitting: where the held-out loss was lowest). */
				step: v.optional(int(0, 1e9))
			})
		)
	)
});
export type RunSummary = v.InferOutput<typeof RunSummarySchema>;
export type HealthFinding = NonNullable<RunSummary['health']>[number];

/** Who continued a run from a checkpoint: the user (Resume), the lab after a reload, an experiment's queue, or PyTorch (docs/torch.md). */
export const RESUMERS = ['user', 'lab', 'queue', 'torch'] as const;
export type Resumer = (typeof RESUMERS)[number];

/** Something that happened to a run between its states: an interruption, a resume. */
const RunHistorySchema = v.object({
	/** When (ISO time). */
	at: v.string(),
	/** 'interrupted': the page training it closed; 'resumed': training continued from a checkpoint. */
	kind: oneOf(['interrupted', 'resumed']),
	/** interrupted: the steps trained when it stopped; resumed: the checkpoint step it continued from (0: the start). */
	step: int(0, 1e9),
	/** resumed: who continued it. */
	by: v.optional(oneOf(RESUMERS))
});
export type RunHistoryEvent = v.InferOutput<typeof RunHistorySchema>;

/** What a run id may look like: letters, digits, '-', '_', '.', not starting with '.' (no paths). */
export const RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** run.json (docs/specification.md §9): what a run is, what it trained on, where, and how it ended. */
export const RunRecordSchema = v.object({
	id: v.pipe(v.string(), v.regex(RUN_ID, 'must be 1..128 letters, digits, "-", "_" or "." (not a path)')),
	/** The user's name for the run (renames allow 200 characters; longer ones from elsewhere are refused). */
	name: v.pipe(text(), v.maxLength(1000, 'must be at most 1000 characters')),
	status: oneOf(RUN_STATUSES),
	/** Human-readable reason when failed, cancelled or interrupted. */
	error: v.nullable(v.string()),
	/** What kind of failure `error` describes, for the UI to act on (e.g. offer wasm after a lost GPU). */
	error_kind: v.optional(
		v.nullable(oneOf(['gpu-device-lost', 'gpu-error', 'non-finite', 'storage-full', 'other'])),
		null
	),
	created: v.string(),
	started: v.nullable(v.string()),
	finished: v.nullable(v.string()),
	config: ConfigSchema,
	datasets: v.object({ train: DatasetManifestSchema, eval: v.array(DatasetManifestSchema) }),
	provenance: ProvenanceSchema,
	checkpoints: v.array(CheckpointEntrySchema),
	summary: RunSummarySchema,
	/** Interruptions and resumes, oldest first (runs from before them lack it). */
	events: v.optional(v.array(RunHistorySchema)),
	/** Its parity certificate: the first steps replayed in PyTorch (docs/torch.md), when one was made. */
	parity: v.optional(ParitySchema)
});
export type RunRecord = v.InferOutput<typeof RunRecordSchema>;
export type ErrorKind = NonNullable<RunRecord['error_kind']>;

/** A run id: creation time and a random suffix, e.g. run-20261129-053012-k3x9. */
export function newRunId(created: string, random: () => number = Math.random): string {
	const stamp = created.replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
	return `run-${stamp}-${random().toString(36).slice(2, 6)}`;
}

/** A new run record in state pending. */
export function newRunRecord(config: LabConfig, train: DatasetManifest, evalSets: DatasetManifest[]): RunRecord {
	const created = new Date().toISOString();
	return {
		id: newRunId(created),
		name: config.run.name,
		status: 'pending',
		error: null,
		error_kind: null,
		created,
		started: null,
		finished: null,
		config,
		datasets: { train, eval: evalSets },
		provenance: { backend: '', backend_notes: [], adapter: null, tfjs_version: '', app_version: '', runtime: '' },
		checkpoints: [],
		summary: { initial_loss: null, final_loss: null, steps_done: 0 }
	};
}

/** The backend a run trained on (its provenance), else the one its config asks for (before it started; may be auto). */
export function trainedBackend(run: RunRecord): BackendChoice {
	return run.provenance.backend || run.config.runtime.backend;
}
