// Reductions over one contiguous slice of n elements of T (f32 or f64) at address x.
// Each has, side by side: the SIMD body (4 vectors per iteration, independent accumulators),
// a one-vector loop for what is left, and the scalar loop that finishes the last < LANES
// elements in the SIMD builds and does all the work in the scalar build.

import { BLOCK, LANES, at, vhmax, vhsum, neumaier_comp, neumaier_result } from './simd';
import { vexp, sexp, vexp_k, sexp_k, KMAGIC, NO_CUTOFF_RANGE } from './exp';
import { KERNEL_TMP_BYTES } from '../src/kernel-constants';

/** Byte offsets in `tmp`, the TMP_BYTES of scratch (16-aligned) the caller of a row kernel passes:
 *  where one pass of a row leaves its second result for the next (XNNPACK style: results leave
 *  through pointers the caller passes, and the module keeps no state). Row kernels of
 *  cross_entropy.ts use the last two. */
// @ts-ignore: decorator
@inline export const TMP_BYTES: usize = <usize>KERNEL_TMP_BYTES;
// @ts-ignore: decorator
@inline export const TMP_MIN: usize = 0;
// @ts-ignore: decorator
@inline export const TMP_EXP_UNIT: usize = 8;
// @ts-ignore: decorator
@inline export const TMP_AUX: usize = 16;
// @ts-ignore: decorator
@inline export const TMP_AUX2: usize = 24;
/** The short-row groups of four (short_rows.ts) take the first 112 bytes instead: the four rows'
 *  exp-sums (f64), their x[t] (f64, cross_entropy.ts), their maxima (f32) and the logs of their
 *  exp-sums (f64). */
// @ts-ignore: decorator
@inline export const TMP_GROUP_SUMS: usize = 0;
// @ts-ignore: decorator
@inline export const TMP_GROUP_XT: usize = 32;
// @ts-ignore: decorator
@inline export const TMP_GROUP_MAX: usize = 64;
// @ts-ignore: decorator
@inline export const TMP_GROUP_LOGS: usize = 80;

/** max over the slice, and its min stored (as f64) at tmp + TMP_MIN; NaN elements are passed over (a NaN still
 *  poisons the row through the exp-sum that follows, which is where the caller gets its NaN).
 *  -Infinity (min +Infinity) for n = 0. The min tells the exp pass whether any argument can fall
 *  below the flush-to-zero cutoff; it costs one more vector operation on loads already made. */
export function rmax<T>(x: usize, n: i32, tmp: usize): T {
  let m = <T>-Infinity;
  let lo = <T>Infinity;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const L = LANES<T>();
    if (n >= L) {
      let m0 = v128.splat<T>(m), m1 = m0, m2 = m0, m3 = m0;
      let l0 = v128.splat<T>(lo), l1 = l0;
      for (; i <= n - 4 * L; i += 4 * L) {
        const p = at<T>(x, i);
        const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
        m0 = v128.pmax<T>(m0, v0);
        m1 = v128.pmax<T>(m1, v1);
        m2 = v128.pmax<T>(m2, v2);
        m3 = v128.pmax<T>(m3, v3);
        l0 = v128.pmin<T>(l0, v128.pmin<T>(v0, v1));
        l1 = v128.pmin<T>(l1, v128.pmin<T>(v2, v3));
      }
      for (; i <= n - L; i += L) {
        const v = v128.load(at<T>(x, i));
        m0 = v128.pmax<T>(m0, v);
        l0 = v128.pmin<T>(l0, v);
      }
      m = vhmax<T>(v128.pmax<T>(v128.pmax<T>(m0, m1), v128.pmax<T>(m2, m3)));
      lo = -vhmax<T>(v128.neg<T>(v128.pmin<T>(l0, l1)));
    }
  }
  for (; i < n; i++) {
    const v = load<T>(at<T>(x, i));
    m = v > m ? v : m;
    lo = v < lo ? v : lo;
  }
  store<f64>(tmp + TMP_MIN, <f64>lo);
  return m;
}

