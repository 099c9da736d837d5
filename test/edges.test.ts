// Exactness at the edges (float32), on every build, against float64 references written here: the
// reference takes log1p of the off-max mass (the max term contributes exactly 1), so it is exact
// to float64 rounding also where the row sum is near 1.
//
// Wide rows: rows spanning more than NO_CUTOFF_RANGE (87), where some exp(x - max) fall below the
// smallest normal float 2^-126. Their exp values come from the k-shift of the other rows, with
// 2^(n - k) applied in two factors so that results down to 2^-149 are subnormal floats rounded
// once (assembly/exp.ts vexp_k_wide, reduce.ts expsum_wide), not 0. Rows with |max| above
// KSHIFT_WIDE_MAX_ABS (176 simd and scalar, 16384 relaxed-simd) shift by max itself.
// Short rows (4..16 classes) in the SIMD builds take the k-shift too (assembly/short_rows.ts), and
// the general passes where they span more than 87, so the same bounds hold for them.
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { BACKENDS, use } from './helpers/backends.js';
import { normal, rng } from './helpers/random.js';

/** float64 softmax, log-softmax and logsumexp of each row of x (f32 values), with log1p of the
 *  off-max mass. */
function reference(x: Float32Array, C: number) {
  const rows = x.length / C;
  const p = new Float64Array(x.length), lp = new Float64Array(x.length), lse = new Float64Array(rows);
  const max = new Float64Array(rows), logS = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let m = -Infinity, im = 0;
    for (let c = 0; c < C; c++) if (x[o + c]! > m) (m = x[o + c]!), (im = c);
    let mass = 0;
    for (let c = 0; c < C; c++) if (c !== im) mass += Math.exp(x[o + c]! - m);
    max[r] = m;
    logS[r] = Math.log1p(mass);
    lse[r] = m + logS[r]!;
    for (let c = 0; c < C; c++) {
      p[o + c] = Math.exp(x[o + c]! - m) / (1 + mass);
      lp[o + c] = x[o + c]! - m - logS[r]!;
    }
  }
  return { p, lp, lse, max, logS };
}

const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);
const SUBNORMAL = 2 ** -149;

/** Softmax errors: worst relative error over outputs >= 2^-126, worst |out - ref| in units of
 *  2^-149 below, and how many reference values lie in [2^-149, 2^-126) (so a test knows it saw
 *  some). (Relative, not ulp of the reference's binade: the exp polynomial alone is up to 2.4 *
 *  2^-23 relative, which is up to 4.8 of those ulp near the top of a binade; 1/sum rounded to
 *  float32 and the product add up to 0.5 * 2^-23 each.) */
function softmaxErrors(got: Float32Array, ref: Float64Array) {
  let rel = 0, subs = 0, nSub = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = ref[i]!, v = got[i]!;
    if (Number.isNaN(v)) return { rel: Infinity, subs: Infinity, nSub };
    if (e >= 2 ** -126) rel = Math.max(rel, Math.abs(v - e) / e);
    else {
      subs = Math.max(subs, Math.abs(v - e) / SUBNORMAL);
      if (e >= SUBNORMAL) nSub++;
    }
  }
  return { rel, subs, nSub };
}

/** Log-softmax errors: worst ulp where |ref| >= 2^-10, worst relative error below (near 0: a
 *  confident row's max element), and how many lay below. */
function logSoftmaxErrors(got: Float32Array, ref: Float64Array) {
  let ulps = 0, rel = 0, nNear0 = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = ref[i]!, v = got[i]!;
    if (Math.abs(e) >= 2 ** -10) ulps = Math.max(ulps, Math.abs(v - e) / ulp(e));
    else if (e !== 0) {
      rel = Math.max(rel, Math.abs(v - e) / Math.abs(e));
      nNear0++;
    } else if (v !== 0) rel = Infinity;
  }
  return { ulps, rel, nNear0 };
}

