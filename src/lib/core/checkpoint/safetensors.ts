// safetensors: 8-byte little-endian header length, a JSON header
// `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {string: string}}`
// padded with spaces to 8 bytes, then the raw little-endian data. The lab writes F32 (and F16 for
// the test models of scripts/make-gpt2.ts); it reads F32, F16 and BF16, upcast to float32 (a
// Hugging Face model is often stored in half precision).

export interface NamedArray {
	name: string;
	shape: number[];
	/** The values as float32 (upcast when the file stores F16 or BF16). */
	data: Float32Array;
	/** The element type in the file (decoded tensors only). */
	dtype?: Dtype;
}

export interface SafetensorsFile {
	tensors: NamedArray[];
	metadata: Record<string, string>;
}

/** Thrown for a file that is not a readable safetensors file; says what is wrong. */
export class CheckpointFormatError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'CheckpointFormatError';
	}
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
	if (!LITTLE_ENDIAN) throw new Error('safetensors codec needs a little-endian platform');
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The element types the lab reads, and their bytes per value. */
const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;
export type Dtype = keyof typeof DTYPE_BYTES;

/** float32 → IEEE half (round to nearest even; overflow to ±Infinity), as raw uint16. */
export function toHalf(x: number): number {
	const f = new Float32Array([x]);
	const u = new Uint32Array(f.buffer)[0];
	const sign = (u >>> 16) & 0x8000;
	const exp = (u >>> 23) & 0xff;
	let mant = u & 0x7fffff;
	if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
	let e = exp - 127 + 15;
	if (e >= 0x1f) return sign | 0x7c00; // overflow
	if (e <= 0) {
		if (e < -10) return sign; // underflow to zero
		mant |= 0x800000; // subnormal: shift the implicit bit in
		const shift = 14 - e;
		const half = 1 << (shift - 1);
		let m = mant >>> shift;
		const rest = mant & ((1 << shift) - 1);
		if (rest > half || (rest === half && m & 1)) m++;
		return sign | m;
	}
	let m = mant >>> 13;
	const rest = mant & 0x1fff;
	if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
		m++;
		if (m === 0x400) {
			m = 0;
			e++;
			if (e >= 0x1f) return sign | 0x7c00;
		}
	}
	return sign | (e << 10) | m;
}

/** IEEE half (raw uint16) → float32. */
export function fromHalf(h: number): number {
	const sign = h & 0x8000 ? -1 : 1;
	const exp = (h >>> 10) & 0x1f;
	const mant = h & 0x3ff;
	if (exp === 0) return sign * mant * 2 ** -24;
	if (exp === 0x1f) return mant ? NaN : sign * Infinity;
	return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Raw little-endian values of `dtype` → float32. */
function upcast(raw: Uint8Array, dtype: Dtype): Float32Array {
	if (dtype === 'F32') return new Float32Array(raw.slice().buffer); // aligned copy
	const halves = new Uint16Array(raw.slice().buffer); // (n)
	const out = new Float32Array(halves.length);
	if (dtype === 'BF16') {
		const bits = new Uint32Array(out.buffer);
		for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16; // bf16 is float32's top half
	} else {
		for (let i = 0; i < halves.length; i++) out[i] = fromHalf(halves[i]);
	}
	return out;
}

/** The file's bytes; tensors are written as float32, or as F16 when `dtype` says so. */
export function encodeSafetensors(file: SafetensorsFile, dtype: 'F32' | 'F16' = 'F32'): Uint8Array {
	assertLittleEndian();
	const header: Record<string, unknown> = { __metadata__: file.metadata };
	const datas = file.tensors.map((t) => {
		if (t.data.length !== size(t.shape)) {
			throw new Error(`tensor ${t.name}: ${t.data.length} values do not fill shape [${t.shape}]`);
		}
		if (dtype === 'F32') return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
		const halves = Uint16Array.from(t.data, toHalf);
		return new Uint8Array(halves.buffer);
	});
	let offset = 0;
	file.tensors.forEach((t, i) => {
		header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + datas[i].byteLength] };
		offset += datas[i].byteLength;
	});
	let json = new TextEncoder().encode(JSON.stringify(header));
	const padded = Math.ceil(json.length / 8) * 8;
	if (padded !== json.length) {
		const withSpaces = new Uint8Array(padded).fill(0x20);
		withSpaces.set(json);
		json = withSpaces;
	}
	const out = new Uint8Array(8 + json.length + offset);
	new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
	out.set(json, 8);
	let at = 8 + json.length;
	for (const data of datas) {
		out.set(data, at);
		at += data.byteLength;
	}
	return out;
}

interface HeaderEntry {
	dtype: unknown;
	shape: unknown;
	data_offsets: unknown;
}

export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
	assertLittleEndian();
	if (bytes.length < 8) {
		throw new CheckpointFormatError(
			`file is ${bytes.length} bytes: too short for the 8-byte header length (truncated?)`
		);
	}
	const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
	if (headerLen > bytes.length - 8) {
		throw new CheckpointFormatError(
			`header length ${headerLen} exceeds the ${bytes.length - 8} bytes after it (truncated or not a safetensors file)`
		);
	}
	let header: Record<string, unknown>;
	try {
		header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
	} catch (err) {
		throw new CheckpointFormatError(`header is not valid UTF-8 JSON (${(err as Error).message})`);
	}
	if (typeof header !== 'object' || header === null || Array.isArray(header)) {
		throw new CheckpointFormatError('header is not a JSON object');
	}
	const dataStart = 8 + headerLen;
	const dataLen = bytes.length - dataStart;
	const metadata: Record<string, string> = {};
	const tensors: NamedArray[] = [];
	for (const [name, raw] of Object.entries(header)) {
		if (name === '__metadata__') {
			for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
				if (typeof v !== 'string') throw new CheckpointFormatError(`__metadata__.${k} is not a string`);
				metadata[k] = v;
			}
			continue;
		}
		const e = raw as HeaderEntry;
		if (typeof e?.dtype !== 'string' || !(e.dtype in DTYPE_BYTES))
			throw new CheckpointFormatError(
				`tensor ${name}: dtype ${JSON.stringify(e?.dtype)} is not supported (F32, F16 and BF16 are)`
			);
		const dtype = e.dtype as Dtype;
		const shape = e.shape;
		const offs = e.data_offsets;
		if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
			throw new CheckpointFormatError(`tensor ${name}: shape is not a list of sizes`);
		}
		if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o))) {
			throw new CheckpointFormatError(`tensor ${name}: data_offsets is not [begin, end]`);
		}
		const [begin, end] = offs as number[];
		if (begin < 0 || end < begin || end > dataLen) {
			throw new CheckpointFormatError(
				`tensor ${name}: data [${begin}, ${end}) lies outside the ${dataLen} data bytes (truncated file?)`
			);
		}
		if (end - begin !== size(shape) * DTYPE_BYTES[dtype]) {
			throw new CheckpointFormatError(`tensor ${name}: ${end - begin} bytes do not match ${dtype} shape [${shape}]`);
		}
		const data = upcast(bytes.subarray(dataStart + begin, dataStart + end), dtype);
		tensors.push({ name, shape: shape as number[], data, dtype });
	}
	return { tensors, metadata };
}
