// Shared pieces of the reliability suite: comparisons against the float64 reference
// and the hostile values the input matrix feeds to every argument (its deterministic data comes
// from ../helpers/random.ts).
import { expect } from 'vitest';
import { maxErrRatio } from '../helpers/reference.js';

export type F = Float32Array | Float64Array;
export type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Tolerances of a result of the given element type against the float64 reference. */
export function tol(f32: boolean): { atol: number; rtol: number } {
  return f32 ? { atol: 2e-6, rtol: 2e-5 } : { atol: 1e-12, rtol: 1e-10 };
}

/** Expects `actual` within tolerance of `expected` (non-finite entries must match exactly). */
export function expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, f32: boolean, what = 'result'): void {
  const a = typeof actual === 'number' ? [actual] : actual;
  // A Float32Array result holds the reference rounded to f32 (beyond 3.4e38 that is Infinity).
  const e = typeof expected === 'number' ? [expected] : actual instanceof Float32Array ? Array.from(expected, Math.fround) : expected;
  expect(a.length, `${what}: length`).toBe(e.length);
  const { atol, rtol } = tol(f32);
  const r = maxErrRatio(a, e, atol, rtol);
  if (!(r <= 1)) {
    let worst = 0;
    let at = -1;
    for (let i = 0; i < e.length; i++) {
      const d = Math.abs(a[i]! - e[i]!) / (atol + rtol * Math.abs(e[i]!));
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    throw new Error(`${what}: off by ${r.toExponential(2)} x tolerance; first worst at [${at}]: got ${a[at]}, expected ${e[at]}`);
  }
}

/** Detaches a typed array's buffer (transfers it away) and returns the now-empty view. */
export function detached<T extends ArrayBufferView>(a: T): T {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  return a;
}

/** A typed array over a SharedArrayBuffer holding `values`. */
export function shared<T extends F | Int32Array>(Ctor: new (b: SharedArrayBuffer) => T, values: ArrayLike<number>): T {
  const bytes = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const a = new Ctor(new SharedArrayBuffer(values.length * bytes));
  (a as unknown as Float64Array).set(values);
  return a;
}

const Float16 = (globalThis as { Float16Array?: new (n: number) => ArrayBufferView }).Float16Array;

/** Values that are not a float typed array at all: every one must be a TypeError naming the
 *  argument. `n` sizes the array-like ones. */
export function notFloatArrays(n: number): [string, unknown][] {
  const list: [string, unknown][] = [
    ['a plain object', { length: n, 0: 1 }],
    ['a string', 'abc'],
    ['null', null],
    ['a number', 3],
    ['a boolean', true],
    ['a function', () => 1],
    ['an Array of numbers', Array.from({ length: n }, () => 1)],
    ['an Int32Array', new Int32Array(n)],
    ['a Uint8ClampedArray', new Uint8ClampedArray(n)],
    ['a BigInt64Array', new BigInt64Array(n)],
    ['a DataView', new DataView(new ArrayBuffer(n * 4))],
    ['an ArrayBuffer', new ArrayBuffer(n * 4)],
    ['a detached Float32Array', detached(new Float32Array(n))],
    ['a detached Float64Array', detached(new Float64Array(n))],
    ['an object inheriting from Float32Array', Object.create(Float32Array.prototype)],
    ['a Proxy of a Float32Array', new Proxy(new Float32Array(n), {})],
  ];
  if (Float16) list.push(['a Float16Array', new Float16(n)]);
  return list;
}

/** Class-index targets that are not any accepted target type (TypeError naming `target`). */
export function notTargets(n: number): [string, unknown][] {
  const list: [string, unknown][] = [
    ['a plain object', { length: n }],
    ['a string', '0123'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 0],
    ['a BigInt64Array', new BigInt64Array(n)],
    ['a BigUint64Array', new BigUint64Array(n)],
    ['a Uint8ClampedArray', new Uint8ClampedArray(n)],
    ['a DataView', new DataView(new ArrayBuffer(n * 4))],
    ['a detached Int32Array', detached(new Int32Array(n))],
    ['an object inheriting from Int32Array', Object.create(Int32Array.prototype)],
    ['a Proxy of an Int32Array', new Proxy(new Int32Array(n), {})],
  ];
  if (Float16) list.push(['a Float16Array', new Float16(n)]);
  return list;
}

/** Runs `call`, expecting exactly the error class `Kind` whose message starts with `fn:` and
 *  contains every string of `says`. */
export function expectError(call: () => unknown, Kind: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, fn: string, says: string[]): void {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error, 'the call must throw').toBeDefined();
  const e = error as Error;
  expect(e.constructor.name, `error class, message: ${e.message}`).toBe(Kind.name);
  expect(e.message.startsWith(`${fn}:`), `message names the function: ${e.message}`).toBe(true);
  for (const s of says) expect(e.message, 'message names the argument').toContain(s);
}
