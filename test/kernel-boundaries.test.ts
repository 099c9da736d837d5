// Kernel boundaries: row lengths, value ranges and offsets where the kernels change
// loops or paths, through the public API with `shape: [rows, C]`, on every build, float32 and
// float64, against the plain float64 reference.
//
// The constants, and where they come from:
// - LANES = 16 / sizeof(T): 4 (f32), 2 (f64)                      assembly/simd.ts LANES
// - BLOCK = 256 elements: the blocked sums (lane partial sums per block, then a compensated f64
//   sum of the block totals)                                       assembly/simd.ts BLOCK
// - 4 * LANES (16 f32 / 8 f64) per iteration in the main loops of rmax, the exp-sum, rdot, rsum
//   and the log-softmax store, then a one-vector loop, then a scalar tail of < LANES
//                                                                  assembly/reduce.ts, softmax.ts
// - 2 * LANES (8 / 4) per iteration: vscale (the softmax's 1/sum), and cross-entropy's pass 2 with
//   label smoothing or probability targets (U = 2 * LANES); pass 3 runs 4 * LANES per iteration
//   without weights and LANES with them                          assembly/reduce.ts, cross_entropy.ts
// - short rows: f32 rows of C in [LANES, 4 * LANES] = [4, 16] in the SIMD builds take the
//   short-row passes (softmax/logSoftmax without temperature, cross-entropy without label
//   smoothing)                                                     assembly/short_rows.ts is_short_row
// - the k-shift exp (f32, no temperature, rows needing no flush): rows of any C whose |max| <=
//   KSHIFT_MAX_ABS (16384 relaxed-simd, 256 simd and scalar) and that are not constant
//   (max != min)                                                   assembly/reduce.ts
// - RR1_RANGE = 30: relaxed-simd's one-constant range reduction for rows with max - min <= 30
//                                                                  assembly/reduce.ts
// - NO_CUTOFF_RANGE = 87 (f32) / 708 (f64): rows with (max - min) / temperature up to it skip the
//   flush to zero (in_exp_range), and only they may take the k-shift
//                                                                  assembly/exp.ts, reduce.ts
// - the flush to zero itself: exp(x - max) = 0 below F32_CUTOFF = ln(2^-126) = -87.336 /
//   F64_CUTOFF = ln(2^-1022) = -708.396 (f32 rows wider than 87 take vexp_k_wide instead, whose
//   results go down to the subnormal range: test/edges.test.ts)   assembly/exp.ts
// - C = 0: `classes: 0` is a RangeError (options.classes must be a positive integer); an empty
//   class axis through `shape` is allowed (empty results, logSumExp -Infinity, zero losses)
//                                                                  src/layout.ts, API.md
// Offsets: inputs, targets and outputs (into / gradInto) are views starting at element offsets
// 0..3 of larger buffers, in turn across the calls.
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { BACKENDS, use } from './helpers/backends.js';
import { randomProbabilities, rng, type FloatArray, type FloatCtor } from './helpers/random.js';
import {
  crossEntropy64, logSoftmax64, logSoftmaxBackward64, logSumExp64, softmax64, softmaxBackward64, type CeOptions64, type Dims,
} from './helpers/reference.js';
import { expectClose, expectError } from './reliability/common.js';

/** Row lengths: 1 .. 2 * LANES and the short rows 4..16 with their neighbours, 4 * LANES +- 1
 *  (f32 15..17, f64 7..9), 8 * LANES +- 1, BLOCK +- 1, BLOCK + 4 * LANES - 1 ..
 *  + 1 (a block, then the vector loops' remainders), 2 * BLOCK +- 1. */
const WIDTHS = [...Array.from({ length: 17 }, (_, i) => i + 1), 31, 32, 33, 255, 256, 257, 271, 272, 273, 511, 512, 513];
const ROWS = 3;