/** Worst logSumExp error: in ulp, or in units of 2^-149 where the reference is below 2^-126. */
function logSumExpError(got: Float32Array, ref: Float64Array): number {
  let worst = 0;
  for (let r = 0; r < ref.length; r++) {
    const e = ref[r]!;
    worst = Math.max(worst, Math.abs(e) >= 2 ** -126 ? Math.abs(got[r]! - e) / ulp(e) : Math.abs(got[r]! - e) / SUBNORMAL);
  }
  return worst;
}

/** rows x C logits uniform in [lo, hi] (each row also holds lo and hi, so it spans hi - lo). */
function uniformRows(rows: number, C: number, lo: number, hi: number, seed: number): Float32Array {
  const rand = rng(seed);
  const x = Float32Array.from({ length: rows * C }, () => lo + (hi - lo) * rand());
  for (let r = 0; r < rows; r++) {
    x[r * C + ((r * 7) % C)] = hi;
    x[r * C + ((r * 7 + 1) % C)] = lo;
  }
  return x;
}

/** The wide families: [name, rows, C, logits]. */
function wideFamilies(): [string, number, Float32Array][] {
  const out: [string, number, Float32Array][] = [];
  for (const C of [4, 10, 16, 17, 33, 64, 95, 100, 255, 256, 1003]) {
    out.push([`[-80, 20] C=${C}`, C, uniformRows(16, C, -80, 20, C)]);
    out.push([`[-200, 50] C=${C}`, C, uniformRows(16, C, -200, 50, C + 1)]);
  }
  // Spanning less than 87 (no exp below 2^-126), x - max still far from exact in float32.
  for (const C of [17, 33, 64, 95]) out.push([`[-66, 20] C=${C}`, C, uniformRows(16, C, -66, 20, C + 2)]);
  // Subnormal outputs: a 0 leads, the rest in [-104, -88] (every other probability subnormal).
  const C = 1003, rand = rng(3);
  const sub = Float32Array.from({ length: 8 * C }, () => -104 + 16 * rand());
  for (let r = 0; r < 8; r++) sub[r * C + r] = 0;
  out.push(['subnormal outputs C=1003', C, sub]);
  const sub10 = Float32Array.from({ length: 64 * 10 }, () => -104 + 16 * rand());
  for (let r = 0; r < 64; r++) sub10[r * 10 + (r % 10)] = 0;
  out.push(['subnormal outputs C=10', 10, sub10]);
  // |max| beyond KSHIFT_WIDE_MAX_ABS (176 simd/scalar; 16384 relaxed-simd): the shift by max.
  out.push(['[180, 300] C=257', 257, uniformRows(8, 257, 180, 300, 5)]);
  out.push(['[-300, -180] C=257', 257, uniformRows(8, 257, -300, -180, 6)]);
  out.push(['[19900, 20020] C=300', 300, uniformRows(8, 300, 19900, 20020, 7)]);
  out.push(['[180, 300] C=10', 10, uniformRows(8, 10, 180, 300, 8)]);
  out.push(['[19900, 20020] C=13', 13, uniformRows(8, 13, 19900, 20020, 9)]);
  return out;
}

