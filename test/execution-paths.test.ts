// Path parity (issue 14): the same call through every execution path gives the same bytes, and
// those bytes are right (within tolerance of the plain float64 reference), so a test also fails
// for an answer that is wrong the same way on every path.
//
// The paths:
// - inline: one call on a small input S (a few hundred elements: the one-chunk paths, and for the
//   default options the small-call fast paths of softmax.ts / cross-entropy.ts);
// - streamed: one call on B, which is S repeated K times along the outermost axis (K a power of
//   two), several times larger than a chunk of the single-threaded streaming (src/plan.ts
//   CHUNK_BYTES = 128 KiB by default), so B goes through wasm memory in several
//   chunks whose boundaries fall inside copies of S, at every alignment of a row. Each copy of S
//   inside B must give exactly S's bytes. B's inputs and outputs are views at element offsets
//   1..3 of larger buffers; B is also run in place (into / gradInto = an input);
// - S in SharedArrayBuffer-backed arrays, through the module and a pool;
// - pooled: createPool({ threads }) for 1, 2 and 3 threads, forced through the workers with tiny
//   chunks (one outer block each: 1 row of [N, C], or one [C, inner] block of an N-D input) for S
//   and small ones for B, through the pool's tuning (src/pool.ts `tuning`: minElements, cutoff,
//   cores, chunkBytes; the mechanism test/pool.test.ts uses), with the calling thread helping and
//   not; the pool of 1 thread with one-block chunks is the tiny-chunk streaming (the
//   single-threaded functions have no chunk-size setter). S in place, and S with inputs and
//   outputs in SharedArrayBuffers, also go through the pools;
// - Workspace: createWorkspace for [N, C] with S's rows and with B's rows (as the active rows of
//   a larger capacity: setRows), for softmax, logSoftmax, crossEntropy, crossEntropyWithGrad
//   (ws.loss also against the 'none' losses). pool.createWorkspace: test/pool-workspace.test.ts.
//
// For the reductions: per-element and per-sample results of B are S's tiled K times. A 'mean'
// over B has K times S's denominator (the class weights are multiples of 1/4, so their sums are
// exact), so B's gradient with gradOutput K * g has the same scale, exactly, as S's with g: the
// gradients tile too. B's reduced losses are checked against the reference (mean: S's; sum: K
// times S's), and bit for bit across the module, the pools and the Workspace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import type { Pool } from '../src/index.js';
import { stats, tuning } from '../src/pool.js';
import { CHUNK_BYTES } from '../src/plan.js';
import { LOG_SPAN_MAX_C } from '../src/kernel-constants.js';
import { BACKENDS, use } from './helpers/backends.js';
import { bitDiff } from './helpers/compare.js';
import { randomProbabilities, rng, uniformArray, type FloatArray, type FloatCtor } from './helpers/random.js';
import {
  crossEntropy64, dimsOf, logSoftmax64, logSoftmaxBackward64, logSumExp64, softmax64, softmaxBackward64, type CeOptions64, type Dims,
} from './helpers/reference.js';
import { expectClose } from './reliability/common.js';

/** Copies of S along the outermost axis in B (a power of two: see the header). */
const K = 64;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => any;
type Fns = Record<'softmax' | 'logSoftmax' | 'logSumExp' | 'softmaxBackward' | 'logSoftmaxBackward' | 'crossEntropy' | 'crossEntropyWithGrad', Fn>;

interface Layout {
  name: string;
  /** S's shape; the operation's axis is `axis` (the class axis of cross-entropy too). */
  shape: number[];
  axis: number;
  /** Layout options of the softmax family and of cross-entropy for `outer` copies of S's outer
   *  dimension (shape[0] * k). */
  opts(k: number): object;
  ceOpts(k: number): object;
  /** [N, C] layouts also run through a Workspace. */
  workspace: boolean;
}

