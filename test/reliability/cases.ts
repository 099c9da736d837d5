// Random calls of every function with adversarial inputs, and their float64 expectations with an
// error bound per element: the fuzz tests, the differential tests and the soak all draw from here.
//
// The bound is a forward error model of the computation in the element type (u = its unit
// roundoff): softmax(z) with z = (x - max) / T has relative error ~ u (1 + |z_i| + sum_j y_j |z_j|),
// since every exp argument carries an error ~ u |z|; log-softmax the same in absolute terms; the
// backward passes and cross-entropy the sums of the magnitudes of their terms. It is what a
// correct f32/f64 kernel cannot avoid (torch's own f32 kernels have the same conditioning), and
// orders of magnitude below what a wrong index, a lost row or a mis-scaled gradient produce.
import fc from 'fast-check';
import * as api from '../../src/index.js';
import {
  crossEntropy64, logSoftmax64, logSoftmaxBackward64, logSumExp64, softmax64, softmaxBackward64, type CeOptions64, type Dims,
} from '../helpers/reference.js';
import { type F } from './common.js';
import { rng } from '../helpers/random.js';

export const FNS = [
  'softmax', 'logSoftmax', 'logSumExp', 'softmaxBackward', 'logSoftmaxBackward', 'crossEntropy', 'crossEntropyWithGrad',
  'ws.softmax', 'ws.logSoftmax', 'ws.crossEntropy', 'ws.crossEntropyWithGrad',
] as const;
export type Fn = (typeof FNS)[number];

/** Value distributions: benign, wide, shifted, ties, huge, masked, NaN, Infinity, subnormal. */
export const DISTS = ['normal', 'small', 'wide', 'offset', 'ties', 'integers', 'huge', 'spiky', 'masked', 'nan', 'inf', 'subnormal', 'mixed'] as const;
export type Dist = (typeof DISTS)[number];
/** The distributions whose values keep the float64 reference exact enough for z-loss (lse^2). */
const MODERATE: readonly Dist[] = ['normal', 'small', 'wide', 'offset', 'ties', 'integers', 'masked', 'nan', 'inf', 'subnormal'];

export const LABEL_TYPES = ['array', 'Int32Array', 'Uint32Array', 'Int16Array', 'Uint16Array', 'Int8Array', 'Uint8Array'] as const;
export type LabelType = (typeof LABEL_TYPES)[number];

