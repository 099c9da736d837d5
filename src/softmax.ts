// The softmax family: softmax, logSoftmax, logSumExp and their backward passes.

import { disjoint, DisjointMemo, floatArray, isTyped, knownDisjointViews, intoArray, newResult, optionsObject, positiveFinite, sameType, type FloatArray } from './check.js';
import { fastClasses, resolveLayout, type Layout, type LayoutOptions } from './layout.js';
import { currentRuntime, getRuntime } from './load.js';
import { keepViews, regionSize } from './memory.js';
import { copyIn, copyOut, planChunks, streamChunks } from './stream.js';

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

/** The largest finite f32, to clamp 1/temperature: the limit of softmax as T -> 0 is the one-hot
 *  argmax, which (x - max) * FLT_MAX still gives, where an infinite factor would give 0 * Inf. */
const FLT_MAX = 3.4028234663852886e38;
/** The smallest positive f32, the other clamp: for T > ~7e44, 1/T rounds to 0 in f32, and a
 *  -Infinity (masked) logit times 0 is NaN, where x / T keeps it -Infinity (probability 0). */
const FLT_TRUE_MIN = 1.401298464324817e-45;

/** 1/temperature as the kernels take it (the factor applied to x - max). */
export function beta(temperature: number, f32: boolean): number {
  const b = 1 / temperature;
  return f32 ? Math.min(Math.max(b, FLT_TRUE_MIN), FLT_MAX) : Math.min(b, Number.MAX_VALUE);
}

type RowKernel = 'softmax' | 'log_softmax';

const FORWARD_MEMO = new DisjointMemo(), LSE_MEMO = new DisjointMemo(), BACKWARD_MEMO = new DisjointMemo();

/** Checks the arguments of softmax/logSoftmax (also for the worker pool, src/pool.ts): the
 *  runtime, element type, layout, beta = 1 / temperature and the output array. */
export function forwardArgs<A extends FloatArray>(fn: string, x: A, options: SoftmaxOptions<A>) {
  const rt = getRuntime(fn);
  const dtype = floatArray(fn, 'x', x);
  const opts = optionsObject<SoftmaxOptions<A>>(fn, options, true);
  const L = resolveLayout(fn, x.length, opts, -1);
  const f32 = dtype === 'f32';
  const b = opts.temperature === undefined ? 1 : beta(positiveFinite(fn, 'options.temperature', opts.temperature), f32);
  let out = opts.into;
  if (out !== undefined) {
    intoArray(fn, out, dtype, x.length);
    disjoint(fn, 'options.into', out, 'x', x, undefined, undefined, true, FORWARD_MEMO);
  }
  // The result is allocated by the caller after its size check (out undefined until then).
  return { rt, dtype, L, b, out };
}

/**
 * The common small softmax/logSoftmax call in the fewest steps (as fastCall in
 * cross-entropy.ts): a Float32Array/Float64Array with `classes` and no temperature, an `into`
 * that an earlier call already found disjoint from x (or x itself), the whole input within one
 * chunk. It only recognizes calls: anything else returns undefined and takes the checked path,
 * which throws every error.
 */
function fastForward(kind: RowKernel, x: unknown, options: unknown): FloatArray | undefined {
  const rt = currentRuntime();
  if (rt === null || options === null || typeof options !== 'object') return undefined;
  const o = options as Record<string, unknown>;
  const C = fastClasses(x, o.classes, o.shape, o.axis);
  if (C === 0 || o.temperature !== undefined) return undefined;
  const v = x as FloatArray;
  const f32 = v instanceof Float32Array;
  const n = v.length;
  const shift = f32 ? 2 : 3;
  const into = o.into;
  if (into !== undefined) {
    const sameType = f32 ? isTyped(into, Float32Array) : isTyped(into, Float64Array);
    if (!sameType || (into as FloatArray).length !== n || !knownDisjointViews(FORWARD_MEMO, into as FloatArray, n, v, n, null, 0)) return undefined;
  }
  const bytes = regionSize(n << shift);
  if (!rt.scratch.fits(bytes)) return undefined;
  rt.scratch.begin(bytes, '');
  const p = rt.scratch.take(bytes);
  const view = f32 ? rt.arena.f32 : rt.arena.f64;
  copyIn(view, p >>> shift, v, n);
  const k = rt.kernels;
  const run = kind === 'softmax' ? (f32 ? k.softmax_f32 : k.softmax_f64) : (f32 ? k.log_softmax_f32 : k.log_softmax_f64);
  run(p, p, n / C, C, 1, rt.tmp);
  const out = (into as FloatArray | undefined) ?? (f32 ? new Float32Array(n) : new Float64Array(n));
  copyOut(out, 0, view, p >>> shift, n);
  return out;
}

