// The softmax family's pipeline: an operation is described once (RowOp: its inputs, its output,
// its options and its kernel), and one function checks a call's arguments (rowOpArgs) and one
// runs it through a plan (runRowOp), for the functions of the module and the pool alike.

import { disjoint, floatArray, intoArray, newResult, optionsObject, positiveFinite, sameType, type DisjointMemo } from './check.js';
import { runChunks, type Executor } from './chunk-loop.js';
import type { ElementType, FloatArray } from './dtype.js';
import type { KernelTable } from './kernels.js';
import { resolveLayout, type Layout, type LayoutOptions } from './layout.js';
import { getRuntime, type Runtime } from './load.js';
import { keepViews, type Arena, type Scratch } from './memory.js';
import { streamPlan, type ChunkPlan } from './plan.js';

/** One operation of the softmax family. */
export interface RowOp {
  /** The public function's name (for messages). */
  readonly fn: string;
  /** The float inputs' names, in order: one (x) or two (y, gradOutput) of the same length. */
  readonly inputs: readonly string[];
  /** 'elements': one result per input element, left by the kernel in the region of the last
   *  input; 'rows': one per slice (the shape without the axis). */
  readonly output: 'elements' | 'rows';
  /** Whether it takes options.temperature. */
  readonly temperature: boolean;
  /** The kernel call over `rows` rows of C: input regions `r`, per-row output `o`, 1/temperature `beta`. */
  readonly run: (k: KernelTable, dt: ElementType, r: readonly number[], o: number, rows: number, C: number, beta: number, tmp: number) => void;
  /** The `into` check's memo (one per operation: see DisjointMemo). */
  readonly memo: DisjointMemo;
}

/** The largest finite f32, to clamp 1/temperature: the limit of softmax as T -> 0 is the one-hot
 *  argmax, which (x - max) * FLT_MAX still gives, where an infinite factor would give 0 * Inf. */
const FLT_MAX = 3.4028234663852886e38;
/** The smallest positive f32, the other clamp: for T > ~7e44, 1/T rounds to 0 in f32, and a
 *  -Infinity (masked) logit times 0 is NaN, where x / T keeps it -Infinity (probability 0). */
const FLT_TRUE_MIN = 1.401298464324817e-45;

/** 1/temperature as the kernels take it (the factor applied to x - max). */
export function beta(temperature: number, dt: ElementType): number {
  const b = 1 / temperature;
  return dt.shift === 2 ? Math.min(Math.max(b, FLT_TRUE_MIN), FLT_MAX) : Math.min(b, Number.MAX_VALUE);
}

/** A call's checked arguments. */
export interface RowArgs<A extends FloatArray> {
  readonly rt: Runtime;
  readonly dt: ElementType;
  readonly L: Layout;
  readonly beta: number;
  /** The result's length. */
  readonly n: number;
  ins: A[];
  /** `options.into`, or undefined: the result is allocated after the size check. */
  out: A | undefined;
}

/** Checks a call's arguments, in the order the errors are reported: the runtime, the inputs,
 *  the options object, the layout, the temperature, `into`. */
export function rowOpArgs<A extends FloatArray>(op: RowOp, x: A, g: A | undefined, options: LayoutOptions & { temperature?: number; into?: A }): RowArgs<A> {
  const fn = op.fn;
  const rt = getRuntime(fn);
  const dt = floatArray(fn, op.inputs[0]!, x);
  if (op.inputs.length > 1) sameType(fn, op.inputs[1]!, g, dt, x.length);
  const opts = optionsObject<typeof options>(fn, options, true);
  const L = resolveLayout(fn, x.length, opts, -1);
  const b = op.temperature && opts.temperature !== undefined ? beta(positiveFinite(fn, 'options.temperature', opts.temperature), dt) : 1;
  const n = op.output === 'rows' ? L.rows : x.length;
  const out = opts.into;
  if (out !== undefined) {
    intoArray(fn, out, dt, n);
    disjoint(fn, 'options.into', out, op.inputs[0]!, x, op.inputs[1], g, true, op.memo);
  }
  return { rt, dt, L, beta: b, n, ins: op.inputs.length > 1 ? [x, g!] : [x], out };
}

/**
 * Runs a checked call through `plan` with `exec`, in `scratch` (begun here: a call too large for
 * wasm memory throws before anything is allocated), and returns the result.
 */
export function runRowOp<A extends FloatArray>(op: RowOp, a: RowArgs<A>, plan: ChunkPlan, exec: Executor, arena: Arena, scratch: Scratch): A {
  const x = a.ins[0]!;
  const Ctor = x.constructor as new (n: number) => A;
  const rows = op.output === 'rows';
  if (a.n === 0) return a.out ?? new Ctor(0);
  // Growing the scratch may grow wasm memory, which detaches Workspace views passed in (rare).
  if (scratch.fits(plan.bytes)) scratch.begin(plan.bytes, '');
  else {
    const [x1, g1, out1] = keepViews(arena, [x, a.ins[1], a.out], () => scratch.begin(plan.bytes, `${op.fn}: the scratch space for ${op.inputs.join(' and ')}`));
    a.ins = g1 ? [x1, g1] : [x1];
    a.out = out1;
  }
  // The result is allocated after the size check: a call refused for its size allocates nothing.
  const out = a.out ?? newResult(op.fn, Ctor, a.n, rows ? 'options.shape' : op.inputs[0]!);
  const { dt, L, beta: b } = a;
  runChunks(exec, arena, plan, scratch.take(plan.bytes), { ins: a.ins, elemOut: rows ? null : out, elemFrom: a.ins.length - 1, rowOut: rows ? out : null },
    (k, r, o, _first, n, tmp) => op.run(k, dt, r, o, n, L.C, b, tmp));
  return out;
}

/** The single-threaded call: checks, plans (streamed on this thread) and runs it. */
export function rowOpCall<A extends FloatArray>(op: RowOp, x: A, g: A | undefined, options: LayoutOptions & { temperature?: number; into?: A }): A {
  const a = rowOpArgs(op, x, g, options);
  const rt = a.rt;
  return runRowOp(op, a, streamPlan(a.L, a.dt, a.ins.length, op.output === 'rows'), rt.exec, rt.arena, rt.scratch);
}
