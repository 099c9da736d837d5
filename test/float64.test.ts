// float64 exactness on every build, against double-double references (bench/baselines/reference-dd.mjs,
// ~2^-100 relative): the table-driven exp with the k-shift (assembly/exp.ts vexp_k64: exp(x - K
// ln2/64) without rounding x - max), and the exp-sum that keeps the max's own terms apart from the
// rest (reduce.ts expsum_body), so that a confident row's log-sum is log1p of its mass.
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { BACKENDS, use } from './helpers/backends.js';
import { normal, rng } from './helpers/random.js';
import * as DD from '../bench/baselines/reference-dd.mjs';

const MIN_NORMAL = 2 ** -1022;

interface Family { rows: number; C: number; gen: (r: () => number, c: number) => number; lead?: number }

/** Input families: ordinary, wide, confident (the label leads by `lead` + up to 1), offset, and
 *  rows around the k-shift's bounds (|max| = KSHIFT64_MAX_ABS = 2^24; spans past 708, where exp
 *  values fall below 2^-1022 and the rows take the flushing loops). */
const FAMILIES: Record<string, Family> = {
  'normal C=1003': { rows: 12, C: 1003, gen: (r) => 2 * normal(r) },
  'normal C=10': { rows: 64, C: 10, gen: (r) => 2 * normal(r) },
  'widths 1..9': { rows: 9, C: 0, gen: (r) => 3 * normal(r) }, // C = row index + 1 (see rowsOf)
  'wide [-80,20]': { rows: 8, C: 1003, gen: (r) => -80 + 100 * r() },
  'span > 708': { rows: 4, C: 257, gen: (r) => -720 + 720 * r() },
  'confident C=10': { rows: 64, C: 10, gen: (r) => normal(r), lead: 19 },
  'confident C=1001': { rows: 8, C: 1001, gen: (r) => normal(r), lead: 25 },
  'dominant C=37': { rows: 32, C: 37, gen: (r) => normal(r), lead: 6 },
  'offset +1e4': { rows: 8, C: 1003, gen: (r) => 1e4 + 3 * normal(r) },
  'offset -1e4 C=13': { rows: 64, C: 13, gen: (r) => -1e4 + 3 * normal(r) },
  '|max| near 2^24': { rows: 8, C: 101, gen: (r) => 16777216 + 2 * normal(r) },
  '|max| 3e7': { rows: 8, C: 101, gen: (r) => -3e7 + 2 * normal(r) },
  // every table entry j and both ends of |r| <= ln2/128: x = -(i/2) ln2/64 (i odd: a rounding tie)
  'table sweep': { rows: 2, C: 257, gen: (_r, c) => -(c / 2) * (Math.LN2 / 64) * (1 + 1e-15) },
};

function rowsOf(name: string, seed = 64): { x: Float64Array; labels: Int32Array; C: number }[] {
  const f = FAMILIES[name]!;
  const r = rng(seed + name.length * 131);
  const out = [];
  if (f.C === 0) {
    for (let i = 0; i < f.rows; i++) {
      const C = i + 1;
      const x = Float64Array.from({ length: 3 * C }, (_, c) => f.gen(r, c % C));
      out.push({ x, labels: Int32Array.from({ length: 3 }, () => Math.floor(r() * C)), C });
    }
    return out;
  }
  const x = new Float64Array(f.rows * f.C);
  const labels = new Int32Array(f.rows);
  for (let i = 0; i < f.rows; i++) {
    labels[i] = Math.floor(r() * f.C);
    for (let c = 0; c < f.C; c++) x[i * f.C + c] = f.gen(r, c);
    if (f.lead !== undefined) {
      let m = -Infinity;
      for (let c = 0; c < f.C; c++) if (c !== labels[i]) m = Math.max(m, x[i * f.C + c]!);
      x[i * f.C + labels[i]!] = m + f.lead + r();
    }
  }
  return [{ x, labels, C: f.C }];
}