const LAYOUTS: Layout[] = [
  {
    // rows of more than LOG_SPAN_MAX_C classes: chunks of any number of rows (one when tiny)
    name: '[24, 300] classes',
    shape: [24, 300],
    axis: 1,
    opts: (k) => (k === 1 ? { classes: 300 } : { shape: [24 * k, 300] }),
    ceOpts: () => ({ classes: 300 }),
    workspace: true,
  },
  {
    // general rows of up to LOG_SPAN_MAX_C classes: a reduced cross-entropy sums the log-sums of
    // each span of LOG_SPAN_ROWS (64) rows as one, so their chunks (also tiny ones) hold multiples
    // of 64 rows: 130 rows are two spans and two rows more, in three chunks when tiny
    name: '[130, 37] classes',
    shape: [130, 37],
    axis: 1,
    opts: (k) => (k === 1 ? { classes: 37 } : { shape: [130 * k, 37] }),
    ceOpts: () => ({ classes: 37 }),
    workspace: true,
  },
  {
    // short rows: the kernels take them four at a time, and the spans of a reduced cross-entropy
    // are those of the rows above: 130 rows are two spans and two rows more, in three chunks when tiny
    name: '[130, 10] classes',
    shape: [130, 10],
    axis: 1,
    opts: (k) => (k === 1 ? { classes: 10 } : { shape: [130 * k, 10] }),
    ceOpts: () => ({ classes: 10 }),
    workspace: true,
  },
  {
    name: '[3, 13, 23] axis 1',
    shape: [3, 13, 23],
    axis: 1,
    opts: (k) => ({ shape: [3 * k, 13, 23], axis: 1 }),
    ceOpts: (k) => ({ shape: [3 * k, 13, 23] }), // cross-entropy's default class axis is 1
    workspace: false,
  },
];

/** The inputs of one layout and element type. */
interface Inputs {
  /** Logits with special values (NaN, -Infinity, a row of -Infinity, +Infinity), for the
   *  softmax family. */
  x: FloatArray;
  /** Finite logits, for cross-entropy. */
  xc: FloatArray;
  /** softmax64(x), logSoftmax64(x) of finite logits, rounded to the type: backward inputs. */
  y: FloatArray;
  ly: FloatArray;
  /** An upstream gradient. */
  g: FloatArray;
  /** Class indices; some are 3 (ignored by ignoreIndex 3). */
  labels: Int32Array;
  /** Class indices where every 7th is -1 (ignored by ignoreIndex -1). */
  labelsNeg: Int32Array;
  /** Class probabilities, the logits' layout. */
  q: FloatArray;
  /** Per-sample upstream gradients ('none'). */
  gs: FloatArray;
}

function makeInputs(T: FloatCtor, l: Layout, seed: number): Inputs {
  const n = l.shape.reduce((a, b) => a * b, 1);
  const d = dimsOf(l.shape, l.axis);
  const rows = d.outer * d.inner;
  const x = uniformArray(T, n, seed);
  x[1 * d.C * d.inner] = NaN; // (offsets in the flat array: each lands in some slice)
  x[2 * d.C * d.inner + 1] = -Infinity;
  x[n - 1] = Infinity;
  if (d.inner === 1) x.fill(-Infinity, 3 * d.C, 4 * d.C);
  else for (let c = 0; c < d.C; c++) x[(d.outer - 1) * d.C * d.inner + c * d.inner + 2] = -Infinity;
  const xc = uniformArray(T, n, seed + 1);
  const f = uniformArray(T, n, seed + 2);
  const y = T.from(softmax64(f, d));
  const ly = T.from(logSoftmax64(f, d));
  const g = uniformArray(T, n, seed + 3, 1);
  const r = rng(seed + 4);
  const labels = Int32Array.from({ length: rows }, (_, i) => (i % 5 === 1 ? 3 : Math.floor(r() * d.C)));
  const labelsNeg = Int32Array.from(labels, (v, i) => (i % 7 === 3 ? -1 : v));
  // probabilities in the logits' layout: generate [rows, C] and move C to the axis
  const qr = randomProbabilities(T, rows, d.C, seed + 5);
  const q = new T(n);
  for (let o = 0; o < d.outer; o++)
    for (let i = 0; i < d.inner; i++)
      for (let c = 0; c < d.C; c++) q[(o * d.C + c) * d.inner + i] = qr[(o * d.inner + i) * d.C + c]!;
  const gs = uniformArray(T, rows, seed + 6, 2);
  return { x, xc, y, ly, g, labels, labelsNeg, q, gs };
}