/** Whether every exp((x - max) * beta) of the slice rmax() just scanned (its min at tmp) is
 *  above the flush-to-zero cutoff (false for NaN or infinite ranges), so its exp pass may skip
 *  the flush. */
// @ts-ignore: decorator
@inline export function in_exp_range<T>(max: T, beta: T, tmp: usize): bool {
  return (<f64>max - load<f64>(tmp + TMP_MIN)) * <f64>beta <= <f64>NO_CUTOFF_RANGE<T>();
}

/** f32: raddexpminusmax() stores at tmp + TMP_EXP_UNIT the value its exp gave the row's max: 1 unless it took
 *  the k-shift path (rows with cutoff = false, beta = 1, C >= KSHIFT_MIN_N, |max| <=
 *  KSHIFT_MAX_ABS, not constant). That path sums exp(x - k*ln2), not exp(x - max) (see
 *  vexp_k), so log_expsum() takes log(sum / unit) for log(sum exp(x - max)). Dividing by
 *  the computed value rather than adding the exact shift cancels the max element's own
 *  rounding: a row whose max dominates gets log(1 + rest) exactly as with exp(0) = 1 (a
 *  constant row of C gives exactly log(C), a single-class row exactly 0). The stored exp values
 *  carry the same factor, which the softmax and gradient cancel by dividing by the sum.
 *
 *  log(sum exp(x - max)) of the row of the raddexpminusmax() call that returned s with this tmp. */
// @ts-ignore: decorator
@inline export function log_expsum<T>(s: f64, tmp: usize): f64 {
  if (sizeof<T>() != 4) return Math.log(s);
  const unit = load<f64>(tmp + TMP_EXP_UNIT);
  // (s / 1 is s: skip the division's latency on rows of the other paths)
  return unit != 1 ? Math.log(s / unit) : Math.log(s);
}

/** |max| up to which an f32 row takes the k-shift path (see vexp_k). Its reduction needs
 *  n*ln2_hi exact: with a fused multiply-add (relaxed-simd) that holds for |n| < 2^15; unfused,
 *  ln2_hi's 15 significant bits leave |n| < 2^9, and rows in that path have x >= max - 87, so
 *  |n| <= (256 + 87) * log2(e) + 1 = 496. */
// @ts-ignore: decorator
@inline function KSHIFT_MAX_ABS(): f64 {
  return ASC_FEATURE_RELAXED_SIMD ? 16384 : 256;
}
/** Row length from which the k-shift path pays for its set-up (the exp unit, and the division in
 *  log_expsum on the way to the log). Measured with Node 20 on x64: without this limit the simd
 *  build's loss and log_softmax are 3-13% slower at C = 32..100 and even at C = 256, and 3-9%
 *  faster above; the relaxed-simd build's k-shift loops (rr1, fused sum) gain at every C. */
// @ts-ignore: decorator
@inline function KSHIFT_MIN_N(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 0 : 256;
}
/** max - min up to which the relaxed-simd f32 build uses vexp_k's one-constant reduction (rr1):
 *  then |n| <= 44 and its error stays <= 2.8 ulp (measured; see vexp_k). */
// @ts-ignore: decorator
@inline const RR1_RANGE: f64 = 30;

/** sum of exp((x[i] - max) * beta), in f64 (blocked, see BLOCK); when `keep`, also stores each
 *  exp value to y[i] (y may be x). `tmp` holds the row's min (from rmax) and receives, for f32,
 *  the exp unit (see log_expsum). `keep`, `scaled` (beta != 1) and `cutoff` (some argument may
 *  be below the flush-to-zero cutoff: see in_exp_range) are constants at every call site; each
 *  combination is its own function below (see expsum_body). With `keep`, while it computes, the
 *  pass loads the lines of the n elements at x + ahead (row_ahead: the next row) into cache. */
