// Property tests of cross-entropy: finite differences, one-hot vs index targets,
// reduction identities, permutation equivariance, N-D layouts and the TensorFlow docs' vector.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad } from '../src/index.js';
import { crossEntropy64, dimsOf, maxErrRatio } from './helpers/reference.js';
import { BUILDS, use } from './helpers/backends.js';

const batch = fc
  .record({
    N: fc.integer({ min: 1, max: 9 }),
    C: fc.integer({ min: 1, max: 70 }),
    seed: fc.integer(),
    scale: fc.constantFrom(0.5, 3, 20),
    weighted: fc.boolean(),
    eps: fc.constantFrom(0, 0.1, 1),
    zLoss: fc.constantFrom(0, 1e-3),
  })
  .map((r) => {
    const vals = fc.sample(fc.double({ min: -1, max: 1, noNaN: true }), { seed: r.seed, numRuns: r.N * r.C + r.N + r.C });
    const x = vals.slice(0, r.N * r.C).map((v) => v * r.scale);
    const labels = vals.slice(r.N * r.C, r.N * r.C + r.N).map((v) => Math.min(r.C - 1, Math.floor(((v + 1) / 2) * r.C)));
    const weight = r.weighted ? vals.slice(r.N * r.C + r.N).map((v) => 0.25 + Math.abs(v)) : undefined;
    return { ...r, x, labels, weight };
  });