/** Worst errors of our float64 results on x against the double-double references. */
function errors(x: Float64Array, labels: Int32Array, C: number) {
  const rows = x.length / C;
  const o = { classes: C };
  const p = api.softmax(x, o) as Float64Array, lp = api.logSoftmax(x, o) as Float64Array, lse = api.logSumExp(x, o) as Float64Array;
  const withGrad = api.crossEntropyWithGrad(x, labels, o);
  const loss = Number(withGrad.loss), grad = withGrad.grad as Float64Array;
  const lossOnly = Number(api.crossEntropy(x, labels, o));
  const e = { softmax: 0, flushed: 0, logSoftmax: 0, logSoftmaxNear0: 0, logSumExp: 0, loss: 0, gradN: 0, lossBitsDiffer: !Object.is(loss, lossOnly) };
  let refLoss = DD.dd(0);
  for (let i = 0; i < rows; i++) {
    const ref = DD.softmaxRow(x.subarray(i * C, (i + 1) * C));
    const t = labels[i]!;
    refLoss = DD.add(refLoss, DD.add(ref.logS, DD.neg(ref.d[t]!)));
    e.logSumExp = Math.max(e.logSumExp, DD.ulps64(lse[i]!, ref.lse));
    for (let c = 0; c < C; c++) {
      const k = i * C + c, rp = ref.p[c]!;
      if (rp.hi >= MIN_NORMAL) e.softmax = Math.max(e.softmax, DD.ulps64(p[k]!, rp));
      else e.flushed = Math.max(e.flushed, Math.abs(p[k]! - DD.toNumber(rp)) / MIN_NORMAL);
      const rl = DD.toNumber(ref.logp[c]!);
      if (Math.abs(rl) >= 2 ** -10) e.logSoftmax = Math.max(e.logSoftmax, DD.ulps64(lp[k]!, ref.logp[c]!));
      else if (rl !== 0) e.logSoftmaxNear0 = Math.max(e.logSoftmaxNear0, Math.abs(lp[k]! - rl) / Math.abs(rl));
      const g = DD.toNumber(c === t ? DD.add(rp, DD.dd(-1)) : rp) / rows;
      e.gradN = Math.max(e.gradN, Math.abs(grad[k]! - g) * rows);
    }
  }
  const rl = DD.toNumber(refLoss) / rows;
  e.loss = rl === 0 ? Math.abs(loss) : Math.abs(loss - rl) / Math.abs(rl);
  return e;
}

for (const b of BACKENDS) {
  describe(`float64 against double-double references, ${b} build`, () => {
    for (const name of Object.keys(FAMILIES)) {
      it(name, () => {
        use(b);
        for (const { x, labels, C } of rowsOf(name)) {
          const e = errors(x, labels, C);
          const at = `${name} C=${C}`;
          expect(e.softmax, `${at}: softmax ulp`).toBeLessThanOrEqual(4.5);
          expect(e.flushed, `${at}: outputs below 2^-1022, in units of 2^-1022`).toBeLessThanOrEqual(1);
          expect(e.logSoftmax, `${at}: logSoftmax ulp`).toBeLessThanOrEqual(4);
          expect(e.logSoftmaxNear0, `${at}: logSoftmax near 0, relative`).toBeLessThanOrEqual(2e-15);
          expect(e.logSumExp, `${at}: logSumExp ulp`).toBeLessThanOrEqual(2);
          expect(e.loss, `${at}: crossEntropy (mean), relative`).toBeLessThanOrEqual(4e-16);
          expect(e.gradN, `${at}: gradient x N, absolute`).toBeLessThanOrEqual(4 * 2 ** -52);
          expect(e.lossBitsDiffer, `${at}: crossEntropy and crossEntropyWithGrad give the same loss`).toBe(false);
        }
      });
    }

    it('constant rows: exactly 1/C, and -log(C) to an ulp; a single class exactly 1 and 0', () => {
      use(b);
      for (const C of [1, 2, 3, 10, 37, 1000]) {
        const x = new Float64Array(2 * C).fill(-3.25);
        x.fill(1e300, C);
        const p = api.softmax(x, { classes: C }) as Float64Array, lp = api.logSoftmax(x, { classes: C }) as Float64Array;
        for (let i = 0; i < x.length; i++) {
          expect(p[i], `C=${C} softmax[${i}]`).toBe(1 / C);
          if (C === 1) expect(lp[i], `logSoftmax[${i}]`).toBe(0);
          else expect(DD.ulps64(lp[i]!, DD.neg(DD.log(DD.dd(C)))), `C=${C} logSoftmax[${i}] ulp`).toBeLessThanOrEqual(1);
        }
      }
    });

    it('the exp at its edges: -Infinity entries give 0, NaN propagates, +Infinity gives NaN as in PyTorch', () => {
      use(b);
      const C = 19;
      const x = Float64Array.from({ length: 3 * C }, (_, i) => (i % 5) - 2);
      x[3] = -Infinity;
      x[C + 4] = NaN;
      x[2 * C + 5] = Infinity;
      const p = api.softmax(x, { classes: C }) as Float64Array;
      const ref = DD.softmaxRow(x.subarray(0, C));
      expect(p[3]).toBe(0);
      for (let c = 0; c < C; c++) if (c !== 3) expect(DD.ulps64(p[c]!, ref.p[c]!)).toBeLessThanOrEqual(4.5);
      for (let c = C; c < 3 * C; c++) expect(p[c], `softmax[${c}]`).toBeNaN();
    });
  });
}
