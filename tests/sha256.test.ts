// core/sha256.ts against Node's OpenSSL: every length around the padding's edges, and the same
// bytes fed in pieces split anywhere, including inside a block and in empty pieces.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256, sha256Bytes, sha256Text } from '../src/lib/core/sha256';

const openssl = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const bytes = (n: number, seed = 1) =>
	Uint8Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 0xff);

describe('sha256', () => {
	it('matches OpenSSL at every length from 0 to 300 bytes (one, two and more blocks of padding)', () => {
		for (let n = 0; n <= 300; n++) expect(sha256Bytes(bytes(n)), `${n} bytes`).toBe(openssl(bytes(n)));
	});
	it('gives the published digests of "" and "abc"', () => {
		expect(sha256Text('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
		expect(sha256Text('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
	});
	it('gives the same digest fed in pieces split anywhere', () => {
		const data = bytes(5000, 7);
		const want = openssl(data);
		for (const cuts of [
			[0],
			[1],
			[63],
			[64],
			[65],
			[0, 0, 10],
			[3, 70, 70, 200, 4999],
			[1000, 1064, 1127, 4096],
			[30, 63, 64],
			Array.from({ length: 200 }, (_, i) => i + 1)
		]) {
			const h = new Sha256();
			let at = 0;
			for (const cut of [...cuts, data.length]) {
				h.update(data.subarray(at, cut));
				at = cut;
			}
			expect(h.digest(), `cut at ${cuts}`).toBe(want);
		}
	});
});
