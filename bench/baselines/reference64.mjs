// Float64 reference for checking the baselines (and anything else in the bench) over row-major
// [rows, classes] f32 inputs. Everything is computed in f64 from the f32 input values, so the
// only error left in a baseline's result is its own f32 arithmetic. Also: the seeded inputs the
// bench uses, and a closeness assertion with readable failures.

/**
 * mulberry32: a tiny, fast, well-mixed 32-bit PRNG; plenty for reproducible benchmark inputs.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Deterministic inputs for one shape: logits ~ N(0, 2^2) (typical trained-classifier spread; wide
 * enough that probabilities span many orders of magnitude), labels uniform in [0, classes).
 * The same (rows, classes, seed) always gives the same arrays.
 * @returns {{ logits: Float32Array, labels: Int32Array }}
 */
export function makeInputs(rows, classes, seed = 0x5eed) {
  const rand = mulberry32(seed ^ Math.imul(rows, 0x9e3779b1) ^ Math.imul(classes, 0x85ebca77));
  const logits = new Float32Array(rows * classes);
  for (let i = 0; i < logits.length; i += 2) {
    // Box-Muller, both outputs used.
    const u = 1 - rand();
    const v = rand();
    const r = 2 * Math.sqrt(-2 * Math.log(u));
    logits[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < logits.length) logits[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) labels[r] = Math.floor(rand() * classes);
  return { logits, labels };
}

/** Per-row log-sum-exp in f64. */
export function logSumExp64(x, rows, classes) {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, x[o + j]);
    let s = 0;
    for (let j = 0; j < classes; j++) s += Math.exp(x[o + j] - max);
    out[r] = max + Math.log(s);
  }
  return out;
}

export function softmax64(x, rows, classes) {
  const lse = logSumExp64(x, rows, classes);
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < classes; j++) out[r * classes + j] = Math.exp(x[r * classes + j] - lse[r]);
  }
  return out;
}

export function logSoftmax64(x, rows, classes) {
  const lse = logSumExp64(x, rows, classes);
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < classes; j++) out[r * classes + j] = x[r * classes + j] - lse[r];
  }
  return out;
}

/** Mean over rows of (lse - x[label]). */
export function crossEntropyMean64(x, labels, rows, classes) {
  const lse = logSumExp64(x, rows, classes);
  let sum = 0;
  for (let r = 0; r < rows; r++) sum += lse[r] - x[r * classes + labels[r]];
  return sum / rows;
}

/** d(mean loss)/d logits = (softmax - onehot(label)) / rows. */
export function crossEntropyGrad64(x, labels, rows, classes) {
  const g = softmax64(x, rows, classes);
  for (let r = 0; r < rows; r++) g[r * classes + labels[r]] -= 1;
  for (let i = 0; i < g.length; i++) g[i] /= rows;
  return g;
}

/**
 * Throws unless |actual - expected| <= atol + rtol * |expected| everywhere (numbers or arrays of
 * equal length). NaN only matches NaN; infinities must match exactly. The message names the label,
 * the first and the worst offending index, and how many elements failed.
 * @param {number | ArrayLike<number>} actual
 * @param {number | ArrayLike<number>} expected
 * @param {{ rtol?: number, atol?: number }} [tol]
 * @param {string} [label]
 */
export function assertClose(actual, expected, { rtol = 1e-5, atol = 0 } = {}, label = 'value') {
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  if (a == null || typeof a.length !== 'number') {
    throw new Error(`${label}: expected an array or number, got ${Object.prototype.toString.call(actual)}`);
  }
  if (a.length !== e.length) {
    throw new Error(`${label}: length ${a.length}, expected ${e.length}`);
  }
  let failures = 0;
  let first = -1;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < e.length; i++) {
    const av = a[i];
    const ev = e[i];
    let ok;
    let excess;
    if (Number.isNaN(ev) || Number.isNaN(av) || !Number.isFinite(ev) || !Number.isFinite(av)) {
      ok = Object.is(av, ev) || (Number.isNaN(av) && Number.isNaN(ev));
      excess = ok ? -Infinity : Infinity;
    } else {
      const diff = Math.abs(av - ev);
      const allowed = atol + rtol * Math.abs(ev);
      ok = diff <= allowed;
      excess = diff / (allowed || Number.MIN_VALUE);
    }
    if (!ok) {
      failures++;
      if (first < 0) first = i;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
  }
  if (failures > 0) {
    const at = (i) => `[${i}] got ${a[i]}, expected ${e[i]} (|diff| ${Math.abs(a[i] - e[i]).toExponential(3)})`;
    throw new Error(
      `${label}: ${failures} of ${e.length} element(s) outside rtol=${rtol}, atol=${atol}; ` +
        `first ${at(first)}; worst ${at(worst)}`,
    );
  }
}
