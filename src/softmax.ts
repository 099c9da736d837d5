// The softmax family: softmax, logSoftmax, logSumExp and their backward passes.

import { DisjointMemo, isFloatOf, knownDisjointViews, type FloatArray } from './check.js';
import { copyIn32, copyIn64, copyOut32, copyOut64 } from './chunk-loop.js';
import { fastClasses, plainFloatArray, type LayoutOptions } from './layout.js';
import { currentRuntime } from './load.js';
import { regionSize } from './memory.js';
import { rowOpCall, type RowOp } from './pipeline.js';

/** Options of {@link softmax} and {@link logSoftmax}. */
export type SoftmaxOptions<A extends FloatArray = FloatArray> = LayoutOptions & {
  /** Divides the logits by this before the softmax (finite, > 0; default 1). */
  temperature?: number;
  /** Receives the result (same type and length as the input; may be the input itself). */
  into?: A;
};

/** Options of {@link logSumExp}. */
export type LogSumExpOptions<A extends FloatArray = FloatArray> = LayoutOptions & {
  /** Receives the result (one value per slice). */
  into?: A;
};

/** Options of {@link softmaxBackward} and {@link logSoftmaxBackward}. */
export type BackwardOptions<A extends FloatArray = FloatArray> = LayoutOptions & {
  /** Receives the result (same type and length as the inputs; may be either input). */
  into?: A;
};

/** The softmax family's operations (src/pipeline.ts), one description each. */
export const SOFTMAX: RowOp = {
  fn: 'softmax', inputs: ['x'], output: 'elements', temperature: true, memo: new DisjointMemo(),
  run: (k, dt, r, _o, rows, C, b, tmp) => k.softmax[dt.index](r[0]!, r[0]!, rows, C, b, tmp),
};
export const LOG_SOFTMAX: RowOp = {
  fn: 'logSoftmax', inputs: ['x'], output: 'elements', temperature: true, memo: SOFTMAX.memo,
  run: (k, dt, r, _o, rows, C, b, tmp) => k.log_softmax[dt.index](r[0]!, r[0]!, rows, C, b, tmp),
};
export const LOG_SUM_EXP: RowOp = {
  fn: 'logSumExp', inputs: ['x'], output: 'rows', temperature: false, memo: new DisjointMemo(),
  run: (k, dt, r, o, rows, C, _b, tmp) => k.logsumexp[dt.index](r[0]!, o, rows, C, tmp),
};
export const SOFTMAX_BACKWARD: RowOp = {
  fn: 'softmaxBackward', inputs: ['y', 'gradOutput'], output: 'elements', temperature: false, memo: new DisjointMemo(),
  run: (k, dt, r, _o, rows, C) => k.softmax_backward[dt.index](r[0]!, r[1]!, r[1]!, rows, C),
};
export const LOG_SOFTMAX_BACKWARD: RowOp = {
  fn: 'logSoftmaxBackward', inputs: ['y', 'gradOutput'], output: 'elements', temperature: false, memo: SOFTMAX_BACKWARD.memo,
  run: (k, dt, r, _o, rows, C) => k.log_softmax_backward[dt.index](r[0]!, r[1]!, r[1]!, rows, C),
};

/** fastForward's operations: the forward passes, logSumExp (one result per row), the backward
 *  passes (two inputs, y and gradOutput; the result over gradOutput's copy). */
const enum Fast { Softmax, LogSoftmax, LogSumExp, SoftmaxBackward, LogSoftmaxBackward }

/**
 * The common small call of the softmax family in the fewest steps (the inline executor; as
 * fastCall in cross-entropy.ts): a Float32Array/Float64Array (and for the backward passes a
 * gradOutput of its type and length) with `classes` and no temperature, an `into` that an
 * earlier call already found disjoint from the inputs (or one of them itself), the whole input
 * within one chunk. It only recognizes calls: anything else returns undefined and takes the
 * checked path, which throws every error.
 */
function fastForward(kind: Fast, x: unknown, g: unknown, options: unknown): FloatArray | undefined {
  const rt = currentRuntime();
  if (rt === null || options === null || typeof options !== 'object') return undefined;
  const o = options as Record<string, unknown>;
  const C = fastClasses(x, o.classes, o.shape, o.axis);
  if (C === 0 || o.temperature !== undefined) return undefined;
  const v = x as FloatArray;
  const f32 = v instanceof Float32Array;
  const n = v.length;
  const backward = kind >= Fast.SoftmaxBackward;
  if (backward && (!isFloatOf(f32, g) || g.length !== n)) return undefined;
  const m = kind === Fast.LogSumExp ? n / C : n;
  const shift = f32 ? 2 : 3;
  const into = o.into;
  if (into !== undefined) {
    const sameType = isFloatOf(f32, into);
    const memo = kind === Fast.LogSumExp ? LOG_SUM_EXP.memo : backward ? SOFTMAX_BACKWARD.memo : SOFTMAX.memo;
    if (!sameType || (into as FloatArray).length !== m || !knownDisjointViews(memo, into as FloatArray, m, v, n, backward ? (g as FloatArray) : null, backward ? n : 0)) return undefined;
  } else if (!plainFloatArray(v, f32)) return undefined;
  const inBytes = regionSize(n << shift);
  const bytes = kind === Fast.LogSumExp ? inBytes + regionSize(m << shift) : backward ? 2 * inBytes : inBytes;
  if (!rt.scratch.fits(bytes)) return undefined;
  rt.scratch.begin(bytes, '');
  const p = rt.scratch.take(bytes);
  // (the result's region: after x for logSumExp, gradOutput's copy for the backward passes)
  const q = kind === Fast.Softmax || kind === Fast.LogSoftmax ? p : p + inBytes;
  const arena = rt.arena;
  if (f32) {
    copyIn32(arena.f32, p >>> 2, v as Float32Array, n);
    if (backward) copyIn32(arena.f32, q >>> 2, g as Float32Array, n);
  } else {
    copyIn64(arena.f64, p >>> 3, v as Float64Array, n);
    if (backward) copyIn64(arena.f64, q >>> 3, g as Float64Array, n);
  }
  const k = f32 ? 0 : 1, t = rt.table;
  if (kind === Fast.LogSumExp) t.logsumexp[k]!(p, q, m, C, rt.tmp);
  else if (backward) (kind === Fast.SoftmaxBackward ? t.softmax_backward : t.log_softmax_backward)[k]!(p, q, q, n / C, C);
  else (kind === Fast.Softmax ? t.softmax : t.log_softmax)[k]!(p, p, n / C, C, 1, rt.tmp);
  const out = (into as FloatArray | undefined) ?? (f32 ? new Float32Array(m) : new Float64Array(m));
  if (f32) copyOut32(out as Float32Array, 0, arena, arena.f32, q >>> 2, m);
  else copyOut64(out as Float64Array, 0, arena, arena.f64, q >>> 3, m);
  return out;
}

