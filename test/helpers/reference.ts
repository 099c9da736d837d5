// A plain float64 reference, written for clarity, not speed: the independent check for the
// Float64Array paths and for the property tests. Layout: outer x C x inner, op along C.

export interface Dims {
  outer: number;
  C: number;
  inner: number;
}

export function dimsOf(shape: readonly number[], axis: number): Dims {
  const a = axis < 0 ? axis + shape.length : axis;
  const prod = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
  return { outer: prod(shape.slice(0, a)), C: shape[a]!, inner: prod(shape.slice(a + 1)) };
}

/** Calls f(indices of one slice) for every slice along the axis. */
function slices(d: Dims, f: (idx: number[]) => void): void {
  for (let o = 0; o < d.outer; o++)
    for (let i = 0; i < d.inner; i++) {
      const idx: number[] = [];
      for (let c = 0; c < d.C; c++) idx.push((o * d.C + c) * d.inner + i);
      f(idx);
    }
}

function lseOf(v: number[]): number {
  let m = -Infinity;
  let nan = false;
  for (const x of v) {
    if (Number.isNaN(x)) nan = true;
    else if (x > m) m = x;
  }
  if (nan) return NaN;
  if (m === -Infinity || m === Infinity) return m;
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

export function softmax64(x: ArrayLike<number>, d: Dims, temperature = 1): Float64Array {
  const y = new Float64Array(x.length);
  slices(d, (idx) => {
    const v = idx.map((k) => x[k]! / temperature);
    const m = Math.max(...v);
    const e = v.map((t) => Math.exp(t - m));
    const s = e.reduce((a, b) => a + b, 0);
    idx.forEach((k, c) => (y[k] = e[c]! / s));
  });
  return y;
}

export function logSoftmax64(x: ArrayLike<number>, d: Dims, temperature = 1): Float64Array {
  const y = new Float64Array(x.length);
  slices(d, (idx) => {
    const v = idx.map((k) => x[k]! / temperature);
    const m = Math.max(...v);
    let s = 0;
    for (const t of v) s += Math.exp(t - m);
    const l = Math.log(s);
    idx.forEach((k, c) => (y[k] = v[c]! - m - l));
  });
  return y;
}

export function logSumExp64(x: ArrayLike<number>, d: Dims): Float64Array {
  const out = new Float64Array(d.outer * d.inner);
  let r = 0;
  slices(d, (idx) => {
    out[r++] = lseOf(idx.map((k) => x[k]!));
  });
  return out;
}

export function softmaxBackward64(y: ArrayLike<number>, g: ArrayLike<number>, d: Dims): Float64Array {
  const dx = new Float64Array(y.length);
  slices(d, (idx) => {
    let dot = 0;
    for (const k of idx) dot += g[k]! * y[k]!;
    for (const k of idx) dx[k] = y[k]! * (g[k]! - dot);
  });
  return dx;
}

export function logSoftmaxBackward64(y: ArrayLike<number>, g: ArrayLike<number>, d: Dims): Float64Array {
  const dx = new Float64Array(y.length);
  slices(d, (idx) => {
    let s = 0;
    for (const k of idx) s += g[k]!;
    for (const k of idx) dx[k] = g[k]! - Math.exp(y[k]!) * s;
  });
  return dx;
}

/** Largest |a - r| / (atol + rtol |r|) over the finite entries; non-finite ones must match. */
export function maxErrRatio(a: ArrayLike<number>, r: ArrayLike<number>, atol: number, rtol: number): number {
  let worst = 0;
  for (let i = 0; i < r.length; i++) {
    const x = a[i]!;
    const y = r[i]!;
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (!(Object.is(x, y) || x === y || (Number.isNaN(x) && Number.isNaN(y)))) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(x - y) / (atol + rtol * Math.abs(y)));
  }
  return worst;
}

export interface CeOptions64 {
  reduction?: 'mean' | 'sum' | 'none';
  weight?: ArrayLike<number>;
  ignoreIndex?: number;
  labelSmoothing?: number;
  zLoss?: number;
  gradOutput?: number | ArrayLike<number>;
}