// @ts-ignore: decorator
@inline export function raddexpminusmax<T>(x: usize, y: usize, n: i32, max: T, beta: T, keep: bool, scaled: bool, cutoff: bool, tmp: usize, ahead: usize): f64 {
  if (sizeof<T>() == 4) {
    const lo = load<f64>(tmp + TMP_MIN);
    store<f64>(tmp + TMP_EXP_UNIT, 1);
    // Shift by k*ln2, k = round(max/ln2), instead of by max: see vexp_k. Not for a constant row
    // (max = the min of rmax, which always runs first): there every exp(x - max) = 1 exactly, and
    // its sum C and log(C) stay exact as before (a sum of C copies of one inexact exp would not).
    if (!scaled && !cutoff && n >= KSHIFT_MIN_N() && Math.abs(<f64>max) <= KSHIFT_MAX_ABS() && <f64>max != lo) {
      const k = <f32>nearest<f64>(<f64>max * Math.LOG2E);
      const rr1 = ASC_FEATURE_RELAXED_SIMD && <f64>max - lo <= RR1_RANGE;
      store<f64>(tmp + TMP_EXP_UNIT, <f64>sexp_k(<f32>max, KMAGIC(k), rr1));
      if (!ASC_FEATURE_SIMD) return expsum_body<f32>(x, y, n, k, 1, keep, false, false, 0, true);
      if (rr1) return keep ? expsum_store_k1(x, y, n, k, ahead) : expsum_k1(x, n, k);
      return keep ? expsum_store_k(x, y, n, k, ahead) : expsum_k(x, n, k);
    }
  }
  // The scalar build's loop is faster inlined (measured: x1.35-1.5 on softmax and cross-entropy).
  if (!ASC_FEATURE_SIMD) return expsum_body<T>(x, y, n, max, beta, keep, scaled, cutoff, 0);
  // A row that needs no flush gets the same values from the flush loop (no lane is below the
  // cutoff; a row holding a NaN gives NaN either way). The loops without the flush are kept only
  // where they are timed: f32 in the simd build, where they run every row of C < KSHIFT_MIN_N.
  // For f64 (3-7% slower for it), and for relaxed-simd f32 (whose k-shift path takes all but
  // constant rows and |max| > KSHIFT_MAX_ABS), the two operations per vector they save are not
  // worth two more functions in the package (its size budget).
  const flush = cutoff || sizeof<T>() == 8 || ASC_FEATURE_RELAXED_SIMD;
  if (keep) {
    return scaled ? expsum_store_scaled<T>(x, y, n, max, beta, ahead)
      : flush ? expsum_store_flush<T>(x, y, n, max, ahead) : expsum_store<T>(x, y, n, max, ahead);
  }
  return scaled ? expsum_scaled<T>(x, n, max, beta) : flush ? expsum_flush<T>(x, n, max) : expsum<T>(x, n, max);
}

// The versions of raddexpminusmax for the SIMD builds, each a function of its own rather than
// inlined into the row loops: V8 (TurboFan) allocates registers for the exp loop better when it
// is alone in its function than beside the other passes and the other versions of the loop.
export function expsum_store_scaled<T>(x: usize, y: usize, n: i32, max: T, beta: T, ahead: usize): f64 { return expsum_body<T>(x, y, n, max, beta, true, true, true, ahead); }
function expsum_store_flush<T>(x: usize, y: usize, n: i32, max: T, ahead: usize): f64 { return expsum_body<T>(x, y, n, max, 1, true, false, true, ahead); }
function expsum_store<T>(x: usize, y: usize, n: i32, max: T, ahead: usize): f64 { return expsum_body<T>(x, y, n, max, 1, true, false, false, ahead); }
function expsum_scaled<T>(x: usize, n: i32, max: T, beta: T): f64 { return expsum_body<T>(x, 0, n, max, beta, false, true, true, 0); }
function expsum_flush<T>(x: usize, n: i32, max: T): f64 { return expsum_body<T>(x, 0, n, max, 1, false, false, true, 0); }
function expsum<T>(x: usize, n: i32, max: T): f64 { return expsum_body<T>(x, 0, n, max, 1, false, false, false, 0); }
function expsum_store_k(x: usize, y: usize, n: i32, k: f32, ahead: usize): f64 { return expsum_body<f32>(x, y, n, k, 1, true, false, false, ahead, true); }
function expsum_k(x: usize, n: i32, k: f32): f64 { return expsum_body<f32>(x, 0, n, k, 1, false, false, false, 0, true); }
// The same with vexp_k's rr1 reduction, for rows of range <= RR1_RANGE.
function expsum_store_k1(x: usize, y: usize, n: i32, k: f32, ahead: usize): f64 { return expsum_body<f32>(x, y, n, k, 1, true, false, false, ahead, true, true); }
function expsum_k1(x: usize, n: i32, k: f32): f64 { return expsum_body<f32>(x, 0, n, k, 1, false, false, false, 0, true, true); }

