// Language-model decoding: samplingDistribution, sample, topK, argmax (API.md, "Decoding").
// Each operation is one description (DecodeOp; argmax is a RowOp of the softmax family's
// pipeline), run by one driver (runDecode) through the same plan and chunk loop as the rest:
// per chunk of rows, the penalties are applied to the rows' copy in wasm memory, then one kernel
// call (assembly/decode.ts) does the whole row: max, top-k select, one exp pass, top-p and
// min-p thresholds by radix select (no sort), and the normalization or the inverse-CDF draw.

import { DisjointMemo, describe, fail, floatArray, intoArray, newResult, optionsObject, positiveFinite, type FloatArray } from './check.js';
import { runChunks, type Executor } from './chunk-loop.js';
import type { ElementType } from './dtype.js';
import { resolveLayout, type Layout, type LayoutOptions } from './layout.js';
import { getRuntime, type Runtime } from './load.js';
import { keepViews, regionSize, type Arena, type Scratch } from './memory.js';
import { beta, rowOpCall, type RowOp } from './pipeline.js';
import { streamPlan, type ChunkPlan, type OwnBytes } from './plan.js';

/** Token ids: an integer typed array or a number[]. */
export type TokenIds = ArrayLike<number>;

/** Options of {@link samplingDistribution} and {@link sample}: the logits processors and
 *  warpers of Hugging Face Transformers, applied in this order: repetition penalty,
 *  presence/frequency penalty, temperature, top-k, top-p, min-p. */
export type SamplingOptions = LayoutOptions & {
  /** Divides the logits (finite, >= 0; default 1). 0 is greedy: one-hot at the (first) argmax
   *  of the penalized logits, whatever top-k/p/min-p say. */
  temperature?: number;
  /** Keeps the tokens whose logit is >= the k-th largest (integer >= 0; 0 = off, the default). */
  topK?: number;
  /** Keeps the smallest set of most probable tokens whose probability reaches topP (in (0, 1];
   *  1 = off, the default); tokens tied with the least probable kept one are kept too. */
  topP?: number;
  /** Removes tokens whose probability is < minP times the row's largest (in [0, 1]; 0 = off). */
  minP?: number;
  /** The fewest tokens top-k, top-p and min-p keep (integer >= 1; default 1). */
  minTokensToKeep?: number;
  /** For each distinct token of previousTokens: a logit < 0 is multiplied by it, any other
   *  divided by it (finite, > 0; default 1). */
  repetitionPenalty?: number;
  /** Subtracted from the logit of each token that occurs in previousTokens (finite; default 0). */
  presencePenalty?: number;
  /** Times its count in previousTokens, subtracted from each token's logit (finite; default 0). */
  frequencyPenalty?: number;
  /** The tokens generated so far, ids in [0, classes): one array for every row, or one per row. */
  previousTokens?: TokenIds | readonly TokenIds[];
};

/** Options of {@link samplingDistribution}. */
export type SamplingDistributionOptions<A extends FloatArray = FloatArray> = SamplingOptions & {
  /** Receives the distribution (the logits' type and length). */
  into?: A;
};

/** Options of {@link sample}. */
export type SampleOptions = SamplingOptions & {
  /** One uniform number in [0, 1) per row, in row order. */
  uniforms?: Float64Array | Float32Array | readonly number[];
  /** Returns a number in [0, 1); called exactly once per row, in row order, before any row is
   *  sampled (also at temperature 0). Default Math.random. */
  random?: () => number;
  /** Receives the token indices (an Int32Array of one element per row). */
  into?: Int32Array;
};

/** Options of {@link topK}. */
export type TopKOptions = LayoutOptions & {
  /** Returns log-softmax(logits / temperature) values instead of the logits. */
  logProbs?: boolean;
  /** Divides the logits for logProbs (finite, > 0; default 1). */
  temperature?: number;
};

/** The result of {@link topK}: `[rows, k]` row-major, each row in descending order of value. */
export interface TopK<A extends FloatArray = FloatArray> {
  indices: Int32Array;
  values: A;
}

/** Options of {@link argmax}. */
export type ArgmaxOptions = LayoutOptions;

/** Bytes of the kernels' `work` scratch for rows of C (assembly/decode.ts work_bytes). */
const workBytes = (C: number) => 2 * 2048 * 8 + 16 * C + 64;

