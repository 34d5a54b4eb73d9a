// The lab page's form as rune state: the preset and config YAML being edited, the config it parses
// to (or every problem at file:line:col), the backend this browser would train on, and what the
// config costs before it runs: the model's size and the training time.

import { BUILT_IN_DATASET_KEYS, TRAINING_SETS } from '$lib/core/data/registry';
import { ConfigError, configYaml, parseConfig, type BackendChoice, type LabConfig } from '$lib/core/config';
import { roughDuration } from '$lib/core/format';
import { footprint } from '$lib/core/train/footprint';
import type { GptConfig } from '$lib/core/model/shapes';
import { backendOf, estimateSeconds, loraPresetFor, PRESETS, withBackend, withDataset } from '$lib/presets';
import { Live } from '$lib/state/live.svelte';
import { labDb } from '$lib/storage/db';
import { importedDatasetKeys } from '$lib/storage/queries';
import type { BackendReport } from '$lib/worker/api';
import { labWorker } from '$lib/worker/client';

/** A YAML this long is checked after a pause in typing, not on every keystroke. */
const LONG_YAML = 20_000;
/** The pause, in ms (a 10 000-line YAML takes about a second to check). */
const TYPING_PAUSE_MS = 400;

/** The config as the trainer will read it, or every problem (null config). */
export interface ParsedConfig {
	config: LabConfig | null;
	problems: string[];
}

export class LabForm {
	/** The preset picked, by file name. */
	presetFile = $state(PRESETS[0].file);
	/** The config YAML as typed. */
	yaml = $state(PRESETS[0].yaml);
	/** The YAML as last checked: at once while short, after a pause in typing when long. */
	checkedYaml = $state(PRESETS[0].yaml);
	/** Which backend the worker would get for runtime.backend; null while it is asked. */
	report = $state<BackendReport | null>(null);

	/** Keys of the datasets imported in this browser. */
	private readonly imported = new Live(() => importedDatasetKeys(labDb()));

	/** The preset's file name, as problems and runs name the config. */
	readonly configName = $derived(
		PRESETS[
			Math.max(
				0,
				PRESETS.findIndex((p) => p.file === this.presetFile)
			)
		].file
	);
	/** runtime.backend as the checked YAML says (the Backend select edits the YAML). */
	readonly backend = $derived(backendOf(this.checkedYaml));
	/** Every dataset a config may name: built in, then imported. */
	readonly datasetKeys = $derived([...BUILT_IN_DATASET_KEYS, ...(this.imported.value ?? [])]);
	/** What the Dataset select offers: the sets a run trains on (not the held-out and length sets), built in then imported. */
	readonly datasetChoices = $derived.by(() => {
		const keys = [...Object.keys(TRAINING_SETS), ...(this.imported.value ?? [])];
		const current = this.parsed.config?.data.dataset; // one typed into the YAML stays shown
		return current && !keys.includes(current) ? [...keys, current] : keys;
	});
	/** The checked YAML parsed against the known datasets. */
	readonly parsed: ParsedConfig = $derived(this.parse(this.checkedYaml));
	/** True when the YAML differs from the picked preset's (the page offers to reset it). */
	readonly modified = $derived(
		this.yaml !==
			PRESETS[
				Math.max(
					0,
					PRESETS.findIndex((p) => p.file === this.presetFile)
				)
			].yaml
	);
	/** True when the YAML as typed is the one checked (Train and Queue wait for it). */
	readonly checked = $derived(this.checkedYaml === this.yaml);
	/** Seconds the parsed config takes to train here; null when unknown. */
	readonly estimate = $derived(this.parsed.config ? this.estimateOf(this.parsed.config) : null);
	/** The parsed config's model size before training. */
	readonly size = $derived(this.parsed.config ? footprint(this.parsed.config) : null);

	/** `onProbeError`: told when asking the worker for a backend fails. */
	constructor(onProbeError: (message: string) => void) {
		$effect(() => this.checkAfterTyping());
		$effect(() => this.probe(onProbeError));
	}

	/** Picks a preset: its YAML replaces the one typed. */
	pickPreset(file: string): void {
		this.presetFile = file;
		this.yaml = PRESETS[PRESETS.findIndex((p) => p.file === file)].yaml;
	}

	/** Puts a run's config in the editor ("Train again with this config"), named after the run. */
	trainAgain(config: LabConfig, from: { id: string; name: string }): void {
		this.yaml = configYaml(
			config,
			`the config of run ${from.id} ("${from.name.replace(/\s+/g, ' ')}"): edit it, then Train`
		);
	}

	/** Puts the LoRA preset on an imported model in the editor (the Models page's "Fine-tune with LoRA"). */
	finetune(name: string, shape: GptConfig): void {
		this.presetFile = 'lora_golden_v2.yaml';
		this.yaml = loraPresetFor(name, shape);
	}

	/** Trains on `key`: data.dataset, its evaluation sets and the run name in the YAML (presets.ts withDataset). */
	setDataset(key: string): void {
		this.yaml = withDataset(this.yaml, key);
	}

	/** Sets runtime.backend in the YAML. */
	setBackend(backend: string): void {
		this.yaml = withBackend(this.yaml, backend);
	}

	/** Seconds a config takes to train on the backend named (null for auto, a GPU, or before the probe answers). */
	estimateOf(config: LabConfig): number | null {
		return this.report && this.backend !== 'auto'
			? estimateSeconds(config, this.report.backend, footprint(config).vocab)
			: null;
	}

	/** A preset's line in the picker: its steps, and about how long it takes here. */
	presetLine(yaml: string): string {
		const config = parseConfig(yaml);
		const est = this.estimateOf(config);
		return `${config.train.steps} steps${est !== null ? `, about ${roughDuration(est)} on ${this.report?.backend}` : ''}`;
	}

	/** Stops following the imported datasets. */
	stop(): void {
		this.imported.stop();
	}

	/** Parses a YAML with this form's file name and datasets: the config, or every problem. */
	private parse(yaml: string): ParsedConfig {
		try {
			const config = parseConfig(yaml, {
				file: this.configName,
				isKnownDataset: (k) => this.datasetKeys.includes(k),
				knownDatasets: this.datasetKeys
			});
			return { config, problems: [] };
		} catch (e) {
			return { config: null, problems: e instanceof ConfigError ? e.problems : [(e as Error).message] };
		}
	}

	/** Copies the typed YAML to checkedYaml: at once while short, after a pause in typing when long. */
	private checkAfterTyping(): (() => void) | undefined {
		const text = this.yaml;
		if (text.length < LONG_YAML) {
			this.checkedYaml = text;
			return;
		}
		const timer = setTimeout(() => (this.checkedYaml = text), TYPING_PAUSE_MS);
		return () => clearTimeout(timer);
	}

	/** Asks the worker which backend it would get for runtime.backend (again whenever that changes). */
	private probe(onError: (message: string) => void): void {
		const wanted = this.backend as BackendChoice;
		this.report = null;
		labWorker()
			.probeBackend(wanted)
			.then((r) => (this.report = r))
			.catch((e: Error) => onError(e.message));
	}
}
