// A lab checkpoint → a Hugging Face model folder (docs/export.md): what `transformers` loads with
// GPT2LMHeadModel.from_pretrained and AutoTokenizer.from_pretrained, and for a LoRA run a PEFT
// adapter (PeftModel.from_pretrained over the base model), each with a README naming the run. The
// lab's GPT is GPT-2 exactly, so weights keep their names; only the files around them are written.

import { gptConfigOf, type Checkpoint } from '../checkpoint/checkpoint';
import { encodeSafetensors } from '../checkpoint/safetensors';
import { finetuneOf, type LabConfig } from '../config';
import type { EvalSummary } from '../eval/evalJson';
import { plural } from '../format';
import { loraLayers, mergeLora, type LoraSettings } from '../model/lora';
import { paramShapes, type GptConfig } from '../model/shapes';
import { baseTokenizer, checkBaseModel, type PretrainedModel } from '../hf/gpt2Import';
import { GPT2_EOS } from '../text/bpe';
import { SPECIAL_TOKENS, Tokenizer, UNK } from '../text/tokenizer';

/** A run's checkpoint and what the export's README says about it. */
export interface ExportSource {
	/** The checkpoint to export (decoded). */
	checkpoint: Checkpoint;
	/** The run's id and name. */
	run: { id: string; name: string };
	/** The run's evaluations (eval.json's history): the README quotes the exported step's and step 0's. */
	history?: readonly { step: number; datasets: Record<string, EvalSummary> }[];
	/** The imported model the run started from (its tokenizer; for LoRA, the weights the adapters sit on). */
	base?: PretrainedModel;
}

/** File name → bytes, relative to the export's folder. */
export type ExportFiles = Record<string, Uint8Array>;

