// Every cross_entropy fixture (loss and gradient) on every build with Float32Array inputs, within
// the case's tolerance of the PyTorch float64 gold; the same inputs as Float64Array against the
// plain float64 reference of test/helpers/reference.ts (which is itself checked against the gold).
import { afterAll, describe, expect, it } from 'vitest';
import { crossEntropy, crossEntropyWithGrad } from '../src/index.js';
import { compare, input, loadCases, output, values, type Case, type Tol } from './helpers/fixtures.js';
import { crossEntropy64, dimsOf, maxErrRatio } from './helpers/reference.js';
import { BACKENDS, use } from './helpers/backends.js';

const cases = loadCases('cross_entropy');
const ran: Record<string, number> = {};
const count = (k: string) => (ran[k] = (ran[k] ?? 0) + 1);

// Where this library departs from torch on purpose (API.md, "Non-finite values"), the case is
// checked against the float64 reference instead of the gold.
const usesLimit = (c: Case) => /exactly 0 on every class whose logit is -inf/.test(c.edge_reason ?? '');
const ignoredInfRow = (c: Case) => /all -inf but its target is ignore_index/.test(c.edge_reason ?? '');

interface Prepared {
  x: number[];
  target: number[];
  probabilities: boolean;
  shape: number[];
  opts: { reduction: 'mean' | 'sum' | 'none'; weight?: number[]; ignoreIndex?: number; labelSmoothing: number };
  gradLoss?: number[];
}

function prepare(c: Case): Prepared {
  const xT = input(c, 'x')!;
  const a = c.attrs;
  const probabilities = a.target_kind === 'probabilities';
  const w = input(c, 'weight');
  const g = input(c, 'grad_loss');
  return {
    x: values(xT),
    target: values(input(c, 'target')!),
    probabilities,
    shape: xT.shape,
    opts: {
      reduction: a.reduction,
      ...(w ? { weight: values(w) } : {}),
      ...(probabilities ? {} : { ignoreIndex: a.ignore_index }),
      labelSmoothing: a.label_smoothing,
    },
    ...(g ? { gradLoss: values(g) } : {}),
  };
}

function targetOf<A extends Float32Array | Float64Array>(p: Prepared, Ctor: { from(v: number[]): A }): A | Int32Array {
  return p.probabilities ? Ctor.from(p.target) : Int32Array.from(p.target);
}

const lossArray = (l: number | ArrayLike<number>) => (typeof l === 'number' ? [l] : l);

for (const b of BACKENDS) {
  describe(`fixtures, cross_entropy, ${b} build`, () => {
    for (const c of cases) {
      it(`${c.name} (Float32Array)`, () => {
        use(b);
        const p = prepare(c);
        const x = Float32Array.from(p.x);
        const target = targetOf(p, Float32Array);
        const layout = { shape: p.shape, ...p.opts };
        const fused = crossEntropyWithGrad(x, target, layout);
        const lossOnly = crossEntropy(x, target, layout);
        const lossTol = c.tolerance.loss!;
        const gradTol = c.tolerance.grad_logits!;
        if (usesLimit(c) || ignoredInfRow(c)) {
          const ref = crossEntropy64(p.x, p.target, dimsOf(p.shape, 1), p.probabilities, p.opts);
          expect(maxErrRatio(lossArray(fused.loss), lossArray(ref.loss), lossTol.atol, lossTol.rtol)).toBeLessThanOrEqual(1);
          expect(maxErrRatio(fused.grad, ref.grad, gradTol.atol, gradTol.rtol)).toBeLessThanOrEqual(1);
          expect(lossArray(lossOnly)).toEqual(lossArray(fused.loss));
        } else {
          expect(compare(lossArray(fused.loss), output(c, 'loss')!, lossTol), c.edge_reason).toEqual([]);
          expect(compare(lossArray(lossOnly), output(c, 'loss')!, lossTol), c.edge_reason).toEqual([]);
          expect(compare(fused.grad, output(c, 'grad_logits')!, gradTol, 1), c.edge_reason).toEqual([]);
        }
        if (p.gradLoss) {
          const up = crossEntropyWithGrad(x, target, { ...layout, gradOutput: Float32Array.from(p.gradLoss) });
          const t = c.tolerance.grad_logits_upstream ?? gradTol;
          expect(compare(up.grad, output(c, 'grad_logits_upstream')!, t, 1)).toEqual([]);
        }
        count(`${b} f32`);
      });
      it(`${c.name} (Float64Array, vs float64 reference)`, () => {
        use(b);
        const p = prepare(c);
        const x = Float64Array.from(p.x);
        const target = targetOf(p, Float64Array);
        const layout = { shape: p.shape, ...p.opts, ...(p.gradLoss ? { gradOutput: p.gradLoss } : {}) };
        const ours = crossEntropyWithGrad(x, target, layout);
        const ref = crossEntropy64(p.x, p.target, dimsOf(p.shape, 1), p.probabilities, layout);
        const tl = c.tolerance.loss!;
        const tg = c.tolerance.grad_logits!;
        const tight = (t: Tol): Tol => ({ atol: t.atol * 1e-7, rtol: 1e-11 });
        expect(maxErrRatio(lossArray(ours.loss), lossArray(ref.loss), tight(tl).atol, tight(tl).rtol)).toBeLessThanOrEqual(1);
        expect(maxErrRatio(ours.grad, ref.grad, tight(tg).atol, tight(tg).rtol)).toBeLessThanOrEqual(1);
        count(`${b} f64`);
      });
    }
  });
}

describe('the float64 reference itself agrees with the torch gold', () => {
  for (const c of cases.filter((c) => !usesLimit(c) && !ignoredInfRow(c))) {
    it(c.name, () => {
      const p = prepare(c);
      const ref = crossEntropy64(p.x, p.target, dimsOf(p.shape, 1), p.probabilities, p.opts);
      const tl = c.tolerance.loss!;
      const tg = c.tolerance.grad_logits!;
      expect(compare(lossArray(ref.loss), output(c, 'loss')!, { atol: tl.atol * 1e-6, rtol: 1e-10 })).toEqual([]);
      expect(compare(ref.grad, output(c, 'grad_logits')!, { atol: tg.atol * 1e-6, rtol: 1e-10 }, 1)).toEqual([]);
    });
  }
});

afterAll(() => {
  console.log(`cross_entropy fixtures: ${cases.length} cases; ran per build: ${JSON.stringify(ran)}`);
  for (const k of Object.keys(ran)) expect(ran[k]).toBe(cases.length);
});