/** `a` repeated k times, in a view that starts `offset` elements into a larger buffer. */
function tile<A extends FloatArray | Int32Array>(a: A, k: number, offset = 0): A {
  const C = a.constructor as new (n: number) => A;
  const big = new C(a.length * k + offset + 3);
  const v = big.subarray(offset, offset + a.length * k) as A;
  for (let j = 0; j < k; j++) v.set(a as never, j * a.length);
  return v;
}
function tileInputs(s: Inputs, k: number): Inputs {
  const o = (i: number) => 1 + (i % 3); // offsets 1, 2, 3
  return {
    x: tile(s.x, k, o(0)), xc: tile(s.xc, k, o(1)), y: tile(s.y, k, o(2)), ly: tile(s.ly, k, o(3)), g: tile(s.g, k, o(4)),
    labels: tile(s.labels, k, o(5)), labelsNeg: tile(s.labelsNeg, k, o(6)), q: tile(s.q, k, o(7)), gs: tile(s.gs, k, o(8)),
  };
}
/** The inputs in arrays backed by SharedArrayBuffers (the pool may read and write those directly). */
function sharedInputs(s: Inputs): Inputs {
  const share = <A extends FloatArray | Int32Array>(a: A): A => {
    const C = a.constructor as new (b: SharedArrayBuffer) => A;
    const v = new C(new SharedArrayBuffer(a.byteLength));
    v.set(a as never);
    return v;
  };
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, share(v)])) as unknown as Inputs;
}
/** An output view into a SharedArrayBuffer, at element offset 1. */
function sharedOut(T: FloatCtor, n: number): FloatArray {
  const S = T as unknown as new (b: SharedArrayBuffer) => FloatArray;
  return new S(new SharedArrayBuffer((n + 2) * T.BYTES_PER_ELEMENT)).fill(42).subarray(1, n + 1);
}
/** A result with its arrays tiled k times (numbers stay: reduced losses are compared otherwise). */
function tileResult(r: unknown, k: number): unknown {
  if (ArrayBuffer.isView(r)) return tile(r as FloatArray, k);
  if (r && typeof r === 'object') return Object.fromEntries(Object.entries(r).map(([key, v]) => [key, tileResult(v, k)]));
  return r;
}
/** The arrays of a result only (the reduced losses of S and B differ by design). */
function arraysOf(r: unknown): unknown {
  if (typeof r === 'number') return 0;
  if (r && typeof r === 'object' && !ArrayBuffer.isView(r)) return Object.fromEntries(Object.entries(r).map(([key, v]) => [key, arraysOf(v)]));
  return r;
}
/** A copy of a result's arrays. */
function copy(r: unknown): unknown {
  if (ArrayBuffer.isView(r)) return (r as FloatArray).slice();
  if (r && typeof r === 'object') return Object.fromEntries(Object.entries(r).map(([key, v]) => [key, copy(v)]));
  return r;
}
/** A fresh output view at an element offset, for `into`/`gradInto`. */
function outView(T: FloatCtor, n: number, offset: number): FloatArray {
  return new T(n + offset + 2).fill(42).subarray(offset, offset + n);
}