export interface Params {
  fn: Fn;
  f32: boolean;
  shape: number[];
  /** The operation's axis, in [0, rank). */
  axis: number;
  /** Pass { classes } instead of { shape, axis } (only when the axis is the last of a 2-D shape). */
  classes: boolean;
  /** Pass a negative axis (counted from the end). */
  negativeAxis: boolean;
  dist: Dist;
  seed: number;
  temperature: number | undefined;
  probabilities: boolean;
  reduction: 'mean' | 'sum' | 'none';
  weighted: boolean;
  /** 'class': ignoreIndex is a valid class; 'default': some labels are -100. */
  ignore: 'none' | 'default' | 'class';
  labelSmoothing: number;
  zLoss: number;
  gradOutput: boolean;
  labelType: LabelType;
  /** 0: allocate the result; 1: a separate `into`; 2: in place (into = the input). */
  into: 0 | 1 | 2;
  /** Workspace capacity beyond the active rows. */
  spare: number;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Values of a distribution (in f64; the caller rounds them to the element type). */
export function values(dist: Dist, n: number, C: number, seed: number, f32: boolean): number[] {
  const r = rng(seed);
  const u = () => r() * 2 - 1;
  const big = f32 ? 1e30 : 1e200;
  const tiny = f32 ? 1e-40 : 1e-310;
  const v = new Array<number>(n);
  const pick = (d: Dist, i: number): number => {
    switch (d) {
      case 'normal': return u() * 4;
      case 'small': return u() * 1e-3;
      case 'wide': return u() * 100;
      case 'offset': return 1e4 + u() * 3;
      case 'ties': return 2.5;
      case 'integers': return Math.round(u() * 3);
      case 'huge': return r() < 0.5 ? big * u() : u() * 10;
      case 'spiky': return i % Math.max(1, C) === Math.floor(r() * C) ? 80 + u() : u();
      case 'masked': return r() < 0.3 ? -Infinity : u() * 5;
      case 'nan': return r() < 0.02 ? NaN : u() * 5;
      case 'inf': return r() < 0.02 ? (r() < 0.5 ? Infinity : -Infinity) : u() * 5;
      case 'subnormal': return r() < 0.5 ? tiny * u() : 0;
      case 'mixed': return pick(DISTS[Math.floor(r() * (DISTS.length - 1))]!, i);
    }
  };
  for (let i = 0; i < n; i++) v[i] = pick(dist, i);
  return v;
}

export interface Built {
  params: Params;
  /** Runs the call on the current build; returns the result as plain arrays. */
  run(): { main: ArrayLike<number>; grad?: ArrayLike<number> };
  /** The float64 expectation and its error bound, element by element. */
  expected: { main: ArrayLike<number>; mainBound: ArrayLike<number>; grad?: ArrayLike<number>; gradBound?: ArrayLike<number> };
}

function sliceIndices(d: Dims, f: (idx: number[], slice: number) => void): void {
  let s = 0;
  for (let o = 0; o < d.outer; o++)
    for (let i = 0; i < d.inner; i++) {
      const idx: number[] = [];
      for (let c = 0; c < d.C; c++) idx.push((o * d.C + c) * d.inner + i);
      f(idx, s++);
    }
}

/** Error-bound pieces of a softmax over one slice: z_j, y_j and A = sum_j y_j |z_j|. */
function softStats(x: ArrayLike<number>, idx: number[], T: number) {
  let m = -Infinity;
  for (const k of idx) if (x[k]! > m) m = x[k]!;
  const z = idx.map((k) => (Number.isFinite(m) ? (x[k]! - m) / T : 0));
  let s = 0;
  for (const t of z) s += Number.isFinite(t) ? Math.exp(t) : 0;
  let A = 0;
  for (const t of z) if (Number.isFinite(t)) A += (Math.exp(t) / s) * Math.abs(t);
  // The reference's own error: it forms x / T before subtracting the max, which cancels.
  let Mx = 0;
  for (const k of idx) if (Number.isFinite(x[k]!)) Mx = Math.max(Mx, Math.abs(x[k]!));
  // ... and sums its C terms plainly (relative error up to C * u64).
  const ref = 2 ** -49 * (Mx / T) + idx.length * 2 ** -53;
  return { m, z, A: Number.isFinite(A) ? A : 0, ref: Number.isFinite(ref) ? ref : 0 };
}

/** Builds a call from its parameters: inputs, the call itself and its expectation. */
export function build(p: Params): Built {
  const Ctor = p.f32 ? Float32Array : Float64Array;
  const rank = p.shape.length;
  const d: Dims = { outer: prod(p.shape.slice(0, p.axis)), C: p.shape[p.axis]!, inner: prod(p.shape.slice(p.axis + 1)) };
  const { C } = d;
  const n = prod(p.shape);
  const rows = d.outer * d.inner;
  const u = p.f32 ? 2 ** -24 : 2 ** -53;
  const K = 16 * (1 + Math.log2(C + 1)) * (p.f32 ? 1 : 4);
  const floor = p.f32 ? 1e-30 : 1e-290; // results this small may flush to 0 (exp underflows early)
  const layout = p.classes ? { classes: C } : { shape: p.shape, axis: p.negativeAxis ? p.axis - rank : p.axis };
  const x = Ctor.from(values(p.dist, n, C, p.seed, p.f32));
  const xs = Array.from(x);
  const T = p.temperature ?? 1;
  const fn = p.fn;
  const base = fn.replace('ws.', '');

  if (base === 'softmax' || base === 'logSoftmax' || base === 'logSumExp') {
    const log = base === 'logSoftmax';
    const lse = base === 'logSumExp';
    const main = lse ? logSumExp64(xs, d) : log ? logSoftmax64(xs, d, T) : softmax64(xs, d, T);
    const bound = new Float64Array(main.length);
    sliceIndices(d, (idx, s) => {
      const st = softStats(xs, idx, lse ? 1 : T);
      if (lse) bound[s] = K * u * (1 + Math.abs(st.m) + st.A) + u * Math.abs(main[s]!) + st.ref;
      else
        idx.forEach((k, j) => {
          const zj = Number.isFinite(st.z[j]!) ? Math.abs(st.z[j]!) : 0;
          bound[k] = log ? K * u * (1 + zj + st.A + Math.abs(main[k]!)) + 2 * st.ref : floor + main[k]! * (K * u * (1 + zj + st.A) + 2 * st.ref);
        });
    });
    const opts = p.temperature !== undefined && !lse ? { ...layout, temperature: p.temperature } : layout;
    const run = () => {
      if (fn.startsWith('ws.')) {
        const ws = api.createWorkspace({ classes: C, rows: rows + p.spare, dtype: p.f32 ? 'float32' : 'float64' });
        try {
          ws.setRows(rows);
          ws.logits.set(x);
          const o = p.temperature !== undefined ? { temperature: p.temperature } : undefined;
          return { main: (log ? ws.logSoftmax(o) : ws.softmax(o)).slice() }; // a copy: the views die with ws
        } finally {
          ws.dispose();
        }
      }
      const xin = Ctor.from(x);
      const into = p.into === 2 && !lse ? xin : p.into ? new Ctor(lse ? rows : n) : undefined;
      const f = lse ? api.logSumExp : log ? api.logSoftmax : api.softmax;
      const r = f(xin, into ? { ...opts, into } : opts) as F;
      if (into && r !== into) throw new Error(`${fn}: did not return options.into`);
      return { main: r };
    };
    return { params: p, run, expected: { main, mainBound: bound } };
  }

  if (base === 'softmaxBackward' || base === 'logSoftmaxBackward') {
    const soft = base === 'softmaxBackward';
    // y: the forward result (as a user has it), in the element type; g: the upstream gradient.
    const y = Ctor.from(soft ? softmax64(xs, d) : logSoftmax64(xs, d));
    // A finite upstream gradient: +-Infinity in it would make the result depend on the order
    // of operations (Infinity - Infinity), not on correctness.
    const g = Ctor.from(values(p.dist === 'huge' ? 'wide' : 'normal', n, C, p.seed + 1, p.f32));
    const ys = Array.from(y);
    const gs = Array.from(g);
    const main = soft ? softmaxBackward64(ys, gs, d) : logSoftmaxBackward64(ys, gs, d);
    const bound = new Float64Array(n);
    sliceIndices(d, (idx) => {
      let D = 0;
      let S = 0;
      let s = 0;
      let dot = 0;
      for (const k of idx) {
        D += Math.abs(gs[k]! * ys[k]!);
        dot += gs[k]! * ys[k]!;
        S += Math.abs(gs[k]!);
        s += gs[k]!;
      }
      for (const k of idx) {
        const yk = ys[k]!;
        const gk = gs[k]!;
        bound[k] = soft
          ? floor + K * u * (Math.abs(yk * gk) + Math.abs(yk) * D + Math.abs(yk * (gk - dot)))
          : floor + K * u * (Math.abs(gk) + (Math.exp(yk) === 0 ? 0 : Math.exp(yk) * (S + Math.abs(s) * (1 + Math.abs(yk)))));
      }
    });
    const run = () => {
      const yin = Ctor.from(y);
      const gin = Ctor.from(g);
      const into = p.into === 2 ? (p.seed % 2 ? yin : gin) : p.into ? new Ctor(n) : undefined;
      const f = soft ? api.softmaxBackward : api.logSoftmaxBackward;
      const r = f(yin, gin, into ? { ...layout, into } : layout) as F;
      if (into && r !== into) throw new Error(`${fn}: did not return options.into`);
      return { main: r };
    };
    return { params: p, run, expected: { main, mainBound: bound } };
  }

  // Cross-entropy.
  const r = rng(p.seed ^ 0x5bd1e995);
  const withGrad = base === 'crossEntropyWithGrad';
  const ws = fn.startsWith('ws.');
  const probabilities = p.probabilities;
  const weight = p.weighted ? Array.from({ length: C }, () => (r() < 0.15 ? 0 : 0.25 + 2 * r())) : undefined;
  const ignoreIndex = p.ignore === 'class' && C > 0 && !probabilities ? Math.floor(r() * C) : undefined;
  // Unsigned label arrays cannot hold -100: their samples are all labelled (normalize() picks a
  // label type that holds every class).
  const unsigned = p.labelType.startsWith('Uint') && !ws;
  let target: number[];
  if (probabilities) {
    target = Array.from({ length: n }, () => (r() < 0.2 ? 0 : r()));
    if (r() < 0.5) {
      // normalized rows
      sliceIndices(d, (idx) => {
        let s = 0;
        for (const k of idx) s += target[k]!;
        for (const k of idx) target[k] = s > 0 ? target[k]! / s : 0;
      });
    }
  } else {
    target = Array.from({ length: rows }, () => {
      if (C === 0) return -100;
      if (p.ignore === 'default' && !unsigned && r() < 0.2) return -100;
      return Math.floor(r() * C);
    });
  }
  const tIn = probabilities ? Ctor.from(target) : target;
  const tVals = probabilities ? Array.from(tIn as F) : target;
  const gradOutput = p.gradOutput ? (p.reduction === 'none' ? Array.from({ length: rows }, () => r() * 4 - 2) : r() * 4 - 2) : undefined;
  const o: CeOptions64 = {
    reduction: p.reduction,
    ...(weight ? { weight } : {}),
    ...(ignoreIndex !== undefined ? { ignoreIndex } : {}),
    ...(p.labelSmoothing ? { labelSmoothing: p.labelSmoothing } : {}),
    ...(p.zLoss ? { zLoss: p.zLoss } : {}),
    ...(gradOutput !== undefined && withGrad ? { gradOutput } : {}),
  };
  // The reference: without z-loss the loss and gradient are invariant to shifting a slice, so
  // shift by its max first (x - lse then does not cancel at 1e30); with z-loss the generator
  // keeps values moderate.
  const xr = xs.slice();
  if (!p.zLoss)
    sliceIndices(d, (idx) => {
      let m = -Infinity;
      for (const k of idx) if (xr[k]! > m) m = xr[k]!;
      if (Number.isFinite(m)) for (const k of idx) xr[k] = xr[k]! - m;
    });
  const e = crossEntropy64(xr, tVals, d, probabilities, o);
  if (C === 0) {
    // No classes: every sample loses 0 (the reference's lse of nothing is -Infinity, which
    // z-loss squares); 'mean' is 0 / rows (NaN for no rows, or all ignored with indices).
    e.perRow.fill(0);
    if (p.reduction === 'none') (e.loss as Float64Array).fill(0);
    else if (p.reduction === 'sum') e.loss = 0;
    else e.loss = e.denominator ? 0 : NaN;
  }
  // With z-loss the reference works on unshifted logits: x - lse then carries its own error.
  const refZ = (lse: number, Mx: number) => (p.zLoss ? 2 ** -50 * (Mx + Math.abs(lse)) : 0) + C * 2 ** -53;
  // A slice whose logSumExp is not finite (NaN, +Infinity, all -Infinity) has a NaN loss even
  // where its target mass is 0 (0 * NaN, as PyTorch): the reference skips zero-mass terms.
  let nanRows = false;
  sliceIndices(d, (idx, s) => {
    if ((!probabilities && target[s] === (ignoreIndex ?? -100)) || C === 0) return; // an empty slice loses 0
    let m = -Infinity;
    let nan = false;
    for (const k of idx) {
      if (Number.isNaN(xs[k]!)) nan = true;
      else if (xs[k]! > m) m = xs[k]!;
    }
    if (nan || !Number.isFinite(m)) {
      nanRows = true;
      e.perRow[s] = NaN;
      if (p.reduction === 'none') (e.loss as Float64Array)[s] = NaN;
    }
  });
  if (nanRows && p.reduction !== 'none') e.loss = NaN;
  // A 'mean' over zero total weight is NaN (API.md), where the reference divides by 0.
  if (p.reduction === 'mean' && e.denominator === 0) e.loss = NaN;
  if (p.reduction === 'mean' && e.denominator === 0 && withGrad) {
    // A 'mean' over zero total weight: NaN at every non-ignored position (API.md), where the
    // reference's 1/0 scale gives +-Infinity.
    sliceIndices(d, (idx, s) => {
      if (probabilities || target[s] !== (ignoreIndex ?? -100)) for (const k of idx) e.grad[k] = NaN;
    });
  }
  // Bounds, per row, of the loss and of the gradient.
  const ignore = ignoreIndex ?? -100;
  const eps = p.labelSmoothing;
  const w = (c: number) => (weight ? weight[c]! : 1);
  const rowBound = new Float64Array(rows);
  const gradBound = new Float64Array(n);
  const up = (i: number) => (typeof gradOutput === 'object' ? gradOutput[i]! : typeof gradOutput === 'number' ? gradOutput : 1);
  const denom = e.denominator;
  const scaleOf = (i: number) => (!withGrad ? 1 : p.reduction === 'none' ? up(i) : p.reduction === 'sum' ? up(0) : up(0) / denom);
  sliceIndices(d, (idx, s) => {
    if ((!probabilities && target[s] === ignore) || C === 0) return;
    const st = softStats(xs, idx, 1);
    const q = idx.map((k, c) => (probabilities ? w(c) * (tVals[k]! * (1 - eps) + eps / C) : (eps / C) * w(c) + (c === target[s] ? (1 - eps) * w(c) : 0)));
    const wn = probabilities ? 1 : w(target[s]!);
    let lse = st.m;
    let sum = 0;
    for (const t of st.z) sum += Number.isFinite(t) ? Math.exp(t) : 0;
    lse = st.m + Math.log(sum);
    let L = 0;
    let Sq = 0;
    idx.forEach((k, c) => {
      const qc = Math.abs(q[c]!);
      if (qc) L += qc * ((Number.isFinite(xs[k]!) ? Math.abs(xs[k]! - st.m) : 0) + Math.abs(lse - st.m) + 1);
      Sq += qc;
    });
    const zl = p.zLoss ? p.zLoss * Math.abs(wn) * (lse * lse + 1) : 0;
    let Mx = 0;
    for (const k of idx) if (Number.isFinite(xs[k]!)) Mx = Math.max(Mx, Math.abs(xs[k]!));
    const rz = refZ(lse, Mx);
    rowBound[s] = K * u * (L + 3 * zl) + u * Math.abs(e.perRow[s]!) + rz * L;
    if (withGrad) {
      const sc = Math.abs(scaleOf(s));
      // (|lse| + 1: the z-loss term's error is 2 zLoss p_c times lse's own, which is absolute, about
      // u (1 + A) from the exp-sum, so it stays where lse is near 0: a row whose max and log(sum)
      // cancel, found by `npm run fuzz` (seed 1276984267): lse -0.00435, 1e-5 of the term)
      const zt = p.zLoss ? 2 * p.zLoss * Math.abs(wn) * (Math.abs(lse) + 1) : 0;
      idx.forEach((k, c) => {
        const pc = Number.isFinite(st.z[c]!) ? Math.exp(st.z[c]!) / sum : 0;
        const zc = Number.isFinite(st.z[c]!) ? Math.abs(st.z[c]!) : 0;
        gradBound[k] = floor + sc * (pc * (Sq + zt) * (K * u * (1 + zc + st.A) + 2 * rz) + K * u * Math.abs(q[c]!));
      });
    }
  });
  let main: ArrayLike<number>;
  let mainBound: ArrayLike<number>;
  if (p.reduction === 'none') {
    main = e.loss as Float64Array;
    mainBound = rowBound;
  } else {
    let b = 0;
    for (const v of rowBound) b += v;
    const loss = e.loss as number;
    main = [loss];
    // (+ the reference's plain summation of the per-row losses: up to rows * u64 * sum |l|)
    let absSum = 0;
    for (const v of e.perRow) absSum += Number.isFinite(v) ? Math.abs(v) : 0;
    const refSum = rows * 2 ** -53 * absSum;
    mainBound = [(p.reduction === 'mean' ? (b + refSum) / Math.abs(denom) : b + refSum) + K * u * Math.abs(loss)];
  }
  const run = () => {
    const lossOpts = { ...o };
    if (!withGrad) delete lossOpts.gradOutput;
    if (ws) {
      const w0 = api.createWorkspace({ classes: C, rows: rows + p.spare, dtype: p.f32 ? 'float32' : 'float64', target: probabilities ? 'probabilities' : 'indices' });
      try {
        w0.setRows(rows);
        w0.logits.set(x);
        (w0.target as Int32Array).set(tIn as ArrayLike<number>);
        const res = withGrad ? w0.crossEntropyWithGrad(lossOpts as api.LossOptions) : w0.crossEntropy(lossOpts as api.LossOptions);
        return { main: typeof res === 'number' ? [res] : res.slice(), ...(withGrad ? { grad: w0.grad.slice() } : {}) };
      } finally {
        w0.dispose();
      }
    }
    const LT = { array: null, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array }[p.labelType];
    const t = probabilities ? Ctor.from(tIn as F) : LT ? LT.from(target) : target.slice();
    const logits = Ctor.from(x);
    const extra: Record<string, unknown> = {};
    if (p.into) {
      if (p.reduction === 'none') extra.into = new Ctor(rows);
      if (withGrad) extra.gradInto = p.into === 2 ? logits : new Ctor(n);
    }
    const opts = { ...layout, ...lossOpts, ...extra } as api.CrossEntropyOptions<F>;
    if (withGrad) {
      const res = api.crossEntropyWithGrad(logits, t as api.Target<F>, opts);
      if (extra.gradInto && res.grad !== extra.gradInto) throw new Error(`${fn}: did not return options.gradInto`);
      return { main: typeof res.loss === 'number' ? [res.loss] : res.loss, grad: res.grad };
    }
    const res = api.crossEntropy(logits, t as api.Target<F>, opts);
    return { main: typeof res === 'number' ? [res] : res };
  };
  return { params: p, run, expected: { main, mainBound, ...(withGrad ? { grad: e.grad, gradBound } : {}) } };
}

/** The first element where `a` is outside `bound` of `e` (non-finite values must match), or -1. */
export function firstMismatch(a: ArrayLike<number>, e: ArrayLike<number>, bound: ArrayLike<number>, f32Array: boolean): number {
  if (a.length !== e.length) return -2;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    let y = e[i]!;
    if (f32Array) y = Math.fround(y);
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) return i;
      continue;
    }
    if (!(Math.abs(x - y) <= bound[i]! + (f32Array ? 2 ** -24 * Math.abs(y) : 0))) return i;
  }
  return -1;
}