/** One decoding operation: its name and the shape of its result. */
export interface DecodeOp {
  readonly fn: string;
  /** 'elements': a distribution over the logits' layout; 'rows': one token per row; 'topk': k
   *  indices and values per row. */
  readonly output: 'elements' | 'rows' | 'topk';
}

export const SAMPLING_DISTRIBUTION: DecodeOp = { fn: 'samplingDistribution', output: 'elements' };
export const SAMPLE: DecodeOp = { fn: 'sample', output: 'rows' };
export const TOP_K: DecodeOp = { fn: 'topK', output: 'topk' };

/** argmax: a RowOp of the softmax family (one index per row, left as a float by the kernel). */
export const ARGMAX: RowOp = {
  fn: 'argmax', inputs: ['logits'], output: 'rows', temperature: false, memo: new DisjointMemo(),
  run: (k, dt, r, o, rows, C) => k.argmax[dt.index](r[0]!, o, rows, C),
};

/** The checked sampling options (penalties as per-row token counts). */
interface Sampling {
  beta: number;
  topK: number;
  topP: number;
  minP: number;
  minKeep: number;
  rp: number;
  pp: number;
  fp: number;
  /** Token counts for every row (shared), or per row, or null without penalties. */
  counts: Map<number, number> | Map<number, number>[] | null;
}

/** A call's checked arguments. */
interface DecodeArgs<A extends FloatArray> {
  op: DecodeOp;
  rt: Runtime;
  dt: ElementType;
  L: Layout;
  x: A;
  s: Sampling | null;
  uniforms: Float64Array | null;
  k: number;
  logProbs: boolean;
  into: FloatArray | Int32Array | undefined;
}

function finiteNumber(fn: string, arg: string, v: unknown, ok: (v: number) => boolean, expected: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') fail(fn, arg, expected, v, TypeError);
  if (!ok(v)) fail(fn, arg, expected, v, RangeError);
  return v;
}

function isIntArray(v: unknown): v is ArrayLike<number> {
  return v instanceof Int32Array || v instanceof Uint32Array || v instanceof Int16Array || v instanceof Uint16Array ||
    v instanceof Int8Array || v instanceof Uint8Array || v instanceof Uint8ClampedArray;
}

/** Counts of the token ids of one list, each checked to be an integer in [0, C). */
function tokenCounts(fn: string, arg: string, v: unknown, C: number): Map<number, number> {
  if (!Array.isArray(v) && !isIntArray(v)) fail(fn, arg, 'an integer typed array or a number[] of token ids', v, TypeError);
  const list = v as ArrayLike<unknown>;
  const m = new Map<number, number>();
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (typeof t !== 'number') fail(fn, `${arg}[${i}]`, `a token id (an integer in [0, ${C}))`, t, TypeError);
    if (!Number.isInteger(t) || t < 0 || t >= C) fail(fn, `${arg}[${i}]`, `a token id (an integer in [0, ${C}))`, t, RangeError);
    m.set(t, (m.get(t) ?? 0) + 1);
  }
  return m;
}