type Reduction = 'none' | 'mean' | 'sum';
type Ws = api.Workspace<FloatArray, Int32Array | FloatArray>;
interface CeSet {
  name: string;
  probabilities: boolean;
  /** Which labels (class indices only). */
  labels?: 'labels' | 'labelsNeg';
  /** Labels passed as number[] instead of the Int32Array. */
  plainLabels?: boolean;
  options: (C: number) => CeOptions64 & { weight?: number[] };
  /** gradOutput of 'mean'/'sum' (default 1); 'none' uses the per-sample gs when set. */
  gradOutput?: number;
}
const dyadicWeights = (C: number) => Array.from({ length: C }, (_, c) => 0.25 + (c % 7) / 4);
const CE_SETS: CeSet[] = [
  { name: 'class indices', probabilities: false, labels: 'labels', options: () => ({}) },
  { name: 'indices, weight, number[] labels', probabilities: false, labels: 'labels', plainLabels: true, options: (C) => ({ weight: dyadicWeights(C) }) },
  { name: 'indices, ignoreIndex 3 (in range)', probabilities: false, labels: 'labels', options: () => ({ ignoreIndex: 3 }) },
  {
    name: 'indices, ignoreIndex -1 + weight + labelSmoothing 0.1, gradOutput', probabilities: false, labels: 'labelsNeg', gradOutput: 0.75,
    options: (C) => ({ ignoreIndex: -1, weight: dyadicWeights(C), labelSmoothing: 0.1 }),
  },
  { name: 'indices, labelSmoothing 0.2 + zLoss 1e-3', probabilities: false, labels: 'labels', options: () => ({ labelSmoothing: 0.2, zLoss: 1e-3 }) },
  { name: 'probabilities', probabilities: true, options: () => ({}) },
  {
    name: 'probabilities, weight + labelSmoothing 0.1 + zLoss 1e-3, gradOutput', probabilities: true, gradOutput: 1.5,
    options: (C) => ({ weight: dyadicWeights(C), labelSmoothing: 0.1, zLoss: 1e-3 }),
  },
];

interface Case {
  name: string;
  /** Runs the call on inputs made of k copies of S; `out` gives output views (B only). */
  run(f: Fns, inp: Inputs, k: number, out?: (n: number) => FloatArray): unknown;
  /** The same call writing over one of its inputs (into / gradInto = an input), or none. */
  inPlace?(f: Fns, inp: Inputs, k: number): unknown;
  /** The float64 reference of S's result. */
  ref(s: Inputs, d: Dims): { result: FloatArray | number | { loss: FloatArray | number; grad: FloatArray }; reducedLoss?: (k: number) => number };
  /** The same call on a Workspace holding the inputs ([N, C] layouts), or null. */
  ws?: {
    target: 'indices' | 'probabilities';
    /** Writes the inputs into the Workspace's views. */
    fill(w: Ws, inp: Inputs): void;
    run(w: Ws, inp: Inputs, k: number): unknown;
    /** The module call whose result the Workspace's must equal. */
    same(inp: Inputs, k: number): unknown;
    /** The module's 'none' losses for ws.loss (cross-entropy), or null. */
    losses?(inp: Inputs, k: number): FloatArray;
  };
}

