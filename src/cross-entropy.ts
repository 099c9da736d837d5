// Cross-entropy and its gradient (torch.nn.functional.cross_entropy semantics), one fused kernel
// call per chunk of rows: see assembly/cross_entropy.ts for the passes and the formulas.

import {
  describe, disjoint, DisjointMemo, fail, knownDisjointViews, floatArray, integer, isDetached, isFloatOf, isTyped, newResult, NO_OPTIONS, numberIn, oneOf, optionsObject, sameType,
  type FloatArray,
} from './check.js';
import { copyIn, copyIn32, copyIn64, copyOut, copyOut32, copyOut64, runChunks, type ChunkCall, type Executor } from './chunk-loop.js';
import type { ElementType } from './dtype.js';
import { CE_GROUP_LOGS, CE_HAS_IGNORE, REDUCTION_MEAN, REDUCTION_NONE, REDUCTION_SUM } from './kernel-constants.js';
import type { KernelTable } from './kernels.js';
import { fastClasses, plainFloatArray, resolveLayout, type Layout, type LayoutOptions } from './layout.js';
import { currentRuntime, getRuntime, type Runtime } from './load.js';
import { keepViews, regionSize, type Scratch } from './memory.js';
import { fitsOneChunk, streamPlan, type ChunkPlan } from './plan.js';

/** Class-index targets: one integer per sample. */
export type IndexTarget = Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | readonly number[];
/** A target: class indices, or class probabilities of the logits' own type and shape. */
export type Target<A extends FloatArray> = IndexTarget | A;
export type Reduction = 'mean' | 'sum' | 'none';

/** The loss options shared by the functions and the Workspace. */
export interface LossOptions {
  /** 'mean' (default) and 'sum' return a number; 'none' returns per-sample losses. */
  reduction?: Reduction;
  /** Class weights, length C. */
  weight?: ArrayLike<number>;
  /** Samples whose label equals this are ignored (class-index targets; default -100). */
  ignoreIndex?: number;
  /** Label smoothing in [0, 1] (default 0). */
  labelSmoothing?: number;
  /** PaLM's auxiliary z-loss coefficient, >= 0 (default 0): adds zLoss * logSumExp^2 per sample. */
  zLoss?: number;
  /** Upstream gradient of the returned loss: a number for 'mean'/'sum' (default 1), per-sample
   *  values for 'none' (default all ones). */
  gradOutput?: number | Float32Array | Float64Array | readonly number[];
}

/** Options of {@link crossEntropy} and {@link crossEntropyWithGrad}. */
export type CrossEntropyOptions<A extends FloatArray = FloatArray> = LayoutOptions & LossOptions & {
  /** Receives the per-sample losses ('none' only). */
  into?: A;
  /** Receives the gradient (crossEntropyWithGrad only). */
  gradInto?: A;
};

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];
const INTO_MEMO = new DisjointMemo(), GRAD_MEMO = new DisjointMemo(), OUTPUTS_MEMO = new DisjointMemo();
/** The reductions as the kernels number them. */
const REDUCTION_CODE = { none: REDUCTION_NONE, mean: REDUCTION_MEAN, sum: REDUCTION_SUM } as const;

/** The loss options, checked and normalized. */
export interface LossParams {
  reduction: Reduction;
  weight: ArrayLike<number> | null;
  ignoreIndex: number;
  eps: number;
  zLoss: number;
  /** Uniform upstream gradient ('mean'/'sum'), or 1. */
  gradScalar: number;
  /** Per-sample upstream gradient ('none'), or null for all ones. */
  gradArray: ArrayLike<number> | null;
}

/** PyTorch's defaults: the parameters of a call without options (shared: nothing writes to it;
 *  only a Workspace's own LossParams is written again, by each of its calls). */
export const DEFAULT_LOSS_PARAMS: LossParams = { reduction: 'mean', weight: null, ignoreIndex: -100, eps: 0, zLoss: 0, gradScalar: 1, gradArray: null };

/** Checks the loss options of a call on `rows` samples of C classes: into `out` if given (a
 *  Workspace's, so that its calls allocate nothing), else a new LossParams. */