/** Offsets 0..3 in turn: each call's arrays start at a different element offset. */
let turn = 0;
const nextOffset = () => turn++ % 4;
/** A copy of `a` in a view that starts `offset` elements into a larger buffer of the same type. */
function at<A extends FloatArray | Int32Array>(a: A, offset = nextOffset()): A {
  const C = a.constructor as new (n: number) => A;
  const big = new C(a.length + offset + 3).fill(-7 as never);
  const v = big.subarray(offset, offset + a.length) as A;
  v.set(a as never);
  return v;
}
/** An output view (filled with 42) at the next offset. */
const out = (T: FloatCtor, n: number): FloatArray => at(new T(n).fill(42));

type Dist = 'normal' | 'wide' | 'constant' | 'masked tail' | 'nan tail';
/** ROWS rows of C values of a distribution. 'wide' spans 120 (beyond NO_CUTOFF_RANGE for f32:
 *  the wide path, with some exps below 2^-126); 'masked tail' puts -Infinity on the last element (in
 *  the scalar tail or the last vector), 'nan tail' a NaN there (the row's results are NaN). */
function rows(T: FloatCtor, C: number, dist: Dist, seed: number): FloatArray {
  const r = rng(seed);
  const x = new T(ROWS * C);
  for (let i = 0; i < x.length; i++) {
    x[i] = dist === 'wide' ? (r() - 0.5) * (T === Float32Array ? 120 : 1000) : dist === 'constant' ? 2.5 : (r() - 0.5) * 8;
  }
  if (dist === 'masked tail' && C > 1) x[C - 1] = -Infinity; // first row
  if (dist === 'nan tail') x[2 * C - 1] = NaN; // second row
  return x;
}

/** Float32 softmax to within 5 * (1 + |x - max|) ulp of the reference value: the f32 rounding of
 *  an exp argument x - max costs up to ~|x - max| ulp of its exp, and the exp, sum and scale a
 *  few more (measured worst 4.0 on every build, over row lengths 2..1000, ranges 1..700 and
 *  maxima up to 16000; the general tolerance allows ~170 ulp). Values below 2^-120 (flushed or
 *  subnormal) are left to the general tolerance. Float64 is not checked this way: there the
 *  reference's own plain sum is no more accurate than the kernels'. */
function expectSoftmaxUlps(p: FloatArray, x: FloatArray, C: number, what: string): void {
  const e = softmax64(x, { outer: x.length / C, C, inner: 1 });
  for (let r = 0; r < x.length / C; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[r * C + c]!);
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      if (!(e[i]! >= 2 ** -120)) continue;
      const ulp = 2 ** (Math.floor(Math.log2(e[i]!)) - 23);
      const bound = 5 * (1 + Math.abs(x[i]! - m)) * ulp;
      if (!(Math.abs(p[i]! - e[i]!) <= bound)) {
        expect.fail(`${what}: softmax[${i}] = ${p[i]}, reference ${e[i]}: off by ${(Math.abs(p[i]! - e[i]!) / ulp).toFixed(1)} ulp (x - max = ${x[i]! - m}, bound ${(bound / ulp).toFixed(1)} ulp)`);
      }
    }
  }
}