function samplingOptions(fn: string, o: Record<string, unknown>, L: Layout, dt: ElementType): Sampling {
  const T = finiteNumber(fn, 'options.temperature', o.temperature, (v) => v >= 0 && Number.isFinite(v), 'a finite number >= 0', 1);
  const topK = finiteNumber(fn, 'options.topK', o.topK, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0', 0);
  const topP = finiteNumber(fn, 'options.topP', o.topP, (v) => v > 0 && v <= 1, 'a number in (0, 1]', 1);
  const minP = finiteNumber(fn, 'options.minP', o.minP, (v) => v >= 0 && v <= 1, 'a number in [0, 1]', 0);
  const minKeep = finiteNumber(fn, 'options.minTokensToKeep', o.minTokensToKeep, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1', 1);
  const rp = finiteNumber(fn, 'options.repetitionPenalty', o.repetitionPenalty, (v) => v > 0 && Number.isFinite(v), 'a finite number > 0', 1);
  const pp = finiteNumber(fn, 'options.presencePenalty', o.presencePenalty, Number.isFinite, 'a finite number', 0);
  const fp = finiteNumber(fn, 'options.frequencyPenalty', o.frequencyPenalty, Number.isFinite, 'a finite number', 0);
  let counts: Sampling['counts'] = null;
  const prev = o.previousTokens;
  if (prev !== undefined) {
    const perRow = Array.isArray(prev) && prev.length > 0 && typeof prev[0] === 'object';
    if (perRow) {
      if (prev.length !== L.rows) {
        throw new RangeError(`${fn}: options.previousTokens must have one array per row (${L.rows}) (got ${describe(prev)})`);
      }
      counts = (prev as unknown[]).map((p, r) => tokenCounts(fn, `options.previousTokens[${r}]`, p, L.C));
    } else {
      counts = tokenCounts(fn, 'options.previousTokens', prev, L.C);
    }
    if (rp === 1 && pp === 0 && fp === 0) counts = null;
  }
  return { beta: T === 0 ? 0 : beta(T, dt), topK, topP, minP, minKeep, rp, pp, fp, counts };
}

/** The uniforms of a sample call, drawn or checked in row order before any kernel runs. */
function sampleUniforms(fn: string, o: Record<string, unknown>, rows: number): Float64Array {
  const u = new Float64Array(rows);
  const check = (arg: string, v: unknown, r: number) => {
    if (typeof v !== 'number') fail(fn, arg, 'a number in [0, 1)', v, TypeError);
    if (!(v >= 0 && v < 1)) fail(fn, arg, 'a number in [0, 1)', v, RangeError);
    u[r] = v;
  };
  if (o.uniforms !== undefined) {
    const v = o.uniforms;
    if (!Array.isArray(v) && !(v instanceof Float64Array) && !(v instanceof Float32Array)) {
      fail(fn, 'options.uniforms', 'a Float64Array, Float32Array or number[]', v, TypeError);
    }
    const a = v as ArrayLike<unknown>;
    if (a.length !== rows) fail(fn, 'options.uniforms', `of length ${rows} (one per row)`, v, RangeError);
    for (let r = 0; r < rows; r++) check(`options.uniforms[${r}]`, a[r], r);
    return u;
  }
  const random = o.random === undefined ? Math.random : o.random;
  if (typeof random !== 'function') fail(fn, 'options.random', 'a function returning a number in [0, 1)', random, TypeError);
  for (let r = 0; r < rows; r++) check(`options.random() (row ${r})`, (random as () => unknown)(), r);
  return u;
}

/** Checks a call's arguments: runtime, logits, options, layout, the operation's options, into. */
function decodeArgs<A extends FloatArray>(op: DecodeOp, x: A, options: unknown, k?: unknown): DecodeArgs<A> {
  const fn = op.fn;
  const rt = getRuntime(fn);
  const dt = floatArray(fn, 'logits', x);
  const o = optionsObject<Record<string, unknown>>(fn, options, true);
  const L = resolveLayout(fn, x.length, o, -1);
  let s: Sampling | null = null;
  let uniforms: Float64Array | null = null;
  let kk = 0;
  let logProbs = false;
  let into: DecodeArgs<A>['into'];
  if (op.output === 'topk') {
    if (typeof k !== 'number') fail(fn, 'k', `an integer in [1, ${L.C}]`, k, TypeError);
    if (!Number.isInteger(k) || k < 1 || k > L.C) fail(fn, 'k', `an integer in [1, ${L.C}]`, k, RangeError);
    kk = k;
    if (o.logProbs !== undefined && typeof o.logProbs !== 'boolean') fail(fn, 'options.logProbs', 'a boolean', o.logProbs, TypeError);
    logProbs = o.logProbs === true;
    if (o.temperature !== undefined) s = { beta: beta(positiveFinite(fn, 'options.temperature', o.temperature), dt) } as Sampling;
  } else {
    s = samplingOptions(fn, o, L, dt);
    into = o.into as DecodeArgs<A>['into'];
    if (op.output === 'rows') {
      if (into !== undefined && (!(into instanceof Int32Array) || into.length !== L.rows)) {
        fail(fn, 'options.into', `an Int32Array of length ${L.rows}`, into, into instanceof Int32Array ? RangeError : TypeError);
      }
      uniforms = sampleUniforms(fn, o, L.rows);
    } else if (into !== undefined) {
      intoArray(fn, into, dt, x.length);
    }
  }
  return { op, rt, dt, L, x, s, uniforms, k: kk, logProbs, into };
}

/** Applies the repetition, presence and frequency penalties to `rows` rows of the call's layout
 *  at element p (a chunk's copy in wasm memory, [n, C, inner]), rows [first, first + rows) of
 *  the call. Before any kernel runs (ChunkIO.prepare): on a pool the rows are transposed later,
 *  by the worker. */
function applyPenalties(view: FloatArray, p: number, first: number, rows: number, L: Layout, s: Sampling): void {
  const { rp, pp, fp, counts } = s;
  const { C, inner } = L;
  if (counts === null) return;
  for (let j = 0; j < rows; j++) {
    const m = counts instanceof Map ? counts : counts[first + j]!;
    const i = j % inner;
    const base = p + (j - i) * C + i;
    for (const [t, c] of m) {
      let v = view[base + t * inner]!;
      if (rp !== 1) v = v < 0 ? v * rp : v / rp;
      view[base + t * inner] = v - pp - fp * c;
    }
  }
}

function rowError(fn: string, row: number): RangeError {
  return new RangeError(`${fn}: row ${row} of logits cannot be sampled: it holds NaN or +Infinity, or all its logits are -Infinity`);
}

/** A chunk's own scratch (ChunkPlan.ownBytes) for `rows` rows, as offsets [a, b, end]: the
 *  kernels' work at 0; then topK's index list at a and value list at b, or the decode kernel's
 *  first bad row (an i32) at a and sample's uniforms at b. */
function ownLayout(a: DecodeArgs<FloatArray>, rows: number): number[] {
  const w = regionSize(workBytes(a.L.C));
  const n = rows * a.k;
  const b = w + regionSize(4 * n);
  return a.op.output === 'topk' ? [w, b, b + regionSize(n << a.dt.shift)] : [w, w + 64, w + 64 + regionSize(8 * rows)];
}

/** Runs a checked decoding call through `plan` with `exec` in `scratch` and returns its result.
 *  Whatever a chunk's kernels leave besides its rows (topK's lists, the first bad row) stays in
 *  the chunk's slot until the loop collects it in chunk order, so on a pool the first bad row in
 *  row order is the one reported, as on this thread. */
function runDecode<A extends FloatArray>(a: DecodeArgs<A>, plan: ChunkPlan, exec: Executor, arena: Arena, scratch: Scratch): unknown {
  const { op, dt, L } = a;
  const fn = op.fn;
  const { C, rows } = L;
  const k = a.k;
  const [oa, ob] = ownLayout(a, plan.unitsPerChunk * L.inner) as [number, number];
  let x = a.x;
  let into = a.into;
  if (scratch.fits(plan.bytes)) scratch.begin(plan.bytes, '');
  else [x, into] = keepViews(arena, [x, into], () => scratch.begin(plan.bytes, `${fn}: the scratch space for the logits`));
  const base = scratch.take(plan.bytes);
  const Ctor = dt.Array as unknown as new (n: number) => A;
  if (op.output === 'topk') {
    const indices = newResult(fn, Int32Array, rows * k, 'k');
    const values = newResult(fn, Ctor, rows * k, 'k');
    const b = a.s ? a.s.beta : 1;
    runChunks(exec, arena, plan, base, {
      ins: [x], elemOut: null, elemFrom: 0, rowOut: null,
      collect: (r, own, first, n) => {
        const view = dt.view(arena);
        const oi = (own + oa) >>> 2;
        const ov = (own + ob) >>> dt.shift;
        indices.set(arena.i32.subarray(oi, oi + n * k), first * k);
        if (!a.logProbs) return values.set(view.subarray(ov, ov + n * k), first * k);
        // The rows hold their log-softmax now: read it at the chosen indices.
        const p0 = r[0]! >>> dt.shift;
        for (let j = 0; j < n; j++) {
          for (let q = 0; q < k; q++) values[(first + j) * k + q] = view[p0 + j * C + indices[(first + j) * k + q]!]!;
        }
      },
    }, (kt, r, _o, _first, n, tmp, own) => {
      kt.topk[dt.index](r[0]!, n, C, k, own + oa, own + ob, own);
      // The log-probabilities: the softmax family's log_softmax over the same rows, in place
      // (the kernel above is done with them); collect reads them at the chosen indices.
      if (a.logProbs) kt.log_softmax[dt.index](r[0]!, r[0]!, n, C, b, tmp);
    });
    return { indices, values };
  }
  const s = a.s!;
  const sample = op.output === 'rows';
  const dist = sample ? null : ((into as A | undefined) ?? newResult(fn, Ctor, x.length, 'logits'));
  const picks = sample ? newResult(fn, Ctor, rows, 'logits') : null;
  runChunks(exec, arena, plan, base, {
    ins: [x], elemOut: dist, elemFrom: 0, rowOut: picks,
    prepare: (p, first, n) => applyPenalties(dt.view(arena), p, first, n, L, s),
    collect: (_r, own, first) => {
      const bad = arena.i32[(own + oa) >>> 2]!;
      if (bad >= 0) throw rowError(fn, first + bad);
    },
  }, (kt, r, o, first, n, _tmp, own) => {
    if (sample) arena.f64.set(a.uniforms!.subarray(first, first + n), (own + ob) >>> 3);
    kt.keep(own + oa, kt.decode[dt.index](r[0]!, sample ? o : 0, sample ? own + ob : 0, n, C, s.beta, s.topK, s.topP, s.minP, s.minKeep, own));
  });
  if (!sample) return dist;
  const out = (into as Int32Array | undefined) ?? new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = picks![r]!;
  return out;
}

/** How a pool runs a checked call: its plan and executor over its runtime's memory, or null
 *  when the call is better run on this thread. */
export type Pooled = (L: Layout, dt: ElementType, rowOut: boolean, own: OwnBytes) => { plan: ChunkPlan; exec: Executor; rt: Runtime } | null;

/** A decoding call: checks (once: sample's uniforms are drawn here, in row order), plans and
 *  runs it, on the pool's workers when `pooled` gives a plan, else streamed on this thread. */
export function decodeCall<A extends FloatArray>(op: DecodeOp, x: A, options: unknown, k?: unknown, pooled?: Pooled): unknown {
  const a = decodeArgs(op, x, options, k);
  if (a.L.rows === 0 || a.L.C === 0) return emptyResult(a);
  const rowOut = op.output === 'rows';
  const own = (rows: number) => ownLayout(a, rows)[2]!;
  const { plan, exec, rt } = pooled?.(a.L, a.dt, rowOut, own) ?? { plan: streamPlan(a.L, a.dt, 1, rowOut, own), exec: a.rt.exec, rt: a.rt };
  return runDecode(a, plan, exec, rt.arena, rt.scratch);
}

function emptyResult<A extends FloatArray>(a: DecodeArgs<A>): unknown {
  const Ctor = a.dt.Array as unknown as new (n: number) => A;
  if (a.op.output === 'topk') return { indices: new Int32Array(0), values: new Ctor(0) };
  if (a.op.output === 'rows') return a.into ?? new Int32Array(a.L.rows);
  return a.into ?? new Ctor(a.x.length);
}

/**
 * Per row, the probabilities {@link sample} draws from: the softmax of the logits after the
 * penalties, temperature, top-k, top-p and min-p of `options`; removed tokens exactly 0, kept
 * ones summing to 1. Same type and layout as the logits.
 * @throws RangeError naming the row, for a row that holds NaN or +Infinity or only -Infinity.
 */
export function samplingDistribution<A extends FloatArray>(logits: A, options: SamplingDistributionOptions<A>): A {
  return decodeCall(SAMPLING_DISTRIBUTION, logits, options) as A;
}

/**
 * One token index per row, drawn from {@link samplingDistribution} by inverse CDF in index
 * order: the smallest index whose running sum of probabilities exceeds the row's uniform.
 * @throws RangeError naming the row, for a row that holds NaN or +Infinity or only -Infinity.
 */
export function sample(logits: FloatArray, options: SampleOptions): Int32Array {
  return decodeCall(SAMPLE, logits, options) as Int32Array;
}

/**
 * The `k` largest logits of each row, in descending order (ties by lower index; a NaN is the
 * largest), as `[rows, k]` indices and values (the logits, or with `logProbs` their
 * log-softmax at `temperature`).
 */
export function topK<A extends FloatArray>(logits: A, k: number, options: TopKOptions): TopK<A> {
  return decodeCall(TOP_K, logits, options, k) as TopK<A>;
}

/** Per row, the index of the largest logit (lowest among ties; a NaN counts as the largest). */
export function argmax(logits: FloatArray, options: ArgmaxOptions): Int32Array {
  const o = optionsObject<Record<string, unknown>>('argmax', options, true);
  const opts = o.into === undefined && o.temperature === undefined ? o : { ...o, into: undefined, temperature: undefined };
  return Int32Array.from(rowOpCall(ARGMAX, logits, undefined, opts as LayoutOptions));
}