/** Runs a built call and throws a readable error when it deviates from its expectation. */
export function check(b: Built, result = b.run(), label = ''): void {
  const { expected: ex, params: p } = b;
  const f32Array = p.f32 && !(p.fn.includes('crossEntropy') && p.reduction !== 'none');
  for (const [what, a, e, bd, f32a] of [
    ['result', result.main, ex.main, ex.mainBound, f32Array],
    ['gradient', result.grad, ex.grad, ex.gradBound, p.f32],
  ] as const) {
    if (!e) continue;
    const i = firstMismatch(a!, e, bd!, f32a);
    if (i !== -1) {
      const at = i < 0 ? `length ${a!.length} instead of ${e.length}` : `[${i}]: got ${a![i]}, expected ${e[i]} +- ${bd![i]}`;
      throw new Error(`${label}${p.fn} ${what} deviates at ${at}\nparams: ${JSON.stringify(p)}`);
    }
  }
}

/** A shape of rank 1-4 from raw dims, capped at `maxElems` elements (dims shrink to fit). */
function capShape(dims: number[], maxElems: number): number[] {
  const s = dims.slice();
  // (Zero-sized dims aside: a [50000, 0, 50000] tensor is empty but has 2.5e9 slices.)
  while (prod(s.map((v) => Math.max(1, v))) > maxElems) {
    let k = 0;
    for (let i = 1; i < s.length; i++) if (s[i]! > s[k]!) k = i;
    s[k] = Math.max(1, Math.floor(s[k]! / 2));
  }
  return s;
}

