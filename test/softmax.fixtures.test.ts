// Every public fixture of the five softmax-family ops against every build: Float32Array inputs
// within each case's tolerance of the PyTorch float64 gold, and the same inputs as
// Float64Array within 1e-12 relative of it (the gold is the float64 result of those inputs).
import { afterAll, describe, expect, it } from 'vitest';
import { logSoftmax, logSoftmaxBackward, logSumExp, softmax, softmaxBackward } from '../src/index.js';
import { compare, input, loadCases, output, values, type Case, type Tol } from './helpers/fixtures.js';
import { dimsOf, logSoftmax64, softmax64 } from './helpers/reference.js';
import { BACKENDS, use } from './helpers/backends.js';

const OPS = ['softmax', 'log_softmax', 'logsumexp', 'softmax_backward', 'log_softmax_backward'] as const;
const cases = Object.fromEntries(OPS.map((op) => [op, loadCases(op)])) as Record<(typeof OPS)[number], Case[]>;
const ran: Record<string, number> = {};

/** Runs a case's op on inputs converted to `Ctor`. */
function run(c: Case, Ctor: Float32ArrayConstructor | Float64ArrayConstructor): Float32Array | Float64Array {
  const xT = input(c, 'x')!;
  const x = Ctor.from(values(xT));
  const layout = { shape: xT.shape, axis: c.attrs.dim as number };
  switch (c.op) {
    case 'softmax':
      return softmax(x, layout);
    case 'log_softmax':
      return logSoftmax(x, layout);
    case 'logsumexp':
      return logSumExp(x, layout);
    default: {
      // The backward ops take the forward result y: torch's own (gold) when stored, else a
      // float64 reference computed here, rounded to the input precision like a user's y.
      const yT = output(c, 'y')!;
      const d = dimsOf(xT.shape, c.attrs.dim);
      const xs = values(xT);
      const y64 = yT.data ? values(yT) : Array.from(c.op === 'softmax_backward' ? softmax64(xs, d) : logSoftmax64(xs, d));
      const y = Ctor.from(y64);
      const g = Ctor.from(values(input(c, 'grad_output')!));
      return c.op === 'softmax_backward' ? softmaxBackward(y, g, layout) : logSoftmaxBackward(y, g, layout);
    }
  }
}

const goldName = (op: string) => (op === 'logsumexp' ? 'logsumexp' : op.endsWith('backward') ? 'grad_input' : 'y');

for (const b of BACKENDS) {
  describe(`fixtures, softmax family, ${b} build`, () => {
    for (const op of OPS) {
      for (const c of cases[op]) {
        it(`${c.name} (Float32Array)`, () => {
          use(b);
          const name = goldName(op);
          const errs = compare(run(c, Float32Array), output(c, name)!, c.tolerance[name]!, c.attrs.dim);
          expect(errs, c.edge_reason).toEqual([]);
          ran[`${b} f32`] = (ran[`${b} f32`] ?? 0) + 1;
        });
        it(`${c.name} (Float64Array)`, () => {
          use(b);
          const name = goldName(op);
          const t = c.tolerance[name]!;
          // Float64 kernels agree with torch's float64 far more closely than the f32 tolerance;
          // the backward ops use a rounded y, so they keep an absolute term of the same scale.
          const tol: Tol = op.endsWith('backward') ? { atol: t.atol / 1e3, rtol: 1e-9 } : { atol: t.atol * 1e-8, rtol: 1e-12 };
          const errs = compare(run(c, Float64Array), output(c, name)!, tol, c.attrs.dim);
          expect(errs, c.edge_reason).toEqual([]);
          ran[`${b} f64`] = (ran[`${b} f64`] ?? 0) + 1;
        });
      }
    }
  });
}

afterAll(() => {
  const total = OPS.reduce((n, op) => n + cases[op].length, 0);
  console.log(`softmax-family fixtures: ${total} cases; ran per build: ${JSON.stringify(ran)}`);
  for (const k of Object.keys(ran)) expect(ran[k]).toBe(total);
});