export function lossParams(fn: string, o: LossOptions, C: number, rows: number, probabilities: boolean, out: LossParams | null = null): LossParams {
  if ((o as object) === NO_OPTIONS) return DEFAULT_LOSS_PARAMS;
  const reduction = o.reduction === undefined ? 'mean' : oneOf(fn, 'options.reduction', o.reduction, REDUCTIONS);
  let weight: ArrayLike<number> | null = null;
  if (o.weight !== undefined) {
    const w: unknown = o.weight;
    const isArrayLike = Array.isArray(w) || (ArrayBuffer.isView(w) && !(w instanceof DataView) && !(w instanceof BigInt64Array) && !(w instanceof BigUint64Array));
    if (!isArrayLike) fail(fn, 'options.weight', `an array or typed array of ${C} numbers`, w, TypeError);
    const wa = w as ArrayLike<unknown>;
    if (ArrayBuffer.isView(wa) && isDetached(wa)) fail(fn, 'options.weight', 'an array whose buffer is not detached', 'a detached buffer', TypeError);
    if (wa.length !== C) fail(fn, 'options.weight.length', `${C} (one weight per class)`, wa.length, RangeError);
    if (Array.isArray(wa)) for (let i = 0; i < C; i++) if (typeof wa[i] !== 'number') fail(fn, `options.weight[${i}]`, 'a number', wa[i], TypeError);
    weight = wa as ArrayLike<number>;
  }
  let ignoreIndex = -100;
  if (o.ignoreIndex !== undefined) {
    ignoreIndex = integer(fn, 'options.ignoreIndex', o.ignoreIndex);
    if (probabilities && ignoreIndex >= 0) {
      throw new RangeError(`${fn}: options.ignoreIndex must be negative (or absent) with probability targets, as in PyTorch (got ${ignoreIndex})`);
    }
  }
  const eps = o.labelSmoothing === undefined ? 0 : numberIn(fn, 'options.labelSmoothing', o.labelSmoothing, 0, 1, 'a number in [0, 1]');
  const zLoss = o.zLoss === undefined ? 0 : numberIn(fn, 'options.zLoss', o.zLoss, 0, Number.MAX_VALUE, 'a finite number >= 0');
  let gradScalar = 1;
  let gradArray: ArrayLike<number> | null = null;
  const g: unknown = o.gradOutput;
  if (g !== undefined) {
    if (reduction === 'none') {
      if (!(isTyped(g, Float32Array) || isTyped(g, Float64Array) || Array.isArray(g))) {
        fail(fn, 'options.gradOutput', "a Float32Array, Float64Array or number[] of per-sample values with reduction 'none'", g, TypeError);
      }
      if (ArrayBuffer.isView(g) && isDetached(g)) fail(fn, 'options.gradOutput', 'an array whose buffer is not detached', 'a detached buffer', TypeError);
      if (g.length !== rows) fail(fn, 'options.gradOutput.length', `${rows} (one value per sample)`, g.length, RangeError);
      if (Array.isArray(g)) for (let i = 0; i < rows; i++) if (typeof g[i] !== 'number') fail(fn, `options.gradOutput[${i}]`, 'a number', g[i], TypeError);
      gradArray = g as ArrayLike<number>;
    } else {
      if (typeof g !== 'number') fail(fn, 'options.gradOutput', `a number with reduction '${reduction}'`, g, TypeError);
      gradScalar = g;
    }
  }
  if (!out) return { reduction, weight, ignoreIndex, eps, zLoss, gradScalar, gradArray };
  out.reduction = reduction;
  out.weight = weight;
  out.ignoreIndex = ignoreIndex;
  out.eps = eps;
  out.zLoss = zLoss;
  out.gradScalar = gradScalar;
  out.gradArray = gradArray;
  return out;
}

/** How labels reach the kernel: which int32 value means "ignored", and whether any can. */
export interface IgnoreRule {
  hasIgnore: boolean;
  ignore: number;
}

/** Sets the ignore rule for labels stored as int32 from `target` (an Int32Array for labels that
 *  are int32 already). */