/**
 * torch.nn.functional.cross_entropy in float64, straight from the formulas (fixtures README,
 * "Semantics"), plus this library's documented choices: a zero target mass on a -Infinity logit
 * adds 0 (the limit), an ignored sample's gradient is 0, and z-loss as API.md defines it.
 * `target` is class indices (one per slice) or probabilities (same layout as x).
 */
export function crossEntropy64(x: ArrayLike<number>, target: ArrayLike<number>, d: Dims, probabilities: boolean, o: CeOptions64 = {}) {
  const { C } = d;
  const reduction = o.reduction ?? 'mean';
  const w = (c: number) => (o.weight ? o.weight[c]! : 1);
  const eps = o.labelSmoothing ?? 0;
  const z = o.zLoss ?? 0;
  const ignore = o.ignoreIndex ?? -100;
  const rows = d.outer * d.inner;
  const perRow = new Float64Array(rows);
  const coef: number[][] = []; // per row: q (weighted target) and zLoss factor, for the gradient
  const lses = new Float64Array(rows);
  const logSums = new Float64Array(rows);
  const maxima = new Float64Array(rows);
  const valid: boolean[] = [];
  let denom = 0;
  let r = 0;
  slices(d, (idx) => {
    const v = idx.map((k) => x[k]!);
    // log_softmax's lse: a row whose max is infinite gives NaN (inf - inf), as in torch.
    const lse0 = lseOf(v);
    const lse = Number.isFinite(lse0) ? lse0 : NaN;
    lses[r] = lse;
    // log_softmax as (x - max) - log(sum exp(x - max)), not x - lse, which loses ~ulp(lse) to
    // cancellation when the logits are large (1e-12 at |x| ~ 1e4, as much as the f64 tolerance)
    const m = Number.isFinite(lse0) ? Math.max(...v) : NaN;
    const logSum = Math.log(v.reduce((a, t) => a + Math.exp(t - m), 0));
    logSums[r] = logSum;
    maxima[r] = m;
    const lp = v.map((t) => t - m - logSum); // log_softmax
    let q: number[];
    let wn = 1;
    if (probabilities) {
      q = idx.map((k, c) => w(c) * (target[k]! * (1 - eps) + eps / C));
      valid.push(true);
      denom += 1;
    } else {
      const t = target[r]!;
      if (t === ignore) {
        valid.push(false);
        coef.push([]);
        perRow[r++] = 0;
        return;
      }
      wn = w(t);
      q = v.map((_, c) => (eps / C) * w(c) + (c === t ? (1 - eps) * wn : 0));
      valid.push(true);
      denom += wn;
    }
    let l = 0;
    for (let c = 0; c < C; c++) if (q[c] !== 0) l -= q[c]! * lp[c]!;
    if (z !== 0) l += z * lse * lse * wn;
    perRow[r] = l;
    coef.push([...q, wn]);
    r++;
  });
  const up = (i: number) => (typeof o.gradOutput === 'object' ? o.gradOutput[i]! : typeof o.gradOutput === 'number' ? o.gradOutput : 1);
  let loss: number | Float64Array;
  let scale: (i: number) => number;
  if (reduction === 'none') {
    loss = perRow;
    scale = up;
  } else {
    let s = 0;
    for (const l of perRow) s += l;
    // A 'mean' over a zero denominator (everything ignored, or zero total weight) is 0/0 = NaN in
    // torch, also where the numerator is not 0.
    loss = reduction === 'sum' ? s : denom === 0 ? NaN : s / denom;
    scale = () => (reduction === 'sum' ? up(0) : denom === 0 ? NaN : up(0) / denom);
  }
  const grad = new Float64Array(x.length);
  r = 0;
  slices(d, (idx) => {
    if (valid[r]) {
      const q = coef[r]!;
      const wn = q[C]!;
      const v = idx.map((k) => x[k]!);
      const lse = lses[r]!;
      let S = 0;
      for (let c = 0; c < C; c++) S += q[c]!;
      const zt = z !== 0 ? 2 * z * lse * wn : 0;
      const m = maxima[r]!;
      const logSum = logSums[r]!;
      idx.forEach((k, c) => (grad[k] = scale(r) * (Math.exp(v[c]! - m - logSum) * (S + zt) - q[c]!)));
    }
    r++;
  });
  return { loss, perRow, grad, denominator: denom };
}