function cases(l: Layout, C: number): Case[] {
  const out: Case[] = [];
  const lay = (k: number) => l.opts(k);
  for (const temperature of [undefined, 0.7]) {
    const t = temperature === undefined ? {} : { temperature };
    for (const fn of ['softmax', 'logSoftmax'] as const) {
      out.push({
        name: `${fn}${temperature ? ` temperature ${temperature}` : ''}`,
        run: (f, inp, k, o) => f[fn](inp.x, { ...lay(k), ...t, ...(o ? { into: o(inp.x.length) } : {}) }),
        inPlace: (f, inp, k) => {
          const x = inp.x.slice();
          return f[fn](x, { ...lay(k), ...t, into: x });
        },
        ref: (s, d) => ({ result: (fn === 'softmax' ? softmax64 : logSoftmax64)(s.x, d, temperature ?? 1) }),
        ws: l.workspace
          ? {
            target: 'indices',
            fill: (w, inp) => w.logits.set(inp.x),
            run: (w) => w[fn](temperature === undefined ? undefined : { temperature }),
            same: (inp, k) => (api[fn] as Fn)(inp.x, { ...lay(k), ...t }),
          }
          : undefined,
      });
    }
  }
  out.push({
    name: 'logSumExp',
    run: (f, inp, k, o) => f.logSumExp(inp.x, { ...lay(k), ...(o ? { into: o(inp.x.length / C) } : {}) }),
    ref: (s, d) => ({ result: logSumExp64(s.x, d) }),
  });
  out.push({
    name: 'softmaxBackward',
    run: (f, inp, k, o) => f.softmaxBackward(inp.y, inp.g, { ...lay(k), ...(o ? { into: o(inp.y.length) } : {}) }),
    inPlace: (f, inp, k) => {
      const y = inp.y.slice();
      return f.softmaxBackward(y, inp.g, { ...lay(k), into: y });
    },
    ref: (s, d) => ({ result: softmaxBackward64(s.y, s.g, d) }),
  });
  out.push({
    name: 'logSoftmaxBackward',
    run: (f, inp, k, o) => f.logSoftmaxBackward(inp.ly, inp.g, { ...lay(k), ...(o ? { into: o(inp.ly.length) } : {}) }),
    inPlace: (f, inp, k) => {
      const g = inp.g.slice();
      return f.logSoftmaxBackward(inp.ly, g, { ...lay(k), into: g });
    },
    ref: (s, d) => ({ result: logSoftmaxBackward64(s.ly, s.g, d) }),
  });

  for (const set of CE_SETS)
    for (const reduction of ['none', 'mean', 'sum'] as Reduction[])
      for (const withGrad of [false, true]) {
        // (the loss-only kernels for the plain sets, where they differ from the fused ones)
        if (!withGrad && set !== CE_SETS[0] && set !== CE_SETS[5]) continue;
        const fn = withGrad ? 'crossEntropyWithGrad' : 'crossEntropy';
        const o64 = set.options(C);
        const target = (inp: Inputs) => (set.probabilities ? inp.q : set.plainLabels ? Array.from(inp[set.labels!]) : inp[set.labels!]);
        /** gradOutput for k copies: per-sample for 'none', K times for 'mean' (see the header). */
        const gradOutput = (inp: Inputs, k: number) =>
          reduction === 'none' ? (set.gradOutput !== undefined && withGrad ? inp.gs : undefined)
            : reduction === 'mean' ? (set.gradOutput !== undefined || k > 1 ? (set.gradOutput ?? 1) * k : undefined)
              : set.gradOutput;
        const options = (inp: Inputs, k: number) => {
          const go = gradOutput(inp, k);
          return { ...l.ceOpts(k), ...o64, reduction, ...(withGrad && go !== undefined ? { gradOutput: go } : {}) };
        };
        const wsOptions = (inp: Inputs, k: number) => {
          const { shape: _s, classes: _c, ...rest } = options(inp, k) as Record<string, unknown>;
          return rest;
        };
        out.push({
          name: `${fn} ${set.name}, ${reduction}`,
          run: (f, inp, k, o) => {
            const extra = o ? { ...(reduction === 'none' ? { into: o(inp.labels.length) } : {}), ...(withGrad ? { gradInto: o(inp.xc.length) } : {}) } : {};
            return f[fn](inp.xc, target(inp), { ...options(inp, k), ...extra });
          },
          inPlace: withGrad
            ? (f, inp, k) => {
              const x = inp.xc.slice();
              return f[fn](x, target(inp), { ...options(inp, k), gradInto: x });
            }
            : undefined,
          ref: (s, d) => {
            const go = withGrad ? gradOutput(s, 1) : undefined;
            const r = crossEntropy64(s.xc, set.probabilities ? s.q : s[set.labels!], d, set.probabilities, { ...o64, reduction, gradOutput: go });
            const result = withGrad ? { loss: r.loss, grad: r.grad } : r.loss;
            const total = r.perRow.reduce((a, b) => a + b, 0);
            return { result, reducedLoss: reduction === 'none' ? undefined : (k) => (reduction === 'sum' ? k * total : (r.loss as number)) };
          },
          ws: l.workspace
            ? {
              target: set.probabilities ? 'probabilities' : 'indices',
              fill: (w, inp) => {
                w.logits.set(inp.xc);
                w.target.set(set.probabilities ? inp.q : inp[set.labels!]);
              },
              run: (w, inp, k) => {
                const r = w[fn](wsOptions(inp, k) as never);
                return withGrad ? { loss: r, grad: w.grad } : r;
              },
              same: (inp, k) => (api[fn] as Fn)(inp.xc, target(inp), options(inp, k)),
              losses: (inp, k) => api.crossEntropy(inp.xc, target(inp) as never, { ...l.ceOpts(k), ...o64, reduction: 'none' } as never) as FloatArray,
            }
            : undefined,
        });
      }
  return out;
}