describe.each(BACKENDS)('%s build: wide rows', (backend) => {
  it.each(wideFamilies())('softmax of %s: within 3.5 * 2^-23 relative, subnormal outputs within 2^-148', (_name, C, x) => {
    use(backend);
    const ref = reference(x, C);
    const e = softmaxErrors(api.softmax(x, { classes: C }) as Float32Array, ref.p);
    expect(e.rel).toBeLessThanOrEqual(3.5 * 2 ** -23);
    expect(e.subs).toBeLessThanOrEqual(2);
    if (C === 1003) expect(e.nSub).toBeGreaterThan(100);
    if (_name === 'subnormal outputs C=10') expect(e.nSub).toBeGreaterThan(200);
  });

  it.each(wideFamilies())('logSoftmax and logSumExp of %s: <= 4 and 2 ulp', (_name, C, x) => {
    use(backend);
    const ref = reference(x, C);
    expect(logSoftmaxErrors(api.logSoftmax(x, { classes: C }) as Float32Array, ref.lp).ulps).toBeLessThanOrEqual(4);
    expect(logSumExpError(api.logSumExp(x, { classes: C }) as Float32Array, ref.lse)).toBeLessThanOrEqual(2);
  });

  it('crossEntropyWithGrad of wide rows: subnormal probabilities reach the gradient', () => {
    use(backend);
    const C = 1003, rows = 4;
    const x = uniformRows(rows, C, -110, 0, 11);
    const labels = Int32Array.from([3, 500, 1000, 77]);
    const { grad } = api.crossEntropyWithGrad(x, labels, { classes: C, reduction: 'sum' });
    const ref = reference(x, C);
    let nSub = 0;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < C; c++) {
        const i = r * C + c;
        const e = ref.p[i]! - (c === labels[r] ? 1 : 0);
        if (Math.abs(e) >= 2 ** -126) expect(Math.abs(grad[i]! - e) / ulp(e), `row ${r} class ${c}`).toBeLessThanOrEqual(8);
        else {
          expect(Math.abs(grad[i]! - e), `row ${r} class ${c}`).toBeLessThanOrEqual(2 * SUBNORMAL);
          if (e >= SUBNORMAL) nSub++;
        }
      }
    expect(nSub).toBeGreaterThan(100);
  });

  it('wide rows with -Infinity and NaN: 0 where masked, NaN rows stay NaN', () => {
    use(backend);
    const C = 40;
    const x = uniformRows(2, C, -100, 10, 12);
    x[5] = -Infinity;
    x[C + 9] = NaN;
    const p = api.softmax(x, { classes: C }) as Float32Array;
    expect(p[5]).toBe(0);
    const ref = reference(x.subarray(0, C), C);
    const e = softmaxErrors(p.subarray(0, C), ref.p.map((v, i) => (i === 5 ? 0 : v)));
    expect(e.rel).toBeLessThanOrEqual(3.5 * 2 ** -23);
    expect(e.subs).toBeLessThanOrEqual(2);
    for (let c = 0; c < C; c++) expect(p[C + c]).toBeNaN();
  });
});

// Confident rows: the max term contributes exactly its unit to the row sum, and the rest (the
// off-max mass) can lie far below float32's resolution of that 1. Where the sum relative to the
// max term is below NEAR1_SUM (2; 1.25 for short rows), log-softmax and logSumExp take log1p of
// the mass summed apart (assembly/reduce.ts log_expsum_near1*), and so does the loss of a row
// whose label is a max.

/** rows x C logits normal(0, 1), with the label's logit leading the others by lead + [0, 1). */
function confidentRows(rows: number, C: number, lead: number, seed: number, offset = 0) {
  const rand = rng(seed);
  const x = Float32Array.from({ length: rows * C }, () => offset + normal(rand));
  const labels = Int32Array.from({ length: rows }, () => Math.floor(rand() * C));
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) if (c !== labels[r]) m = Math.max(m, x[r * C + c]!);
    x[r * C + labels[r]!] = m + lead + rand();
  }
  return { x, labels };
}

/** float64 mean cross-entropy, with log1p of the off-max mass. */
function crossEntropyRef(x: Float32Array, labels: Int32Array, C: number): number {
  const { max, logS } = reference(x, C);
  let sum = 0;
  // (max - x[t]) + log1p(mass): lse - x[t] would cancel the leading digits of a confident row
  for (let r = 0; r < labels.length; r++) sum += max[r]! - x[r * C + labels[r]!]! + logS[r]!;
  return sum / labels.length;
}

/** float64 mean cross-entropy and its gradient with label smoothing eps and class weights w (or
 *  none), for class indices or probability targets (PyTorch's formulas): each row's loss is
 *  sum_c k[c] * (lse - x[c]), with k[c] = w[c] * (q[c] * (1 - eps) + eps / C) for probabilities
 *  and (1 - eps) * w[t] * [c = t] + eps / C * w[c] for label t, formed as sum_c k[c] * (max - x[c])
 *  + log1p(mass) * sum_c k[c]; its gradient is sum(k) * p - k, both over the mean's denominator
 *  (the rows for probabilities, sum of w[t] for indices). */