/** Checks every operation on the input x ([ROWS', C] rows) against the reference. */
function checkAll(T: FloatCtor, x: FloatArray, C: number, what: string, seed: number): void {
  const f32 = T === Float32Array;
  const n = x.length;
  const N = n / C;
  const d: Dims = { outer: N, C, inner: 1 };
  const shape = [N, C];
  for (const temperature of [undefined, 0.5, 3]) {
    const t = temperature ?? 1;
    const o = temperature === undefined ? {} : { temperature };
    const p = api.softmax(at(x), { shape, ...o, into: out(T, n) });
    expectClose(p, softmax64(x, d, t), f32, `${what}: softmax T=${t}`);
    if (f32 && temperature === undefined) expectSoftmaxUlps(p, x, C, what);
    expectClose(api.logSoftmax(at(x), { shape, ...o }), logSoftmax64(x, d, t), f32, `${what}: logSoftmax T=${t}`);
  }
  expectClose(api.logSumExp(at(x), { shape, into: out(T, N) }), logSumExp64(x, d), f32, `${what}: logSumExp`);
  // The backward passes take y = softmax / logSoftmax (of the finite rows, rounded to the type).
  const r = rng(seed);
  const g = T.from(Array.from({ length: n }, () => r() * 2 - 1));
  const xf = x.map((v) => (Number.isFinite(v) ? v : 0)) as FloatArray;
  const y = T.from(softmax64(xf, d));
  const ly = T.from(logSoftmax64(xf, d));
  expectClose(api.softmaxBackward(at(y), at(g), { shape, into: out(T, n) }), softmaxBackward64(y, g, d), f32, `${what}: softmaxBackward`);
  expectClose(api.logSoftmaxBackward(at(ly), at(g), { shape }), logSoftmaxBackward64(ly, g, d), f32, `${what}: logSoftmaxBackward`);
  // Cross-entropy: labels at the first, the last and a middle class; a masked (-Infinity) class
  // is never a label here (its loss would be +Infinity, also with label smoothing).
  const labels = Int32Array.from({ length: N }, (_, i) => {
    let c = [C - 1, 0, C >> 1][i % 3]!;
    if (x[i * C + c] === -Infinity) c = 0;
    return c;
  });
  const weight = Array.from({ length: C }, (_, c) => 0.5 + (c % 3) / 2);
  const q = randomProbabilities(T, N, C, seed + 1);
  const masked = Array.from(x).some((v) => v === -Infinity);
  const sets: [string, boolean, CeOptions64][] = [
    ['indices', false, {}],
    ['indices, weight', false, { weight }],
    ['indices, labelSmoothing 0.1 + weight', false, { labelSmoothing: 0.1, weight }],
    ['indices, zLoss 1e-2', false, { zLoss: 1e-2 }],
    ['probabilities', true, {}],
    ['probabilities, labelSmoothing 0.2 + weight', true, { labelSmoothing: 0.2, weight }],
  ];
  for (const [name, probabilities, o] of sets) {
    // (a mask with smoothing or probability mass on it is +Infinity, not a boundary of interest)
    if (masked && (probabilities || o.labelSmoothing)) continue;
    const target = probabilities ? at(q) : at(labels);
    const e = crossEntropy64(x, probabilities ? q : labels, d, probabilities, { ...o, reduction: 'none' });
    const loss = api.crossEntropy(at(x), target as never, { shape, ...o, reduction: 'none', into: out(T, N) } as never) as FloatArray;
    expectClose(loss, e.loss, f32, `${what}: crossEntropy ${name}`);
    const wg = api.crossEntropyWithGrad(at(x), target as never, { shape, ...o, reduction: 'none', gradInto: out(T, n) } as never);
    expectClose(wg.loss as FloatArray, e.loss, f32, `${what}: crossEntropyWithGrad ${name}: loss`);
    expectClose(wg.grad, e.grad, f32, `${what}: crossEntropyWithGrad ${name}: grad`);
  }
}