/** Normalizes raw drawn parameters into a consistent call. */
export function normalize(raw: Params, maxElems: number): Params {
  const p = { ...raw, shape: capShape(raw.shape, maxElems) };
  const ws = p.fn.startsWith('ws.');
  const ce = p.fn.includes('crossEntropy');
  if (ws) {
    // A Workspace is [rows, classes] with rows of at least one class.
    const C = Math.max(1, p.shape[p.shape.length - 1]!);
    p.shape = [prod(p.shape.slice(0, -1)), C];
    p.axis = 1;
    p.classes = true;
  }
  p.axis = Math.min(p.axis, p.shape.length - 1);
  if (ce && !ws && p.shape.length === 1) p.axis = 0; // [C]: a single sample
  if (p.classes && !(p.shape.length === 2 && p.axis === 1 && p.shape[1]! >= 1)) p.classes = false;
  if (p.zLoss && !MODERATE.includes(p.dist)) p.dist = 'normal';
  if (p.probabilities) p.ignore = p.ignore === 'class' ? 'none' : p.ignore;
  if (p.fn === 'logSumExp' && p.into === 2) p.into = 1;
  if (ce && !ws) {
    // A label type that holds every class (and -100 when the batch has no classes at all).
    const C = p.shape[p.axis]!;
    const holds = { array: Infinity, Int32Array: 2 ** 31, Uint32Array: 2 ** 32, Int16Array: 2 ** 15, Uint16Array: 2 ** 16, Int8Array: 128, Uint8Array: 256 }[p.labelType];
    if (C > holds || (C === 0 && p.labelType.startsWith('Uint'))) p.labelType = 'array';
  }
  return p;
}