/** Rows up to this many bytes have their successor loaded ahead (row_ahead): beyond, the two
 *  rows and their outputs outgrow the core's caches, and the loads evicted lines still to be
 *  used (measured 2% slower at 128256 classes, level at 32000). */
// @ts-ignore: decorator
@inline const AHEAD_MAX_BYTES: usize = 16384;

/** The byte distance from row r of a call to the row whose lines its storing exp pass loads
 *  ahead (raddexpminusmax's `ahead`): the next row; 0 (its own lines, in cache) for the last
 *  row and for rows longer than AHEAD_MAX_BYTES. */
// @ts-ignore: decorator
@inline export function row_ahead(r: i32, rows: i32, stride: usize): usize {
  return r + 1 < rows && stride <= AHEAD_MAX_BYTES ? stride : 0;
}

/** Loads the line at p into cache: wasm has no prefetch, and a load whose value is dropped still
 *  runs (it may trap, so neither Binaryen nor V8 removes it). The hardware prefetchers stop at
 *  4 KiB pages, so a batch of rows out of cache otherwise starts every row with rmax waiting on
 *  memory; loaded during the previous row's storing exp pass, its lines arrive while that pass
 *  computes (+12-18% on a [4096, 1000] Workspace softmax and crossEntropyWithGrad, level in
 *  cache). The passes that store nothing are too short to hide the loads: there they cost 4-5%. */
// @ts-ignore: decorator
@inline function touch_line(p: usize): void {
  load<i32>(p);
}

/** The body of every raddexpminusmax version. With `kshift` (f32) `max` is the
 *  shift k of vexp_k, and each exp is vexp_k(x[i]) = exp(x[i] - k*ln2). Each SIMD iteration
 *  (64 bytes) of a storing pass also touches the line `ahead` bytes further (touch_line). */
