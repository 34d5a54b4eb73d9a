// `npm run bench` (Node part): training-step speed, evaluation speed, checkpoint save/load and
// memory of a config's model on each Node backend (src/lib/core/train/bench.ts). One JSON line per
// available backend on stdout; notes on skipped backends on stderr. The browser part is
// tests/bench/browser.bench.ts (npm run bench:browser).

import { parseArgs } from 'node:util';
import { builtInDataset } from '../lib/core/data/registry';
import { useFusedKernels } from '../lib/core/model/chooseOps';
import { benchTraining } from '../lib/core/bench/bench';
import { runCommand, type CliIo } from './io';
import { NODE_BACKENDS, useNodeBackend, type NodeBackend } from './nodeBackend';
import { loadConfig } from './trainCommand';

export async function benchCommand(argv: string[], io: CliIo): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			config: { type: 'string', default: 'configs/train_golden_v2.yaml' },
			backend: { type: 'string', multiple: true },
			steps: { type: 'string', default: '100' },
			'max-seconds': { type: 'string', default: '60' },
			'eval-items': { type: 'string' },
			// op-by-op tfjs instead of the lab's fused WebGPU kernels: the "before" of docs/performance.md
			'no-fused': { type: 'boolean', default: false }
		}
	});
	const steps = Number(values.steps);
	if (!Number.isInteger(steps) || steps < 5) throw new Error(`--steps must be an integer >= 5, got ${values.steps}`);
	const maxSeconds = Number(values['max-seconds']);
	if (!(maxSeconds > 0)) throw new Error(`--max-seconds must be a positive number, got ${values['max-seconds']}`);
	const evalMaxItems = values['eval-items'] === undefined ? null : Number(values['eval-items']);
	if (evalMaxItems !== null && !(Number.isInteger(evalMaxItems) && evalMaxItems > 0))
		throw new Error(`--eval-items must be a positive integer, got ${values['eval-items']}`);
	useFusedKernels(!values['no-fused']);
	const backends = (values.backend ?? [...NODE_BACKENDS]) as NodeBackend[];
	const config = loadConfig(values.config!);
	const dataset = builtInDataset(config.data.dataset);
	const evalDatasets = [dataset, ...config.data.eval_datasets.map((k) => builtInDataset(k))];
	for (const name of backends) {
		try {
			await useNodeBackend(name);
		} catch (err) {
			io.err(`bench: skipped ${name}: ${(err as Error).message}\n`);
			continue;
		}
		const record = await benchTraining(config, dataset, {
			runtime: `node ${process.version}`,
			steps,
			maxSeconds,
			evalDatasets,
			evalMaxItems
		});
		io.out(JSON.stringify(record) + '\n');
	}
	return 0;
}

process.exitCode = await runCommand(benchCommand, process.argv.slice(2));