function forward<A extends FloatArray>(fn: string, kind: RowKernel, x: A, options: SoftmaxOptions<A>): A {
  const fast = fastForward(kind, x, options);
  if (fast !== undefined) return fast as A;
  let { rt, dtype, L, b, out } = forwardArgs(fn, x, options);
  const f32 = dtype === 'f32';
  const Ctor = x.constructor as new (n: number) => A;
  if (x.length === 0) return out ?? new Ctor(0);
  const k = rt.kernels;
  const run = kind === 'softmax' ? (f32 ? k.softmax_f32 : k.softmax_f64) : (f32 ? k.log_softmax_f32 : k.log_softmax_f64);
  const plan = planChunks(L, dtype, 1, false);
  // Growing the scratch may grow wasm memory, which detaches Workspace views passed in (rare).
  if (rt.scratch.fits(plan.bytes)) rt.scratch.begin(plan.bytes, '');
  else [x, out] = keepViews(rt.arena, [x, out], () => rt.scratch.begin(plan.bytes, `${fn}: the scratch space for x`));
  // The result is allocated after the size check: a call refused for its size allocates nothing.
  out ??= new Ctor(x.length);
  if (L.inner === 1 && plan.unitsPerChunk >= L.outer) {
    // One chunk of rows: copy in, run, copy out, without the streaming machinery.
    const view = f32 ? rt.arena.f32 : rt.arena.f64;
    const shift = f32 ? 2 : 3;
    const p = rt.scratch.take(x.length * (1 << shift));
    view.set(x, p >>> shift);
    run(p, p, L.outer, L.C, b, rt.tmp);
    copyOut(out, 0, view, p >>> shift, x.length);
    return out;
  }
  streamChunks(rt, rt.scratch, plan, [x], out, 0, null, (p, _o, _r, rows) => run(p[0]!, p[0]!, rows, L.C, b, rt.tmp));
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
  return forward('softmax', 'softmax', x, options);
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
  return forward('logSoftmax', 'log_softmax', x, options);
}

/** Checks the arguments of logSumExp (also for the worker pool). */
export function logSumExpArgs<A extends FloatArray>(fn: string, x: A, options: LogSumExpOptions<A>) {
  const rt = getRuntime(fn);
  const dtype = floatArray(fn, 'x', x);
  const opts = optionsObject<LogSumExpOptions<A>>(fn, options, true);
  const L = resolveLayout(fn, x.length, opts, -1);
  let out = opts.into;
  if (out !== undefined) {
    intoArray(fn, out, dtype, L.rows);
    disjoint(fn, 'options.into', out, 'x', x, undefined, undefined, true, LSE_MEMO);
  }
  // The result is allocated by the caller after its size check (out undefined until then).
  return { rt, dtype, L, out };
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
  const fn = 'logSumExp';
  let { rt, dtype, L, out } = logSumExpArgs(fn, x, options);
  const Ctor = x.constructor as new (n: number) => A;
  if (L.rows === 0) return out ?? new Ctor(0);
  const run = dtype === 'f32' ? rt.kernels.logsumexp_f32 : rt.kernels.logsumexp_f64;
  const plan = planChunks(L, dtype, 1, true);
  // Growing the scratch may grow wasm memory, which detaches Workspace views passed in (rare).
  if (rt.scratch.fits(plan.bytes)) rt.scratch.begin(plan.bytes, '');
  else [x, out] = keepViews(rt.arena, [x, out], () => rt.scratch.begin(plan.bytes, `${fn}: the scratch space for x`));
  out ??= newResult(fn, Ctor, L.rows, 'options.shape'); // after the size check, as in forward()
  streamChunks(rt, rt.scratch, plan, [x], null, 0, out, (p, o, _r, rows) => run(p[0]!, o, rows, L.C, rt.tmp));
  return out;
}

/** Checks the arguments of softmaxBackward/logSoftmaxBackward (also for the worker pool). */
export function backwardArgs<A extends FloatArray>(fn: string, y: A, gradOutput: A, options: BackwardOptions<A>) {
  const rt = getRuntime(fn);
  const dtype = floatArray(fn, 'y', y);
  sameType(fn, 'gradOutput', gradOutput, dtype, y.length);
  const opts = optionsObject<BackwardOptions<A>>(fn, options, true);
  const L: Layout = resolveLayout(fn, y.length, opts, -1);
  let out = opts.into;
  if (out !== undefined) {
    intoArray(fn, out, dtype, y.length);
    disjoint(fn, 'options.into', out, 'y', y, 'gradOutput', gradOutput, true, BACKWARD_MEMO);
  }
  // The result is allocated by the caller after its size check (out undefined until then).
  return { rt, dtype, L, out };
}

function backward<A extends FloatArray>(fn: string, soft: boolean, y: A, gradOutput: A, options: BackwardOptions<A>): A {
  let { rt, dtype, L, out } = backwardArgs(fn, y, gradOutput, options);
  const Ctor = y.constructor as new (n: number) => A;
  if (y.length === 0) return out ?? new Ctor(0);
  const k = rt.kernels;
  const f32 = dtype === 'f32';
  const run = soft ? (f32 ? k.softmax_backward_f32 : k.softmax_backward_f64) : (f32 ? k.log_softmax_backward_f32 : k.log_softmax_backward_f64);
  const plan = planChunks(L, dtype, 2, false);
  if (rt.scratch.fits(plan.bytes)) rt.scratch.begin(plan.bytes, '');
  else [y, gradOutput, out] = keepViews(rt.arena, [y, gradOutput, out], () => rt.scratch.begin(plan.bytes, `${fn}: the scratch space for y and gradOutput`));
  out ??= new Ctor(y.length); // after the size check, as in forward()
  streamChunks(rt, rt.scratch, plan, [y, gradOutput], out, 1, null, (p, _o, _r, rows) => run(p[0]!, p[1]!, p[1]!, rows, L.C));
  return out;
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
  return backward('softmaxBackward', true, y, gradOutput, options);
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
  return backward('logSoftmaxBackward', false, y, gradOutput, options);
}