function lossOptionsRef(x: Float32Array, target: Int32Array | Float32Array, C: number, eps: number, w?: Float32Array) {
  const { p, max, logS } = reference(x, C);
  const rows = x.length / C, prob = target instanceof Float32Array;
  const grad = new Float64Array(x.length);
  let sum = 0, denominator = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * C, t = prob ? -1 : target[r]!;
    const k = Array.from({ length: C }, (_, c) => {
      const wc = w ? w[c]! : 1;
      return prob ? wc * (target[o + c]! * (1 - eps) + eps / C) : (c === t ? (1 - eps) * wc : 0) + (eps / C) * wc;
    });
    const K = k.reduce((a, b) => a + b, 0);
    for (let c = 0; c < C; c++) {
      sum += k[c]! * (max[r]! - x[o + c]!);
      grad[o + c] = K * p[o + c]! - k[c]!;
    }
    sum += logS[r]! * K;
    denominator += prob ? 1 : w ? w[t]! : 1;
  }
  for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! / denominator;
  return { loss: sum / denominator, grad, denominator };
}

/** The confident families: [name, C, rows, lead, offset]. Leads from a 1e-3 loss to ~1e-13. */
const CONFIDENT: [string, number, number, number, number][] = [
  ['C=10 lead 8', 10, 64, 8, 0], ['C=10 lead 19', 10, 64, 19, 0], ['C=10 lead 30', 10, 64, 30, 0],
  ['C=13 lead 5 offset 1e4', 13, 64, 5, 1e4], ['C=16 lead 2', 16, 64, 2, 0], ['C=17 lead 12', 17, 16, 12, 0],
  ['C=40 lead 22', 40, 16, 22, 0], ['C=95 lead 16', 95, 16, 16, 0],
  ['C=100 lead 1', 100, 16, 1, 0], ['C=100 lead 20', 100, 16, 20, 0], ['C=1001 lead 25', 1001, 8, 25, 0], ['C=1003 lead 10 offset -1e4', 1003, 8, 10, -1e4],
  ['C=32003 lead 30', 32003, 2, 30, 0],
];