/** The loss of a cross-entropy result (a number or array, or { loss, grad }). */
function lossOf(r: unknown): unknown {
  return r !== null && typeof r === 'object' && 'loss' in r ? (r as { loss: unknown }).loss : r;
}
/** A cross-entropy result with its loss replaced. */
function withLoss(r: unknown, loss: number): unknown {
  return r !== null && typeof r === 'object' && 'loss' in r ? { ...(r as object), loss } : loss;
}

/** Expects `got` (a result of k copies of S) to be S's result tiled, bit for bit. */
function expectTiled(got: unknown, inline: unknown, k: number, what: string): void {
  expect(bitDiff(arraysOf(got), arraysOf(tileResult(inline, k))), what).toBe('');
}
/** Expects a reduced loss of k copies of S within tolerance of the reference. */
function expectLoss(got: unknown, c: ReturnType<Case['ref']>, k: number, f32: boolean, what: string): void {
  if (!c.reducedLoss) return;
  const loss = typeof got === 'number' ? got : (got as { loss: number }).loss;
  expectClose(loss, c.reducedLoss(k), f32, what);
}
/** Expects a result within tolerance of the float64 reference. */
function expectRef(got: unknown, c: ReturnType<Case['ref']>, f32: boolean, what: string): void {
  const e = c.result;
  if (typeof e === 'number' || ArrayBuffer.isView(e)) return expectClose(got as FloatArray | number, e as FloatArray | number, f32, what);
  const r = got as { loss: FloatArray | number; grad: FloatArray };
  expectClose(r.loss, e.loss, f32, `${what}: loss`);
  expectClose(r.grad, e.grad, f32, `${what}: grad`);
}

/** The pool's tuning while a test forces calls through the workers. */
const saved = { ...tuning };
function forcePool(chunkBytes: number, help: boolean): void {
  Object.assign(tuning, { minElements: 1, cutoff: 1, cores: 64, wakeBacklog: 1, chunkBytes, help });
}
afterAll(() => Object.assign(tuning, saved));

