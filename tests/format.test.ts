// core/format.ts: how the lab writes counts, durations, digits, percentages, sizes and chart ticks
// (each output as the pages printed it before the module existed).
import { describe, expect, it } from 'vitest';
import {
	axisTick,
	clockTime,
	dateTime,
	fixed,
	logAxisTick,
	megabytes,
	noun,
	orNone,
	percent,
	percentRange,
	percentValue,
	plural,
	preciseDuration,
	roughDuration,
	significant
} from '../src/lib/core/format';

describe('counts', () => {
	it('names one thing in the singular and groups the digits of many', () => {
		expect(plural(1, 'run')).toBe('1 run');
		expect(plural(0, 'run')).toBe('0 runs');
		expect(plural(4, 'run')).toBe('4 runs');
		expect(plural(2000, 'step')).toBe('2,000 steps');
		expect(plural(1234567, 'parameter')).toBe('1,234,567 parameters');
		expect(plural(2, 'index', 'indices')).toBe('2 indices');
		expect(noun(1, 'trace')).toBe('trace');
		expect(noun(5000, 'trace')).toBe('traces');
		expect(noun(0, 'problem')).toBe('problems');
	});
});

describe('durations', () => {
	it('rounds an estimate to hours with a decimal, whole minutes, or whole seconds (at least 1)', () => {
		expect(roughDuration(0.2)).toBe('1 s');
		expect(roughDuration(42.4)).toBe('42 s');
		expect(roughDuration(59.4)).toBe('59 s');
		expect(roughDuration(60)).toBe('1 min');
		expect(roughDuration(89)).toBe('1 min');
		expect(roughDuration(90)).toBe('2 min');
		expect(roughDuration(3599)).toBe('60 min');
		expect(roughDuration(3600)).toBe('1.0 h');
		expect(roughDuration(5400)).toBe('1.5 h');
	});

	it('gives time left to the minute past an hour, to the second below', () => {
		expect(preciseDuration(0.2)).toBe('0 s');
		expect(preciseDuration(45.6)).toBe('46 s');
		expect(preciseDuration(60)).toBe('1 min 0 s');
		expect(preciseDuration(123)).toBe('2 min 3 s');
		expect(preciseDuration(3600)).toBe('1 h 0 min');
		expect(preciseDuration(3900)).toBe('1 h 5 min');
	});
});

describe('digits and shares', () => {
	it('writes fixed decimals and significant digits', () => {
		expect(fixed(0.61234, 2)).toBe('0.61');
		expect(fixed(1.23456, 4)).toBe('1.2346');
		expect(fixed(1234.5, 0)).toBe('1235');
		expect(significant(1.23456, 3)).toBe('1.23');
		expect(significant(0.000123456, 3)).toBe('0.000123');
	});

	it('writes a share as a percentage, a range of two, and a chart value', () => {
		expect(percent(0.5)).toBe('50%');
		expect(percent(0.125, 1)).toBe('12.5%');
		expect(percent(1)).toBe('100%');
		expect(percentRange(0.12, 0.48)).toBe('12–48%');
		expect(percentRange(0.123, 0.456, 1)).toBe('12.3–45.6%');
		expect(percentValue(0.1234)).toBe(12.3);
		expect(percentValue(0.5)).toBe(50);
		expect(percentValue(0.1256)).toBe(Math.round(0.1256 * 1000) / 10);
	});

	it('writes a missing value as a dash, or as told', () => {
		expect(orNone(null, (x: number) => significant(x, 3))).toBe('—');
		expect(orNone(undefined, (x: number) => significant(x, 3))).toBe('—');
		expect(orNone(2.3456, (x) => significant(x, 3))).toBe('2.35');
		expect(orNone(0, (x) => fixed(x, 1))).toBe('0.0');
		expect(orNone(null, (x: number) => fixed(x, 3), 'overflow')).toBe('overflow');
	});
});

describe('sizes, dates and ticks', () => {
	it('writes megabytes with the decimals asked, else whole from 10 MB up', () => {
		expect(megabytes(1_234_567, 2)).toBe('1.23 MB');
		expect(megabytes(1_234_567)).toBe('1.2 MB');
		expect(megabytes(9_960_000)).toBe('10.0 MB');
		expect(megabytes(12_345_678)).toBe('12 MB');
		expect(megabytes(2_500_000_000)).toBe('2500 MB');
	});

	it('writes a moment in the reader locale, whole or as the time of day', () => {
		const iso = '2024-03-05T14:07:09.000Z';
		expect(dateTime(iso)).toBe(new Date(iso).toLocaleString());
		expect(clockTime(iso)).toBe(new Date(iso).toLocaleTimeString());
		expect(dateTime(iso)).toContain(clockTime(iso));
	});

	it('writes axis ticks without false zeros', () => {
		expect(axisTick(0.0005)).toBe('0.0005');
		expect(axisTick(1.23456)).toBe('1.235');
		expect(axisTick(2)).toBe('2');
		expect(logAxisTick(0)).toBe('0');
		expect(logAxisTick(0.001)).toBe('0.001');
		expect(logAxisTick(12.345)).toBe('12.3');
		expect(logAxisTick(1e-9)).toBe('1e-9');
		expect(logAxisTick(-2e-5)).toBe('-2e-5');
	});
});