/**
 * softmax(x / temperature) along the axis: `exp(x - max) / sum(exp(x - max))` per slice, in the
 * input's precision (Float32Array in f32, Float64Array in f64), as `torch.softmax`.
 *
 * @example
 * ```ts
 * await init();
 * const p = softmax(new Float32Array([1, 2, 3, 1, 1, 1]), { classes: 3 });
 * // Float32Array [0.0900, 0.2447, 0.6652, 0.3333, 0.3333, 0.3333]
 * softmax(p, { shape: [2, 3], axis: 0, temperature: 2, into: p }); // in place, along axis 0
 * ```
 */
export function softmax<A extends FloatArray>(x: A, options: SoftmaxOptions<A>): A {
  return (fastForward(Fast.Softmax, x, undefined, options) as A | undefined) ?? rowOpCall(SOFTMAX, x, undefined, options);
}

/**
 * log(softmax(x / temperature)) along the axis, computed as `x - max - log(sum(exp(x - max)))`
 * (no log of a rounded probability), as `torch.log_softmax`.
 *
 * @example
 * ```ts
 * await init();
 * logSoftmax(new Float64Array([1, 2, 3]), { classes: 3 }); // Float64Array [-2.4076, -1.4076, -0.4076]
 * ```
 */
export function logSoftmax<A extends FloatArray>(x: A, options: SoftmaxOptions<A>): A {
  return (fastForward(Fast.LogSoftmax, x, undefined, options) as A | undefined) ?? rowOpCall(LOG_SOFTMAX, x, undefined, options);
}

/**
 * log(sum(exp(x))) along the axis, one value per slice, in the order of `shape` with the axis
 * removed, as `torch.logsumexp` (an all -Infinity slice gives -Infinity, a slice holding
 * +Infinity gives +Infinity).
 *
 * @example
 * ```ts
 * await init();
 * logSumExp(new Float32Array([1, 2, 3, 0, 0, 0]), { classes: 3 }); // Float32Array [3.4076, 1.0986]
 * ```
 */
export function logSumExp<A extends FloatArray>(x: A, options: LogSumExpOptions<A>): A {
  return (fastForward(Fast.LogSumExp, x, undefined, options) as A | undefined) ?? rowOpCall(LOG_SUM_EXP, x, undefined, options);
}

/**
 * The gradient of softmax (its vector-Jacobian product): given `y = softmax(x)` and the upstream
 * gradient `gradOutput`, returns `y * (gradOutput - sum(gradOutput * y))` along the axis. With a
 * temperature T in the forward pass, multiply the result by 1 / T.
 *
 * @example
 * ```ts
 * await init();
 * const y = softmax(new Float32Array([1, 2, 3]), { classes: 3 });
 * softmaxBackward(y, new Float32Array([1, 0, 0]), { classes: 3 }); // d y[0] / d x
 * ```
 */
export function softmaxBackward<A extends FloatArray>(y: A, gradOutput: A, options: BackwardOptions<A>): A {
  return (fastForward(Fast.SoftmaxBackward, y, gradOutput, options) as A | undefined) ?? rowOpCall(SOFTMAX_BACKWARD, y, gradOutput, options);
}

/**
 * The gradient of logSoftmax: given `y = logSoftmax(x)` and `gradOutput`, returns
 * `gradOutput - exp(y) * sum(gradOutput)` along the axis.
 *
 * @example
 * ```ts
 * await init();
 * const y = logSoftmax(new Float32Array([1, 2, 3]), { classes: 3 });
 * logSoftmaxBackward(y, new Float32Array([0, 0, -1]), { classes: 3 }); // gradient of -y[2]
 * ```
 */
export function logSoftmaxBackward<A extends FloatArray>(y: A, gradOutput: A, options: BackwardOptions<A>): A {
  return (fastForward(Fast.LogSoftmaxBackward, y, gradOutput, options) as A | undefined) ?? rowOpCall(LOG_SOFTMAX_BACKWARD, y, gradOutput, options);
}