for (const b of BACKENDS) {
  describe(`execution paths give the same bytes, ${b} build`, () => {
    const pools: Pool[] = [];
    beforeAll(async () => {
      use(b);
      for (const threads of [1, 2, 3]) pools.push(await api.createPool({ threads, backend: b }));
      expect(api.backend()).toBe(b);
    });
    afterAll(async () => {
      for (const p of pools) await p.dispose();
    });

    for (const T of [Float32Array, Float64Array] as FloatCtor[]) {
      const f32 = T === Float32Array;
      for (const [li, l] of LAYOUTS.entries()) {
        const d = dimsOf(l.shape, l.axis);
        const S = makeInputs(T, l, 100 * li + (f32 ? 1 : 2));
        const B = tileInputs(S, K);
        const Sshared = sharedInputs(S);
        for (const [ci, c] of cases(l, d.C).entries()) {
          it(`${T.name} ${l.name}: ${c.name}`, async () => {
            const expected = c.ref(S, d);
            // inline, against the reference
            const inline = c.run(api, S, 1);
            expectRef(inline, expected, f32, 'inline');
            // streamed (B, into views at offsets), against inline
            let offset = 0;
            const streamed = c.run(api, B, K, (n) => outView(T, n, 1 + (offset++ % 3)));
            expectTiled(streamed, inline, K, 'streamed B vs inline S');
            expectLoss(streamed, expected, K, f32, 'streamed B: reduced loss');
            if (c.inPlace) expect(bitDiff(c.inPlace(api, B, K), streamed), 'streamed B in place vs streamed B').toBe('');
            expect(bitDiff(c.run(api, Sshared, 1), inline), 'S in SharedArrayBuffers vs inline').toBe('');
            // pooled: S in tiny chunks through every pool; B in small chunks, S in (and into)
            // SharedArrayBuffers, and S in place, through one pool per case, in turn (every pool
            // gets each in a third of the cases: it costs time). The calling thread helps in the pools of 1 and
            // 3 threads, not in the pool of 2.
            const calls = stats.calls;
            for (const [pi, p] of pools.entries()) {
              const help = p.threads !== 2;
              const at = `pool of ${p.threads}, help ${help}`;
              forcePool(1, help);
              const ps = await c.run(p as unknown as Fns, S, 1);
              Object.assign(tuning, saved);
              expect(bitDiff(ps, inline), `${at}: S vs inline`).toBe('');
              if (pi === (ci + 1) % pools.length) {
                forcePool(1, help);
                const pshared = await c.run(p as unknown as Fns, Sshared, 1, (n) => sharedOut(T, n));
                Object.assign(tuning, saved);
                expect(bitDiff(pshared, inline), `${at}: S in SharedArrayBuffers (outputs too) vs inline`).toBe('');
              }
              if (c.inPlace && pi === (ci + 2) % pools.length) {
                forcePool(1, help);
                const pin = await c.inPlace(p as unknown as Fns, S, 1);
                Object.assign(tuning, saved);
                expect(bitDiff(pin, inline), `${at}: S in place vs inline`).toBe('');
              }
              if (pi === ci % pools.length) {
                forcePool(16384, help);
                const pb = await c.run(p as unknown as Fns, B, K);
                Object.assign(tuning, saved);
                expect(bitDiff(pb, streamed), `${at}: B vs streamed`).toBe('');
              }
            }
            expect(stats.calls - calls, 'the pooled calls ran through the workers').toBe(pools.length + 2 + (c.inPlace ? 1 : 0));
            // Workspace ([N, C] layouts): S's rows at the full capacity, B's in a larger one
            if (c.ws) {
              for (const [k, inp] of [[1, S], [K, B]] as const) {
                const rows = inp.labels.length;
                const ws = api.createWorkspace({ classes: d.C, rows: k === 1 ? rows : rows + 5, dtype: f32 ? 'float32' : 'float64', target: c.ws.target });
                try {
                  if (k !== 1) ws.setRows(rows);
                  c.ws.fill(ws as Ws, inp);
                  // (copied: views into wasm memory, which the next call may grow)
                  const got = copy(c.ws.run(ws as Ws, inp, k));
                  let want = c.ws.same(inp, k);
                  if (c.ws.losses && f32 && d.C <= LOG_SPAN_MAX_C) {
                    // A reduced cross-entropy over rows of up to LOG_SPAN_MAX_C classes: the
                    // function enters a span of rows' logs as one log of their product
                    // (CE_GROUP_LOGS), a Workspace takes every row's log, so the reduced losses
                    // agree to a few ulp of float64 (README, docs/ARCHITECTURE.md); everything else
                    // bit for bit.
                    const [gl, wl] = [lossOf(got), lossOf(want)];
                    if (typeof gl === 'number' && typeof wl === 'number') {
                      expect(Math.abs(gl - wl), `Workspace of ${rows} rows: reduced loss vs the module`).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(wl));
                      want = withLoss(want, gl);
                    }
                  }
                  expect(bitDiff(got, want), `Workspace of ${rows} rows vs the module`).toBe('');
                  if (c.ws.losses) expect(bitDiff(ws.loss, c.ws.losses(inp, k)), `Workspace of ${rows} rows: ws.loss vs the 'none' losses`).toBe('');
                } finally {
                  ws.dispose();
                }
              }
            }
          });
        }
      }
    }
  });
}