export function setIgnoreRule(rule: IgnoreRule, target: IndexTarget | Int32Array, ignoreIndex: number): void {
  // Int32Array.set() converts each typed label exactly, except Uint32 values >= 2^31, which wrap
  // to negative int32 values: compare in the same wrapped space so such a label equals the
  // ignore index exactly when the original values are equal.
  const inRange = target instanceof Uint32Array ? ignoreIndex >= 0 && ignoreIndex <= 0xffffffff : ignoreIndex >= -0x80000000 && ignoreIndex <= 0x7fffffff;
  rule.hasIgnore = inRange;
  rule.ignore = inRange ? ignoreIndex | 0 : 0;
}

/** Copies class-index labels into wasm at `ptr` (int32) and sets the ignore rule in `rule`.
 *  number[] labels are checked here (they can be fractional, NaN or not numbers at all); typed
 *  ones are range-checked by the kernel. */
export function copyLabels(fn: string, rt: Runtime, target: IndexTarget, ptr: number, C: number, ignoreIndex: number, rule: IgnoreRule): void {
  const i32 = rt.arena.views().i32;
  const base = ptr >>> 2;
  if (!Array.isArray(target)) {
    // Storing into an Int32Array converts exactly as Int32Array.set() does; for a few labels
    // the loop is cheaper than set()'s call.
    if (target.length <= 16) for (let i = 0; i < target.length; i++) i32[base + i] = target[i]!;
    else i32.set(target as Exclude<IndexTarget, readonly number[]>, base);
    setIgnoreRule(rule, target, ignoreIndex);
    return;
  }
  setIgnoreRule(rule, i32, ignoreIndex);
  // An ignore index outside int32 is stored as int32 min, which the rule then matches.
  const stored = rule.hasIgnore ? ignoreIndex : -0x80000000;
  for (let i = 0; i < target.length; i++) {
    const v: unknown = target[i];
    if (v === ignoreIndex) {
      i32[base + i] = stored;
      continue;
    }
    if (typeof v !== 'number') fail(fn, `target[${i}]`, `a class index in [0, ${C}) or ignoreIndex (${ignoreIndex})`, v, TypeError);
    if (!Number.isInteger(v) || v < 0 || v >= C) badLabel(fn, i, v, C, ignoreIndex);
    i32[base + i] = v;
  }
  rule.hasIgnore = true;
  rule.ignore = stored;
}

function badLabel(fn: string, i: number, v: unknown, C: number, ignoreIndex: number): never {
  throw new RangeError(`${fn}: target[${i}] must be an integer class index in [0, ${C}) or ignoreIndex (${ignoreIndex}) (got ${describe(v)})`);
}

/** Everything one cross-entropy computation needs in wasm: pointers, counts and scales. */
export interface CeCall {
  dt: ElementType;
  C: number;
  rows: number;
  probabilities: boolean;
  p: LossParams;
  /** wasm pointers (0 = absent). */
  labels: number;
  weights: number;
  losses: number;
  scales: number;
  /** Per-row losses as T ('none' results; 0 when not needed). */
  lossT: number;
  /** The kernels' tmp block (KERNEL_TMP_BYTES). */
  tmp: number;
  /** Filled by prepare(): */
  hasIgnore: boolean;
  ignore: number;
  /** Whether the call's chunks hold its rows four at a time from row 0 (contiguous rows; see
   *  groupAligned in plan.ts), so the kernels may sum a group's losses as one (CE_GROUP_LOGS). */
  groupRows: boolean;
  sumW: number;
  denominator: number;
  scale: number;
}

/** Writes the weights and upstream gradients into wasm, checks the labels (already in wasm at
 *  call.labels) and works out the mean denominator and gradient scale. Throws RangeError, with
 *  the first bad label's position and value, before anything has been written to any output. */
export function prepare(fn: string, rt: Runtime, call: CeCall, labels: ArrayLike<unknown> | null): void {
  writeParams(rt, call);
  const { C, rows, p } = call;
  const k = rt.kernels;
  if (!call.probabilities) {
    const bad = rt.table.ce_check_labels[call.dt.index](call.labels, rows, C, call.ignore, call.hasIgnore ? 1 : 0, call.weights, call.tmp);
    if (bad >= 0) badLabel(fn, bad, labels![bad], C, p.ignoreIndex);
    // only 'mean' divides by it
    call.denominator = p.reduction === 'mean' ? rt.arena.views().f64[call.tmp >>> 3]! : rows;
  } else {
    call.denominator = rows;
  }
  call.scale = k.ce_grad_scale(REDUCTION_CODE[p.reduction], p.gradScalar, call.denominator);
}

