// Rows of 4 to 16 float32 classes run four at a time in the SIMD builds (assembly/short_rows.ts,
// short_group4_*: the max, exp and sum passes of four rows, their horizontal steps together).
// Each row must come out with the bits it gets alone (a call of that one row), for softmax,
// logSoftmax, logSumExp, both backward passes and cross-entropy with every option the grouped rows
// take (weights, ignored rows, z-loss, per-sample upstream gradients, the loss-only kernel; label
// smoothing, whose short rows go one at a time), and agree with the float64 reference. Row counts
// around the group of four leave 0 to 3 rows to the one-row passes.
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { BACKENDS, use } from './helpers/backends.js';
import { sameBits } from './helpers/compare.js';
import { rng } from './helpers/random.js';
import { crossEntropy64, logSoftmax64, logSoftmaxBackward64, logSumExp64, maxErrRatio, softmax64, softmaxBackward64 } from './helpers/reference.js';

const WIDTHS = [3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17];
const ROWS = [4, 5, 7, 8, 13];

function logits(rows: number, C: number, rand: () => number, spread: number): Float32Array {
  const x = Float32Array.from({ length: rows * C }, () => (rand() - 0.5) * spread);
  if (C > 2 && rows > 2) {
    x[C + 1] = -Infinity; // a masked class in row 1
    x[2 * C] = 30; // a leading class in row 2
  }
  return x;
}