for (const b of BUILDS) {
  describe(`cross-entropy properties, ${b} build`, () => {
    it('the gradient equals a central finite difference of the float64 loss', () => {
      use(b);
      fc.assert(
        fc.property(batch, fc.constantFrom('mean', 'sum') as fc.Arbitrary<'mean' | 'sum'>, (t, reduction) => {
          const opts = { classes: t.C, reduction, labelSmoothing: t.eps, zLoss: t.zLoss, ...(t.weight ? { weight: t.weight } : {}) };
          const x = Float64Array.from(t.x);
          const { grad } = crossEntropyWithGrad(x, t.labels, opts);
          const h = 1e-6;
          for (let k = 0; k < x.length; k += Math.max(1, Math.floor(x.length / 12))) {
            const xp = Float64Array.from(x);
            const xm = Float64Array.from(x);
            xp[k]! += h;
            xm[k]! -= h;
            const fd = (crossEntropy(xp, t.labels, opts) - crossEntropy(xm, t.labels, opts)) / (2 * h);
            expect(Math.abs(grad[k]! - fd)).toBeLessThan(1e-6 * (1 + Math.abs(fd)));
          }
        }),
        { numRuns: 25, seed: 3 },
      );
    });

    it('one-hot probability targets give the class-index result (no weights)', () => {
      use(b);
      fc.assert(
        fc.property(batch, fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>, (t, reduction) => {
          const onehot = new Float32Array(t.N * t.C);
          t.labels.forEach((l, n) => (onehot[n * t.C + l] = 1));
          const x = Float32Array.from(t.x);
          const opts = { classes: t.C, reduction, labelSmoothing: t.eps };
          const a = crossEntropyWithGrad(x, onehot, opts);
          const c = crossEntropyWithGrad(x, Int32Array.from(t.labels), opts);
          const la = typeof a.loss === 'number' ? [a.loss] : a.loss;
          const lc = typeof c.loss === 'number' ? [c.loss] : c.loss;
          expect(maxErrRatio(la, lc, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
          expect(maxErrRatio(a.grad, c.grad, 1e-7, 1e-5)).toBeLessThanOrEqual(1);
        }),
        { numRuns: 30, seed: 5 },
      );
    });

    it("sum = mean x denominator, sum of 'none' = sum, and a row permutation permutes the losses", () => {
      use(b);
      fc.assert(
        fc.property(batch, fc.nat(), (t, rot) => {
          const x = Float64Array.from(t.x);
          const opts = { classes: t.C, labelSmoothing: t.eps, zLoss: t.zLoss, ...(t.weight ? { weight: t.weight } : {}) };
          const sum = crossEntropy(x, t.labels, { ...opts, reduction: 'sum' });
          const mean = crossEntropy(x, t.labels, { ...opts, reduction: 'mean' });
          const none = crossEntropy(x, t.labels, { ...opts, reduction: 'none' });
          const denom = t.weight ? t.labels.reduce((s, l) => s + t.weight![l]!, 0) : t.N;
          expect(Math.abs(sum - mean * denom)).toBeLessThan(1e-12 * (1 + Math.abs(sum)));
          expect(Math.abs(none.reduce((s, v) => s + v, 0) - sum)).toBeLessThan(1e-12 * (1 + Math.abs(sum)));
          const perm = t.labels.map((_, n) => (n + rot) % t.N);
          const xp = new Float64Array(x.length);
          perm.forEach((src, n) => xp.set(x.subarray(src * t.C, (src + 1) * t.C), n * t.C));
          const nonep = crossEntropy(xp, perm.map((src) => t.labels[src]!), { ...opts, reduction: 'none' });
          perm.forEach((src, n) => expect(nonep[n]).toBe(none[src]));
        }),
        { numRuns: 30, seed: 11 },
      );
    });

    it('N-D inputs along any class axis match the float64 reference', () => {
      use(b);
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
          fc.nat(),
          fc.integer(),
          fc.boolean(),
          (shape, axisSeed, seed, probs) => {
            const axis = shape.length === 1 ? 0 : axisSeed % shape.length;
            const d = dimsOf(shape, axis);
            const n = shape.reduce((a, c) => a * c, 1);
            const v = fc.sample(fc.double({ min: -4, max: 4, noNaN: true }), { seed, numRuns: 2 * n });
            const x = Float32Array.from(v.slice(0, n));
            const target = probs
              ? Float32Array.from(v.slice(n), (u) => Math.abs(u) / 4)
              : Array.from({ length: d.outer * d.inner }, (_, i) => Math.floor(Math.abs(v[n + i]!) / 4.0001 * d.C));
            const opts = { shape, axis, reduction: 'none' as const, labelSmoothing: 0.1 };
            const ours = crossEntropyWithGrad(x, target, opts);
            const ref = crossEntropy64(Array.from(x), Array.from(target), d, probs, opts);
            expect(maxErrRatio(ours.loss, ref.loss as Float64Array, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
            expect(maxErrRatio(ours.grad, ref.grad, 1e-6, 1e-4)).toBeLessThanOrEqual(1);
          },
        ),
        { numRuns: 40, seed: 13 },
      );
    });

    it("TensorFlow's documented example: [[4,2,1],[0,5,1]] vs [[1,0,0],[0,0.8,0.2]] gives [0.16984604, 0.82474494]", () => {
      use(b);
      const loss = crossEntropy(new Float32Array([4, 2, 1, 0, 5, 1]), new Float32Array([1, 0, 0, 0, 0.8, 0.2]), { classes: 3, reduction: 'none' });
      expect(loss[0]).toBeCloseTo(0.16984604, 6);
      expect(loss[1]).toBeCloseTo(0.82474494, 6);
    });

    it('a mean over 100k samples is as accurate as over 10 (compensated reduction)', () => {
      use(b);
      const C = 3;
      const N = 100_000;
      const x = new Float32Array(N * C);
      for (let i = 0; i < N; i++) x.set([Math.fround(Math.sin(i)), Math.fround(Math.cos(i)), 0.25], i * C);
      const labels = Int32Array.from({ length: N }, (_, i) => i % C);
      const ref = crossEntropy64(Array.from(x), Array.from(labels), { outer: N, C, inner: 1 }, false);
      const got = crossEntropy(x, labels, { classes: C });
      expect(Math.abs(got - (ref.loss as number)) / (ref.loss as number)).toBeLessThan(2e-7);
    });
  });
}