/** Writes the class weights (and their sum, call.sumW) and the per-sample upstream gradients
 *  into wasm. */
function writeParams(rt: Runtime, call: CeCall): void {
  const { dt, C, p } = call;
  const a = rt.arena.views();
  call.sumW = C;
  if (call.weights) {
    const view = dt.view(a);
    const base = call.weights >>> dt.shift;
    view.set(p.weight!, base);
    let s = 0;
    for (let i = 0; i < C; i++) s += view[base + i]!;
    call.sumW = s;
  }
  if (call.scales) a.f64.set(p.gradArray!, call.scales >>> 3);
}

/**
 * A whole call with class-index targets whose logits are already in wasm at `x` (contiguous
 * rows), in one wasm call: label check, rows, reduction (the per-call cost of a small batch is
 * mostly crossings into wasm). The labels, weights and upstream gradients are written here; the
 * labels are checked before anything is computed. Returns the reduced loss ('none': 0).
 */
export function runWholeCall(fn: string, rt: Runtime, call: CeCall, x: number, g: number, labels: ArrayLike<unknown>): number {
  writeParams(rt, call);
  const { p, dt } = call;
  const loss = rt.table.ce_index_call[dt.index](x, call.labels, g, call.losses, call.lossT, call.rows, call.C, call.weights, call.sumW, p.eps, p.zLoss,
    call.ignore, ceFlags(call), REDUCTION_CODE[p.reduction], p.gradScalar, call.scales, call.tmp);
  if (loss !== loss) {
    // NaN: a bad label (nothing was computed) or NaN logits; the label check tells which.
    const bad = rt.table.ce_check_labels[dt.index](call.labels, call.rows, call.C, call.ignore, call.hasIgnore ? 1 : 0, call.weights, call.tmp);
    if (bad >= 0) badLabel(fn, bad, labels[bad], call.C, p.ignoreIndex);
  }
  return loss;
}

/** Runs the fused kernel over `rows` rows of logits at x (targets at q, or the call's labels),
 *  rows [firstRow, firstRow + rows) of the call; g = 0 computes the loss only. */
export function runRows(k: KernelTable, call: CeCall, x: number, q: number, g: number, firstRow: number, rows: number, tmp: number): void {
  const { p, C, dt } = call;
  const losses = call.losses + firstRow * 8;
  const lossT = call.lossT ? call.lossT + firstRow * (1 << dt.shift) : 0;
  const scales = call.scales ? call.scales + firstRow * 8 : 0;
  if (call.probabilities) {
    k.ce_prob[dt.index](x, q, g, losses, lossT, rows, C, call.weights, p.eps, p.zLoss, call.scale, scales, tmp);
  } else {
    k.ce_index[dt.index](x, call.labels + firstRow * 4, g, losses, lossT, rows, C, call.weights, call.sumW, p.eps, p.zLoss,
      call.ignore, ceFlags(call), call.scale, scales, tmp);
  }
}

/** The class-index kernels' flags argument for `call`. */
function ceFlags(call: CeCall): number {
  return (call.hasIgnore ? CE_HAS_IGNORE : 0) | (call.groupRows ? CE_GROUP_LOGS : 0);
}

/** The chunk loop's call of a cross-entropy: the logits' region (the gradient is left over it),
 *  and the probabilities' region, if any. */
function lossChunk(call: CeCall, withGrad: boolean): ChunkCall {
  return (k, r, _o, firstRow, rows, tmp) => runRows(k, call, r[0]!, call.probabilities ? r[1]! : 0, withGrad ? r[0]! : 0, firstRow, rows, tmp);
}

/** The per-row losses of a call with no classes (C = 0): 0 (every label was ignored, or the
 *  check threw). */
export function zeroClassLosses(rt: Runtime, call: CeCall): void {
  const a = rt.arena.views();
  a.f64.fill(0, call.losses >>> 3, (call.losses >>> 3) + call.rows);
  if (call.lossT) call.dt.view(a).fill(0, call.lossT >>> call.dt.shift, (call.lossT >>> call.dt.shift) + call.rows);
}

