// The small-call fast paths (they keep a [1, 10] crossEntropyWithGrad call near 100 ns): the
// recognized fast call of crossEntropy/crossEntropyWithGrad (src/cross-entropy.ts fastCall), the
// one-wasm-call kernel it uses (ce_index_call), the short-row passes for float32 rows of 4 to 16
// classes (assembly/short_rows.ts) and the memo of the overlap check (check.ts DisjointMemo).
// Each is checked against the plain float64 reference, and the fast call against the checked
// path bit for bit (an explicit `ignoreIndex: -100`, the default, sends a call down the checked
// path).
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { BACKENDS, use } from './helpers/backends.js';
import { sameBits } from './helpers/compare.js';
import { rng } from './helpers/random.js';
import { crossEntropy64, logSoftmax64, logSoftmaxBackward64, logSumExp64, maxErrRatio, softmax64, softmaxBackward64 } from './helpers/reference.js';

const WIDTHS = Array.from({ length: 20 }, (_, i) => i + 1); // around the short rows' 4..16
const ROWS = [1, 3, 64];

describe.each(BACKENDS)('%s build', (backend) => {
  it('crossEntropy(WithGrad), fast call: equal to the checked path bit for bit, and to the float64 reference', () => {
    use(backend);
    const rand = rng(7);
    let calls = 0;
    for (const C of WIDTHS)
      for (const rows of ROWS)
        for (const spread of [1, 30, 300]) {
          // spread 300: some exps fall below the flush-to-zero cutoff
          const x = Float32Array.from({ length: rows * C }, () => (rand() - 0.5) * spread);
          if (C > 2) x[C - 1] = -Infinity; // a masked class in the first row
          const labels = Int32Array.from({ length: rows }, (_, r) => (r === 0 && C > 2 ? 0 : Math.floor(rand() * C)));
          for (const reduction of ['mean', 'sum'] as const) {
            const gradOutput = reduction === 'sum' ? 0.5 : undefined;
            const fast = api.crossEntropyWithGrad(x, labels, { classes: C, reduction, gradOutput });
            const checked = api.crossEntropyWithGrad(x, labels, { classes: C, reduction, gradOutput, ignoreIndex: -100 });
            expect(Object.is(fast.loss, checked.loss), `loss C=${C} rows=${rows}`).toBe(true);
            sameBits(fast.grad, checked.grad, `grad C=${C} rows=${rows}`);
            expect(Object.is(api.crossEntropy(x, labels, { classes: C, reduction, gradOutput }), fast.loss)).toBe(true);
            const ref = crossEntropy64(x, labels, { outer: rows, C, inner: 1 }, false, { reduction, gradOutput });
            expect(maxErrRatio([fast.loss], [ref.loss as number], 1e-6, 1e-5), `loss C=${C} rows=${rows}`).toBeLessThanOrEqual(1);
            expect(maxErrRatio(fast.grad, ref.grad, 1e-7, 1e-5), `grad C=${C} rows=${rows}`).toBeLessThanOrEqual(1);
            calls++;
          }
        }
    expect(calls).toBe(WIDTHS.length * ROWS.length * 3 * 2);
  });

  it('one sample with special values: the one-row kernel gives the checked path\'s bits', () => {
    use(backend);
    const rows: [number[], number][] = [
      [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 9],
      [[1, NaN, 3, 4, 5, 6, 7, 8, 9, 10], 2],
      [[1, Infinity, 3, 4, 5, 6, 7, 8, 9, 10], 1],
      [[1, Infinity, 3, 4, 5, 6, 7, 8, 9, 10], 0],
      [Array(10).fill(-Infinity), 3],
      [[0, -Infinity, 0, 0, 0, 0, 0, 0, 0, 0], 1],
      [[1e30, -1e30, 0, 0, 0, 0, 0, 0, 0, 0], 1],
      [[0, 0, 0, 0], 3],
      [Array.from({ length: 16 }, (_, i) => i * 0.37 - 3), 15],
      [[3, 1, 2, 0, 5, 1, 7, 2, 1, 0], -100], // ignored: mean over nothing is NaN, grad 0
    ];
    // The general row loop's bits: the same row with a second, ignored one (a one-row call takes
    // the one-row path in every entry point: the fast call, the checked call and a Workspace).
    const general = (x: Float32Array, label: number, o: { reduction: 'mean' | 'sum'; gradOutput?: number }) => {
      const C = x.length;
      const ignore = label === -100 ? -100 : -7;
      const two = new Float32Array(2 * C);
      two.set(x);
      const r = api.crossEntropyWithGrad(two, new Int32Array([label, ignore]), { classes: C, ignoreIndex: ignore, ...o });
      return { loss: r.loss, grad: r.grad.subarray(0, C) };
    };
    for (const [v, label] of rows)
      for (const o of [{ reduction: 'mean' }, { reduction: 'sum' }, { reduction: 'sum', gradOutput: -0.5 }] as const) {
        const x = Float32Array.from(v);
        const C = x.length;
        const at = `[${v}] label ${label} ${JSON.stringify(o)}`;
        const want = general(x, label, o);
        const fast = api.crossEntropyWithGrad(x, new Int32Array([label]), { classes: C, ...o });
        expect(Object.is(fast.loss, want.loss), `fast loss of ${at}: ${fast.loss} vs ${want.loss}`).toBe(true);
        sameBits(fast.grad, want.grad, `fast grad of ${at}`);
        const checked = api.crossEntropyWithGrad(x, new Int32Array([label]), { classes: C, ignoreIndex: -100, ...o });
        expect(Object.is(checked.loss, want.loss), `checked loss of ${at}: ${checked.loss} vs ${want.loss}`).toBe(true);
        sameBits(checked.grad, want.grad, `checked grad of ${at}`);
        const lossOnly = api.crossEntropy(x, new Int32Array([label]), { classes: C, reduction: o.reduction });
        expect(Object.is(lossOnly, general(x, label, { reduction: o.reduction }).loss)).toBe(true);
        if (label === -100) continue; // (a Workspace's labels ignore -100 too; covered above)
        const ws = api.createWorkspace({ classes: C, rows: 1 });
        try {
          ws.logits.set(x);
          ws.target[0] = label;
          const loss = ws.crossEntropyWithGrad(o);
          expect(Object.is(loss, want.loss), `Workspace loss of ${at}: ${loss} vs ${want.loss}`).toBe(true);
          sameBits(ws.grad, want.grad, `Workspace grad of ${at}`);
          sameBits(ws.loss, Float32Array.of(want.loss), `Workspace ws.loss of ${at}`);
        } finally {
          ws.dispose();
        }
      }
  });

  it('float64 logits and gradInto take the fast call too, with the same results as the checked path', () => {
    use(backend);
    const rand = rng(11);
    for (const C of [3, 10, 17]) {
      const x = Float64Array.from({ length: 5 * C }, () => rand() * 8 - 4);
      const labels = Int32Array.from({ length: 5 }, () => Math.floor(rand() * C));
      const grad = new Float64Array(5 * C);
      const fast = api.crossEntropyWithGrad(x, labels, { classes: C, gradInto: grad });
      expect(fast.grad).toBe(grad);
      const checked = api.crossEntropyWithGrad(x, labels, { classes: C, ignoreIndex: -100 });
      expect(Object.is(fast.loss, checked.loss)).toBe(true);
      sameBits(grad, checked.grad, `grad C=${C}`);
      const ref = crossEntropy64(x, labels, { outer: 5, C, inner: 1 }, false);
      expect(maxErrRatio(grad, ref.grad, 1e-15, 1e-12)).toBeLessThanOrEqual(1);
    }
  });

  it('softmax and logSoftmax on short rows (4..16 float32 classes) against the float64 reference', () => {
    use(backend);
    const rand = rng(3);
    for (const C of WIDTHS)
      for (const rows of ROWS) {
        const x = Float32Array.from({ length: rows * C }, () => (rand() - 0.5) * 40);
        if (C > 1) x[1] = NaN; // a NaN row stays NaN
        const d = { outer: rows, C, inner: 1 };
        const p = api.softmax(x, { classes: C });
        const lp = api.logSoftmax(x, { classes: C });
        expect(maxErrRatio(p, softmax64(x, d), 1e-7, 1e-5), `softmax C=${C}`).toBeLessThanOrEqual(1);
        expect(maxErrRatio(lp, logSoftmax64(x, d), 1e-5, 1e-5), `logSoftmax C=${C}`).toBeLessThanOrEqual(1);
        // In place gives the same bits (every vector is read before the one that overlaps it is written).
        const y = x.slice();
        api.softmax(y, { classes: C, into: y });
        sameBits(y, p, `softmax in place C=${C}`);
        // The short path of small calls (no temperature) and the checked one (temperature 1, the
        // same computation) agree bit for bit, with and without into, in float64 too.
        sameBits(p, api.softmax(x, { classes: C, temperature: 1 }), `softmax fast vs checked C=${C}`);
        sameBits(lp, api.logSoftmax(x, { classes: C, temperature: 1 }), `logSoftmax fast vs checked C=${C}`);
        const into = new Float32Array(x.length);
        for (let k = 0; k < 2; k++) sameBits(api.logSoftmax(x, { classes: C, into }), lp, `logSoftmax into C=${C}`);
        const x64 = Float64Array.from(x);
        sameBits(api.softmax(x64, { classes: C }), api.softmax(x64, { classes: C, temperature: 1 }), `softmax f64 C=${C}`);
        expect(maxErrRatio(api.softmax(x64, { classes: C }), softmax64(x64, d), 1e-15, 1e-12)).toBeLessThanOrEqual(1);
      }
  });

  it('logSumExp, fast call: equal to the checked path bit for bit (float32 and float64, with and without into), and to the float64 reference', () => {
    use(backend);
    const rand = rng(11);
    for (const T of [Float32Array, Float64Array])
      for (const C of [1, ...WIDTHS, 100])
        for (const rows of ROWS) {
          const x = new T(rows * C);
          for (let i = 0; i < x.length; i++) x[i] = (rand() - 0.5) * 30;
          if (C > 2) x[C - 1] = -Infinity;
          const fast = api.logSumExp(x, { classes: C });
          const into = new T(rows);
          expect(api.logSumExp(x, { classes: C, into })).toBe(into);
          // (a shape sends the call down the checked path)
          const checked = api.logSumExp(x, { shape: [rows, C] });
          sameBits(fast, checked, `C=${C} rows=${rows}`);
          sameBits(into, checked, `into, C=${C} rows=${rows}`);
          const ref = logSumExp64(x, { outer: rows, C, inner: 1 });
          expect(maxErrRatio(fast, ref, T === Float32Array ? 1e-6 : 1e-14, T === Float32Array ? 1e-6 : 1e-14), `C=${C} rows=${rows}`).toBeLessThanOrEqual(1);
        }
  });

  it('softmaxBackward and logSoftmaxBackward, fast call: equal to the checked path bit for bit (float32 and float64, into, in place), and to the float64 reference', () => {
    use(backend);
    const rand = rng(13);
    for (const T of [Float32Array, Float64Array])
      for (const C of [1, ...WIDTHS, 100])
        for (const rows of ROWS) {
          const x = new T(rows * C), g = new T(rows * C);
          for (let i = 0; i < x.length; i++) (x[i] = (rand() - 0.5) * 10), (g[i] = rand() - 0.5);
          for (const [name, forward, backward, ref64] of [
            ['softmaxBackward', api.softmax, api.softmaxBackward, softmaxBackward64],
            ['logSoftmaxBackward', api.logSoftmax, api.logSoftmaxBackward, logSoftmaxBackward64],
          ] as const) {
            const y = forward(x, { classes: C });
            const fast = backward(y, g, { classes: C });
            // (a shape sends the call down the checked path)
            const checked = backward(y, g, { shape: [rows, C] });
            sameBits(fast, checked, `${name} C=${C} rows=${rows}`);
            const into = new T(rows * C);
            expect(backward(y, g, { classes: C, into })).toBe(into);
            sameBits(into, checked, `${name} into, C=${C} rows=${rows}`);
            // in place: the first call passes the overlap check, the second takes the fast path
            const inPlace = g.slice();
            for (let i = 0; i < 2; i++) {
              inPlace.set(g);
              backward(y, inPlace, { classes: C, into: inPlace });
              sameBits(inPlace, checked, `${name} in place (${i}), C=${C} rows=${rows}`);
            }
            const ref = ref64(y, g, { outer: rows, C, inner: 1 });
            const f32 = T === Float32Array;
            expect(maxErrRatio(fast, ref, f32 ? 1e-6 : 1e-14, f32 ? 1e-5 : 1e-13), `${name} C=${C} rows=${rows}`).toBeLessThanOrEqual(1);
          }
        }
  });

  it('a subclass of Float32Array or Float64Array gets results of its own class on every call (the fast paths leave it to the checked path)', () => {
    use(backend);
    class F32 extends Float32Array {}
    class F64 extends Float64Array {}
    for (const T of [F32, F64]) {
      const x = new T([1, 2, 3, 0.5, 0.5, 4]);
      const labels = Int32Array.from([2, 0]);
      for (let call = 0; call < 3; call++) {
        const p = api.softmax(x, { classes: 3 });
        expect(p, `softmax, call ${call}`).toBeInstanceOf(T);
        expect(maxErrRatio(p, softmax64(x, { outer: 2, C: 3, inner: 1 }), 0, 1e-6)).toBeLessThanOrEqual(1);
        expect(api.logSumExp(x, { classes: 3 }), `logSumExp, call ${call}`).toBeInstanceOf(T);
        const r = api.crossEntropyWithGrad(x, labels, { classes: 3 });
        expect(r.grad, `crossEntropyWithGrad, call ${call}`).toBeInstanceOf(T);
        expect(maxErrRatio(r.grad, crossEntropy64(x, labels, { outer: 2, C: 3, inner: 1 }, false, {}).grad, 0, 1e-6)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('a bad label on the fast path throws the checked path\'s RangeError, writes nothing, and the next call works', () => {
    use(backend);
    const x = new Float32Array(20).fill(1);
    const grad = new Float32Array(20).fill(7);
    api.crossEntropyWithGrad(x, new Int32Array([1, 2]), { classes: 10, gradInto: grad }); // remembers grad as disjoint
    grad.fill(7);
    for (const bad of [10, -1, -101]) {
      expect(() => api.crossEntropyWithGrad(x, new Int32Array([1, bad]), { classes: 10, gradInto: grad }))
        .toThrowError(new RangeError(`crossEntropyWithGrad: target[1] must be an integer class index in [0, 10) or ignoreIndex (-100) (got ${bad})`));
      expect(Array.from(grad)).toEqual(Array(20).fill(7));
    }
    const { loss } = api.crossEntropyWithGrad(x, new Int32Array([-100, 9]), { classes: 10, gradInto: grad });
    expect(loss).toBeCloseTo(Math.log(10), 6);
    expect(grad[0]).toBe(0); // the ignored row
  });

  it('a Workspace reuses one call record: calls with other options, and a call that throws, leave nothing behind', () => {
    use(backend);
    const rand = rng(11);
    const rows = 6, C = 10;
    const d = { outer: rows, C, inner: 1 };
    const x = Float32Array.from({ length: rows * C }, () => (rand() - 0.5) * 8);
    const labels = Int32Array.from({ length: rows }, () => Math.floor(rand() * C));
    const weight = Float32Array.from({ length: C }, () => 0.5 + rand());
    const ws = api.createWorkspace({ classes: C, rows });
    try {
      ws.logits.set(x);
      ws.target.set(labels);
      // Each step against the module's call on the same inputs (bits) and the float64 reference.
      const check = (o: api.LossOptions | undefined, o64: Parameters<typeof crossEntropy64>[4], what: string) => {
        const got = ws.crossEntropyWithGrad(o);
        const lossCopy = typeof got === 'number' ? got : Float32Array.from(got);
        const want = api.crossEntropyWithGrad(x, labels, { classes: C, ...o });
        if (typeof lossCopy === 'number') {
          // A reduced loss: the function sums each group of four short rows' log-sums as one log
          // (src/plan.ts groupAligned), the Workspace, which always fills ws.loss, sums its rows'
          // losses: the same to a few ulp of the float64 result, not always the same bits.
          expect(Math.abs(lossCopy - (want.loss as number)), `${what}: loss`).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(want.loss as number));
        } else sameBits(lossCopy, want.loss as Float32Array, `${what}: loss`);
        sameBits(ws.grad, want.grad, `${what}: grad`);
        const ref = crossEntropy64(x, labels, d, false, o64);
        const refLoss = typeof ref.loss === 'number' ? [ref.loss] : ref.loss;
        expect(maxErrRatio(typeof lossCopy === 'number' ? [lossCopy] : lossCopy, refLoss, 1e-6, 1e-5), `${what}: loss`).toBeLessThanOrEqual(1);
        expect(maxErrRatio(ws.grad, ref.grad, 1e-7, 1e-5), `${what}: grad`).toBeLessThanOrEqual(1);
      };
      const gradOutput = Float64Array.from({ length: rows }, (_, r) => r - 2);
      check(undefined, {}, 'defaults');
      check({ weight, labelSmoothing: 0.1, reduction: 'none', gradOutput }, { weight, labelSmoothing: 0.1, reduction: 'none', gradOutput }, 'weights, smoothing, per-sample gradOutput');
      check(undefined, {}, 'defaults after options');
      check({ labelSmoothing: 0.2 }, { labelSmoothing: 0.2 }, 'smoothing without weights after weights');
      check({ ignoreIndex: labels[0]!, zLoss: 1e-3, reduction: 'sum', gradOutput: 0.5 }, { ignoreIndex: labels[0]!, zLoss: 1e-3, reduction: 'sum', gradOutput: 0.5 }, 'ignoreIndex, z-loss, sum');
      ws.target[2] = C;
      expect(() => ws.crossEntropyWithGrad({ weight })).toThrowError(RangeError);
      ws.target[2] = labels[2]!;
      check(undefined, {}, 'defaults after a call that threw');
      expect(ws.crossEntropy()).toBe(ws.crossEntropyWithGrad());
    } finally {
      ws.dispose();
    }
  });
});

describe('the overlap check remembers only what it checked', () => {
  it('a new gradInto that partially overlaps the logits is refused after disjoint calls with other arrays', () => {
    use('simd');
    const buffer = new ArrayBuffer(40 * 4);
    const x = new Float32Array(buffer, 0, 20);
    const labels = new Int32Array([0, 1]);
    const apart = new Float32Array(buffer, 80, 20);
    for (let i = 0; i < 3; i++) api.crossEntropyWithGrad(x, labels, { classes: 10, gradInto: apart });
    const overlapping = new Float32Array(buffer, 40, 20);
    expect(() => api.crossEntropyWithGrad(x, labels, { classes: 10, gradInto: overlapping })).toThrowError(RangeError);
    expect(() => api.crossEntropyWithGrad(x, labels, { classes: 10, gradInto: overlapping })).toThrowError(/must be logits itself/);
    // In place is allowed, remembered, and still right.
    const y = Float32Array.from({ length: 20 }, (_, i) => i % 7);
    const expected = api.crossEntropyWithGrad(y, labels, { classes: 10 });
    const inPlace = api.crossEntropyWithGrad(y.slice(), labels, { classes: 10 }); // warm
    expect(inPlace.loss).toBe(expected.loss);
    const z = y.slice();
    const r = api.crossEntropyWithGrad(z, labels, { classes: 10, gradInto: z });
    expect(r.loss).toBe(expected.loss);
    sameBits(z, expected.grad, 'in-place grad');
  });

  it('softmax into: a partial overlap after a remembered disjoint call is refused', () => {
    use('simd');
    const buffer = new ArrayBuffer(64 * 4);
    const x = new Float32Array(buffer, 0, 20);
    const out = new Float32Array(buffer, 128, 20);
    api.softmax(x, { classes: 10, into: out });
    api.softmax(x, { classes: 10, into: out });
    expect(() => api.softmax(x, { classes: 10, into: new Float32Array(buffer, 4, 20) })).toThrowError(/must be x itself/);
  });

  it('alternating two shapes (both remembered), a third into that partially overlaps is still refused', () => {
    use('simd');
    const buffer = new ArrayBuffer(128 * 4);
    const x = new Float32Array(buffer, 0, 20), out = new Float32Array(buffer, 128, 20);
    const x1 = new Float32Array(buffer, 256, 10), out1 = new Float32Array(buffer, 320, 10);
    for (let i = 0; i < 3; i++) {
      api.softmax(x, { classes: 10, into: out });
      api.softmax(x1, { classes: 10, into: out1 });
      api.logSumExp(x, { classes: 10, into: out.subarray(0, 2) });
    }
    expect(() => api.softmax(x, { classes: 10, into: new Float32Array(buffer, 4, 20) })).toThrowError(/must be x itself/);
    expect(() => api.logSumExp(x, { classes: 10, into: new Float32Array(buffer, 4, 2) })).toThrowError(RangeError);
    expect(Math.abs(api.softmax(x1, { classes: 10, into: out1 }).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
  });

  it('a detached gradInto is refused although the same object passed before', () => {
    use('simd');
    const x = new Float32Array(10);
    const grad = new Float32Array(10);
    api.crossEntropyWithGrad(x, new Int32Array([0]), { classes: 10, gradInto: grad });
    structuredClone(grad.buffer, { transfer: [grad.buffer] });
    expect(() => api.crossEntropyWithGrad(x, new Int32Array([0]), { classes: 10, gradInto: grad })).toThrowError(TypeError);
  });
});
