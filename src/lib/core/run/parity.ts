// The parity certificate (docs/torch.md): a lab run's first steps replayed in PyTorch from the same
// step-0 weights, compared step by step. The lab and PyTorch do the same float32 math in different
// orders, so their losses and gradient norms agree to rounding, far inside the tolerances; a
// different learning rate, batch order or loss differs by orders of magnitude more.

import * as v from 'valibot';
import { finite, int } from '../schema';
import type { StepMetrics } from '../train/metrics';

/** Largest |loss_lab − loss_torch| accepted at any step (nats). */
export const LOSS_TOLERANCE = 1e-4;
/** Largest |Δ grad_norm| / grad_norm_lab accepted at any step. */
export const GRAD_NORM_TOLERANCE = 1e-4;

export const ParitySchema = v.object({
	/** When the comparison was made (ISO time). */
	created: v.string(),
	/** Steps compared: 1..steps. */
	steps: int(1, 1e9),
	/** PyTorch's version, e.g. "1.13.1". */
	torch_version: v.string(),
	/** Processes PyTorch trained on (torchrun's world size). */
	world_size: int(1, 1e6),
	/** Where it ran: "cpu" or the GPU's name. */
	device: v.string(),
	/** The accepted differences. */
	tolerance: v.object({ loss: finite(), grad_norm_relative: finite() }),
	/** The largest loss difference over the steps. */
	max_loss_diff: finite(),
	/** The largest relative gradient-norm difference over the steps. */
	max_grad_norm_diff: finite(),
	/** Both within their tolerance at every step. */
	passed: v.boolean(),
	/** The first step outside a tolerance, null when none. */
	first_failing_step: v.nullable(int(1, 1e9)),
	/** Each step's numbers from both. */
	per_step: v.array(
		v.object({
			step: int(1, 1e9),
			loss: finite(),
			torch_loss: finite(),
			grad_norm: finite(),
			torch_grad_norm: finite()
		})
	)
});
export type Parity = v.InferOutput<typeof ParitySchema>;

/** Where PyTorch ran (torch/train.py's torch.json). */
export interface TorchRuntime {
	torch_version: string;
	world_size: number;
	device: string;
}

/** Compares the first `steps` training lines of the lab run and the PyTorch run. */
export function compareParity(
	lab: readonly StepMetrics[],
	torch: readonly StepMetrics[],
	steps: number,
	runtime: TorchRuntime
): Parity {
	const byStep = (lines: readonly StepMetrics[]) => new Map(lines.map((m) => [m.step, m]));
	const [a, b] = [byStep(lab), byStep(torch)];
	const per_step: Parity['per_step'] = [];
	let [maxLoss, maxNorm] = [0, 0];
	let first: number | null = null;
	for (let step = 1; step <= steps; step++) {
		const [x, y] = [a.get(step), b.get(step)];
		if (!x) throw new Error(`the lab run has no metrics line for step ${step}: compare at most the steps it trained`);
		if (!y) throw new Error(`the PyTorch run has no metrics line for step ${step}: it stopped early (see its output)`);
		const dLoss = Math.abs(x.loss - y.loss);
		const dNorm = Math.abs(x.grad_norm - y.grad_norm) / Math.max(Math.abs(x.grad_norm), 1e-12);
		[maxLoss, maxNorm] = [Math.max(maxLoss, dLoss), Math.max(maxNorm, dNorm)];
		if (first === null && (!(dLoss <= LOSS_TOLERANCE) || !(dNorm <= GRAD_NORM_TOLERANCE))) first = step;
		per_step.push({ step, loss: x.loss, torch_loss: y.loss, grad_norm: x.grad_norm, torch_grad_norm: y.grad_norm });
	}
	return {
		created: new Date().toISOString(),
		steps,
		torch_version: runtime.torch_version,
		world_size: runtime.world_size,
		device: runtime.device,
		tolerance: { loss: LOSS_TOLERANCE, grad_norm_relative: GRAD_NORM_TOLERANCE },
		max_loss_diff: maxLoss,
		max_grad_norm_diff: maxNorm,
		passed: first === null,
		first_failing_step: first,
		per_step
	};
}

/** One line for the CLI and the run page. */
export function paritySentence(p: Parity): string {
	const where = `PyTorch ${p.torch_version} on ${p.world_size} process${p.world_size === 1 ? '' : 'es'} (${p.device})`;
	const diffs = `losses within ${p.max_loss_diff.toExponential(1)}, gradient norms within ${(p.max_grad_norm_diff * 100).toPrecision(2)}%`;
	return p.passed
		? `The first ${p.steps} steps replayed in ${where} match the lab's: ${diffs} (tolerance ${p.tolerance.loss} and ${p.tolerance.grad_norm_relative * 100}%).`
		: `The first ${p.steps} steps replayed in ${where} do not match the lab's from step ${p.first_failing_step}: ${diffs} (tolerance ${p.tolerance.loss} and ${p.tolerance.grad_norm_relative * 100}%).`;
}
