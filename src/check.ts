// Argument checking: every TypeError and RangeError the public functions throw comes from here,
// so the messages have one form: "<function>: <argument> must be <expected> (got <value>)".

import { F32, F64, type ElementType, type FloatArray } from './dtype.js';

export type { FloatArray } from './dtype.js';

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return `${v}`;
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '...' : v}'`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v !== 'object' && typeof v !== 'function') return typeof v;
  if (Array.isArray(v)) return `an Array of length ${v.length}`;
  const name = (v as object).constructor?.name;
  if (ArrayBuffer.isView(v) && 'length' in v) return `a ${name} of length ${(v as { length: number }).length}`;
  if (name && /^(Big)?(Float|Int|Uint)\d+(Clamped)?Array$/.test(name)) return `an object that inherits from ${name} but is not one`;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

export function fail(fn: string, arg: string, expected: string, got: unknown, Kind: typeof TypeError | typeof RangeError): never {
  throw new Kind(`${fn}: ${arg} must be ${expected} (got ${describe(got)})`);
}

/** Whether a typed array's buffer has been detached (transferred): such a view reads as empty
 *  and must be rejected rather than treated as an empty input. */
export function isDetached(a: ArrayBufferView): boolean {
  // A detached view reads as empty, so only empty ones need a look (length is cheaper to read
  // than byteLength; every caller passes a typed array).
  if ((a as Uint8Array).length !== 0) return false;
  const buffer = a.buffer as ArrayBuffer & { detached?: boolean };
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Whether `v` is a real typed array of type `T`: `instanceof` alone also accepts objects that
 *  only inherit from T.prototype (`Object.create(Float32Array.prototype)`, a Proxy of a typed
 *  array), whose .buffer/.length getters then throw the engine's TypeError, naming nothing. */
export function isTyped<T extends abstract new (...args: never[]) => ArrayBufferView>(v: unknown, T: T): v is InstanceType<T> {
  return ArrayBuffer.isView(v) && v instanceof T;
}

/** Whether `v` is a Float32Array (`f32`) or a Float64Array (not `f32`): the fast paths' test that
 *  an output or a second input has the first input's type. (isTyped's test written out, each
 *  `instanceof` with its own constructor: isTyped's one `instanceof T`, shared by all its callers,
 *  sees every type of the process, and once it had seen a Float64Array the float32 [1, 10] calls
 *  took 12-15 ns more, Node 24.) */
export function isFloatOf(f32: boolean, v: unknown): v is FloatArray {
  return ArrayBuffer.isView(v) && (f32 ? v instanceof Float32Array : v instanceof Float64Array);
}

/** Checks a float input and returns its element type. */
export function floatArray(fn: string, arg: string, v: unknown): ElementType {
  if (isTyped(v, Float32Array) || isTyped(v, Float64Array)) {
    if (isDetached(v)) fail(fn, arg, 'a Float32Array or Float64Array whose buffer is not detached', 'a detached buffer', TypeError);
    return v instanceof Float32Array ? F32 : F64;
  }
  return fail(fn, arg, 'a Float32Array or Float64Array', v, TypeError);
}

/** Checks an array that must have the same element type as the logits/input. */
export function sameType(fn: string, arg: string, v: unknown, dt: ElementType, length: number): void {
  const ctor = dt.Array as typeof Float32Array | typeof Float64Array;
  if (!isTyped(v, ctor)) fail(fn, arg, `a ${ctor.name} (the input's element type)`, v, TypeError);
  if (isDetached(v)) fail(fn, arg, `a ${ctor.name} whose buffer is not detached`, 'a detached buffer', TypeError);
  if (v.length !== length) fail(fn, `${arg}.length`, `${length}`, v.length, RangeError);
}

/** Checks an `into` buffer: the result's type and length. */
export function intoArray(fn: string, v: unknown, dt: ElementType, length: number, arg = 'options.into'): void {
  sameType(fn, arg, v, dt, length);
}

/**
 * Checks that an output (`into`, `gradInto`) either is an input itself (in place: the same
 * bytes of the same buffer) or shares no byte with it. Results are written chunk by chunk while
 * the inputs are still being read, so a partial overlap would read values already overwritten
 * (PyTorch refuses such `out=` tensors too). Takes one or two named inputs (absent ones pass).
 */
export function disjoint(fn: string, arg: string, out: ArrayBufferView, name1: string, v1: unknown,
  name2: string | undefined, v2: unknown, allowSame: boolean, memo: DisjointMemo): void {
  const k1 = ArrayBuffer.isView(v1) ? v1 : null;
  const k2 = ArrayBuffer.isView(v2) ? v2 : null;
  const n0 = (out as Uint8Array).length;
  const n1 = k1 ? (k1 as Uint8Array).length : 0;
  const n2 = k2 ? (k2 as Uint8Array).length : 0;
  if (knownDisjointViews(memo, out, n0, k1, n1, k2, n2)) return;
  const ob = out.buffer;
  const b1 = k1?.buffer, b2 = k2?.buffer;
  if (b1 === ob) overlapCheck(fn, arg, out, name1, k1!, allowSame);
  if (name2 !== undefined && b2 === ob) overlapCheck(fn, arg, out, name2!, k2!, allowSame);
  // (maxByteLength: what a resizable buffer may grow to; its byteLength otherwise)
  const small = (b: ArrayBufferLike | undefined) => b === undefined || ((b as { maxByteLength?: number }).maxByteLength ?? b.byteLength) <= MEMO_MAX_BYTES;
  if (small(ob) && small(b1) && small(b2)) {
    // (the last entry moves to the second: a program alternating two shapes keeps both)
    memo.out2 = memo.out;
    memo.v12 = memo.v1;
    memo.v22 = memo.v2;
    memo.n02 = memo.n0;
    memo.n12 = memo.n1;
    memo.n22 = memo.n2;
    memo.out = out;
    memo.v1 = k1;
    memo.v2 = k2;
    memo.n0 = n0;
    memo.n1 = n1;
    memo.n2 = n2;
  }
}

/** Whether disjoint() has already passed these views (null: not a view) with these lengths at
 *  memo's call site. The callers pass lengths they have already read: each typed-array read costs
 *  a detached-buffer check once any buffer in the process has been detached. */
export function knownDisjointViews(memo: DisjointMemo, out: ArrayBufferView, n0: number, v1: ArrayBufferView | null, n1: number,
  v2: ArrayBufferView | null, n2: number): boolean {
  return (memo.out === out && memo.v1 === v1 && memo.v2 === v2 && memo.n0 === n0 && memo.n1 === n1 && memo.n2 === n2) ||
    (memo.out2 === out && memo.v12 === v1 && memo.v22 === v2 && memo.n02 === n0 && memo.n12 === n1 && memo.n22 === n2);
}

/** Buffers up to this size may be kept alive by a DisjointMemo (a bounded, small retention). */
const MEMO_MAX_BYTES = 65536;

/**
 * The arrays one call site of disjoint() last found disjoint, with their lengths. A view's buffer
 * and byte offset never change, so the same objects with the same lengths (a detached or shrunk
 * view changes length) are still disjoint; reading .buffer costs ~15 ns a view, a large part of a
 * small call. Only views over buffers of at most 64 KiB are remembered: the memo never keeps
 * anything large alive, and for large arrays the check is negligible beside the work.
 */
export class DisjointMemo {
  out: unknown = null;
  v1: unknown = null;
  v2: unknown = null;
  n0 = -1;
  n1 = -1;
  n2 = -1;
  // the entry before
  out2: unknown = null;
  v12: unknown = null;
  v22: unknown = null;
  n02 = -1;
  n12 = -1;
  n22 = -1;
}

function overlapCheck(fn: string, arg: string, out: ArrayBufferView, name: string, v: ArrayBufferView, allowSame: boolean): void {
  const a0 = out.byteOffset;
  const a1 = a0 + out.byteLength;
  const b0 = v.byteOffset;
  const b1 = b0 + v.byteLength;
  if (a1 <= b0 || b1 <= a0) return;
  if (allowSame && a0 === b0 && a1 === b1) return;
  throw new RangeError(`${fn}: ${arg} must ${allowSame ? `be ${name} itself (in place) or ` : ''}not overlap ${name} ` +
    `(got ${describe(out)} sharing bytes ${Math.max(a0, b0) - b0} to ${Math.min(a1, b1) - b0} of ${name}'s ${b1 - b0})`);
}

/** A new result array of `n` elements, or a RangeError naming `arg` when the runtime cannot
 *  allocate one: with a 0-sized axis, a shape can describe more slices than any array holds
 *  (logSumExp of shape [2**40, 0] has 2**40 results). */
export function newResult<A>(fn: string, Ctor: new (n: number) => A, n: number, arg: string): A {
  try {
    return new Ctor(n);
  } catch (e) {
    if (e instanceof RangeError) throw new RangeError(`${fn}: ${arg} gives ${n} results (one per slice), more than this runtime can allocate (${e.message})`);
    throw e;
  }
}

/** The options of a call that passed none, as optionsObject() returns them (shared and frozen:
 *  nothing may write to it; lossParams() tests for it). */
export const NO_OPTIONS = Object.freeze({});

/** Checks the options argument is an object (or undefined when allowed) and returns it. */
export function optionsObject<T extends object>(fn: string, v: unknown, required: boolean): T {
  if (v === undefined && !required) return NO_OPTIONS as T;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    fail(fn, 'options', required ? 'an object with `classes` or `shape`' : 'an object or undefined', v, TypeError);
  }
  return v as T;
}