describe.each(BACKENDS)('%s build: confident rows', (backend) => {
  it.each(CONFIDENT)('%s: logSoftmax <= 4 ulp (relative 1e-5 near 0), logSumExp <= 2 ulp, loss relative 1e-6', (_name, C, rows, lead, offset) => {
    use(backend);
    const { x, labels } = confidentRows(rows, C, lead, C + lead, offset);
    const ref = reference(x, C);
    const lp = logSoftmaxErrors(api.logSoftmax(x, { classes: C }) as Float32Array, ref.lp);
    expect(lp.ulps).toBeLessThanOrEqual(4);
    expect(lp.rel).toBeLessThanOrEqual(1e-5);
    expect(logSumExpError(api.logSumExp(x, { classes: C }) as Float32Array, ref.lse)).toBeLessThanOrEqual(2);
    const want = crossEntropyRef(x, labels, C);
    const rel = (v: number) => Math.abs(v - want) / want;
    const loss = api.crossEntropy(x, labels, { classes: C }) as number;
    expect(rel(loss)).toBeLessThanOrEqual(1e-6);
    // the same bits with the gradient (whose pass computes the mass from the exp values it stored)
    expect(api.crossEntropyWithGrad(x, labels, { classes: C }).loss).toBe(loss);
    const none = api.crossEntropy(x, labels, { classes: C, reduction: 'none' }) as Float32Array;
    expect(api.crossEntropyWithGrad(x, labels, { classes: C, reduction: 'none' }).loss).toEqual(none);
    // one row at a time (the one-row paths), and the gradient written over the logits (the mass
    // then comes from the stored exp values)
    for (let r = 0; r < Math.min(rows, 4); r++) {
      const xr = x.slice(r * C, (r + 1) * C), lr = labels.subarray(r, r + 1);
      const wantR = crossEntropyRef(xr, lr, C);
      expect(Math.abs((api.crossEntropy(xr, lr, { classes: C }) as number) - wantR) / wantR).toBeLessThanOrEqual(1e-6);
      const inPlace = xr.slice();
      expect(Math.abs((api.crossEntropyWithGrad(inPlace, lr, { classes: C, gradInto: inPlace }).loss as number) - wantR) / wantR).toBeLessThanOrEqual(1e-6);
    }
    const inPlace = x.slice();
    expect(api.crossEntropyWithGrad(inPlace, labels, { classes: C, gradInto: inPlace }).loss).toBe(loss);
  });

  // The loss options take the same exp pass and the same near-1 log as the default loss
  // (assembly/cross_entropy.ts ce_row_expsum, ce_row_logs), with their target terms summed in f64
  // (ce_target_terms): a one-hot probability target on a confident row is a loss of ~1e-8 whose
  // log(sum) must be log1p of the mass, and a smoothing of 1e-5 adds terms far below the 1 of the
  // label's target.
  it.each(CONFIDENT)('%s: label smoothing, weights and probability targets: loss relative 1e-6, gradient x N <= 2e-7', (_name, C, rows, lead, offset) => {
    use(backend);
    const { x, labels } = confidentRows(rows, C, lead, C + lead, offset);
    const weight = Float32Array.from({ length: C }, (_, c) => 0.5 + (c % 3) * 0.25);
    const oneHot = new Float32Array(rows * C);
    labels.forEach((t, r) => (oneHot[r * C + t] = 1));
    const soft = oneHot.map((v) => (v ? 0.99 : 0.01 / (C - 1)));
    const cases: [string, Int32Array | Float32Array, { labelSmoothing?: number; weight?: Float32Array }][] = [
      ['no options', labels, {}],
      ['smoothing 1e-5', labels, { labelSmoothing: 1e-5 }],
      ['smoothing 0.1', labels, { labelSmoothing: 0.1 }],
      ['smoothing 1e-3, weight', labels, { labelSmoothing: 1e-3, weight }],
      ['one-hot probabilities', oneHot, {}],
      ['one-hot probabilities, smoothing 1e-3', oneHot, { labelSmoothing: 1e-3 }],
      ['soft probabilities, weight', soft, { weight }],
    ];
    // (one call per target type: the overloads take one or the other)
    type Opts = api.CrossEntropyOptions<Float32Array> & { reduction?: 'mean' };
    const loss1 = (z: Float32Array, t: Int32Array | Float32Array, o: Opts) =>
      (t instanceof Int32Array ? api.crossEntropy(z, t, o) : api.crossEntropy(z, t, o)) as number;
    const withGrad = (z: Float32Array, t: Int32Array | Float32Array, o: Opts) =>
      t instanceof Int32Array ? api.crossEntropyWithGrad(z, t, o) : api.crossEntropyWithGrad(z, t, o);
    for (const [name, target, o] of cases) {
      const want = lossOptionsRef(x, target, C, o.labelSmoothing ?? 0, o.weight);
      const opts = { classes: C, ...o };
      const loss = loss1(x, target, opts);
      expect(Math.abs(loss - want.loss) / want.loss, name).toBeLessThanOrEqual(1e-6);
      const { loss: loss2, grad } = withGrad(x, target, opts);
      expect(loss2, `${name}: the same bits with the gradient`).toBe(loss);
      let g = 0;
      for (let i = 0; i < grad.length; i++) g = Math.max(g, Math.abs(grad[i]! - want.grad[i]!) * want.denominator);
      expect(g, `${name}: gradient`).toBeLessThanOrEqual(2e-7);
      const inPlace = x.slice();
      expect(withGrad(inPlace, target, { ...opts, gradInto: inPlace }).loss, `${name}: in place`).toBe(loss);
      expect(inPlace, `${name}: in place`).toEqual(grad);
    }
  });

  // x - max is never rounded (the k-shift): the error does not grow with the lead.
  it.each(CONFIDENT)('%s: softmax within 4 * 2^-23 relative', (_name, C, rows, lead, offset) => {
    use(backend);
    const { x } = confidentRows(rows, C, lead, C + lead, offset);
    const e = softmaxErrors(api.softmax(x, { classes: C }) as Float32Array, reference(x, C).p);
    expect(e.rel).toBeLessThanOrEqual(4 * 2 ** -23);
  });

  it('long rows of 4 * N(0, 1) logits (C = 1000: sums a few times the max term, many below the near-1 bound): logSoftmax <= 4 ulp, logSumExp <= 2 ulp', () => {
    use(backend);
    // (relaxed-simd summed the mass of these in one f32 sum per lane: 4.51 ulp on this seed,
    // 2.54-4.51 over seeds 1-12; with four sums per lane 2.02-3.26, the simd build's 1.99-3.19)
    const C = 1000, r = rng(1);
    const x = Float32Array.from({ length: 256 * C }, () => 4 * normal(r));
    const ref = reference(x, C);
    expect(logSoftmaxErrors(api.logSoftmax(x, { classes: C }) as Float32Array, ref.lp).ulps).toBeLessThanOrEqual(4);
    expect(logSumExpError(api.logSumExp(x, { classes: C }) as Float32Array, ref.lse)).toBeLessThanOrEqual(2);
  });

  it('rows around the near-1 bounds (sum 1.2 .. 2.1): logSoftmax <= 4 ulp, loss relative 1e-6', () => {
    use(backend);
    // (32, 40, 100: general rows whose bound falls inside the range, 1.25, 1.35 and 1.81)
    for (const C of [10, 16, 32, 40, 100, 300]) {
      // the max 0, one runner-up at log(s - 1) (s from 1.2 to 2.1), the rest at -30
      const sums = Array.from({ length: 40 }, (_, i) => 1.2 + 0.9 * (i / 39));
      const x = new Float32Array(sums.length * C).fill(-30);
      const labels = new Int32Array(sums.length);
      sums.forEach((s, r) => {
        x[r * C + (r % C)] = 0;
        x[r * C + ((r + 1) % C)] = Math.log(s - 1);
        labels[r] = r % C;
      });
      const ref = reference(x, C);
      expect(logSoftmaxErrors(api.logSoftmax(x, { classes: C }) as Float32Array, ref.lp).ulps, `C=${C}`).toBeLessThanOrEqual(4);
      const want = crossEntropyRef(x, labels, C);
      expect(Math.abs((api.crossEntropy(x, labels, { classes: C }) as number) - want) / want, `C=${C}`).toBeLessThanOrEqual(1e-6);
    }
  });

  it('ties at the max: counted once each (log(2) for two equal maxima and nothing else)', () => {
    use(backend);
    for (const C of [10, 40]) {
      const x = new Float32Array(C).fill(-200);
      x[1] = 3;
      x[C - 2] = 3;
      expect((api.logSumExp(x, { classes: C }) as Float32Array)[0]).toBe(Math.fround(3 + Math.LN2));
      expect(api.crossEntropy(x, [1], { classes: C })).toBeCloseTo(Math.LN2, 7);
    }
  });
});