/** Special tokens of a model's tokenizer, as the HF config files name them. */
interface Specials {
	bos: { token: string; id: number };
	eos: { token: string; id: number };
	pad: { token: string; id: number };
	unk: { token: string; id: number } | null;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');

/** config.json for GPT2LMHeadModel with the lab's shape (GPT-2's architecture exactly). */
export function hfConfigJson(gpt: GptConfig, dropout: number, specials: Specials): Record<string, unknown> {
	return {
		architectures: ['GPT2LMHeadModel'],
		model_type: 'gpt2',
		vocab_size: gpt.vocab_size,
		n_positions: gpt.block_size,
		n_ctx: gpt.block_size,
		n_embd: gpt.n_embd,
		n_layer: gpt.n_layer,
		n_head: gpt.n_head,
		n_inner: null,
		activation_function: 'gelu_new',
		resid_pdrop: dropout,
		embd_pdrop: dropout,
		attn_pdrop: dropout,
		layer_norm_epsilon: 1e-5,
		initializer_range: 0.02,
		scale_attn_weights: true,
		scale_attn_by_inverse_layer_idx: false,
		reorder_and_upcast_attn: false,
		tie_word_embeddings: true,
		use_cache: true,
		bos_token_id: specials.bos.id,
		eos_token_id: specials.eos.id,
		pad_token_id: specials.pad.id,
		torch_dtype: 'float32'
	};
}

/** generation_config.json: greedy decoding to the lab's evaluation length, stopping at <eos>. */
function generationConfigJson(config: LabConfig, specials: Specials): Record<string, unknown> {
	return {
		bos_token_id: specials.bos.id,
		eos_token_id: specials.eos.id,
		pad_token_id: specials.pad.id,
		do_sample: false,
		max_new_tokens: config.eval.max_new_tokens
	};
}

/**
 * tokenizer.json for the lab's character tokenizer, in the `tokenizers` library's format: a BPE
 * model with no merges splits text into characters (code points) and maps each to its id, an
 * unknown character to <unk>; the post-processor puts <bos> first, as the lab's examples start;
 * the Fuse decoder joins characters without spaces. A trace's ids are this encoding plus <eos>.
 * (Text that spells a special token, such as "<eos>", encodes to that token here but to its
 * characters in the lab.)
 */
export function charTokenizerJson(tok: Tokenizer): Record<string, unknown> {
	const vocab: Record<string, number> = {};
	tok.vocab.forEach((t, id) => (vocab[t] = id));
	return {
		version: '1.0',
		truncation: null,
		padding: null,
		added_tokens: SPECIAL_TOKENS.map((content, id) => ({
			id,
			content,
			single_word: false,
			lstrip: false,
			rstrip: false,
			normalized: false,
			special: true
		})),
		normalizer: null,
		pre_tokenizer: null,
		post_processor: {
			type: 'TemplateProcessing',
			single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
			pair: [
				{ SpecialToken: { id: '<bos>', type_id: 0 } },
				{ Sequence: { id: 'A', type_id: 0 } },
				{ Sequence: { id: 'B', type_id: 1 } }
			],
			special_tokens: { '<bos>': { id: '<bos>', ids: [tok.bos], tokens: ['<bos>'] } }
		},
		decoder: { type: 'Fuse' },
		model: {
			type: 'BPE',
			dropout: null,
			unk_token: '<unk>',
			continuing_subword_prefix: null,
			end_of_word_suffix: null,
			fuse_unk: false,
			vocab,
			merges: []
		}
	};
}

/** The tokenizer files and special tokens: the imported model's own, or the character tokenizer's. */
function tokenizerFiles(ck: Checkpoint, base: PretrainedModel | undefined): { files: ExportFiles; specials: Specials } {
	if (base) {
		const tok = baseTokenizer(base);
		const eos = { token: GPT2_EOS, id: tok.eos };
		const specials = { bos: eos, eos, pad: eos, unk: eos };
		const tokenizerConfig = {
			tokenizer_class: 'GPT2Tokenizer',
			bos_token: GPT2_EOS,
			eos_token: GPT2_EOS,
			unk_token: GPT2_EOS,
			add_prefix_space: false,
			model_max_length: base.gpt.block_size
		};
		return {
			files: { 'tokenizer.json': json(base.tokenizerJson), 'tokenizer_config.json': json(tokenizerConfig) },
			specials
		};
	}
	const tok = new Tokenizer(ck.vocab);
	const named = (id: number) => ({ token: SPECIAL_TOKENS[id], id });
	const specials = { bos: named(tok.bos), eos: named(tok.eos), pad: named(tok.pad), unk: named(UNK) };
	const tokenizerConfig = {
		tokenizer_class: 'PreTrainedTokenizerFast',
		bos_token: '<bos>',
		eos_token: '<eos>',
		unk_token: '<unk>',
		pad_token: '<pad>',
		model_max_length: ck.config.model.block_size,
		clean_up_tokenization_spaces: false
	};
	return {
		files: { 'tokenizer.json': json(charTokenizerJson(tok)), 'tokenizer_config.json': json(tokenizerConfig) },
		specials
	};
}

/** model.safetensors with transformers' names (the head is tied to wte, so it is not stored). */
function modelSafetensors(gpt: GptConfig, params: ReadonlyMap<string, Float32Array>): Uint8Array {
	const tensors = paramShapes(gpt).map(([name, shape]) => {
		const data = params.get(name);
		if (!data) throw new Error(`export: the weights lack ${name}`);
		return { name, shape, data };
	});
	return encodeSafetensors({ tensors, metadata: { format: 'pt' } });
}

/**
 * adapter_config.json as PEFT writes it for GPT-2: LoRA on the named modules (PEFT matches them
 * as suffixes of module names, as the lab does), fan_in_fan_out because GPT-2's Conv1D keeps
 * weights [in, out], no bias.
 */
export function peftAdapterConfig(lora: LoraSettings, baseName: string): Record<string, unknown> {
	return {
		peft_type: 'LORA',
		task_type: 'CAUSAL_LM',
		base_model_name_or_path: baseName,
		r: lora.rank,
		lora_alpha: lora.alpha,
		lora_dropout: lora.dropout,
		target_modules: [...lora.targets],
		fan_in_fan_out: true,
		bias: 'none',
		modules_to_save: null,
		init_lora_weights: true,
		inference_mode: true,
		use_rslora: false,
		use_dora: false,
		layers_to_transform: null,
		layers_pattern: null,
		rank_pattern: {},
		alpha_pattern: {},
		revision: null
	};
}

/** (rows, cols) row-major → (cols, rows). */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
	const out = new Float32Array(data.length);
	for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j];
	return out;
}

/**
 * adapter_model.safetensors with PEFT's keys: `base_model.model.<module>.lora_A.weight` is the
 * nn.Linear(in, r) weight (r, in) and `lora_B.weight` the nn.Linear(r, out) weight (out, r), so the
 * lab's A (in, r) and B (r, out) are stored transposed; the update is (alpha / r) · B·A in both.
 */
export function peftAdapterSafetensors(
	gpt: GptConfig,
	lora: LoraSettings,
	adapters: ReadonlyMap<string, Float32Array>
) {
	const r = lora.rank;
	const tensors = loraLayers(gpt, lora.targets).flatMap(({ name, dims: [inDim, outDim] }) => {
		const A = adapters.get(`${name}.lora_A`);
		const B = adapters.get(`${name}.lora_B`);
		if (!A || !B) throw new Error(`export: the checkpoint lacks the adapters of ${name}`);
		return [
			{ name: `base_model.model.${name}.lora_A.weight`, shape: [r, inDim], data: transpose(A, inDim, r) },
			{ name: `base_model.model.${name}.lora_B.weight`, shape: [outDim, r], data: transpose(B, r, outDim) }
		];
	});
	return encodeSafetensors({ tensors, metadata: { format: 'pt' } });
}