/** A finite number > 0 (temperature). */
export function positiveFinite(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number') fail(fn, arg, 'a finite number > 0', v, TypeError);
  if (!(v > 0) || !Number.isFinite(v)) fail(fn, arg, 'a finite number > 0', v, RangeError);
  return v;
}

/** A number within [lo, hi]. */
export function numberIn(fn: string, arg: string, v: unknown, lo: number, hi: number, expected: string): number {
  if (typeof v !== 'number') fail(fn, arg, expected, v, TypeError);
  if (!(v >= lo && v <= hi)) fail(fn, arg, expected, v, RangeError);
  return v;
}

/** An integer (any sign). */
export function integer(fn: string, arg: string, v: unknown): number {
  if (typeof v !== 'number') fail(fn, arg, 'an integer', v, TypeError);
  if (!Number.isInteger(v)) fail(fn, arg, 'an integer', v, RangeError);
  return v;
}

/** One of a set of strings. (The message is built only for a bad value: built on every call, it
 *  was most of the garbage of a call with a `reduction`.) */
export function oneOf<S extends string>(fn: string, arg: string, v: unknown, values: readonly S[]): S {
  if (typeof v === 'string' && values.includes(v as S)) return v as S;
  return fail(fn, arg, `one of ${values.map((s) => `'${s}'`).join(', ')}`, v, typeof v === 'string' ? RangeError : TypeError);
}
