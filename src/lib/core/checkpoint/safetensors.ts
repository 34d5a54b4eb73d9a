// safetensors, F32 only: 8-byte little-endian header length, a JSON header
// `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {string: string}}`
// padded with spaces to 8 bytes, then the raw little-endian data.

export interface NamedArray {
	name: string;
	shape: number[];
	data: Float32Array;
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

export function encodeSafetensors(file: SafetensorsFile): Uint8Array {
	assertLittleEndian();
	const header: Record<string, unknown> = { __metadata__: file.metadata };
	let offset = 0;
	for (const t of file.tensors) {
		if (t.data.length !== size(t.shape)) {
			throw new Error(`tensor ${t.name}: ${t.data.length} values do not fill shape [${t.shape}]`);
		}
		header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
		offset += t.data.byteLength;
	}
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
	for (const t of file.tensors) {
		out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
		at += t.data.byteLength;
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
		if (e?.dtype !== 'F32')
			throw new CheckpointFormatError(`tensor ${name}: dtype ${JSON.stringify(e?.dtype)} is not supported (only F32)`);
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
		if (end - begin !== size(shape) * 4) {
			throw new CheckpointFormatError(`tensor ${name}: ${end - begin} bytes do not match shape [${shape}]`);
		}
		const copy = bytes.slice(dataStart + begin, dataStart + end); // aligned copy
		tensors.push({ name, shape: shape as number[], data: new Float32Array(copy.buffer) });
	}
	return { tensors, metadata };
}
