// Checks of every benchmarked result against the float64 reference (bench/baselines/reference64.mjs).
// Same tolerances as bench/baselines/check.mjs: f32 results vs f64 truth. Probabilities are in
// [0, 1]; log-probabilities carry an absolute error of about ulp(lse) (lse ~ 10 at 32k classes),
// hence their larger atol; the gradient is scaled by 1/rows, and so is its atol.

import {
  softmax64,
  logSoftmax64,
  crossEntropyMean64,
  crossEntropyGrad64,
  assertClose,
} from '../baselines/reference64.mjs';

/** f64 reference results of the four benchmarked ops for one shape. */
export function reference(logits, labels, rows, classes) {
  return {
    softmax: softmax64(logits, rows, classes),
    logSoftmax: logSoftmax64(logits, rows, classes),
    loss: crossEntropyMean64(logits, labels, rows, classes),
    grad: crossEntropyGrad64(logits, labels, rows, classes),
  };
}

export const tolerances = (rows) => ({
  softmax: { rtol: 1e-4, atol: 1e-6 },
  logSoftmax: { rtol: 1e-4, atol: 1e-5 },
  loss: { rtol: 1e-5, atol: 1e-6 },
  grad: { rtol: 1e-4, atol: 1e-6 / rows },
});

/** Throws (with `label` in the message) unless `res`, the result of `op`, matches the reference. */
export function checkResult(op, res, ref, rows, label) {
  const tol = tolerances(rows);
  switch (op) {
    case 'softmax':
      assertClose(res, ref.softmax, tol.softmax, `${label}: probabilities`);
      break;
    case 'logSoftmax':
      assertClose(res, ref.logSoftmax, tol.logSoftmax, `${label}: log-probabilities`);
      break;
    case 'crossEntropy':
      if (typeof res !== 'number') throw new Error(`${label}: loss is ${typeof res}, expected a number`);
      assertClose(res, ref.loss, tol.loss, `${label}: loss`);
      break;
    case 'crossEntropyWithGrad':
      if (res == null || typeof res.loss !== 'number') {
        throw new Error(`${label}: expected { loss: number, grad }, got ${Object.prototype.toString.call(res)}`);
      }
      assertClose(res.loss, ref.loss, tol.loss, `${label}: loss`);
      assertClose(res.grad, ref.grad, tol.grad, `${label}: grad`);
      break;
    default:
      throw new Error(`unknown op ${op}`);
  }
}
