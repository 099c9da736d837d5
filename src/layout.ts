// Turns the layout options ({ classes } or { shape, axis }) into outer x C x inner: the input is
// `outer` blocks of C x inner elements, and the operation runs over C with stride `inner`.
// inner = 1 is the common, contiguous case ([N, C] rows).

import { fail } from './check.js';
import { currentChunkBytes } from './plan.js';

/** Layout options shared by every compute function: exactly one of `classes` or `shape`. */
export type LayoutOptions =
  | {
      /** Row-major [N, classes] input: N = length / classes. */
      classes: number;
      shape?: undefined;
      axis?: undefined;
    }
  | {
      /** Row-major tensor shape of the input. */
      shape: readonly number[];
      /** The axis the operation runs along; negative counts from the end. */
      axis?: number;
      classes?: undefined;
    };

export interface Layout {
  readonly outer: number;
  /** Size of the axis (classes). */
  readonly C: number;
  readonly inner: number;
  /** Slices along the axis: outer * inner (rows, samples). */
  readonly rows: number;
}

/**
 * Resolves and checks the layout of an input of `length` elements. `defaultAxis` is -1 for the
 * softmax family and 1 for cross-entropy (where a 1-D shape [C] is a single sample).
 */
export function resolveLayout(fn: string, length: number, opts: object, defaultAxis: -1 | 1): Layout {
  const { classes, shape, axis } = opts as { classes?: unknown; shape?: unknown; axis?: unknown };
  const hasClasses = classes !== undefined;
  const hasShape = shape !== undefined;
  if (hasClasses === hasShape) {
    throw new TypeError(`${fn}: options must have exactly one of \`classes\` or \`shape\` (got ${hasClasses ? 'both' : 'neither'})`);
  }
  if (hasClasses) {
    if (axis !== undefined) throw new TypeError(`${fn}: options.axis goes with options.shape, not options.classes`);
    if (typeof classes !== 'number') fail(fn, 'options.classes', 'a positive integer', classes, TypeError);
    if (!Number.isInteger(classes) || classes < 1) fail(fn, 'options.classes', 'a positive integer', classes, RangeError);
    if (length % classes !== 0) {
      throw new RangeError(`${fn}: the input length ${length} is not a multiple of options.classes (${classes})`);
    }
    return { outer: length / classes, C: classes, inner: 1, rows: length / classes };
  }
  if (!Array.isArray(shape)) fail(fn, 'options.shape', 'an array of non-negative integers', shape, TypeError);
  const rank = shape.length;
  if (rank === 0) fail(fn, 'options.shape', 'an array of at least one dimension', shape, RangeError);
  let product = 1;
  for (let i = 0; i < rank; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number') fail(fn, `options.shape[${i}]`, 'a non-negative integer', d, TypeError);
    if (!Number.isInteger(d) || d < 0) fail(fn, `options.shape[${i}]`, 'a non-negative integer', d, RangeError);
    product *= d;
  }
  if (product !== length) {
    throw new RangeError(`${fn}: options.shape [${shape.join(', ')}] holds ${product} elements but the input has ${length}`);
  }
  let a: number;
  if (axis === undefined) a = defaultAxis === 1 && rank === 1 ? 0 : defaultAxis;
  else {
    if (typeof axis !== 'number') fail(fn, 'options.axis', `an integer in [${-rank}, ${rank})`, axis, TypeError);
    a = axis;
  }
  if (!Number.isInteger(a) || a < -rank || a >= rank) {
    fail(fn, 'options.axis', `an integer in [${-rank}, ${rank}) for a shape of rank ${rank}`, a, RangeError);
  }
  if (a < 0) a += rank;
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < a; i++) outer *= shape[i]!;
  for (let i = a + 1; i < rank; i++) inner *= shape[i]!;
  const C = shape[a]!;
  return { outer, C, inner, rows: outer * inner };
}

/**
 * For the small-call fast paths (the inline executor: softmax.ts fastForward, cross-entropy.ts fastCall): the classes
 * of a call whose input is a non-empty Float32Array or Float64Array given with `classes` (no
 * `shape`, no `axis`) and small enough for one chunk, or 0 for anything else (which then takes
 * the checked path). Throws nothing. The callers read the options themselves, so each call site
 * keeps its own property-access feedback (one shared site would see every options shape of the
 * process and slow all of them).
 */
export function fastClasses(x: unknown, classes: unknown, shape: unknown, axis: unknown): number {
  if (!ArrayBuffer.isView(x) || shape !== undefined || axis !== undefined) return 0;
  const f32 = x instanceof Float32Array;
  if (!f32 && !(x instanceof Float64Array)) return 0;
  const C = classes;
  const n = (x as Float32Array).length;
  // (n > 0 also rules out a detached buffer, which reads as empty)
  if (typeof C !== 'number' || !Number.isInteger(C) || C < 1 || n === 0 || n > currentChunkBytes() >> (f32 ? 2 : 3) || n % C !== 0) return 0;
  return C;
}

/**
 * Whether `x` (a Float32Array where `f32`, else a Float64Array) is of exactly that class, not a
 * subclass: a fast path that makes its result itself (no `into`) makes a plain one, where the
 * checked path makes a subclass's results with its own constructor. Asked only then: a check of
 * the constructor on every call cost the [1, 10] calls 2-3% on Node 20.
 */
export function plainFloatArray(x: unknown, f32: boolean): boolean {
  return (x as Float32Array).constructor === (f32 ? Float32Array : Float64Array);
}
