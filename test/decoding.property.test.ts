// Decoding against the obvious implementation (test/helpers/decoding-reference.ts: float64, full
// sorts) on random rows, on every build and the checked build: widths that are not multiples
// of the vector width, exact ties (integer logits), -Infinity masks, extreme temperatures, every
// option and their combinations, and several layouts. A case whose top-p or min-p decision lies
// within rounding of flipping (in the reference) is drawn again. Then: sample with Math.random
// draws from samplingDistribution (chi-square, fixed seed), `random` is called once per row in row
// order (also at temperature 0), and rows that cannot be sampled are named.
import { describe, expect, it } from 'vitest';
import { argmax, sample, samplingDistribution, topK, type SampleOptions } from '../src/index.js';
import { BUILDS, use } from './helpers/backends.js';
import { refDistribution, refSample, refTopK, type RefOptions } from './helpers/decoding-reference.js';
import { rng } from './helpers/random.js';

type F = Float32Array | Float64Array;
const WIDTHS = [1, 2, 3, 5, 7, 13, 17, 31, 37, 64, 129, 1000, 4099];
const TEMPERATURES = [0, 1e-3, 0.05, 0.7, 1, 1.9, 1e3, 1e6];

interface Case {
  T: Float32ArrayConstructor | Float64ArrayConstructor;
  rows: number;
  C: number;
  x: F;
  opts: RefOptions;
}

function drawCase(r: () => number): Case {
  const pick = <V>(a: readonly V[]) => a[Math.floor(r() * a.length)]!;
  const T = r() < 0.6 ? Float32Array : Float64Array;
  const C = pick(WIDTHS);
  const rows = 1 + Math.floor(r() * 3);
  const kind = pick(['uniform', 'ties', 'masked', 'wide'] as const);
  const x = new T(rows * C);
  for (let i = 0; i < x.length; i++) {
    x[i] = kind === 'ties' ? Math.floor(r() * 6) - 3 : kind === 'wide' ? (r() * 2 - 1) * 40 : (r() * 2 - 1) * 5;
    if (kind === 'masked' && r() < 0.4) x[i] = -Infinity;
  }
  // Every row keeps at least one finite logit.
  for (let row = 0; row < rows; row++) if (x[row * C] === -Infinity) x[row * C] = 0.25;
  const opts: RefOptions = {};
  if (r() < 0.8) opts.temperature = pick(TEMPERATURES);
  if (r() < 0.5) opts.topK = Math.floor(r() * Math.min(C + 3, 60));
  if (r() < 0.5) opts.topP = pick([0.1, 0.37, 0.5, 0.8, 0.9, 0.95, 0.999, 1]);
  if (r() < 0.4) opts.minP = pick([0, 0.01, 0.05, 0.2, 0.5, 1]);
  if (r() < 0.3) opts.minTokensToKeep = 1 + Math.floor(r() * 5);
  if (r() < 0.3) {
    opts.previousTokens = Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * C));
    if (r() < 0.7) opts.repetitionPenalty = pick([0.8, 1.1, 1.3, 2]);
    if (r() < 0.5) opts.presencePenalty = pick([-0.5, 0.3, 1.5]);
    if (r() < 0.5) opts.frequencyPenalty = pick([-0.2, 0.1, 0.7]);
  }
  return { T, rows, C, x, opts };
}

/** Each kept probability within the fixtures' tolerance of the reference; removed tokens 0. */
function compareRow(got: F, off: number, ref: Float64Array, f32: boolean, S: number): string[] {
  const rtol = f32 ? 1e-5 + 2 ** -21 * S : 1e-12 + 2 ** -50 * S;
  const atol = f32 ? 1e-37 : 1e-300;
  const errs: string[] = [];
  for (let j = 0; j < ref.length; j++) {
    const g = got[off + j]!, p = ref[j]!;
    if (p === 0 ? g !== 0 : !(Math.abs(g - p) <= atol + rtol * p)) errs.push(`${j}: ${g} vs ${p}`);
  }
  return errs;
}

/** The largest |z| of a row's kept tokens (the fixtures' S: the rounding allowance of x / T). */
function scaleOf(x: ArrayLike<number>, off: number, C: number, ref: Float64Array, o: RefOptions): number {
  const T = o.temperature ?? 1;
  const rp = Math.max(o.repetitionPenalty ?? 1, 1);
  const pen = Math.abs(o.presencePenalty ?? 0) + Math.abs(o.frequencyPenalty ?? 0) * (o.previousTokens?.length ?? 0);
  let S = 0;
  for (let j = 0; j < C; j++) if (ref[j]! > 0) S = Math.max(S, (Math.abs(x[off + j]!) * rp + pen) / (T || 1));
  return S;
}