/** The reduced loss ('mean'/'sum') from the per-row f64 losses, summed in row order. */
export function reducedLoss(rt: Runtime, call: CeCall): number {
  return rt.kernels.ce_reduce(call.losses, call.rows, REDUCTION_CODE[call.p.reduction], call.denominator);
}

function isIndexTarget(t: unknown): t is IndexTarget {
  if (Array.isArray(t)) return true;
  if (!ArrayBuffer.isView(t)) return false; // (rejects objects only posing as typed arrays)
  return t instanceof Int32Array || t instanceof Uint32Array || t instanceof Int16Array ||
    t instanceof Uint16Array || t instanceof Int8Array || t instanceof Uint8Array;
}

/** Checks the arguments of crossEntropy/crossEntropyWithGrad (also for the worker pool,
 *  src/pool.ts) and makes the output arrays. */
export function crossEntropyArgs<A extends FloatArray>(fn: string, logits: A, target: Target<A>, options: CrossEntropyOptions<A>, withGrad: boolean) {
  const rt = getRuntime(fn);
  const dt = floatArray(fn, 'logits', logits);
  const opts = optionsObject<CrossEntropyOptions<A>>(fn, options, true);
  const L: Layout = resolveLayout(fn, logits.length, opts, 1);
  const { C, rows } = L;
  const probabilities = target instanceof Float32Array || target instanceof Float64Array;
  if (probabilities) {
    sameType(fn, 'target', target, dt, logits.length);
  } else {
    if (!isIndexTarget(target)) {
      fail(fn, 'target', 'class indices (Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array or number[]) or probabilities (the logits\' float array type)', target, TypeError);
    }
    if (ArrayBuffer.isView(target) && isDetached(target)) fail(fn, 'target', 'an array whose buffer is not detached', 'a detached buffer', TypeError);
    if (target.length !== rows) fail(fn, 'target.length', `${rows} (one class index per sample)`, target.length, RangeError);
  }
  const p = lossParams(fn, opts, C, rows, probabilities);
  if (opts.into !== undefined) {
    if (p.reduction !== 'none') fail(fn, 'options.into', "absent unless reduction is 'none' (the per-sample losses go there)", opts.into, TypeError);
    sameType(fn, 'options.into', opts.into, dt, rows);
    disjoint(fn, 'options.into', opts.into, 'logits', logits, 'target', target, true, INTO_MEMO);
  }
  if (opts.gradInto !== undefined) {
    if (!withGrad) fail(fn, 'options.gradInto', 'absent for crossEntropy (use crossEntropyWithGrad for the gradient)', opts.gradInto, TypeError);
    sameType(fn, 'options.gradInto', opts.gradInto, dt, logits.length);
    disjoint(fn, 'options.gradInto', opts.gradInto, 'logits', logits, 'target', target, true, GRAD_MEMO);
    if (opts.into !== undefined) disjoint(fn, 'options.into', opts.into, 'options.gradInto', opts.gradInto, undefined, undefined, false, OUTPUTS_MEMO);
  }
  // The results are allocated by the caller after its size check (see crossEntropyImpl).
  const grad = withGrad ? (opts.gradInto ?? null) : null;
  const lossOut = p.reduction === 'none' ? (opts.into ?? null) : null;
  return { rt, dt, L, probabilities, p, grad, lossOut };
}

/** Scratch bytes a call's per-call regions take (see startCall): labels, weights, per-row
 *  upstream gradients, f64 losses and T losses. */
export function callBytes(C: number, rows: number, shift: number, probabilities: boolean, withGrad: boolean, p: LossParams): number {
  return (probabilities ? 0 : regionSize(rows * 4)) + (p.weight ? regionSize(C * (1 << shift)) : 0) +
    (withGrad && p.gradArray ? regionSize(rows * 8) : 0) + regionSize(rows * 8) +
    (p.reduction === 'none' ? regionSize(rows * (1 << shift)) : 0);
}

/** The call record over its regions in wasm (0 = absent); prepare() fills in the rest. (One
 *  literal from positional arguments: a small Workspace call feels every object it makes.) */
