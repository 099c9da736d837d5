// The known results of the example apps, computed here independently of the library: plain
// float64 arithmetic on the apps' fixed float32 inputs.

/** The apps' inputs: two samples of three classes and their labels. */
export const LOGITS = [2, 1, 0.1, 0.5, 2.5, -1].map(Math.fround);
export const LABELS = [0, 1];
export const CLASSES = 3;

function softmaxRows(x, C) {
  const out = [];
  for (let r = 0; r < x.length / C; r++) {
    const row = x.slice(r * C, r * C + C);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

/** softmax, mean cross-entropy and its gradient of the apps' inputs, in float64. */
export function expectedResults(x = LOGITS, labels = LABELS, C = CLASSES) {
  const p = softmaxRows(x, C);
  const N = labels.length;
  let loss = 0;
  const grad = p.map((v) => v / N);
  labels.forEach((t, n) => {
    loss -= Math.log(p[n * C + t]) / N;
    grad[n * C + t] -= 1 / N;
  });
  return { softmax: p, loss, grad };
}

/** softmax([1, 2, 3]) of the create-vite app's one line. */
export const SCAFFOLD_SOFTMAX = softmaxRows([1, 2, 3], 3);

/** float32 results agree with the float64 reference to this: |a - r| <= ATOL + RTOL |r|. */
const ATOL = 1e-6;
const RTOL = 1e-5;

/** Mismatches between an app's reported values and the reference (empty when all agree). */
export function compareValues(got, want) {
  const errs = [];
  const near = (a, r) => typeof a === 'number' && Math.abs(a - r) <= ATOL + RTOL * Math.abs(r);
  for (const k of ['softmax', 'grad']) {
    if (!Array.isArray(got[k]) || got[k].length !== want[k].length) {
      errs.push(`${k}: expected ${want[k].length} numbers, got ${JSON.stringify(got[k])}`);
      continue;
    }
    got[k].forEach((a, i) => {
      if (!near(a, want[k][i])) errs.push(`${k}[${i}] = ${a}, expected ${want[k][i]}`);
    });
  }
  if (!near(got.loss, want.loss)) errs.push(`loss = ${got.loss}, expected ${want.loss}`);
  // The apps also compute the loss through a Workspace (createWorkspace); the same number.
  if ('workspaceLoss' in got && !near(got.workspaceLoss, want.loss)) errs.push(`workspace loss = ${got.workspaceLoss}, expected ${want.loss}`);
  return errs;
}