/** A percentage with one decimal. */
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** README.md: the run, the data it saw (by hash), its scores, and how to load the folder. */
function readme(src: ExportSource, kind: 'model' | 'adapter', merged: boolean): string {
	const ck = src.checkpoint;
	const ds = ck.dataset;
	const at = src.history?.find((h) => h.step === ck.step);
	const start = src.history?.find((h) => h.step === 0);
	const startName = src.base ? 'pretrained' : 'untrained';
	const scores = at
		? Object.entries(at.datasets).map(([key, s]) => {
				const b = start?.datasets[key];
				return `| ${key} | ${s.n} | ${pct(s.answer_accuracy)} | ${pct(s.format_rate)} | ${s.loss.toFixed(4)} | ${
					b ? `${pct(b.answer_accuracy)}, loss ${b.loss.toFixed(4)}` : '—'
				} |`;
			})
		: [];
	// a question in the training template; GPT-2's tokenizer adds no <bos>, so it is prepended
	const ask = [
		`ids = tokenizer(${src.base ? 'tokenizer.bos_token + ' : ''}"Q: What is 12 + 30?\\n", return_tensors="pt").input_ids`,
		'print(tokenizer.decode(model.generate(ids, max_new_tokens=64)[0], skip_special_tokens=True))'
	];
	const load =
		kind === 'adapter'
			? [
					'```python',
					'from transformers import AutoModelForCausalLM, AutoTokenizer',
					'from peft import PeftModel',
					`base = AutoModelForCausalLM.from_pretrained("${src.base?.name}")  # the model the run started from`,
					'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
					'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
					...ask,
					'```',
					...(merged ? ['', '`merged/` holds the base weights with the adapters added, loadable on their own.'] : [])
				]
			: [
					'```python',
					'from transformers import AutoModelForCausalLM, AutoTokenizer',
					'model = AutoModelForCausalLM.from_pretrained("path/to/this/folder")',
					'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
					...ask,
					'```'
				];
	return [
		`# ${src.run.name} — step ${ck.step}`,
		'',
		`Exported from Tunix RT Lab: run \`${src.run.id}\`, checkpoint at step ${ck.step} of ${ck.config.train.steps}.`,
		'',
		`- Model: GPT-2, ${plural(ck.config.model.n_layer, 'layer')} × ${ck.config.model.n_embd} wide, ${plural(ck.config.model.n_head, 'head')}, ${ck.config.model.block_size} positions` +
			(src.base
				? `, fine-tuned (${finetuneOf(ck.config)}) from ${src.base.name} (model.safetensors sha256 ${src.base.sha256})`
				: ', trained from scratch with a character tokenizer'),
		`- Training data: ${ds.key}, ${ds.count} traces, sha256 ${ds.sha256}`,
		`- Trace format: \`Q: {prompt}\\n\` then \`Step k: {step}\\n\` lines and \`A: {answer}\`, ended by ${src.base ? GPT2_EOS : '<eos>'}`,
		'',
		...(scores.length > 0
			? [
					`## Scores at step ${ck.step} (greedy decoding)`,
					'',
					`| dataset | items | answer accuracy | format | loss | ${startName} |`,
					'|---|---|---|---|---|---|',
					...scores,
					''
				]
			: ['No evaluation of this checkpoint was recorded.', '']),
		'## Load it',
		'',
		...load,
		''
	].join('\n');
}

/**
 * The Hugging Face folder of a checkpoint. A full model (trained from scratch or fully fine-tuned):
 * config.json, generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
 * README.md. A LoRA run: adapter_config.json and adapter_model.safetensors (PEFT) with the
 * tokenizer files and README.md, and with `merged` the full model with the adapters added under
 * merged/.
 */
export function exportHf(src: ExportSource, options: { merged?: boolean } = {}): ExportFiles {
	const ck = src.checkpoint;
	checkBaseModel(ck.config, src.base, ck.base);
	const gpt = gptConfigOf(ck.config, src.base?.gpt.vocab_size ?? ck.vocab.length);
	const { files: tokFiles, specials } = tokenizerFiles(ck, src.base);
	const lora = finetuneOf(ck.config) === 'lora' && ck.config.lora ? ck.config.lora : null;
	const modelFolder = (params: ReadonlyMap<string, Float32Array>): ExportFiles => ({
		'config.json': json(hfConfigJson(gpt, ck.config.model.dropout, specials)),
		'generation_config.json': json(generationConfigJson(ck.config, specials)),
		'model.safetensors': modelSafetensors(gpt, params),
		...tokFiles
	});
	if (!lora) return { ...modelFolder(ck.params), 'README.md': new TextEncoder().encode(readme(src, 'model', false)) };
	const base = src.base!;
	const out: ExportFiles = {
		'adapter_config.json': json(peftAdapterConfig(lora, base.name)),
		'adapter_model.safetensors': peftAdapterSafetensors(gpt, lora, ck.params),
		...tokFiles,
		'README.md': new TextEncoder().encode(readme(src, 'adapter', options.merged ?? false))
	};
	if (options.merged)
		for (const [name, bytes] of Object.entries(modelFolder(mergeLora(base.params, ck.params, gpt, lora))))
			out[`merged/${name}`] = bytes;
	return out;
}
