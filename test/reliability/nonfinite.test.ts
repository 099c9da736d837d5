// The non-finite policy of API.md, on every build, in f32 and f64, for the
// functions and the Workspace: NaN isolated to its slice, +-Infinity, all -Infinity slices,
// -Infinity as a mask, denormals, logits at +-3.4e38, and tiny and huge temperatures.
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { BACKENDS, use } from '../helpers/backends.js';
import {
  crossEntropy64, logSoftmax64, logSoftmaxBackward64, logSumExp64, softmax64, softmaxBackward64, type Dims,
} from '../helpers/reference.js';
import { expectClose, type F, type FloatCtor } from './common.js';
import { uniform } from '../helpers/random.js';

const FLT_MAX = 3.4028234663852886e38;

/** Rows of C logits, each exercising one non-finite case; `clean` are the rows without any. */
function hostileRows(C: number, f32: boolean, seed: number) {
  const tiny = f32 ? 1e-40 : 1e-310; // subnormal in the element type
  const big = f32 ? FLT_MAX : 1.7e308;
  const rows: number[][] = [];
  const base = () => uniform(C, seed + rows.length, 5);
  const kinds: string[] = [];
  const add = (kind: string, r: number[]) => {
    kinds.push(kind);
    rows.push(r);
  };
  add('clean', base());
  add('NaN', Object.assign(base(), { [Math.min(5, C - 1)]: NaN }));
  add('all -Infinity', new Array(C).fill(-Infinity));
  add('+Infinity', Object.assign(base(), { [Math.min(3, C - 1)]: Infinity }));
  add('-Infinity mask', base().map((v, i) => (i % 3 === 1 ? -Infinity : v)));
  add('clean', base());
  add('subnormals', base().map((v, i) => (i % 2 ? tiny * (v > 0 ? 1 : -1) : 0)));
  add('+-max', base().map((v, i) => (i === 0 ? big : i === C - 1 ? -big : v)));
  add('NaN and Infinity', Object.assign(base(), { 0: Infinity, [C - 1]: NaN }));
  add('-max only', new Array(C).fill(-big));
  add('clean', base());
  return { rows, kinds, flat: rows.flat() };
}

/** Indices of the class-index target for each hostile row: never a masked (-Infinity) class. */
const labelFor = (C: number, r: number) => (r * 7 + 2) % C - (((r * 7 + 2) % C) % 3 === 1 ? 1 : 0);