// Confident and wrong: a max far ahead of the rest (p from 0.5 to 1 - 1e-4) that is not the
// label, in the general passes (C >= 17). The f32 lanes of the exp pass add up to 15 others to the
// max's term, each rounded to its ulp, so the gradient takes its sum formed again with the max
// terms apart (cross_entropy.ts ce_row_logs), as a label at the max does; before, it was 2.3e-7 x
// N off (relaxed-simd, C=1003 at 1e4). The softmax keeps the sum of the pass: forming it again
// cost 16-31% of the time of a confident row (C = 256 to 32000), and those lane roundings leave
// its large probabilities up to 4.1 * 2^-23 off relative (simd, C=1003 at 1e4).
const CONFIDENT_WRONG: [string, number, number, number, number][] = [
  ['C=1003 lead 7 offset 1e4', 1003, 16, 7, 1e4], ['C=1003 lead 9', 1003, 16, 9, 0], ['C=1003 lead 12 offset -1e4', 1003, 16, 12, -1e4],
  ['C=100 lead 5', 100, 32, 5, 0], ['C=100 lead 8 offset 1e4', 100, 32, 8, 1e4], ['C=127 lead 3 offset 1e4', 127, 64, 3, 1e4], ['C=64 lead 3', 64, 64, 3, 0],
  ['C=40 lead 4', 40, 64, 4, 0], ['C=17 lead 6', 17, 64, 6, 0],
];