describe.each(BUILDS)('decoding properties, %s build', (b) => {
  it('samplingDistribution and sample agree with the float64 sort-based reference on random rows', () => {
    use(b);
    const r = rng(0xdec0de);
    let checked = 0, skipped = 0;
    for (let n = 0; n < 400; n++) {
      const c = drawCase(r);
      const f32 = c.T === Float32Array;
      const refs = Array.from({ length: c.rows }, (_, row) => refDistribution(c.x.subarray(row * c.C, (row + 1) * c.C), c.opts));
      if (refs.some((q) => q.margin < (f32 ? 1e-4 : 1e-9))) {
        skipped++;
        continue;
      }
      const got = samplingDistribution(c.x, { classes: c.C, ...c.opts });
      const u = Float64Array.from({ length: c.rows }, () => r());
      const picks = sample(c.x, { classes: c.C, ...c.opts, uniforms: u });
      for (let row = 0; row < c.rows; row++) {
        const ref = refs[row]!.p;
        const S = scaleOf(c.x, row * c.C, c.C, ref, c.opts);
        expect(compareRow(got, row * c.C, ref, f32, S).slice(0, 4), `case ${n} row ${row} ${JSON.stringify(c.opts)} C=${c.C} x=${Array.from(c.x.subarray(row * c.C, (row + 1) * c.C))}`).toEqual([]);
        const want = refSample(ref, u[row]!);
        if (want.margin > (f32 ? 2e-5 : 1e-10)) expect(picks[row], `case ${n} row ${row} sample`).toBe(want.index);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(300);
    expect(skipped).toBeLessThan(100);
  });

  it('any axis: the same rows through shape/axis give the same results as contiguous rows', () => {
    use(b);
    const r = rng(77);
    for (const T of [Float32Array, Float64Array]) {
      const shape = [3, 37, 5];
      const x = new T(3 * 37 * 5).map(() => Math.floor(r() * 9) - 4);
      // Row (a, c) of axis 1 is x[a, :, c]: gather them contiguous.
      const rowsX = new T(15 * 37);
      for (let a = 0; a < 3; a++) for (let c = 0; c < 5; c++) for (let j = 0; j < 37; j++) rowsX[(a * 5 + c) * 37 + j] = x[(a * 37 + j) * 5 + c]!;
      const opts = { temperature: 0.6, topK: 9, topP: 0.8, minTokensToKeep: 2 };
      const d = samplingDistribution(x, { shape, axis: 1, ...opts });
      const dr = samplingDistribution(rowsX, { classes: 37, ...opts });
      for (let a = 0; a < 3; a++) for (let c = 0; c < 5; c++) for (let j = 0; j < 37; j++) expect(d[(a * 37 + j) * 5 + c]).toBe(dr[(a * 5 + c) * 37 + j]);
      const u = Float64Array.from({ length: 15 }, () => r());
      expect(sample(x, { shape, axis: -2, ...opts, uniforms: u })).toEqual(sample(rowsX, { classes: 37, ...opts, uniforms: u }));
      expect(argmax(x, { shape, axis: 1 })).toEqual(argmax(rowsX, { classes: 37 }));
      const t = topK(x, 4, { shape, axis: 1, logProbs: true });
      const tr = topK(rowsX, 4, { classes: 37, logProbs: true });
      expect(t.indices).toEqual(tr.indices);
      expect(t.values).toEqual(tr.values);
    }
  });

  it('topK and argmax agree with the sorted reference (ties, NaN, -Infinity, widths)', () => {
    use(b);
    const r = rng(4242);
    for (let n = 0; n < 200; n++) {
      const T = n % 2 ? Float32Array : Float64Array;
      const C = WIDTHS[n % WIDTHS.length]!;
      const rows = 1 + (n % 3);
      const ties = n % 3 === 0;
      const x = new T(rows * C).map(() => (ties ? Math.floor(r() * 5) : (r() * 2 - 1) * 10));
      for (let i = 0; i < x.length; i++) if (r() < 0.05) x[i] = r() < 0.5 ? -Infinity : NaN;
      const k = 1 + Math.floor(r() * C);
      const temperature = [0.3, 1, 2.5][n % 3]!;
      const got = topK(x, k, { classes: C, logProbs: n % 4 === 1, temperature });
      const am = argmax(x, { classes: C });
      for (let row = 0; row < rows; row++) {
        const xr = x.subarray(row * C, (row + 1) * C);
        const ref = refTopK(xr, k, temperature);
        expect(Array.from(got.indices.subarray(row * k, (row + 1) * k))).toEqual(ref.indices);
        expect(am[row]).toBe(refTopK(xr, 1).indices[0]);
        const want = n % 4 === 1 ? ref.logProbs : ref.values;
        const f32 = T === Float32Array;
        for (let j = 0; j < k; j++) {
          const g = got.values[row * k + j]!, v = want[j]!;
          if (Number.isNaN(v)) expect(g).toBeNaN();
          else if (!Number.isFinite(v)) expect(g).toBe(v);
          else expect(Math.abs(g - v), `${n} ${row} ${j}`).toBeLessThanOrEqual((f32 ? 1e-5 : 1e-12) * (Math.abs(v) + 60 / temperature));
        }
      }
    }
  });

  it('top-p and top-k at every width around the vector blocks (float32: 1-40 and 4090-4110 classes)', () => {
    // The band collection (collect_band) takes blocks of 16 values, then vectors of 4, then
    // single values; top-p rows of 4096 classes or more also take the sampled estimate.
    use(b);
    const r = rng(0xb10c);
    const widths = [...Array.from({ length: 40 }, (_, i) => i + 1), ...Array.from({ length: 21 }, (_, i) => 4090 + i)];
    for (const C of widths) {
      const x = new Float32Array(C).map(() => (r() + r() + r() - 1.5) * 4);
      if (C > 4) x[Math.floor(r() * C)] = NaN;
      const k = Math.max(1, Math.ceil(C / 5));
      const top = topK(x, k, { classes: C });
      expect(Array.from(top.indices), `topK C=${C}`).toEqual(refTopK(x, k).indices);
      x.forEach((v, i) => Number.isNaN(v) && (x[i] = 0.5));
      for (const opts of [{ topP: 0.9 }, { topP: 0.5, temperature: 0.7 }, { topK: k, topP: 0.95 }]) {
        const ref = refDistribution(x, opts);
        if (ref.margin < 1e-4) continue;
        const got = samplingDistribution(x, { classes: C, ...opts });
        expect(compareRow(got, 0, ref.p, true, scaleOf(x, 0, C, ref.p, opts)).slice(0, 4), `C=${C} ${JSON.stringify(opts)}`).toEqual([]);
      }
    }
  });

  it('sample with Math.random draws from samplingDistribution (chi-square, fixed seed)', () => {
    use(b);
    const C = 40, N = 40000;
    const row = Float64Array.from({ length: C }, (_, i) => Math.sin(i * 1.7) * 2);
    const opts = { temperature: 0.9, topK: 25, topP: 0.95 };
    const p = samplingDistribution(row, { classes: C, ...opts });
    const x = new Float64Array(C * N);
    for (let i = 0; i < N; i++) x.set(row, i * C);
    // Math.random with a fixed seed: the default `random` is Math.random, replaced for this call.
    const r = rng(2024);
    const saved = Math.random;
    let drawn: Int32Array;
    try {
      Math.random = r;
      drawn = sample(x, { classes: C, ...opts });
    } finally {
      Math.random = saved;
    }
    const counts = new Float64Array(C);
    for (const t of drawn) counts[t]!++;
    let chi2 = 0, df = -1;
    for (let i = 0; i < C; i++) {
      if (p[i] === 0) {
        expect(counts[i]).toBe(0);
        continue;
      }
      df++;
      chi2 += (counts[i]! - N * p[i]!) ** 2 / (N * p[i]!);
    }
    // The 0.999 quantile of chi-square: df + 3.09 sqrt(2 df) + ... (Wilson-Hilferty, generous).
    const z = 3.09;
    const q999 = df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
    expect(df).toBeGreaterThan(5);
    expect(chi2).toBeLessThan(q999);
  });

  it('random is called once per row, in row order, before any row is sampled (also at temperature 0)', () => {
    use(b);
    for (const temperature of [0, 1]) {
      const x = Float32Array.from([1, 2, 3, 3, 2, 1, NaN, 0, 0]);
      const seen: number[] = [];
      const opts: SampleOptions = { classes: 3, temperature, random: () => (seen.push(seen.length), 0.5) };
      expect(() => sample(x, opts)).toThrow(RangeError);
      expect(seen).toEqual([0, 1, 2]);
      const y = x.subarray(0, 6);
      seen.length = 0;
      expect(Array.from(sample(y, opts))).toEqual([2, 0]);
      expect(seen).toEqual([0, 1]);
    }
  });

  it('a row that cannot be sampled is named in the RangeError, whichever row it is', () => {
    use(b);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const row of [0, 3, 6]) {
        const x = new Float32Array(7 * 5).map((_, i) => i % 5);
        if (bad === -Infinity) x.fill(-Infinity, row * 5, row * 5 + 5);
        else x[row * 5 + 2] = bad;
        for (const f of [() => sample(x, { classes: 5 }), () => samplingDistribution(x, { classes: 5, topP: 0.5 })]) {
          expect(f).toThrow(RangeError);
          expect(f).toThrow(new RegExp(`\\brow ${row}\\b`));
        }
      }
    }
  });
});