// @ts-ignore: decorator
@inline function expsum_body<T>(x: usize, y: usize, n: i32, max: T, beta: T, keep: bool, scaled: bool, cutoff: bool, ahead: usize, kshift: bool = false, rr1: bool = false): f64 {
  let nsum: f64 = 0, ncomp: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const L = LANES<T>();
    const vmax = kshift ? f32x4.splat(KMAGIC(<f32>max)) : v128.splat<T>(max);
    const vbeta = v128.splat<T>(beta);
    const nv = n - n % (4 * L);
    while (i < nv) {
      const end = min(i + BLOCK, nv);
      let a0 = v128.splat<T>(0), a1 = a0, a2 = a0, a3 = a0;
      // A do-while (a block has at least one iteration) so the sums after the loop use the
      // updated accumulators of the last iteration, not loop phis. With this second use of
      // a0..a3, V8 11.3 (TurboFan) emits the four exp computations of the body interleaved
      // step by step (seen with node --print-wasm-code) instead of one after the other, and the
      // out-of-order core overlaps more of these ~20-operation dependency chains. Measured with
      // Node 20.20 on x64: +17% on the loss-only cross-entropy and log_softmax, +14% logsumexp
      // (f32), +55% on their f64 versions. The `keep` versions were already interleaved (the
      // stores are the second use there).
      if (ASC_FEATURE_RELAXED_SIMD && kshift && !keep) {
        do {
          const p = at<T>(x, i);
          a0 = vexp_k(v128.load(p), vmax, rr1, true, a0);
          a1 = vexp_k(v128.load(p, 16), vmax, rr1, true, a1);
          a2 = vexp_k(v128.load(p, 32), vmax, rr1, true, a2);
          a3 = vexp_k(v128.load(p, 48), vmax, rr1, true, a3);
          i += 4 * L;
        } while (i < end);
      } else
      do {
        const p = at<T>(x, i);
        if (keep) touch_line(p + ahead);
        let e0: v128, e1: v128, e2: v128, e3: v128;
        if (kshift) {
          e0 = vexp_k(v128.load(p), vmax, rr1);
          e1 = vexp_k(v128.load(p, 16), vmax, rr1);
          e2 = vexp_k(v128.load(p, 32), vmax, rr1);
          e3 = vexp_k(v128.load(p, 48), vmax, rr1);
        } else {
          let x0 = v128.sub<T>(v128.load(p), vmax);
          let x1 = v128.sub<T>(v128.load(p, 16), vmax);
          let x2 = v128.sub<T>(v128.load(p, 32), vmax);
          let x3 = v128.sub<T>(v128.load(p, 48), vmax);
          if (scaled) {
            x0 = v128.mul<T>(x0, vbeta);
            x1 = v128.mul<T>(x1, vbeta);
            x2 = v128.mul<T>(x2, vbeta);
            x3 = v128.mul<T>(x3, vbeta);
          }
          e0 = vexp<T>(x0, cutoff); e1 = vexp<T>(x1, cutoff); e2 = vexp<T>(x2, cutoff); e3 = vexp<T>(x3, cutoff);
        }
        if (keep) {
          const q = at<T>(y, i);
          v128.store(q, e0);
          v128.store(q, e1, 16);
          v128.store(q, e2, 32);
          v128.store(q, e3, 48);
        }
        a0 = v128.add<T>(a0, e0);
        a1 = v128.add<T>(a1, e1);
        a2 = v128.add<T>(a2, e2);
        a3 = v128.add<T>(a3, e3);
        i += 4 * L;
      } while (i < end);
      const block = vhsum<T>(v128.add<T>(v128.add<T>(a0, a1), v128.add<T>(a2, a3)));
      ncomp = neumaier_comp(nsum, ncomp, block);
      nsum += block;
    }
    if (i <= n - L) {
      let a = v128.splat<T>(0);
      for (; i <= n - L; i += L) {
        let e: v128;
        if (kshift) e = vexp_k(v128.load(at<T>(x, i)), vmax, rr1);
        else {
          let v = v128.sub<T>(v128.load(at<T>(x, i)), vmax);
          if (scaled) v = v128.mul<T>(v, vbeta);
          e = vexp<T>(v, cutoff);
        }
        if (keep) v128.store(at<T>(y, i), e);
        a = v128.add<T>(a, e);
      }
      const block = vhsum<T>(a);
      ncomp = neumaier_comp(nsum, ncomp, block);
      nsum += block;
    }
  }
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    for (; i < end; i++) {
      let e: T;
      if (kshift) {
        e = <T>sexp_k(load<f32>(at<f32>(x, i)), KMAGIC(<f32>max), rr1);
      } else {
        let v = load<T>(at<T>(x, i)) - max;
        if (scaled) v *= beta;
        e = sexp<T>(v);
      }
      if (keep) store<T>(at<T>(y, i), e);
      a += <f64>e;
    }
    ncomp = neumaier_comp(nsum, ncomp, a);
    nsum += a;
  }
  return neumaier_result(nsum, ncomp);
}