const dim = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 12 }) },
  { weight: 3, arbitrary: fc.integer({ min: 13, max: 300 }) },
  { weight: 1, arbitrary: fc.constant(0) },
  // (The reference spreads a slice into Math.max: slices stay below ~100k elements.)
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 50_000 }) },
);

/** fast-check arbitrary of call parameters (at most `maxElems` elements per input). */
export function paramsArb(maxElems: number, fns: readonly Fn[] = FNS): fc.Arbitrary<Params> {
  return fc
    .record({
      fn: fc.constantFrom(...fns),
      f32: fc.boolean(),
      shape: fc.array(dim, { minLength: 1, maxLength: 4 }),
      axis: fc.nat({ max: 3 }),
      classes: fc.boolean(),
      negativeAxis: fc.boolean(),
      dist: fc.constantFrom(...DISTS),
      seed: fc.integer(),
      temperature: fc.option(fc.constantFrom(1, 0.5, 3, 1e-3, 1e3, 1e-30, 1e30), { nil: undefined }),
      probabilities: fc.boolean(),
      reduction: fc.constantFrom('mean', 'sum', 'none'),
      weighted: fc.boolean(),
      ignore: fc.constantFrom('none', 'default', 'class'),
      labelSmoothing: fc.constantFrom(0, 0, 0.1, 1),
      zLoss: fc.constantFrom(0, 0, 1e-4),
      gradOutput: fc.boolean(),
      labelType: fc.constantFrom(...LABEL_TYPES),
      into: fc.constantFrom(0, 1, 2),
      spare: fc.constantFrom(0, 0, 3),
    })
    .map((raw) => normalize(raw as Params, maxElems));
}