export function newCall(dt: ElementType, C: number, rows: number, probabilities: boolean, p: LossParams,
  labels: number, weights: number, scales: number, losses: number, lossT: number, tmp: number): CeCall {
  return { dt, C, rows, probabilities, p, labels, weights, scales, losses, lossT, tmp, hasIgnore: false, ignore: 0, groupRows: true, sumW: C, denominator: rows, scale: 1 };
}

/** Takes a call's per-call regions (callBytes of them) from a begun scratch and copies the
 *  labels in; with `check`, also the weights and upstream gradients, and checks the labels
 *  (prepare), for the one-call functions and the pool alike. Without, runWholeCall does that. */
export function startCall(fn: string, rt: Runtime, scratch: Scratch, dt: ElementType, C: number, rows: number,
  probabilities: boolean, withGrad: boolean, p: LossParams, target: unknown, check: boolean): CeCall {
  const call = newCall(dt, C, rows, probabilities, p,
    probabilities ? 0 : scratch.take(rows * 4),
    p.weight ? scratch.take(C * (1 << dt.shift)) : 0,
    withGrad && p.gradArray ? scratch.take(rows * 8) : 0,
    scratch.take(rows * 8),
    p.reduction === 'none' ? scratch.take(rows * (1 << dt.shift)) : 0,
    rt.tmp);
  if (!probabilities) copyLabels(fn, rt, target as IndexTarget, call.labels, C, p.ignoreIndex, call);
  if (check) prepare(fn, rt, call, probabilities ? null : (target as ArrayLike<number>));
  return call;
}

/**
 * The common small call in the fewest steps: Float32Array/Float64Array logits with `classes`,
 * Int32Array labels, reduction 'mean' or 'sum' with at most a number `gradOutput`, a `gradInto`
 * that an earlier call already found disjoint from these inputs (see DisjointMemo), and the whole
 * input within one chunk. Through crossEntropyImpl such a call spends several times the kernel's
 * time handling arguments (the [1, 10] call has a budget of 150 ns). It only recognizes calls:
 * anything else (another option or type, an invalid argument, a label out of range) returns
 * undefined, having written nothing the caller sees, and takes the checked path, so every error
 * still comes from there.
 */
function fastCall(logits: unknown, target: unknown, options: unknown, withGrad: boolean): number | LossAndGrad<number, FloatArray> | undefined {
  const rt = currentRuntime();
  if (rt === null || options === null || typeof options !== 'object') return undefined;
  const o = options as Record<string, unknown>;
  const C = fastClasses(logits, o.classes, o.shape, o.axis);
  if (C === 0) return undefined;
  const x = logits as FloatArray;
  const f32 = x instanceof Float32Array;
  const n = x.length;
  const rows = n / C;
  if (!(target instanceof Int32Array) || !ArrayBuffer.isView(target) || target.length !== rows) return undefined;
  if (o.weight !== undefined || o.ignoreIndex !== undefined || o.labelSmoothing !== undefined || o.zLoss !== undefined ||
    o.into !== undefined) return undefined;
  const r = o.reduction;
  const reduction = r === undefined || r === 'mean' ? REDUCTION_CODE.mean : r === 'sum' ? REDUCTION_CODE.sum : -1;
  const gradOutput = o.gradOutput;
  if (reduction < 0 || (gradOutput !== undefined && typeof gradOutput !== 'number')) return undefined;
  const gradInto = o.gradInto;
  if (gradInto !== undefined) {
    const sameType = withGrad && isFloatOf(f32, gradInto);
    if (!sameType || (gradInto as FloatArray).length !== n || !knownDisjointViews(GRAD_MEMO, gradInto as FloatArray, n, x, n, target, rows)) return undefined;
  } else if (withGrad && !plainFloatArray(x, f32)) return undefined;
  return fastRun(rt, x, target, gradInto as FloatArray | undefined, C, rows, reduction, gradOutput ?? 1, withGrad);
}

/** fastCall's work once it has recognized the call: copy in, one kernel call, copy out. (A
 *  function apart: the same steps inside fastCall took 5-9% longer on the [1, 10] call, in
 *  Chromium 156 and Node 20/24 alike; the softmax family's fastForward showed no such gain.) */