// The one-chunk limit: the single-threaded calls run inline while the input fits one chunk of
// src/plan.ts CHUNK_BYTES (the small-call fast paths: at most that many bytes) and stream
// beyond it, a whole number of rows per chunk, at least one. Rows of C = chunk elements - 1, +0,
// +1 (one row per chunk, then a row larger than a chunk), and [N, 37] with N around the rows of
// one chunk: the N-row call gives the bytes of its first N - 1 rows and of its last row called
// apart, and the reference's values.
describe.each(BACKENDS)('the one-chunk limit (src/plan.ts CHUNK_BYTES), %s build', (b) => {
  for (const T of [Float32Array, Float64Array] as FloatCtor[]) {
    it(`${T.name}: rows of chunk elements - 1, + 0, + 1, and row counts around a chunk's`, () => {
      use(b);
      const f32 = T === Float32Array;
      const E = CHUNK_BYTES / T.BYTES_PER_ELEMENT;
      const R = Math.floor(E / 37);
      const shapes = [[2, E - 1], [2, E], [2, E + 1], [R - 1, 37], [R, 37], [R + 1, 37]];
      for (const [N, C] of shapes as [number, number][]) {
        const x = uniformArray(T, N * C, N + C);
        const g = uniformArray(T, N * C, N + C + 1, 1);
        const labels = Int32Array.from({ length: N }, (_, i) => (i * 7919) % C);
        const q = randomProbabilities(T, N, C, N + C + 2);
        const ops: [string, (x: FloatArray, g: FloatArray, labels: Int32Array, q: FloatArray, n: number) => unknown][] = [
          ['softmax', (x) => api.softmax(x, { classes: C })],
          ['logSoftmax', (x) => api.logSoftmax(x, { classes: C })],
          ['logSoftmax T=2', (x) => api.logSoftmax(x, { classes: C, temperature: 2 })],
          ['logSumExp', (x) => api.logSumExp(x, { classes: C })],
          ['softmaxBackward', (x, g) => api.softmaxBackward(x, g, { classes: C })],
          ['crossEntropyWithGrad indices, none', (x, _g, l) => api.crossEntropyWithGrad(x, l, { classes: C, reduction: 'none' })],
          ['crossEntropyWithGrad indices, sum', (x, _g, l) => api.crossEntropyWithGrad(x, l, { classes: C, reduction: 'sum' }).grad],
          ['crossEntropy probabilities, none', (x, _g, _l, q) => api.crossEntropy(x, q as never, { classes: C, reduction: 'none' })],
        ];
        const full = ops.map(([, op]) => op(x, g, labels, q, N));
        if (N > 1) {
          const cut = (N - 1) * C;
          for (const [i, [name, op]] of ops.entries()) {
            const head = op(x.subarray(0, cut), g.subarray(0, cut), labels.subarray(0, N - 1), q.subarray(0, cut), N - 1);
            const tail = op(x.subarray(cut), g.subarray(cut), labels.subarray(N - 1), q.subarray(cut), 1);
            const joined = (a: unknown, z: unknown) => {
              const A = a as FloatArray | { loss: FloatArray; grad: FloatArray };
              const Z = z as typeof A;
              const cat = (u: FloatArray, v: FloatArray) => {
                const w = new (u.constructor as FloatCtor)(u.length + v.length);
                w.set(u);
                w.set(v, u.length);
                return w;
              };
              return ArrayBuffer.isView(A) ? cat(A, Z as FloatArray) : { loss: cat(A.loss, (Z as typeof A & object).loss), grad: cat(A.grad, (Z as typeof A & object).grad) };
            };
            expect(bitDiff(full[i], joined(head, tail)), `[${N}, ${C}] ${name}: all rows vs the first N - 1 and the last apart`).toBe('');
          }
        }
        // the values, against the reference (the mean loss too: fast path or not)
        const d: Dims = { outer: N, C, inner: 1 };
        expectClose(full[0] as FloatArray, softmax64(x, d), f32, `[${N}, ${C}] softmax`);
        expectClose(full[3] as FloatArray, logSumExp64(x, d), f32, `[${N}, ${C}] logSumExp`);
        const e = crossEntropy64(x, labels, d, false, { reduction: 'none' });
        expectClose((full[5] as { loss: FloatArray }).loss, e.loss, f32, `[${N}, ${C}] crossEntropy loss`);
        expectClose((full[5] as { grad: FloatArray }).grad, e.grad, f32, `[${N}, ${C}] crossEntropy grad`);
        const mean = e.perRow.reduce((a, v) => a + v, 0) / N;
        expectClose(api.crossEntropy(x, labels, { classes: C }), mean, f32, `[${N}, ${C}] crossEntropy mean`);
      }
    });
  }
});
