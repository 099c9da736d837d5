// Reads the decoding fixtures (test/fixtures/decoding/, format in its README): the cases, their
// logits and options decoded into the arrays and values a call takes.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './random.js';

export const DECODING_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'decoding');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DecodingCase = Record<string, any>;

/** The cases of one folder (decode, topk, argmax, errors), by file name. */
export function decodingCases(group: string): DecodingCase[] {
  const dir = join(DECODING_DIR, group);
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as DecodingCase);
}

/** A fixture number: a number, or "NaN" / "Infinity" / "-Infinity". */
export function num(v: unknown): number {
  return typeof v === 'string' ? Number(v) : (v as number);
}

export function b64bytes(s: string): Uint8Array {
  // atob, not Buffer: the same helper runs in the Chromium suite.
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The case's logits: a Float32Array/Float64Array, or (error cases) a number[] or Int32Array. */
export function logitsOf(c: DecodingCase): unknown {
  const l = c.logits;
  if (l.plain_array) return (l.data as unknown[]).map(num);
  if (l.typed) return new (globalThis as unknown as Record<string, new (a: number[]) => unknown>)[l.typed]!((l.data as unknown[]).map(num));
  const Ctor = (l.dtype ?? c.dtype) === 'float64' ? Float64Array : Float32Array;
  if (l.data) return Ctor.from((l.data as unknown[]).map(num));
  if (l.b64) {
    const bytes = b64bytes(l.b64);
    return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT).slice();
  }
  const g = l.gen;
  const n = c.rows * c.classes;
  const next = rng(g.seed), span = g.high - g.low, out = new Ctor(n);
  for (let k = 0; k < n; k++) out[k] = g.low + span * next();
  for (const [i, v] of l.overrides ?? []) out[i] = num(v);
  return out;
}

/** Decodes the option encodings ($num, $typed, $same). */
export function decodeOption(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeOption);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if ('$num' in o) return Number(o.$num);
  if ('$typed' in o) return new (globalThis as unknown as Record<string, new (a: unknown[]) => unknown>)[o.$typed as string]!(o.data as unknown[]);
  if ('$same' in o) {
    const x = decodeOption(o.$same);
    return Array.from({ length: o.rows as number }, () => x);
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decodeOption(x)]));
}

/** The call's options: the layout, then the case's options. */
export function optionsOf(c: DecodingCase): Record<string, unknown> {
  return { ...c.layout, ...(decodeOption(c.options ?? {}) as object) };
}

/** Row r, class j of a case's layout: the flat index. */
export function flatIndex(c: DecodingCase, r: number, j: number): number {
  const { inner } = layoutDims(c);
  return (Math.floor(r / inner) * c.classes + j) * inner + (r % inner);
}

export function layoutDims(c: DecodingCase): { inner: number } {
  const l = c.layout;
  if (l.classes !== undefined) return { inner: 1 };
  const shape = l.shape as number[];
  const axis = ((l.axis ?? -1) + shape.length) % shape.length;
  return { inner: shape.slice(axis + 1).reduce((a, b) => a * b, 1) };
}

/** The kept indices of a distribution row (list or bitmap). */
export function keptOf(row: DecodingCase): number[] {
  if (Array.isArray(row.kept)) return row.kept;
  const bits = b64bytes(row.kept.bitmap_b64);
  const out: number[] = [];
  for (let i = 0; i < bits.length * 8; i++) if ((bits[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}

/** The kept probabilities aligned with keptOf (list or b64f64), or null for summary rows. */
export function keptProbs(row: DecodingCase): number[] | null {
  if (Array.isArray(row.p)) return row.p.map(num);
  if (row.p && row.p.b64f64) {
    const b = b64bytes(row.p.b64f64);
    return Array.from(new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8));
  }
  return null;
}