describe.each(BACKENDS)('%s build', (b) => {
  for (const T of [Float32Array, Float64Array] as FloatCtor[]) {
    it(`${T.name}: row lengths ${WIDTHS.join(', ')}; normal, wide, constant rows, -Infinity or NaN in the tail`, () => {
      use(b);
      for (const C of WIDTHS)
        for (const [k, dist] of (['normal', 'wide', 'constant', 'masked tail', 'nan tail'] as Dist[]).entries()) {
          checkAll(T, rows(T, C, dist, 1000 * C + k), C, `C=${C} ${dist}`, C + k);
        }
    });

    it(`${T.name}: ranges and magnitudes around RR1_RANGE (30), NO_CUTOFF_RANGE and the flush cutoff, KSHIFT_MAX_ABS (256, 16384), for C from 2 to 257`, () => {
      use(b);
      const f32 = T === Float32Array;
      const ulp = f32 ? 2 ** -8 : 2 ** -30; // "a little": well above the values' spacing
      // max - min of a row (0: a constant row)
      const ranges = f32
        ? [0, 30 - ulp, 30, 30 + ulp, 87 - ulp, 87, 87 + ulp, 87.33, 87.34, 120]
        : [0, 30 - ulp, 30, 30 + ulp, 708 - ulp, 708, 708 + ulp, 708.39, 708.4, 800];
      // the row's max
      const maxima = [0, 3.5, 256 - ulp, 256, 256 + ulp, -256 - ulp, 16384 - 1, 16384, 16384 + 2, -16384 - 2, 20000];
      for (const C of [2, 7, 16, 255, 256, 257]) {
        const N = ranges.length * maxima.length;
        const x = new T(N * C);
        const r = rng(C);
        let row = 0;
        for (const m of maxima)
          for (const R of ranges) {
            const base = row * C;
            const lo = m - R;
            for (let c = 0; c < C; c++) x[base + c] = lo + r() * R;
            // the max and the min at positions that move through the vectors and the tail
            const pm = (row * 5) % C;
            let pn = (row * 3 + 1) % C;
            if (pn === pm) pn = (pn + 1) % C;
            x[base + pm] = m;
            if (C > 1) x[base + pn] = lo;
            for (let c = 0; c < C; c++) x[base + c] = Math.min(Math.max(x[base + c]!, lo), m); // (rounding to T kept them inside)
            row++;
          }
        // every row's range is what it says (up to the rounding of lo to T)
        for (let i = 0; i < N; i++) {
          const v = Array.from(x.subarray(i * C, (i + 1) * C));
          const R = ranges[i % ranges.length]!;
          if (C > 1) expect(Math.abs(Math.max(...v) - Math.min(...v) - R), `row ${i} range`).toBeLessThanOrEqual(f32 ? 2 ** -9 : 1e-9);
        }
        checkAll(T, x, C, `C=${C} ranges x maxima`, C);
      }
    });

    it(`${T.name}: exact results: a constant row gives 1/C, a single-class row 1, 0 and x, at every length and magnitude`, () => {
      use(b);
      // A constant row takes none of the k-shift paths (max = min): every exp(x - max) is exactly 1,
      // their sum exactly C. One class: exp(0) = 1, log(1) = 0, whatever path.
      const round = (v: number) => T.of(v)[0]!;
      for (const C of WIDTHS)
        for (const v of [0, 2.5, -7, 255, 256.5, 300, 16384, -20000, 1e6]) {
          const x = new T(ROWS * C).fill(v);
          const shape = [ROWS, C];
          for (const temperature of [undefined, 0.5]) {
            const p = api.softmax(x, { shape, temperature });
            expect(p.every((e) => e === round(1 / C)), `softmax of a constant row, C=${C}, x=${v}: ${p[0]} vs ${round(1 / C)}`).toBe(true);
          }
          expectClose(api.logSumExp(x, { shape }), Array(ROWS).fill(v + Math.log(C)), T === Float32Array, `logSumExp of a constant row, C=${C}, x=${v}`);
          expectClose(api.logSoftmax(x, { shape }), Array(ROWS * C).fill(-Math.log(C)), T === Float32Array, `logSoftmax of a constant row, C=${C}, x=${v}`);
        }
      for (const v of [0.75, -3.25, 256, 16385, -1e6]) {
        const x = T.from([v, v / 2, -v, v * 3]);
        const shape = [4, 1];
        expect(Array.from(api.softmax(x, { shape }))).toEqual([1, 1, 1, 1]);
        expect(Array.from(api.softmax(x, { shape, temperature: 0.3 }))).toEqual([1, 1, 1, 1]);
        expect(Array.from(api.logSoftmax(x, { shape })).map((e) => e + 0)).toEqual([0, 0, 0, 0]);
        expect(Array.from(api.logSumExp(x, { shape }))).toEqual(Array.from(x));
        const r = api.crossEntropyWithGrad(x, [0, 0, 0, 0], { shape });
        expect(r.loss).toBe(0);
        expect(Array.from(r.grad).map((e) => e + 0)).toEqual([0, 0, 0, 0]);
      }
    });

    it(`${T.name}: inputs and outputs at element offsets 1, 2, 3 give the aligned call's bytes`, () => {
      use(b);
      for (const C of [1, 3, 4, 5, 9, 16, 17, 257]) {
        const x = rows(T, C, 'normal', C);
        const n = x.length;
        const labels = Int32Array.from({ length: ROWS }, (_, i) => (i * 7) % C);
        const shape = [ROWS, C];
        const want = {
          softmax: api.softmax(x, { shape }),
          logSumExp: api.logSumExp(x, { shape }),
          ce: api.crossEntropyWithGrad(x, labels, { shape, reduction: 'none', labelSmoothing: 0.05 }),
        };
        const d: Dims = { outer: ROWS, C, inner: 1 };
        expectClose(want.softmax, softmax64(x, d), T === Float32Array, `C=${C}: softmax`);
        for (const offset of [1, 2, 3]) {
          const into = at(new T(n), offset);
          expect(api.softmax(at(x, offset), { shape, into })).toBe(into);
          expect(Array.from(into), `softmax C=${C} offset ${offset}`).toEqual(Array.from(want.softmax));
          expect(Array.from(api.logSumExp(at(x, offset), { shape, into: at(new T(ROWS), offset) }))).toEqual(Array.from(want.logSumExp));
          const xi = at(x, offset);
          api.softmax(xi, { shape, into: xi }); // in place at an offset
          expect(Array.from(xi)).toEqual(Array.from(want.softmax));
          const r = api.crossEntropyWithGrad(at(x, offset), at(labels, offset), { shape, reduction: 'none', labelSmoothing: 0.05, into: at(new T(ROWS), offset), gradInto: at(new T(n), offset) });
          expect(Array.from(r.loss)).toEqual(Array.from(want.ce.loss));
          expect(Array.from(r.grad)).toEqual(Array.from(want.ce.grad));
        }
      }
    });
  }

  it('C = 0: `classes: 0` is a RangeError; an empty class axis through `shape` gives empty results', () => {
    use(b);
    for (const T of [Float32Array, Float64Array] as FloatCtor[]) {
      const empty = new T(0);
      expectError(() => api.softmax(empty, { classes: 0 }), RangeError, 'softmax', ['options.classes', '(got 0)']);
      expectError(() => api.logSumExp(empty, { classes: 0 }), RangeError, 'logSumExp', ['options.classes']);
      expectError(() => api.crossEntropy(empty, [], { classes: 0 }), RangeError, 'crossEntropy', ['options.classes']);
      expectError(() => api.createWorkspace({ classes: 0, rows: 3 }), RangeError, 'createWorkspace', ['options.classes']);
      const shape = [3, 0];
      expect(api.softmax(empty, { shape })).toEqual(new T(0));
      expect(api.logSoftmax(empty, { shape, temperature: 2 })).toEqual(new T(0));
      expect(api.softmaxBackward(empty, new T(0), { shape })).toEqual(new T(0));
      expect(api.logSoftmaxBackward(empty, new T(0), { shape })).toEqual(new T(0));
      // torch.logsumexp over an empty axis is -Infinity
      expect(Array.from(api.logSumExp(empty, { shape }))).toEqual([-Infinity, -Infinity, -Infinity]);
      // probabilities over no classes: each sample's loss is an empty sum, 0
      const p = api.crossEntropyWithGrad(empty, new T(0), { shape, reduction: 'none' });
      expect(Array.from(p.loss)).toEqual([0, 0, 0]);
      expect(p.grad).toEqual(new T(0));
      expect(api.crossEntropy(empty, new T(0), { shape, reduction: 'sum' })).toBe(0);
      // class indices: no label can be in [0, 0); ignored samples only
      expectError(() => api.crossEntropy(empty, [0, 0, 0], { shape }), RangeError, 'crossEntropy', ['target[0]', '[0, 0)']);
      expect(api.crossEntropy(empty, [-100, -100, -100], { shape, reduction: 'sum' })).toBe(0);
      expect(api.crossEntropy(empty, [-100, -100, -100], { shape })).toBeNaN(); // a mean over nothing
      // and the next call works
      expectClose(api.softmax(T.from([1, 2, 3]), { shape: [1, 3] }), softmax64([1, 2, 3], { outer: 1, C: 3, inner: 1 }), T === Float32Array, 'after');
    }
  });
});