function fastRun(rt: Runtime, x: FloatArray, target: Int32Array, gradInto: FloatArray | undefined, C: number, rows: number,
  reduction: number, upstream: number, withGrad: boolean): number | LossAndGrad<number, FloatArray> | undefined {
  const f32 = x instanceof Float32Array;
  const n = x.length;
  const shift = f32 ? 2 : 3;
  const scratch = rt.scratch;
  const xBytes = regionSize(n << shift), labelBytes = regionSize(rows * 4);
  const bytes = xBytes + labelBytes + regionSize(rows * 8);
  if (!scratch.fits(bytes)) return undefined;
  scratch.begin(bytes, '');
  const xp = scratch.take(bytes), labels = xp + xBytes, losses = labels + labelBytes;
  const arena = rt.arena;
  if (rows === 1) arena.i32[labels >>> 2] = target[0]!;
  else arena.i32.set(target, labels >>> 2);
  if (f32) copyIn32(arena.f32, xp >>> 2, x as Float32Array, n);
  else copyIn64(arena.f64, xp >>> 3, x as Float64Array, n);
  // (one call site per element type: each then calls one wasm function, which V8 calls faster)
  const kernel = rt.table.ce_index_default, g = withGrad ? xp : 0;
  const loss = f32 ? kernel[0](xp, labels, g, losses, rows, C, reduction, upstream, rt.tmp) : kernel[1](xp, labels, g, losses, rows, C, reduction, upstream, rt.tmp);
  // NaN: a bad label or NaN logits; the checked path tells which (and computes the same bits).
  if (loss !== loss) return undefined;
  if (!withGrad) return loss;
  const grad = gradInto ?? (f32 ? new Float32Array(n) : new Float64Array(n));
  if (f32) copyOut32(grad as Float32Array, 0, arena, arena.f32, xp >>> 2, n);
  else copyOut64(grad as Float64Array, 0, arena, arena.f64, xp >>> 3, n);
  return { loss, grad };
}

/** The checked arguments of a cross-entropy call. */
export type LossArgs<A extends FloatArray> = ReturnType<typeof crossEntropyArgs<A>>;

/**
 * Runs a checked call with `exec` in `rt`'s scratch: through `plan`, or, without one (class
 * indices whose rows fit one chunk), as one wasm call (label check, rows and reduction). For the
 * module's functions (streamed on this thread) and the pool's (chunks on workers) alike.
 */
export function runLoss<A extends FloatArray>(fn: string, a: LossArgs<A>, logits: A, target: Target<A>, withGrad: boolean,
  plan: ChunkPlan | null, exec: Executor, rt: Runtime): { loss: number | A; grad: A | null } {
  const { dt, L, probabilities, p } = a;
  let { grad, lossOut } = a;
  const { C, rows } = L;
  const Ctor = logits.constructor as new (n: number) => A;
  const scratch = rt.scratch;
  const bytes = callBytes(C, rows, dt.shift, probabilities, withGrad, p) + (plan ? plan.bytes : regionSize(logits.length * (1 << dt.shift)));
  // Growing the scratch may grow wasm memory, which detaches Workspace views passed in (rare).
  if (scratch.fits(bytes)) scratch.begin(bytes, '');
  else {
    [logits, target, grad, lossOut, p.weight, p.gradArray] = keepViews(rt.arena, [logits, target, grad, lossOut, p.weight, p.gradArray],
      () => scratch.begin(bytes, `${fn}: the scratch space for logits`));
  }
  // The results are allocated after the size check: a call refused for its size allocates
  // nothing (a browser refuses a multi-GiB array with its own RangeError, naming nothing).
  if (withGrad) grad ??= newResult(fn, Ctor, logits.length, 'logits');
  if (p.reduction === 'none') lossOut ??= newResult(fn, Ctor, rows, 'options.shape');
  const call = startCall(fn, rt, scratch, dt, C, rows, probabilities, withGrad, p, target, plan !== null);
  call.groupRows = !plan || plan.L.inner === 1;
  let loss = 0;
  if (!plan) {
    const view = dt.view(rt.arena);
    const n = logits.length;
    const xp = scratch.take(n * (1 << dt.shift));
    copyIn(view, xp >>> dt.shift, logits, n);
    loss = runWholeCall(fn, rt, call, xp, withGrad ? xp : 0, target as ArrayLike<unknown>);
    if (grad) copyOut(grad, 0, rt.arena, view, xp >>> dt.shift, n);
  } else if (rows > 0 && C > 0) {
    const ins: FloatArray[] = probabilities ? [logits, target as A] : [logits];
    runChunks(exec, rt.arena, plan, scratch.take(plan.bytes), { ins, elemOut: grad, elemFrom: 0, rowOut: null }, lossChunk(call, withGrad));
  } else if (rows > 0) {
    zeroClassLosses(rt, call);
  }
  if (lossOut) {
    copyOut(lossOut, 0, rt.arena, dt.view(rt.arena), call.lossT >>> dt.shift, rows);
    return { loss: lossOut, grad };
  }
  return { loss: plan ? reducedLoss(rt, call) : loss, grad };
}

