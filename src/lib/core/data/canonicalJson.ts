// Canonical JSON, byte-compatible with Python's
// `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`:
// keys sorted by code point at every level, no spaces, every character outside
// printable ASCII written as \uXXXX (astral characters as surrogate pairs).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function compareCodePoints(a: string, b: string): number {
	const ca = Array.from(a);
	const cb = Array.from(b);
	for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
		const d = ca[i].codePointAt(0)! - cb[i].codePointAt(0)!;
		if (d !== 0) return d;
	}
	return ca.length - cb.length;
}

function asciiString(s: string): string {
	return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function canonicalJson(value: unknown): string {
	const v = value as Json;
	if (v === null || typeof v === 'boolean') return String(v);
	if (typeof v === 'number') {
		if (!Number.isFinite(v)) throw new Error(`canonical JSON cannot hold ${v}`);
		return JSON.stringify(v);
	}
	if (typeof v === 'string') return asciiString(v);
	if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
	if (typeof v === 'object') {
		const keys = Object.keys(v).sort(compareCodePoints);
		return '{' + keys.map((k) => asciiString(k) + ':' + canonicalJson(v[k])).join(',') + '}';
	}
	throw new Error(`canonical JSON cannot hold a value of type ${typeof value}`);
}