/** The same parameters from a plain PRNG (the soak draws millions; fast-check is not needed). */
export function randomParams(r: () => number, maxElems: number): Params {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const d = () => {
    const k = r();
    return k < 0.7 ? 1 + Math.floor(r() * 12) : k < 0.9 ? 13 + Math.floor(r() * 288) : k < 0.95 ? 0 : 1000 + Math.floor(r() * 20_000);
  };
  const rank = 1 + Math.floor(r() * 3);
  return normalize(
    {
      fn: pick(FNS),
      f32: r() < 0.6,
      shape: Array.from({ length: rank }, d),
      axis: Math.floor(r() * 4),
      classes: r() < 0.5,
      negativeAxis: r() < 0.5,
      dist: r() < 0.6 ? 'normal' : pick(DISTS),
      seed: Math.floor(r() * 2 ** 31),
      temperature: r() < 0.5 ? undefined : pick([1, 0.5, 3, 1e-3, 1e3]),
      probabilities: r() < 0.3,
      reduction: pick(['mean', 'sum', 'none'] as const),
      weighted: r() < 0.3,
      ignore: pick(['none', 'default', 'class'] as const),
      labelSmoothing: pick([0, 0, 0.1]),
      zLoss: pick([0, 0, 1e-4]),
      gradOutput: r() < 0.3,
      labelType: pick(LABEL_TYPES),
      into: pick([0, 1, 2] as const),
      spare: pick([0, 0, 3]),
    },
    maxElems,
  );
}