/** The single-threaded call: checks, plans (streamed on this thread) and runs it. */
function crossEntropyImpl<A extends FloatArray>(fn: string, logits: A, target: Target<A>, options: CrossEntropyOptions<A>, withGrad: boolean): { loss: number | A; grad: A | null } {
  const a = crossEntropyArgs(fn, logits, target, options, withGrad);
  const whole = !a.probabilities && fitsOneChunk(a.L, a.dt);
  const plan = whole ? null : streamPlan(a.L, a.dt, a.probabilities ? 2 : 1, false);
  return runLoss(fn, a, logits, target, withGrad, plan, a.rt.exec, a.rt);
}

/**
 * Cross-entropy loss between logits and targets, as `torch.nn.functional.cross_entropy`:
 * class-index or class-probability targets, `reduction`, `weight`, `ignoreIndex`,
 * `labelSmoothing`, and PaLM's `zLoss`. Returns a number for 'mean'/'sum' and per-sample losses
 * (the logits' type) for 'none'. No probability matrix is materialized.
 *
 * @example
 * ```ts
 * await init();
 * const logits = new Float32Array([4, 2, 1, 0, 5, 1]);
 * crossEntropy(logits, new Int32Array([0, 1]), { classes: 3 }); // 0.097295 (mean)
 * crossEntropy(logits, new Float32Array([1, 0, 0, 0, 0.8, 0.2]), { classes: 3, reduction: 'none' });
 * // Float32Array [0.16984604, 0.82474494]
 * ```
 */
export function crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A> & { reduction: 'none' }): A;
export function crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A> & { reduction?: 'mean' | 'sum' }): number;
export function crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): number | A;
export function crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): number | A {
  const loss = fastCall(logits, target, options, false);
  return loss !== undefined ? (loss as number) : crossEntropyImpl('crossEntropy', logits, target, options, false).loss;
}

/** The result of {@link crossEntropyWithGrad}. */
export interface LossAndGrad<L, A> {
  loss: L;
  /** d loss / d logits (for 'none': the gradient of sum(gradOutput * loss)). */
  grad: A;
}

/**
 * The cross-entropy loss and its gradient with respect to the logits, from one fused kernel call
 * (`grad = softmax(logits) * sum(q) - q` for the weighted, smoothed target q, which is
 * `softmax(logits) - onehot` for plain class indices, scaled by the reduction).
 *
 * @example
 * ```ts
 * await init();
 * const logits = new Float32Array(64 * 10), grad = new Float32Array(64 * 10);
 * const labels = new Int32Array(64);
 * const { loss } = crossEntropyWithGrad(logits, labels, { classes: 10, gradInto: grad });
 * // loss = ln(10) = 2.302585; grad = (0.1 - onehot) / 64
 * ```
 */
export function crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A> & { reduction: 'none' }): LossAndGrad<A, A>;
export function crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A> & { reduction?: 'mean' | 'sum' }): LossAndGrad<number, A>;
export function crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): LossAndGrad<number | A, A>;
export function crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): LossAndGrad<number | A, A> {
  return (fastCall(logits, target, options, true) as LossAndGrad<number, A> | undefined) ??
    (crossEntropyImpl('crossEntropyWithGrad', logits, target, options, true) as LossAndGrad<number | A, A>);
}
