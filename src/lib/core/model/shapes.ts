// The model's shape without tensors (docs/specification.md §4): its config, every parameter's name
// and shape, and what it costs in memory. No tfjs here, so the lab page can size a model.

export interface GptConfig {
	/** Tokens in the vocabulary (V). */
	vocab_size: number;
	/** Transformer blocks. */
	n_layer: number;
	/** Attention heads (nh); head size hs = n_embd / n_head. */
	n_head: number;
	/** Embedding width (C). */
	n_embd: number;
	/** Rows of the position table: the longest input sequence. */
	block_size: number;
	/** Dropout probability (0 = off). */
	dropout: number;
}

/** Every parameter's name and shape, in a fixed order (embeddings, blocks, final LayerNorm). */
export function paramShapes(cfg: GptConfig): [string, number[]][] {
	const C = cfg.n_embd;
	const out: [string, number[]][] = [
		['transformer.wte.weight', [cfg.vocab_size, C]],
		['transformer.wpe.weight', [cfg.block_size, C]]
	];
	for (let l = 0; l < cfg.n_layer; l++) {
		const h = `transformer.h.${l}`;
		out.push(
			[`${h}.ln_1.weight`, [C]],
			[`${h}.ln_1.bias`, [C]],
			[`${h}.attn.c_attn.weight`, [C, 3 * C]],
			[`${h}.attn.c_attn.bias`, [3 * C]],
			[`${h}.attn.c_proj.weight`, [C, C]],
			[`${h}.attn.c_proj.bias`, [C]],
			[`${h}.ln_2.weight`, [C]],
			[`${h}.ln_2.bias`, [C]],
			[`${h}.mlp.c_fc.weight`, [C, 4 * C]],
			[`${h}.mlp.c_fc.bias`, [4 * C]],
			[`${h}.mlp.c_proj.weight`, [4 * C, C]],
			[`${h}.mlp.c_proj.bias`, [C]]
		);
	}
	out.push(['transformer.ln_f.weight', [C]], ['transformer.ln_f.bias', [C]]);
	return out;
}

/** Parameters in the model. */
export function parameterCount(cfg: GptConfig): number {
	return paramShapes(cfg).reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

/** Bytes of float32 weights plus AdamW's two moments: what training holds besides activations. */
export const trainingStateBytes = (cfg: GptConfig) => 3 * 4 * parameterCount(cfg);