describe.each(BACKENDS)('%s build: confident and wrong', (backend) => {
  it.each(CONFIDENT_WRONG)('%s: gradient x N <= 2e-7, softmax within 5 * 2^-23 relative', (_name, C, rows, lead, offset) => {
    use(backend);
    const { x, labels: atMax } = confidentRows(rows, C, lead, 3 * C + lead, offset);
    const labels = atMax.map((t) => (t + 1 + (t % 5)) % C);
    const ref = reference(x, C);
    const p = api.softmax(x, { classes: C }) as Float32Array;
    expect(ref.p.filter((v) => v > 0.5).length).toBeGreaterThan(rows / 2);
    expect(softmaxErrors(p, ref.p).rel).toBeLessThanOrEqual(5 * 2 ** -23);
    const { grad } = api.crossEntropyWithGrad(x, labels, { classes: C });
    let g = 0;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < C; c++) {
        const i = r * C + c, want = (c === labels[r] ? -(1 - ref.p[i]!) : ref.p[i]!) / rows;
        g = Math.max(g, Math.abs(grad[i]! - want) * rows);
      }
    expect(g).toBeLessThanOrEqual(2e-7);
  });
});

// The builds agree: on the same rows, each pair of builds within the sum of the bounds each is
// held to above: log-softmax 4 ulp and the loss 1e-6 on every family, softmax 3.5 * 2^-23
// relative on the wide ones, 4 * 2^-23 each on the confident ones.
describe('the builds agree on the edge families', () => {
  const ulpDiff = (a: number, b: number, ref: number) => Math.abs(a - b) / ulp(ref);
  it.each([...wideFamilies().map(([n, C, x]) => [n, C, x, null] as const),
    ...CONFIDENT.map(([n, C, rows, lead, offset]) => {
      const { x, labels } = confidentRows(rows, C, lead, C + lead, offset);
      return [n, C, x, labels] as const;
    })])('%s', (_name, C, x, labels) => {
    const ref = reference(x, C);
    const runs = BACKENDS.map((b) => {
      use(b);
      return {
        p: api.softmax(x, { classes: C }) as Float32Array,
        lp: api.logSoftmax(x, { classes: C }) as Float32Array,
        loss: labels ? (api.crossEntropy(x, labels, { classes: C }) as number) : 0,
      };
    });
    for (let i = 0; i < runs.length; i++)
      for (let j = i + 1; j < runs.length; j++) {
        const [a, b] = [runs[i]!, runs[j]!];
        let lpWorst = 0, pWorst = 0;
        for (let k = 0; k < x.length; k++) {
          if (Math.abs(ref.lp[k]!) >= 2 ** -10) lpWorst = Math.max(lpWorst, ulpDiff(a.lp[k]!, b.lp[k]!, ref.lp[k]!));
          if (ref.p[k]! >= 2 ** -126) pWorst = Math.max(pWorst, Math.abs(a.p[k]! - b.p[k]!) / ref.p[k]!);
        }
        expect(lpWorst, `${BACKENDS[i]} vs ${BACKENDS[j]}: logSoftmax`).toBeLessThanOrEqual(8);
        expect(pWorst, `${BACKENDS[i]} vs ${BACKENDS[j]}: softmax`).toBeLessThanOrEqual((labels ? 8 : 7) * 2 ** -23);
        if (labels) expect(Math.abs(a.loss - b.loss) / Math.abs(a.loss), `${BACKENDS[i]} vs ${BACKENDS[j]}: loss`).toBeLessThanOrEqual(2e-6);
      }
  });
});
