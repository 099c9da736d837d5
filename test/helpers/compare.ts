// Bit-for-bit comparisons of results, shared by the suites that check that two ways of computing
// the same thing agree exactly (the small-call fast paths, the worker pool, the execution paths).
// Pure: no Node imports (test/pool.test.ts also runs in Chromium).
import { expect } from 'vitest';

type Typed = Float32Array | Float64Array | Int32Array;

/** The bytes of a typed array's elements (a view, no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Where two typed arrays differ in their bytes: '' when they are the same type and length and
 *  hold the same bytes (so -0 differs from +0, and one NaN bit pattern from another), otherwise a
 *  description of the first differing element. */
export function byteDiff(a: Typed, b: Typed, what = 'result'): string {
  if (a.constructor !== b.constructor || a.length !== b.length) {
    return `${what}: ${a.constructor.name}(${a.length}) vs ${b.constructor.name}(${b.length})`;
  }
  // (a word at a time first where both allow it: a few times faster on large results)
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const u = new Uint32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
    const v = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
    let same = true;
    for (let i = 0; i < u.length; i++) {
      if (u[i] !== v[i]) {
        same = false;
        break;
      }
    }
    if (same) return '';
  }
  const x = bytesOf(a);
  const y = bytesOf(b);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      const e = Math.floor(i / a.BYTES_PER_ELEMENT);
      const hex = (v: Typed) => Array.from(bytesOf(v.subarray(e, e + 1)), (u) => u.toString(16).padStart(2, '0')).reverse().join('');
      return `${what}[${e}]: ${a[e]} (0x${hex(a)}) vs ${b[e]} (0x${hex(b)})`;
    }
  }
  return '';
}

/** The bits of a number as a float64 (so -0 differs from +0, and NaN payloads differ). */
function numberBits(v: number): string {
  const d = new DataView(new ArrayBuffer(8));
  d.setFloat64(0, v);
  return d.getBigUint64(0).toString(16);
}

/** The first position where two results differ (Object.is per element and for the loss), or ''.
 *  Results may be numbers, typed arrays, or objects of them ({ loss, grad }). */
export function diff(a: unknown, b: unknown, at = ''): string {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b) ? '' : `${at}: ${String(a)} vs ${String(b)}`;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as Typed;
    const y = b as Typed;
    if (x.constructor !== y.constructor || x.length !== y.length) return `${at}: ${x.constructor.name}(${x.length}) vs ${y.constructor.name}(${y.length})`;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${at}[${i}]: ${x[i]} vs ${y[i]}`;
    return '';
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
      if (d) return d;
    }
    return '';
  }
  return Object.is(a, b) ? '' : `${at}: ${String(a)} vs ${String(b)}`;
}

/** As diff, but typed arrays compare by their bytes and numbers by their float64 bits. */
export function bitDiff(a: unknown, b: unknown, at = ''): string {
  if (typeof a === 'number' && typeof b === 'number') return numberBits(a) === numberBits(b) ? '' : `${at}: ${a} (0x${numberBits(a)}) vs ${b} (0x${numberBits(b)})`;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) return byteDiff(a as Typed, b as Typed, at);
  if (a && b && typeof a === 'object' && typeof b === 'object' && !ArrayBuffer.isView(a) && !ArrayBuffer.isView(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = bitDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
      if (d) return d;
    }
    return '';
  }
  return `${at}: ${String(a)} vs ${String(b)} (different kinds)`;
}

/** Expects two arrays to hold the same values element by element (Object.is: -0 is not +0). */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect(`${what}[${i}] = ${a[i]}`).toBe(`${what}[${i}] = ${b[i]}`);
}
