// `npm run plot-loss -- <run-dir> [--out file.svg]`: the loss curve of a run as an SVG image
// (raw per-step loss and its 50-step mean, log scale), plus the numbers of lossStats.

import { parseArgs } from 'node:util';
import { lossStats, trailingMean } from '../lib/core/run/lossStats';
import { writeFileAtomic } from './files';
import { runCommand, UsageError, type CliIo } from './io';
import { RunDir } from './runDir';

const W = 760;
const H = 360;
const PAD = { l: 64, r: 16, t: 28, b: 44 };

function svg(losses: number[], smooth: number[], title: string): string {
	const n = losses.length;
	const logs = losses.filter((l) => l > 0).map(Math.log10);
	const lo = Math.floor(Math.min(...logs));
	const hi = Math.ceil(Math.max(...logs));
	const x = (i: number) => PAD.l + ((W - PAD.l - PAD.r) * i) / Math.max(1, n - 1);
	const y = (l: number) => PAD.t + ((H - PAD.t - PAD.b) * (hi - Math.log10(l))) / Math.max(1e-9, hi - lo);
	const path = (ys: number[]) =>
		ys
			.map((l, i) => (Number.isFinite(l) && l > 0 ? `${x(i).toFixed(1)},${y(l).toFixed(1)}` : null))
			.filter(Boolean)
			.map((p, i) => (i === 0 ? `M${p}` : `L${p}`))
			.join('');
	const yTicks = Array.from({ length: hi - lo + 1 }, (_, k) => lo + k)
		.map(
			(e) =>
				`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#e5e7eb"/><text x="${PAD.l - 8}" y="${y(10 ** e) + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)}</text>`
		)
		.join('');
	const xTicks = Array.from({ length: 5 }, (_, k) => Math.round(((n - 1) * k) / 4))
		.map((i) => `<text x="${x(i)}" y="${H - PAD.b + 18}" text-anchor="middle">${i + 1}</text>`)
		.join('');
	return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12" fill="#111">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${PAD.l}" y="18" font-size="14" font-weight="bold">${title}</text>
${yTicks}${xTicks}
<text x="${(W + PAD.l) / 2}" y="${H - 6}" text-anchor="middle">step</text>
<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">loss (log scale)</text>
<path d="${path(losses)}" fill="none" stroke="#93c5fd" stroke-width="1"/>
<path d="${path(smooth)}" fill="none" stroke="#1d4ed8" stroke-width="2"/>
<text x="${W - PAD.r}" y="18" text-anchor="end"><tspan fill="#93c5fd">■</tspan> per step  <tspan fill="#1d4ed8">■</tspan> 50-step mean</text>
</svg>
`;
}

export async function plotCommand(argv: string[], io: CliIo): Promise<number> {
	const { values, positionals } = parseArgs({
		args: argv,
		options: { out: { type: 'string' }, title: { type: 'string' } },
		allowPositionals: true
	});
	if (positionals.length !== 1)
		throw new UsageError('usage: npm run plot-loss -- <run-dir> [--out loss.svg] [--title text]');
	const dir = new RunDir(positionals[0]);
	const run = dir.readRun();
	const losses = dir.allMetrics().training.map((m) => m.loss);
	if (losses.length === 0) throw new Error(`${dir.path('metrics.jsonl')} holds no training steps`);
	const out = values.out ?? dir.path('loss.svg');
	writeFileAtomic(out, svg(losses, trailingMean(losses, 50), values.title ?? `${run?.name ?? 'run'}: training loss`));
	const warmup = run?.config.train.warmup_steps ?? 0;
	io.out(JSON.stringify({ steps: losses.length, warmup_steps: warmup, ...lossStats(losses, warmup) }) + '\n');
	io.err(`wrote ${out}\n`);
	return 0;
}

process.exitCode = await runCommand(plotCommand, process.argv.slice(2));