describe.each(BACKENDS)('%s build', (backend) => {
  it('softmax, logSoftmax and logSumExp: each row has the bits of the row alone, and the float64 values', () => {
    use(backend);
    const rand = rng(11);
    for (const C of WIDTHS)
      for (const rows of ROWS)
        for (const spread of [2, 40, 300]) {
          const x = logits(rows, C, rand, spread);
          const d = { outer: rows, C, inner: 1 };
          const p = api.softmax(x, { classes: C });
          const lp = api.logSoftmax(x, { classes: C });
          const lse = api.logSumExp(x, { classes: C });
          for (let r = 0; r < rows; r++) {
            const row = x.subarray(r * C, (r + 1) * C);
            sameBits(lse.subarray(r, r + 1), api.logSumExp(row, { classes: C }), `logSumExp C=${C} rows=${rows} row ${r}`);
            sameBits(p.subarray(r * C, (r + 1) * C), api.softmax(row, { classes: C }), `softmax C=${C} rows=${rows} row ${r}`);
            sameBits(lp.subarray(r * C, (r + 1) * C), api.logSoftmax(row, { classes: C }), `logSoftmax C=${C} rows=${rows} row ${r}`);
          }
          // The short rows (4..16) take the k-shift, which never rounds x - max; the simd build's
          // other widths (3, 17) round it to float32: a relative error up to |x - max| * 2^-24
          // (the rows span up to `spread`, and 35 where row 2 leads with 30), plus a few ulp.
          const rounded = backend === 'simd' && (C < 4 || C > 16);
          const rtol = rounded ? 1e-6 + 6e-8 * Math.max(35, spread) : 4 * 2 ** -23;
          expect(maxErrRatio(p, softmax64(x, d), 1e-30, rtol), `softmax C=${C}`).toBeLessThanOrEqual(1);
          expect(maxErrRatio(lp, logSoftmax64(x, d), 1e-6, 1e-6), `logSoftmax C=${C}`).toBeLessThanOrEqual(1);
          expect(maxErrRatio(lse, logSumExp64(x, d), 1e-6, 1e-6), `logSumExp C=${C}`).toBeLessThanOrEqual(1);
        }
  });

  it('crossEntropyWithGrad with every option of the grouped rows: row by row the bits of the row alone', () => {
    use(backend);
    const rand = rng(12);
    let checked = 0;
    for (const C of WIDTHS)
      for (const rows of ROWS) {
        const x = logits(rows, C, rand, 20);
        const labels = Int32Array.from({ length: rows }, () => Math.floor(rand() * C));
        labels[rows - 1] = -1; // ignored (with ignoreIndex: -1 below)
        const weight = Array.from({ length: C }, () => 0.25 + rand());
        const upstream = Float32Array.from({ length: rows }, () => rand() * 2 - 0.5);
        const variants: { weight?: number[]; ignoreIndex?: number; zLoss?: number; labelSmoothing?: number }[] = [
          {},
          { weight },
          { ignoreIndex: -1 },
          { zLoss: 1e-3, weight, ignoreIndex: -1 },
          { labelSmoothing: 0.1 },
          { labelSmoothing: 0.2, weight, ignoreIndex: -1, zLoss: 1e-3 },
        ];
        // A per-sample upstream gradient, none, or one number for every row with 'sum' (the
        // groups without weights, z-loss or an ignored row then take their losses and gradient
        // scales in vectors; a negative number turns the gradient's zeros into -0 there).
        const upstreams: ({ reduction: 'none'; gradOutput?: Float32Array } | { reduction: 'sum'; gradOutput: number })[] = [
          { reduction: 'none', gradOutput: upstream },
          { reduction: 'none' },
          { reduction: 'sum', gradOutput: 1.5 },
          { reduction: 'sum', gradOutput: -0.75 },
        ];
        for (const extra of variants)
          for (const up of upstreams) {
            const opts = { classes: C, ...up, ...extra };
            if (!('ignoreIndex' in extra)) labels[rows - 1] = 0;
            const all = api.crossEntropyWithGrad(x, labels, opts);
            const lossOnly = api.crossEntropy(x, labels, opts);
            sameBits(typeof lossOnly === 'number' ? [lossOnly] : lossOnly, typeof all.loss === 'number' ? [all.loss] : all.loss, `loss-only C=${C} rows=${rows}`);
            for (let r = 0; r < rows; r++) {
              const one = api.crossEntropyWithGrad(x.subarray(r * C, (r + 1) * C), labels.subarray(r, r + 1),
                { ...opts, gradOutput: up.gradOutput instanceof Float32Array ? up.gradOutput.subarray(r, r + 1) : up.gradOutput });
              const what = `C=${C} rows=${rows} row ${r} ${JSON.stringify(Object.keys(extra))} ${up.reduction} ${up.gradOutput}`;
              if (typeof all.loss !== 'number') sameBits(all.loss.subarray(r, r + 1), one.loss as Float32Array, `loss ${what}`);
              sameBits(all.grad.subarray(r * C, (r + 1) * C), one.grad, `grad ${what}`);
            }
            const ref = crossEntropy64(x, labels, { outer: rows, C, inner: 1 }, false, opts);
            const loss = typeof all.loss === 'number' ? [all.loss] : all.loss, refLoss = typeof ref.loss === 'number' ? [ref.loss] : ref.loss;
            expect(maxErrRatio(loss, refLoss, 1e-6, 1e-5), `loss C=${C}`).toBeLessThanOrEqual(1);
            // (the gradient's absolute error scales with the upstream gradient)
            const atol = 1e-7 * (typeof up.gradOutput === 'number' ? Math.abs(up.gradOutput) : 1);
            expect(maxErrRatio(all.grad, ref.grad, atol, 1e-5), `grad C=${C}`).toBeLessThanOrEqual(1);
            checked++;
          }
      }
    expect(checked).toBe(WIDTHS.length * ROWS.length * 6 * 4);
  });
  it('crossEntropyWithGrad with probability targets: each row the bits of the row alone, and the float64 values', () => {
    use(backend);
    const rand = rng(15);
    for (const C of WIDTHS)
      for (const rows of ROWS) {
        const x = logits(rows, C, rand, 20);
        const q = new Float32Array(rows * C);
        for (let r = 0; r < rows; r++) {
          let t = 0;
          for (let c = 0; c < C; c++) t += q[r * C + c] = rand() < 0.3 ? 0 : rand(); // zeros: a masked class must add 0
          for (let c = 0; c < C; c++) q[r * C + c] = t > 0 ? q[r * C + c]! / t : 1 / C;
        }
        const weight = Array.from({ length: C }, () => 0.25 + rand());
        for (const extra of [{}, { weight }, { labelSmoothing: 0.15, weight, zLoss: 1e-3 }]) {
          const opts = { classes: C, reduction: 'none' as const, ...extra };
          const all = api.crossEntropyWithGrad(x, q, opts);
          sameBits(api.crossEntropy(x, q, opts), all.loss, `loss-only C=${C} rows=${rows}`);
          for (let r = 0; r < rows; r++) {
            const one = api.crossEntropyWithGrad(x.subarray(r * C, (r + 1) * C), q.subarray(r * C, (r + 1) * C), opts);
            sameBits(all.loss.subarray(r, r + 1), one.loss, `loss C=${C} rows=${rows} row ${r}`);
            sameBits(all.grad.subarray(r * C, (r + 1) * C), one.grad, `grad C=${C} rows=${rows} row ${r}`);
          }
          const ref = crossEntropy64(x, q, { outer: rows, C, inner: 1 }, true, opts);
          expect(maxErrRatio(all.loss, ref.loss as Float64Array, 1e-6, 1e-5), `loss C=${C}`).toBeLessThanOrEqual(1);
          expect(maxErrRatio(all.grad, ref.grad, 1e-7, 1e-5), `grad C=${C}`).toBeLessThanOrEqual(1);
        }
      }
  });

  it('softmaxBackward and logSoftmaxBackward: each row has the bits of the row alone, and the float64 values', () => {
    use(backend);
    const rand = rng(13);
    for (const C of WIDTHS)
      for (const rows of ROWS) {
        const x = logits(rows, C, rand, 6);
        const d = { outer: rows, C, inner: 1 };
        const y = api.softmax(x, { classes: C });
        const ly = api.logSoftmax(x, { classes: C });
        const g = Float32Array.from({ length: rows * C }, () => rand() * 2 - 1);
        const dx = api.softmaxBackward(y, g, { classes: C });
        const ldx = api.logSoftmaxBackward(ly, g, { classes: C });
        for (let r = 0; r < rows; r++) {
          const s = (a: Float32Array) => a.subarray(r * C, (r + 1) * C);
          sameBits(s(dx), api.softmaxBackward(s(y), s(g), { classes: C }), `softmaxBackward C=${C} rows=${rows} row ${r}`);
          sameBits(s(ldx), api.logSoftmaxBackward(s(ly), s(g), { classes: C }), `logSoftmaxBackward C=${C} rows=${rows} row ${r}`);
        }
        // Against the float64 backward of the same float32 y and g: the sum over a row of up to 16
        // terms rounds in float32 (a few ulp of the sum of |g * y|, or of |g|), and exp(y) is
        // float32's.
        expect(maxErrRatio(dx, softmaxBackward64(y, g, d), 1e-6, 1e-5), `softmaxBackward C=${C}`).toBeLessThanOrEqual(1);
        expect(maxErrRatio(ldx, logSoftmaxBackward64(ly, g, d), 1e-5, 1e-5), `logSoftmaxBackward C=${C}`).toBeLessThanOrEqual(1);
      }
  });

  it('backward in place: the result may be written over y or over gradOutput', () => {
    use(backend);
    const rand = rng(14);
    for (const C of [5, 10, 13]) {
      const rows = 6;
      const y = api.softmax(logits(rows, C, rand, 4), { classes: C });
      const g = Float32Array.from({ length: rows * C }, () => rand() * 2 - 1);
      const want = api.softmaxBackward(y, g, { classes: C });
      sameBits(api.softmaxBackward(y, g.slice(), { classes: C, into: y.slice() }), want, `into a copy C=${C}`);
      const g2 = g.slice();
      sameBits(api.softmaxBackward(y, g2, { classes: C, into: g2 }), want, `into gradOutput C=${C}`);
      const y2 = y.slice();
      sameBits(api.softmaxBackward(y2, g, { classes: C, into: y2 }), want, `into y C=${C}`);
    }
  });

  it('logSumExp of rows with infinite maxima, in groups and alone (torch.logsumexp)', () => {
    use(backend);
    const C = 10;
    const rows: number[][] = [
      Array(C).fill(-Infinity), // -Infinity
      [Infinity, ...Array(C - 1).fill(1)], // +Infinity
      [Infinity, Number.NaN, ...Array(C - 2).fill(1)], // NaN
      [-Infinity, Number.NaN, ...Array(C - 2).fill(-Infinity)], // NaN
      [Infinity, -Infinity, ...Array(C - 2).fill(0)], // +Infinity
    ];
    const want = [-Infinity, Infinity, NaN, NaN, Infinity];
    const x = Float32Array.from(rows.flat());
    const all = api.logSumExp(x, { classes: C });
    for (let r = 0; r < rows.length; r++) {
      expect(all[r], `row ${r}`).toBe(want[r]);
      expect(api.logSumExp(x.subarray(r * C, (r + 1) * C), { classes: C })[0], `row ${r} alone`).toBe(want[r]);
    }
  });

  it('the logs of the exp-sums at their edges: a sum of exactly 1 gives 0, a NaN row NaN, in groups and alone', () => {
    use(backend);
    const C = 10, rows = 9;
    const x = new Float32Array(rows * C).fill(-Infinity);
    for (let r = 0; r < rows; r++) x[r * C + (r % C)] = r * 7 - 20; // one finite class per row: sum exp = 1
    x.fill(Number.NaN, 5 * C, 5 * C + 2); // row 5 holds NaN
    const labels = Int32Array.from({ length: rows }, (_, r) => r % C);
    const loss = api.crossEntropy(x, labels, { classes: C, reduction: 'none' });
    const lp = api.logSoftmax(x, { classes: C });
    const lse = api.logSumExp(x, { classes: C });
    for (let r = 0; r < rows; r++) {
      if (r === 5) {
        expect(loss[r], 'NaN row').toBeNaN();
        expect(lse[r], 'NaN row').toBeNaN();
        continue;
      }
      expect(lse[r], `logSumExp row ${r}`).toBe(r * 7 - 20);
      expect(Object.is(loss[r], 0), `loss row ${r} = ${loss[r]}`).toBe(true);
      expect(Object.is(lp[r * C + (r % C)], 0), `logSoftmax row ${r}`).toBe(true);
    }
  });
});
