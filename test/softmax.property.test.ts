// Property tests of the softmax family: random shapes, axes, temperatures and value ranges
// (including widths that are not a multiple of the SIMD width), every build and the checked build
// (test/helpers/backends.ts), both precisions, against the plain float64 reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logSoftmax, logSoftmaxBackward, logSumExp, softmax, softmaxBackward } from '../src/index.js';
import { dimsOf, logSoftmax64, logSoftmaxBackward64, logSumExp64, maxErrRatio, softmax64, softmaxBackward64 } from './helpers/reference.js';
import { BUILDS, use } from './helpers/backends.js';

/** A random tensor: rank 1-4, the axis, a value scale (1e-3 to 1e4) and the values. */
const tensor = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 37 }), { minLength: 1, maxLength: 4 }),
    axisSeed: fc.nat(),
    scale: fc.constantFrom(1e-3, 1, 4, 30, 100, 1e4),
    seed: fc.integer(),
  })
  .filter((t) => t.shape.reduce((a, b) => a * b, 1) <= 6000)
  .map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const axis = (t.axisSeed % (2 * t.shape.length)) - t.shape.length; // negative and positive
    const rnd = fc.sample(fc.double({ min: -1, max: 1, noNaN: true }), { seed: t.seed, numRuns: n });
    return { shape: t.shape, axis, values: rnd.map((v) => v * t.scale) };
  });

const RUNS = 40;

for (const b of BUILDS) {
  describe(`softmax family properties, ${b} build`, () => {
    it('Float32Array: softmax, logSoftmax, logSumExp within f32 rounding of the f64 reference', () => {
      use(b);
      fc.assert(
        fc.property(tensor, fc.constantFrom(1, 0.5, 3), ({ shape, axis, values }, temperature) => {
          const x = Float32Array.from(values);
          const xs = Array.from(x);
          const d = dimsOf(shape, axis);
          const maxAbs = xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / temperature;
          expect(maxErrRatio(softmax(x, { shape, axis, temperature }), softmax64(xs, d, temperature), 64 * 2 ** -23, 1e-4)).toBeLessThanOrEqual(1);
          const lsScale = 2 * maxAbs + Math.log(d.C);
          expect(maxErrRatio(logSoftmax(x, { shape, axis, temperature }), logSoftmax64(xs, d, temperature), 64 * 2 ** -23 * lsScale, 1e-5)).toBeLessThanOrEqual(1);
          expect(maxErrRatio(logSumExp(x, { shape, axis }), logSumExp64(xs, d), 64 * 2 ** -23 * (maxAbs * temperature + Math.log(d.C)), 1e-6)).toBeLessThanOrEqual(1);
        }),
        { numRuns: RUNS, seed: 42 },
      );
    });

    it('Float64Array: every op within ~1e-13 relative of the f64 reference', () => {
      use(b);
      fc.assert(
        fc.property(tensor, ({ shape, axis, values }) => {
          const x = Float64Array.from(values);
          const d = dimsOf(shape, axis);
          const maxAbs = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          expect(maxErrRatio(softmax(x, { shape, axis }), softmax64(values, d), 1e-15, 1e-13)).toBeLessThanOrEqual(1);
          expect(maxErrRatio(logSoftmax(x, { shape, axis }), logSoftmax64(values, d), 1e-15 * (maxAbs + 10), 1e-13)).toBeLessThanOrEqual(1);
          expect(maxErrRatio(logSumExp(x, { shape, axis }), logSumExp64(values, d), 1e-15 * (maxAbs + 10), 1e-13)).toBeLessThanOrEqual(1);
          const y = softmax64(values, d);
          const g = Float64Array.from(values, (v, i) => Math.sin(i + v));
          expect(maxErrRatio(softmaxBackward(Float64Array.from(y), g, { shape, axis }), softmaxBackward64(y, g, d), 1e-14, 1e-12)).toBeLessThanOrEqual(1);
          const ly = logSoftmax64(values, d);
          expect(maxErrRatio(logSoftmaxBackward(Float64Array.from(ly), g, { shape, axis }), logSoftmaxBackward64(ly, g, d), 1e-13 * d.C, 1e-12)).toBeLessThanOrEqual(1);
        }),
        { numRuns: RUNS, seed: 7 },
      );
    });

    it('softmax rows sum to 1 and lie in [0, 1], also for 100k+ classes', () => {
      use(b);
      for (const C of [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 257, 131072 + 3]) {
        const x = Float32Array.from({ length: 2 * C }, (_, i) => 8 * Math.sin(i * 0.7));
        const y = softmax(x, { classes: C });
        for (let r = 0; r < 2; r++) {
          let s = 0;
          let outside = 0;
          for (let c = 0; c < C; c++) {
            const v = y[r * C + c]!;
            if (!(v >= 0 && v <= 1)) outside++;
            s += v;
          }
          expect(outside).toBe(0);
          // Float32 outputs each round by 2^-24 relative: the sum of C of them is 1 within that.
          expect(Math.abs(s - 1)).toBeLessThan(2e-6);
        }
      }
    });

    it('logSumExp of 128k float32 classes is accurate to 1e-7 relative (blocked summation)', () => {
      use(b);
      const C = 128 * 1024;
      const x = Float32Array.from({ length: C }, (_, i) => Math.fround(Math.cos(i * 1.3) * 0.01));
      const got = logSumExp(x, { classes: C })[0]!;
      const want = logSumExp64(Array.from(x), { outer: 1, C, inner: 1 })[0]!;
      expect(Math.abs(got - want) / want).toBeLessThan(1e-7);
    });
  });
}
