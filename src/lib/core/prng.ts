// MT19937 with Python's `random.Random` semantics: `seed(int)` via init_by_array,
// `random()`, `getrandbits(k)`, `randint`, `choice`, `shuffle`. Same seed, same stream as CPython.

const N = 624; // state words
const M = 397; // twist offset

/** A serialisable snapshot of the generator (stored in checkpoints as trainer state). */
export interface PrngState {
	/** The 624 state words, each a uint32. */
	mt: number[];
	/** Position of the next word to temper (624 = twist before the next draw). */
	index: number;
}

export class Mt19937 {
	private mt = new Uint32Array(N);
	private index = N + 1;

	constructor(seed: number) {
		this.seed(seed);
	}

	/** Python's `random.seed(a)` for an int `a`: the key is |a| split into 32-bit words, low first. */
	seed(a: number): void {
		if (!Number.isSafeInteger(a)) throw new Error(`PRNG seed must be a safe integer, got ${a}`);
		let rest = Math.abs(a);
		const key: number[] = [];
		do {
			key.push(rest % 0x100000000);
			rest = Math.floor(rest / 0x100000000);
		} while (rest > 0);
		this.initByArray(key);
	}

	private initGenrand(s: number): void {
		const mt = this.mt;
		mt[0] = s >>> 0;
		for (let i = 1; i < N; i++) {
			mt[i] = (Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i) >>> 0;
		}
		this.index = N;
	}

	private initByArray(key: number[]): void {
		const mt = this.mt;
		this.initGenrand(19650218);
		let i = 1;
		let j = 0;
		for (let k = Math.max(N, key.length); k > 0; k--) {
			mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + key[j] + j) >>> 0;
			i++;
			j++;
			if (i >= N) {
				mt[0] = mt[N - 1];
				i = 1;
			}
			if (j >= key.length) j = 0;
		}
		for (let k = N - 1; k > 0; k--) {
			mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i) >>> 0;
			i++;
			if (i >= N) {
				mt[0] = mt[N - 1];
				i = 1;
			}
		}
		mt[0] = 0x80000000;
		this.index = N;
	}

	private twist(): void {
		const mt = this.mt;
		for (let kk = 0; kk < N; kk++) {
			const y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % N] & 0x7fffffff);
			mt[kk] = mt[(kk + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
		}
		this.index = 0;
	}

	/** One tempered 32-bit word (genrand_uint32). */
	nextUint32(): number {
		if (this.index >= N) this.twist();
		let y = this.mt[this.index++];
		y ^= y >>> 11;
		y ^= (y << 7) & 0x9d2c5680;
		y ^= (y << 15) & 0xefc60000;
		y ^= y >>> 18;
		return y >>> 0;
	}

	/** Python's `random()`: a float in [0, 1) with 53 random bits. */
	random(): number {
		const a = this.nextUint32() >>> 5;
		const b = this.nextUint32() >>> 6;
		return (a * 67108864 + b) / 9007199254740992;
	}

	/** Python's `getrandbits(k)` for 1 <= k <= 32. */
	getrandbits(k: number): number {
		if (k < 1 || k > 32) throw new Error(`getrandbits supports 1..32 bits, got ${k}`);
		return this.nextUint32() >>> (32 - k);
	}

	/** Python's `_randbelow(n)`: rejection sampling on bit_length(n) bits. */
	randbelow(n: number): number {
		if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) {
			throw new Error(`randbelow needs an integer in 1..2^32, got ${n}`);
		}
		const k = Math.floor(Math.log2(n)) + 1; // n.bit_length()
		let r = this.getrandbits(k);
		while (r >= n) r = this.getrandbits(k);
		return r;
	}

	/** Python's `randint(a, b)`: an integer in [a, b], both ends included. */
	randint(a: number, b: number): number {
		return a + this.randbelow(b - a + 1);
	}

	/** Python's `choice(seq)`. */
	choice<T>(seq: readonly T[]): T {
		if (seq.length === 0) throw new Error('choice from an empty sequence');
		return seq[this.randbelow(seq.length)];
	}

	/** Python's `shuffle(x)` in place (Fisher–Yates from the end). */
	shuffle<T>(x: T[]): T[] {
		for (let i = x.length - 1; i > 0; i--) {
			const j = this.randbelow(i + 1);
			[x[i], x[j]] = [x[j], x[i]];
		}
		return x;
	}

	/** A standard normal draw (Box–Muller on two `random()` draws; not Python's `gauss`). */
	normal(): number {
		const u1 = 1 - this.random(); // (0, 1]: log is finite
		const u2 = this.random();
		return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
	}

	getState(): PrngState {
		return { mt: Array.from(this.mt), index: this.index };
	}

	setState(state: PrngState): void {
		if (!Array.isArray(state.mt) || state.mt.length !== N || !Number.isInteger(state.index)) {
			throw new Error(`PRNG state must hold ${N} words and an integer index`);
		}
		if (state.index < 0 || state.index > N) {
			throw new Error(`PRNG state index must be in 0..${N}, got ${state.index}`);
		}
		this.mt = Uint32Array.from(state.mt);
		this.index = state.index;
	}

	static fromState(state: PrngState): Mt19937 {
		const rng = new Mt19937(0);
		rng.setState(state);
		return rng;
	}
}