/** sum of x[i] * y[i], in f64 (blocked like raddexpminusmax). */
export function rdot<T>(x: usize, y: usize, n: i32): f64 {
  let nsum: f64 = 0, ncomp: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const L = LANES<T>();
    const nv = n - n % (4 * L);
    while (i < nv) {
      const end = min(i + BLOCK, nv);
      let a0 = v128.splat<T>(0), a1 = a0, a2 = a0, a3 = a0;
      for (; i < end; i += 4 * L) {
        const p = at<T>(x, i), q = at<T>(y, i);
        a0 = v128.add<T>(a0, v128.mul<T>(v128.load(p), v128.load(q)));
        a1 = v128.add<T>(a1, v128.mul<T>(v128.load(p, 16), v128.load(q, 16)));
        a2 = v128.add<T>(a2, v128.mul<T>(v128.load(p, 32), v128.load(q, 32)));
        a3 = v128.add<T>(a3, v128.mul<T>(v128.load(p, 48), v128.load(q, 48)));
      }
      const block = vhsum<T>(v128.add<T>(v128.add<T>(a0, a1), v128.add<T>(a2, a3)));
      ncomp = neumaier_comp(nsum, ncomp, block);
      nsum += block;
    }
    if (i <= n - L) {
      let a = v128.splat<T>(0);
      for (; i <= n - L; i += L) a = v128.add<T>(a, v128.mul<T>(v128.load(at<T>(x, i)), v128.load(at<T>(y, i))));
      const block = vhsum<T>(a);
      ncomp = neumaier_comp(nsum, ncomp, block);
      nsum += block;
    }
  }
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    for (; i < end; i++) a += <f64>load<T>(at<T>(x, i)) * <f64>load<T>(at<T>(y, i));
    ncomp = neumaier_comp(nsum, ncomp, a);
    nsum += a;
  }
  return neumaier_result(nsum, ncomp);
}

/** sum of x[i], in f64 (blocked like raddexpminusmax). */
export function rsum<T>(x: usize, n: i32): f64 {
  let nsum: f64 = 0, ncomp: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const L = LANES<T>();
    const nv = n - n % (4 * L);
    while (i < nv) {
      const end = min(i + BLOCK, nv);
      let a0 = v128.splat<T>(0), a1 = a0, a2 = a0, a3 = a0;
      for (; i < end; i += 4 * L) {
        const p = at<T>(x, i);
        a0 = v128.add<T>(a0, v128.load(p));
        a1 = v128.add<T>(a1, v128.load(p, 16));
        a2 = v128.add<T>(a2, v128.load(p, 32));
        a3 = v128.add<T>(a3, v128.load(p, 48));
      }
      const block = vhsum<T>(v128.add<T>(v128.add<T>(a0, a1), v128.add<T>(a2, a3)));
      ncomp = neumaier_comp(nsum, ncomp, block);
      nsum += block;
    }
    if (i <= n - L) {
      let a = v128.splat<T>(0);
      for (; i <= n - L; i += L) a = v128.add<T>(a, v128.load(at<T>(x, i)));
      const block = vhsum<T>(a);
      ncomp = neumaier_comp(nsum, ncomp, block);
      nsum += block;
    }
  }
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    for (; i < end; i++) a += <f64>load<T>(at<T>(x, i));
    ncomp = neumaier_comp(nsum, ncomp, a);
    nsum += a;
  }
  return neumaier_result(nsum, ncomp);
}

/** true when the slice holds a NaN. Only used on the rare rows whose max is infinite. */
export function rhasnan<T>(x: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const v = load<T>(at<T>(x, i));
    if (v != v) return true;
  }
  return false;
}

/** y[i] = x[i] * s (y may be x). Inlined: as a call from the softmax row loop it cost the
 *  simd softmax ~1.5% (measured side by side). */
// @ts-ignore: decorator
@inline export function vscale<T>(x: usize, y: usize, n: i32, s: T): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = v128.splat<T>(s);
    const L = LANES<T>();
    for (; i <= n - 2 * L; i += 2 * L) {
      const p = at<T>(x, i), q = at<T>(y, i);
      v128.store(q, v128.mul<T>(v128.load(p), vs));
      v128.store(q, v128.mul<T>(v128.load(p, 16), vs), 16);
    }
    for (; i <= n - L; i += L) v128.store(at<T>(y, i), v128.mul<T>(v128.load(at<T>(x, i)), vs));
  }
  for (; i < n; i++) store<T>(at<T>(y, i), load<T>(at<T>(x, i)) * s);
}

/** y[i] = 0. */
export function vzero<T>(y: usize, n: i32): void {
  memory.fill(y, 0, <usize>n << alignof<T>());
}