for (const b of BACKENDS) {
  describe(`non-finite policy, ${b} build`, () => {
    for (const [Ctor, f32] of [[Float32Array, true], [Float64Array, false]] as [FloatCtor, boolean][]) {
      const type = f32 ? 'f32' : 'f64';
      for (const C of [1, 4, 37, 1000]) {
        it(`${type}, C = ${C}: every function matches the policy, and each slice is computed alone`, () => {
          use(b);
          const { rows, kinds, flat } = hostileRows(C, f32, C);
          const N = rows.length;
          const d: Dims = { outer: N, C, inner: 1 };
          const x = Ctor.from(flat);
          const xs = Array.from(x); // the values as the element type holds them
          const y = softmax64(xs, d);
          const ly = logSoftmax64(xs, d);
          const g = uniform(N * C, 99, 1);
          const sm = api.softmax(x, { classes: C });
          const lsm = api.logSoftmax(x, { classes: C });
          const lse = api.logSumExp(x, { classes: C });
          expectClose(sm, y, f32, 'softmax');
          expectClose(lsm, ly, f32, 'logSoftmax');
          expectClose(lse, logSumExp64(xs, d), f32, 'logSumExp');
          const yIn = Ctor.from(y);
          const lyIn = Ctor.from(ly);
          expectClose(api.softmaxBackward(yIn, Ctor.from(g), { classes: C }), softmaxBackward64(Array.from(yIn), Array.from(Ctor.from(g)), d), f32, 'softmaxBackward');
          expectClose(api.logSoftmaxBackward(lyIn, Ctor.from(g), { classes: C }), logSoftmaxBackward64(Array.from(lyIn), Array.from(Ctor.from(g)), d), f32, 'logSoftmaxBackward');
          // (The '-max only' slice is checked on its own below: the float64 reference loses its
          // loss, log C, to cancellation in x - lse at 3.4e38.)
          const labels = rows.map((_, r) => (kinds[r] === '-max only' ? -100 : labelFor(C, r)));
          const maxRow = Ctor.from(rows[kinds.indexOf('-max only')]!);
          const mr = api.crossEntropyWithGrad(maxRow, [C - 1], { classes: C, reduction: 'sum' });
          expectClose(mr.loss, Math.log(C), f32, 'crossEntropy of equal logits at -max');
          expectClose(mr.grad, Array.from({ length: C }, (_, c) => 1 / C - (c === C - 1 ? 1 : 0)), f32, 'its gradient');
          for (const o of [{ reduction: 'none' as const }, { reduction: 'none' as const, weight: uniform(C, 5, 1).map((v) => v + 2) }, { reduction: 'none' as const, zLoss: 1e-4 }]) {
            const r = api.crossEntropyWithGrad(x, labels, { classes: C, ...o });
            const e = crossEntropy64(xs, labels, d, false, o);
            expectClose(r.loss, e.loss, f32, `crossEntropy loss ${JSON.stringify(o)}`);
            expectClose(r.grad, e.grad, f32, `crossEntropy grad ${JSON.stringify(o)}`);
          }
          // The policy, spelled out per slice.
          for (let r = 0; r < N; r++) {
            const row = (a: F) => Array.from(a.subarray(r * C, (r + 1) * C));
            const k = kinds[r]!;
            if (k === 'NaN' || k === 'all -Infinity' || k === 'NaN and Infinity' || (k === '+Infinity' && C > 0)) {
              expect(row(sm).every(Number.isNaN), `${k}: softmax NaN`).toBe(true);
              expect(row(lsm).every(Number.isNaN), `${k}: logSoftmax NaN`).toBe(true);
            }
            if (k === 'all -Infinity') expect(lse[r]).toBe(-Infinity);
            if (k === '+Infinity') expect(lse[r]).toBe(Infinity);
            if (k === 'NaN' || k === 'NaN and Infinity') expect(lse[r]).toBeNaN();
            if (k === '-Infinity mask') {
              row(sm).forEach((v, i) => (i % 3 === 1 ? expect(v).toBe(0) : expect(Number.isFinite(v) && v > 0).toBe(true)));
              row(lsm).forEach((v, i) => (i % 3 === 1 ? expect(v).toBe(-Infinity) : expect(Number.isFinite(v)).toBe(true)));
            }
            if (k === 'clean' || k === 'subnormals' || k === '-max only' || (k === '-Infinity mask' && C > 1) || k === '+-max') {
              expect(row(sm).every(Number.isFinite), `${k}: finite softmax`).toBe(true);
              // Isolation: the slice alone gives the same bits.
              const alone = Ctor.from(xs.slice(r * C, (r + 1) * C));
              expect(Array.from(api.softmax(alone, { classes: C })), `${k}: softmax of the slice alone`).toEqual(row(sm));
              expect(Array.from(api.logSoftmax(alone, { classes: C })), `${k}: logSoftmax of the slice alone`).toEqual(row(lsm));
              expect(api.logSumExp(alone, { classes: C })[0]).toBe(lse[r]);
            }
          }
          // 'mean' and 'sum' over a batch with a NaN slice are NaN, as in PyTorch.
          expect(api.crossEntropy(x, labels, { classes: C })).toBeNaN();
          expect(api.crossEntropy(x, labels, { classes: C, reduction: 'sum' })).toBeNaN();
          // ... and ignoring the non-finite slices gives the loss of the others.
          const bad = new Set(['NaN', 'all -Infinity', '+Infinity', 'NaN and Infinity']);
          const kept = labels.map((l, r) => (bad.has(kinds[r]!) ? -100 : l));
          const r = api.crossEntropyWithGrad(x, kept, { classes: C });
          const e = crossEntropy64(xs, kept, d, false);
          expectClose(r.loss, e.loss, f32, 'mean over the finite slices');
          expectClose(r.grad, e.grad, f32, 'grad over the finite slices');
          rows.forEach((_, i) => bad.has(kinds[i]!) && expect(Array.from(r.grad.subarray(i * C, (i + 1) * C)).every((v) => v === 0)).toBe(true));
        });
      }

      it(`${type}: NaN stays in its slice along a strided axis, and in a Workspace`, () => {
        use(b);
        const shape = [3, 6, 5];
        const x = Ctor.from(uniform(90, 4, 3));
        x[1 * 30 + 2 * 5 + 4] = NaN; // outer 1, class 2, inner 4
        x[2 * 30 + 0 * 5 + 1] = -Infinity; // a mask in outer 2, inner 1
        const xs = Array.from(x);
        const d: Dims = { outer: 3, C: 6, inner: 5 };
        const y = api.softmax(x, { shape, axis: 1 });
        expectClose(y, softmax64(xs, d), f32, 'strided softmax');
        for (let o = 0; o < 3; o++)
          for (let i = 0; i < 5; i++)
            for (let c = 0; c < 6; c++) expect(Number.isNaN(y[o * 30 + c * 5 + i]!)).toBe(o === 1 && i === 4);
        expect(y[2 * 30 + 1]).toBe(0);
        const l = api.logSumExp(x, { shape, axis: 1 });
        expectClose(l, logSumExp64(xs, d), f32, 'strided logSumExp');
        const tgt = Array.from({ length: 15 }, (_, k) => (k * 5 + 1) % 6);
        const ce = api.crossEntropy(x, tgt, { shape, reduction: 'none' }) as F; // axis 1 by default
        expectClose(ce, crossEntropy64(xs, tgt, d, false, { reduction: 'none' }).loss as Float64Array, f32, 'strided crossEntropy');
        expect(Array.from(ce).map(Number.isNaN)).toEqual(Array.from({ length: 15 }, (_, k) => k === 9));

        const ws = api.createWorkspace({ classes: 6, rows: 4, dtype: f32 ? 'float32' : 'float64' });
        const wx = uniform(24, 8, 3);
        wx[6 + 3] = NaN;
        wx[12] = Infinity;
        wx[18 + 5] = -Infinity;
        ws.logits.set(wx);
        ws.target.set([0, 1, 2, 5]);
        const dw: Dims = { outer: 4, C: 6, inner: 1 };
        const wxs = Array.from(ws.logits);
        expectClose(ws.softmax(), softmax64(wxs, dw), f32, 'ws.softmax');
        expectClose(ws.logSoftmax(), logSoftmax64(wxs, dw), f32, 'ws.logSoftmax');
        const loss = ws.crossEntropyWithGrad({ reduction: 'none' }) as F;
        const e = crossEntropy64(wxs, [0, 1, 2, 5], dw, false, { reduction: 'none' });
        expectClose(loss, e.loss, f32, 'ws loss');
        expectClose(ws.grad, e.grad, f32, 'ws grad');
        expect(Number.isNaN(loss[1]!) && Number.isNaN(loss[2]!) && loss[3] === Infinity && Number.isFinite(loss[0]!)).toBe(true);
        ws.dispose();
      });

      it(`${type}: -Infinity as a mask in cross-entropy: no contribution at zero target mass, +Infinity on the target`, () => {
        use(b);
        const C = 6;
        const x = Ctor.from([1, -Infinity, 2, 0.5, -Infinity, 3]);
        const xs = Array.from(x);
        const d: Dims = { outer: 1, C, inner: 1 };
        const l0 = api.crossEntropyWithGrad(x, [2], { classes: C });
        expectClose(l0.loss, crossEntropy64(xs, [2], d, false).loss, f32, 'target beside the mask');
        expect(l0.grad[1]).toBe(0);
        expect(l0.grad[4]).toBe(0);
        expect(api.crossEntropy(x, [1], { classes: C })).toBe(Infinity); // on the target class
        expect(api.crossEntropy(x, [2], { classes: C, labelSmoothing: 0.1 })).toBe(Infinity); // smoothing puts mass on it
        expect(api.crossEntropy(x, [1], { classes: C, labelSmoothing: 1 })).toBe(Infinity); // all mass smoothed, still some on it
        // A masked target of weight 0 has target mass 0: no contribution ('sum' 0; 'mean' 0/0).
        expect(api.crossEntropy(x, [1], { classes: C, weight: [1, 0, 1, 1, 1, 1], reduction: 'sum' })).toBe(0);
        expect(api.crossEntropyWithGrad(x, [1, 2], { classes: 3, weight: [1, 0, 1], reduction: 'sum' }).loss).toBeCloseTo(crossEntropy64(xs, [1, 2], { outer: 2, C: 3, inner: 1 }, false, { weight: [1, 0, 1], reduction: 'sum' }).loss as number, 5);
        expect(api.crossEntropy(x, [2], { classes: C, weight: [1, 0, 1, 1, 0, 1], labelSmoothing: 0.1 })).toBeCloseTo(crossEntropy64(xs, [2], d, false, { weight: [1, 0, 1, 1, 0, 1], labelSmoothing: 0.1 }).loss as number, 5); // weight 0 removes it
        const q0 = Ctor.from([0.25, 0, 0.25, 0.25, 0, 0.25]);
        const p0 = api.crossEntropyWithGrad(x, q0, { classes: C });
        expect(Number.isFinite(p0.loss)).toBe(true); // PyTorch gives NaN here; the limit is finite
        expectClose(p0.loss, crossEntropy64(xs, Array.from(q0), d, true).loss, f32, 'zero mass on the masks');
        expect(p0.grad[1]).toBe(0);
        const q1 = Ctor.from([0.25, 0.01, 0.24, 0.25, 0, 0.25]);
        expect(api.crossEntropy(x, q1, { classes: C })).toBe(Infinity); // nonzero mass on a mask
        // The gradient of an ignored sample is exactly 0, whatever its logits hold.
        const x2 = Ctor.from([NaN, 1, Infinity, 2, -Infinity, -Infinity, 0, 0, 0]);
        const g2 = api.crossEntropyWithGrad(x2, [-100, -100, 1], { classes: 3, reduction: 'sum' });
        expect(Array.from(g2.grad.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
        expectClose(g2.loss, Math.log(3), f32, 'only the last sample counts');
        // Every sample ignored: 'mean' is NaN and the gradient 0.
        const all = api.crossEntropyWithGrad(x2, [7, 7, 7], { classes: 3, ignoreIndex: 7 });
        expect(all.loss).toBeNaN();
        expect(all.grad.every((v) => v === 0)).toBe(true);
      });

      it(`${type}: logits at +-max, subnormals, and loss values beyond the element type`, () => {
        use(b);
        const big = f32 ? FLT_MAX : Number.MAX_VALUE;
        const x = Ctor.from([big, -big, 0, big, big, big, -big, -big, -big]);
        const xs = Array.from(x);
        const d: Dims = { outer: 3, C: 3, inner: 1 };
        expectClose(api.softmax(x, { classes: 3 }), [1, 0, 0, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3], f32, 'softmax at +-max');
        expectClose(api.logSoftmax(x, { classes: 3 }), logSoftmax64(xs, d), f32, 'logSoftmax at +-max');
        expectClose(api.logSumExp(x, { classes: 3 }), [big, big + Math.log(3), -big + Math.log(3)].map((v) => (f32 ? Math.fround(v) : v)), f32, 'logSumExp at +-max');
        // Row 0, label 1: the loss is 2 * max: finite as a float64 'sum', +Infinity per sample in f32.
        const none = api.crossEntropy(x, [1, 0, 2], { classes: 3, reduction: 'none' }) as F;
        expect(none[0]).toBe(Infinity); // 2 * max overflows the element type (and f64 for f64)
        const sum = api.crossEntropy(x, [1, 0, 2], { classes: 3, reduction: 'sum' });
        expect(sum).toBe(f32 ? 2 * FLT_MAX + 2 * Math.log(3) : Infinity);
        const tiny = f32 ? 1.4e-45 : 5e-324;
        const sub = Ctor.from([tiny, -tiny, 0, tiny * 3, 1e-38, -1e-38, 0, 0]);
        expectClose(api.softmax(sub, { classes: 4 }), softmax64(Array.from(sub), { outer: 2, C: 4, inner: 1 }), f32, 'subnormal logits');
        expectClose(api.logSumExp(sub, { classes: 4 }), [Math.log(4), Math.log(4)], f32, 'subnormal logSumExp');
        // Results in the subnormal range: exp(-100) in f32, exp(-740) in f64.
        const gap = f32 ? 100 : 740;
        const s = api.softmax(Ctor.from([0, -gap]), { classes: 2 });
        expect(s[0]).toBe(1);
        expect(s[1]! >= 0 && s[1]! < 1e-37).toBe(true);
        expect(api.logSoftmax(Ctor.from([0, -gap]), { classes: 2 })[1]).toBeCloseTo(-gap, 5);
      });

      it(`${type}: temperature tiny and huge`, () => {
        use(b);
        const x = Ctor.from([1, 3, 2, 3, -Infinity, 0.5, 0.25, 0.125]);
        const C = 4;
        for (const T of [1e-30, 1e-200, Number.MIN_VALUE]) {
          // softmax(x / T) -> the argmax, ties sharing it: one-hot limits.
          expectClose(api.softmax(x, { classes: C, temperature: T }), [0, 0.5, 0, 0.5, 0, 1, 0, 0], f32, `softmax T=${T}`);
          const l = api.logSoftmax(x, { classes: C, temperature: T });
          expectClose([l[1]!, l[3]!, l[5]!], [-Math.LN2, -Math.LN2, 0], f32, `logSoftmax T=${T} at the argmax`);
          for (const i of [0, 2, 4, 6, 7]) expect(l[i]! < -1e29 || l[i] === -Infinity, `logSoftmax T=${T} [${i}] = ${l[i]}`).toBe(true);
          const ws = api.createWorkspace({ classes: C, rows: 2, dtype: f32 ? 'float32' : 'float64' });
          ws.logits.set(x);
          expectClose(ws.softmax({ temperature: T }), [0, 0.5, 0, 0.5, 0, 1, 0, 0], f32, `ws.softmax T=${T}`);
          ws.dispose();
        }
        for (const T of [1e30, 1e300, Number.MAX_VALUE]) {
          // x / T -> 0: uniform over the unmasked classes.
          expectClose(api.softmax(x, { classes: C, temperature: T }), [0.25, 0.25, 0.25, 0.25, 0, 1 / 3, 1 / 3, 1 / 3], f32, `softmax T=${T}`);
          expectClose(api.logSoftmax(x, { classes: C, temperature: T }), [-Math.log(4), -Math.log(4), -Math.log(4), -Math.log(4), -Infinity, -Math.log(3), -Math.log(3), -Math.log(3)], f32, `logSoftmax T=${T}`);
        }
        // NaN is NaN at any temperature.
        for (const T of [1e-30, 1, 1e30]) expect(Array.from(api.softmax(Ctor.from([NaN, 1, 2, 3]), { classes: 4, temperature: T })).every(Number.isNaN)).toBe(true);
      });
    }
  });
}
