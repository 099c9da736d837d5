// Reductions over one contiguous slice of n elements of T (f32 or f64) at address x.
// Each has, side by side: the SIMD body (4 vectors per iteration, independent accumulators),
// a one-vector loop for what is left, and the scalar loop that finishes the last < LANES
// elements in the SIMD builds and does all the work in the scalar build.

import { log64 } from './log';
import { BLOCK, LANES, vectors_end, at, vhmax, vhsum, neumaier_comp, neumaier_result, log1p_pos, uncounted_lanes } from './simd';
import { vexp, sexp, vexp_k, sexp_k, vexp_kt, sexp_kt, vexp_k_wide, sexp_k_wide, KMAGIC, kmagic, kshift_of, WIDE_LO, NO_CUTOFF_RANGE } from './exp';
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
/** Where an f64 row's exp-sum pass (expsum_body) leaves the sum of the terms of its elements
 *  other than the maxima (f64) and the number of maxima (i32); so does an f32 row's k-shift pass
 *  in the scalar build where its caller asks (raddexpminusmax's `mass`: logSoftmax, logSumExp).
 *  (The short-row groups' bytes: f64 rows and the scalar build have no short rows.) */
// @ts-ignore: decorator
@inline export const TMP_EXP_MASS: usize = 32;
// @ts-ignore: decorator
@inline export const TMP_EXP_MAXIMA: usize = 40;
/** Where a general f32 row's cross-entropy leaves the exp-sum its gradient scales by (f64, in the
 *  units of the pass's sum): the pass's own, or near 1 the unit plus the mass summed apart
 *  (ce_log_expsum_near1). The pass's f32 lanes round each addition to the lane that holds the
 *  max's term (up to 16 a block): that put the gradient of a confident 1003-class row 2.5e-7 x N
 *  off at the label. */
// @ts-ignore: decorator
@inline export const TMP_ROW_SUM: usize = 48;
/** Where raddexpminusmax leaves the form of an f32 row's exp pass (EXP_*, i32), its shift k and the
 *  value subtracted first (f32), for ce_log_expsum_near1 to compute the same exp values again. */
// @ts-ignore: decorator
@inline export const TMP_EXP_FORM: usize = 112;
// @ts-ignore: decorator
@inline export const TMP_EXP_K: usize = 116;
// @ts-ignore: decorator
@inline export const TMP_EXP_SUB: usize = 120;
/** SCRATCH_N f32 of scratch (ce_log_expsum_near1's exp values, chunk by chunk). */
// @ts-ignore: decorator
@inline export const TMP_SCRATCH: usize = 128;
// @ts-ignore: decorator
@inline export const SCRATCH_N: i32 = 64;
// @ts-ignore: decorator
@inline const EXP_PLAIN = 0, EXP_K = 1, EXP_K1 = 2, EXP_WIDE = 3;
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
/** The four rows' exp units (f32: the exp their pass gave the row's max, see log_expsum), and a
 *  spare one for a short row's pass computed again (ce_log_expsum_near1). */
// @ts-ignore: decorator
@inline export const TMP_GROUP_UNITS: usize = 384;
// @ts-ignore: decorator
@inline export const TMP_UNIT_SPARE: usize = 400;
/** The open span of a reduced cross-entropy (cross_entropy.ts span_add): the product of its rows'
 *  r (f64) and its first row (i32, -1: none). */
// @ts-ignore: decorator
@inline export const TMP_SPAN: usize = 408;
// @ts-ignore: decorator
@inline export const TMP_SPAN_ROW: usize = 416;
/** The four rows' target terms of a group with loss options (cross_entropy.ts ce_target_terms):
 *  d, and for probability targets S (f64 each). */
// @ts-ignore: decorator
@inline export const TMP_GROUP_TERMS: usize = 448;
// @ts-ignore: decorator
@inline export const TMP_GROUP_TSUMS: usize = 480;
/** Two blocks of 4 * SHORT_ROW_MAX_C f32 (256 bytes each): the exp values of a group of four
 *  short rows whose pass keeps them only for its near-1 logs (softmax.ts log_softmax_rows,
 *  logsumexp_rows; a group's logs come after the next group's pass, so groups alternate blocks),
 *  or not at all (the cross-entropy's loss alone, in the first block). */
// @ts-ignore: decorator
@inline export const TMP_GROUP_EXPS: usize = 512;
/** The tmp of the general passes a short row takes where it cannot take the k-shift (its first
 *  124 bytes): inside TMP_SCRATCH, past the 64 bytes a short row's exp values use there. */
// @ts-ignore: decorator
@inline export const TMP_SHORT_GENERAL: usize = TMP_SCRATCH + 64;

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

/** raddexpminusmax() stores at tmp + TMP_EXP_UNIT the value its exp gave the row's max (unless its
 *  caller says it does not use it, `unit` false: softmax): 1 unless it
 *  took the k-shift path (rows with cutoff = false, beta = 1, |max| <= KSHIFT_MAX_ABS (f32) or
 *  KSHIFT64_MAX_ABS (f64), not constant). That path sums
 *  exp(x - k*ln2), not exp(x - max) (see vexp_k), so log_expsum() takes log(sum / unit) for
 *  log(sum exp(x - max)). Dividing by
 *  the computed value rather than adding the exact shift cancels the max element's own
 *  rounding: a row whose max dominates gets log(1 + rest) exactly as with exp(0) = 1 (a
 *  constant row of C gives exactly log(C), a single-class row exactly 0). The stored exp values
 *  carry the same factor, which the softmax and gradient cancel by dividing by the sum.
 *
 *  log(sum exp(x - max)) of the row of the raddexpminusmax() call that returned s with this tmp. */
// @ts-ignore: decorator
@inline export function log_expsum<T>(s: f64, tmp: usize): f64 {
  const unit = load<f64>(tmp + TMP_EXP_UNIT);
  if (sizeof<T>() == 8) {
    // f64: s / unit = maxima + mass / unit, the mass summed apart (expsum_body), so the log of a
    // sum near 1 is log1p of the mass: exact to rounding for confident rows too.
    return log1p_pos(<f64>(load<i32>(tmp + TMP_EXP_MAXIMA) - 1) + load<f64>(tmp + TMP_EXP_MASS) / unit);
  }
  // (s / 1 is s; s / unit as s * (1 / unit): the reciprocal does not wait for the pass's sum)
  return unit != 1 ? log64(s * (1.0 / unit)) : log64(s);
}

/** The log of an f32 row's exp-sum relative to its max term, r = s / unit >= 1, loses the low bits
 *  of the off-max mass r - 1 where r is near 1 (a confident row): the exp-sum pass adds the max
 *  term's 1 into an f32 lane beside the others, and each addition there rounds to 2^-24. Below
 *  these bounds the log is taken as log1p of the mass summed apart (log_expsum_near1*). They
 *  keep the error of log(r) under 1e-6 relative above them: the max's lane takes at most 15
 *  more additions in the general passes (a block of 256 over 16 lanes), 3 in a short row's
 *  (C <= 16), so |error| < 16 * 2^-24 vs log 2 and 3 * 2^-24 vs log 1.25. */
// @ts-ignore: decorator
@inline export const NEAR1_SUM: f64 = 2;
/** log r below which a general f32 row of n elements (SIMD builds) takes its log from the mass
 *  summed apart (log_expsum_row), from the additions its max's lane takes: one per 16 elements
 *  of a block, and 2 more as the pass adds its four accumulators. Above it the error of log r
 *  stays within a short row's at NEAR1_SUM_SHORT (3 additions at log 1.25, 8e-7 relative): a row
 *  of 100 classes counts again below r = 1.81, one of 32 below 1.25 (r >= NEAR1_SUM never). */
// @ts-ignore: decorator
@inline function near1_log_bound(n: i32): f64 {
  return <f64>(((min(n, BLOCK) + 15) >> 4) + 1) * (0.22314355131420976 / 3); // log(1.25) / 3 per addition
}
// @ts-ignore: decorator
@inline export const NEAR1_SUM_SHORT: f64 = 1.25;

/** log(sum exp(x - max)) of a row of the exp-sum s, with the unit of its raddexpminusmax call
 *  (log_expsum, with `mass` where it took the k-shift), for a row whose x is still intact: near 1,
 *  log1p of the mass summed apart. */
// @ts-ignore: decorator
@inline export function log_expsum_row<T>(s: f64, tmp: usize, x: usize, n: i32, max: T): f64 {
  if (sizeof<T>() == 8) return log_expsum<T>(s, tmp);
  const unit = load<f64>(tmp + TMP_EXP_UNIT);
  const r = unit != 1 ? s * (1.0 / unit) : s;
  if (r >= NEAR1_SUM) return log64(r);
  const form = load<i32>(tmp + TMP_EXP_FORM);
  if (!ASC_FEATURE_SIMD && form == EXP_K) {
    // The scalar build's k-shift pass summed the mass apart (`mass`, in f64): the same values and
    // order as log_expsum_near1's (its exp values are the pass's times 2^-64, exactly).
    return log1p_pos(<f64>(load<i32>(tmp + TMP_EXP_MAXIMA) - 1) + load<f64>(tmp + TMP_EXP_MASS) / unit);
  }
  if (ASC_FEATURE_SIMD) {
    const l = log64(r);
    if (l >= near1_log_bound(n)) return l;
    // The simd build's k-shift rows: the pass's own exp values again, by its unrolled loops
    // (expsum_mass_but, as the cross-entropy's rows take them). Not relaxed-simd's, whose fused
    // exp values summed this way lost up to 0.2 ulp of logSoftmax against log_expsum_near1's.
    if (!ASC_FEATURE_RELAXED_SIMD && form == EXP_K) {
      const mass = expsum_mass_but(x, 0, n, <f32>unit, <f32>max, false, tmp);
      return log1p_pos(<f64>(load<i32>(tmp + TMP_AUX) - 1) + mass / unit);
    }
  }
  return log_expsum_near1(x, n, <f32>max);
}

/** log(sum exp(x - max)) = log1p(mass) of an f32 row (x intact), the mass (the sum over all
 *  elements but one max) summed apart from the max terms: exp(x - k*ln2) by the k-shift with
 *  subnormal results (vexp_k_wide), k 64 below the row's shift, so masses down to ~e^-128 are
 *  normal floats, and the max terms counted instead. Beyond |max| = 128 (vexp_k_wide's |n| bound
 *  with the 64 added) the shift is by max itself, as in expsum_wide. */
export function log_expsum_near1(x: usize, n: i32, max: f32): f64 {
  const big = Math.abs(<f64>max) > 128;
  const k: f32 = big ? -64 : kshift_of<f32>(max) - 64;
  const sub: f32 = big ? max : 0;
  const magic = KMAGIC(k), lo = WIDE_LO(k);
  let nsum: f64 = 0, ncomp: f64 = 0, ties = 0;
  let i = 0;
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    if (ASC_FEATURE_SIMD && n >= 4) {
      const vmagic = f32x4.splat(magic), vlo = f32x4.splat(lo), vsub = f32x4.splat(sub), vmax = f32x4.splat(max);
      // Four sums per lane, the vectors in turn (each lane adds 16 values of a block, not 64): a
      // row near 1 is mostly the mass of its largest few terms, which one long f32 sum rounds
      // once per addition (relaxed-simd, 'normal x2 C=1000' logSoftmax: 5.23 ulp, 2.61 with four).
      let va = f32x4.splat(0), vb = va, vc = va, vd = va, vties = i32x4.splat(0);
      for (; i <= end - 4; i += 4) {
        const v = v128.load(at<f32>(x, i)), top = f32x4.eq(v, vmax);
        const s = f32x4.add(va, v128.andnot(vexp_k_wide(f32x4.sub(v, vsub), vmagic, vlo), top));
        va = vb;
        vb = vc;
        vc = vd;
        vd = s;
        vties = i32x4.sub(vties, top);
      }
      if (i < end) {
        // the row's last < 4 elements: the vector ending at n, its lanes below i masked out
        const v = v128.load(at<f32>(x, n - 4)), fresh = uncounted_lanes(i - (n - 4));
        const top = v128.and(f32x4.eq(v, vmax), fresh);
        va = f32x4.add(va, v128.and(v128.andnot(vexp_k_wide(f32x4.sub(v, vsub), vmagic, vlo), top), fresh));
        vties = i32x4.sub(vties, top);
      }
      a = vhsum<f32>(f32x4.add(f32x4.add(va, vb), f32x4.add(vc, vd)));
      ties += i32x4.extract_lane(vties, 0) + i32x4.extract_lane(vties, 1) + i32x4.extract_lane(vties, 2) + i32x4.extract_lane(vties, 3);
      i = end;
    }
    for (; i < end; i++) {
      const v = load<f32>(at<f32>(x, i));
      if (v == max) ties++;
      else a += <f64>sexp_k_wide(v - sub, magic, lo);
    }
    ncomp = neumaier_comp(nsum, ncomp, a);
    nsum += a;
  }
  const unit = <f64>sexp_k_wide(max - sub, magic, lo);
  return log1p_pos(<f64>(ties - 1) + neumaier_result(nsum, ncomp) / unit);
}

/** The mass of an f32 row near 1: the sum of its exp values but the max terms, those equal to
 *  `unit` (the exp pass gives every max exactly the unit; another element of that value is left
 *  out the same way), in float64; how many were left out goes to tmp + TMP_AUX. With `stored`, the
 *  exp values are at y; else they are computed again from x by the form the row's exp-sum pass
 *  took (tmp + TMP_EXP_FORM), chunk by chunk into tmp + TMP_SCRATCH. Both sum the same values in
 *  the same chunks, so a loss has the same bits with and without its gradient. One pass over the
 *  values: the comparison and the sum together. */
export function expsum_mass_but(x: usize, y: usize, n: i32, unit: f32, max: f32, stored: bool, tmp: usize): f64 {
  const scratch = tmp + TMP_SCRATCH;
  let nsum: f64 = 0, ncomp: f64 = 0, count = 0;
  for (let i = 0; i < n; i += SCRATCH_N) {
    const len = min(SCRATCH_N, n - i);
    let c = at<f32>(y, i);
    if (!stored) {
      c = scratch;
      expsum_form_store(at<f32>(x, i), scratch, len, max, tmp);
    }
    let a: f64 = 0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const vu = f32x4.splat(unit);
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, k = i32x4.splat(0);
      for (; j <= len - 16; j += 16) {
        const p = at<f32>(c, j);
        const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
        const e0 = f32x4.eq(v0, vu), e1 = f32x4.eq(v1, vu), e2 = f32x4.eq(v2, vu), e3 = f32x4.eq(v3, vu);
        a0 = f32x4.add(a0, v128.andnot(v0, e0));
        a1 = f32x4.add(a1, v128.andnot(v1, e1));
        a2 = f32x4.add(a2, v128.andnot(v2, e2));
        a3 = f32x4.add(a3, v128.andnot(v3, e3));
        k = i32x4.sub(k, i32x4.add(i32x4.add(e0, e1), i32x4.add(e2, e3)));
      }
      for (; j <= len - 4; j += 4) {
        const v = v128.load(at<f32>(c, j)), e = f32x4.eq(v, vu);
        a0 = f32x4.add(a0, v128.andnot(v, e));
        k = i32x4.sub(k, e);
      }
      a = vhsum<f32>(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
      count += i32x4.extract_lane(k, 0) + i32x4.extract_lane(k, 1) + i32x4.extract_lane(k, 2) + i32x4.extract_lane(k, 3);
    }
    for (; j < len; j++) {
      const v = load<f32>(at<f32>(c, j));
      if (v == unit) count++;
      else a += <f64>v;
    }
    ncomp = neumaier_comp(nsum, ncomp, a);
    nsum += a;
  }
  store<i32>(tmp + TMP_AUX, count);
  return neumaier_result(nsum, ncomp);
}

/** The index of the first of n f32 values at p equal to v, or -1. */
export function index_of_f32(p: usize, n: i32, v: f32): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vv = f32x4.splat(v);
    for (; i <= n - 4; i += 4) {
      const eq = i32x4.bitmask(f32x4.eq(v128.load(at<f32>(p, i)), vv));
      if (eq) return i + ctz(eq);
    }
  }
  for (; i < n; i++) if (load<f32>(at<f32>(p, i)) == v) return i;
  return -1;
}

/** The exp values of n elements of an f32 row at x stored to y, by the form its exp-sum pass took
 *  (raddexpminusmax, beta = 1: tmp + TMP_EXP_FORM; max: the row's max). */
export function expsum_form_store(x: usize, y: usize, n: i32, max: f32, tmp: usize): void {
  const form = load<i32>(tmp + TMP_EXP_FORM), k = load<f32>(tmp + TMP_EXP_K);
  if (form == EXP_WIDE) expsum_wide(x, y, n, k, load<f32>(tmp + TMP_EXP_SUB));
  else if (!ASC_FEATURE_SIMD) {
    if (form == EXP_K) expsum_body<f32>(x, y, n, k, 1, true, false, false, 0, true);
    else expsum_body<f32>(x, y, n, max, 1, true, false, false, 0);
  } else if (ASC_FEATURE_RELAXED_SIMD && form == EXP_K1) expsum_store_k1(x, y, n, k, 0);
  else if (form == EXP_K) expsum_store_k<f32>(x, y, n, k, 0, 0, 0);
  else expsum_store_flush<f32>(x, y, n, max, 0, 0);
}

/** |max| up to which an f64 row takes the k-shift path (vexp_k64): its arguments lie within
 *  |max| + 709, so |n| < (2^24 + 709) * 64/ln2 < 2^31, inside the 2^32 its exact n*ln2_hi/64
 *  allows. */
// @ts-ignore: decorator
@inline const KSHIFT64_MAX_ABS: f64 = 16777216;
/** |max| up to which an f32 row takes the k-shift path (see vexp_k). Its reduction needs
 *  n*ln2_hi exact: with a fused multiply-add (relaxed-simd) that holds for |n| < 2^15; unfused,
 *  ln2_hi's 15 significant bits leave |n| < 2^9, and rows in that path have x >= max - 87, so
 *  |n| <= (256 + 87) * log2(e) + 1 = 496. */
// @ts-ignore: decorator
@inline export function KSHIFT_MAX_ABS(): f64 {
  return ASC_FEATURE_RELAXED_SIMD ? 16384 : 256;
}
/** |max| up to which a wide f32 row (max - min > NO_CUTOFF_RANGE) takes the k-shift of
 *  expsum_wide: its arguments reach down to WIDE_LO(k) = k*ln2 - 172, so unfused |n| <= (176 + 172.5) *
 *  log2(e) + 1 < 2^9 (see KSHIFT_MAX_ABS). */
// @ts-ignore: decorator
@inline function KSHIFT_WIDE_MAX_ABS(): f64 {
  return ASC_FEATURE_RELAXED_SIMD ? 16384 : 176;
}
/** max - min up to which the relaxed-simd f32 build uses vexp_k's one-constant reduction (rr1):
 *  then |n| <= 44 and its error stays <= 2.8 ulp (measured; see vexp_k). */
// @ts-ignore: decorator
@inline const RR1_RANGE: f64 = 30;

/** sum of exp((x[i] - max) * beta), in f64 (blocked, see BLOCK); when `keep`, also stores each
 *  exp value to y[i] (y may be x). `tmp` holds the row's min (from rmax) and receives, for f32,
 *  the exp unit (see log_expsum; not where `unit` is false: softmax), and on the scalar build,
 *  with `mass` (logSoftmax, logSumExp), the off-max mass (TMP_EXP_MASS). `keep`, `scaled` (beta != 1)
 *  and `cutoff` (some argument may be below the flush-to-zero cutoff: see in_exp_range) are
 *  constants at every call site; each
 *  combination is its own function below (see expsum_body). With `keep`, while it computes, the
 *  pass loads the lines of the n elements at x + ahead (row_ahead: the next row) into cache. */
// @ts-ignore: decorator
@inline export function raddexpminusmax<T>(x: usize, y: usize, n: i32, max: T, beta: T, keep: bool, scaled: bool, cutoff: bool, tmp: usize, ahead: usize, unit: bool = true, mass: bool = false): f64 {
  store<f64>(tmp + TMP_EXP_UNIT, 1);
  if (sizeof<T>() == 4) {
    store<i32>(tmp + TMP_EXP_FORM, EXP_PLAIN);
    const lo = load<f64>(tmp + TMP_MIN);
    // Shift by k*ln2, k = round(max/ln2), instead of by max: see vexp_k. Not for a constant row
    // (max = the min of rmax, which always runs first): there every exp(x - max) = 1 exactly, and
    // its sum C and log(C) stay exact as before (a sum of C copies of one inexact exp would not).
    if (!scaled && !cutoff && Math.abs(<f64>max) <= KSHIFT_MAX_ABS() && <f64>max != lo) {
      const k = kshift_of<f32>(<f32>max);
      const rr1 = ASC_FEATURE_RELAXED_SIMD && <f64>max - lo <= RR1_RANGE;
      if (unit) store<f64>(tmp + TMP_EXP_UNIT, <f64>sexp_k(<f32>max, KMAGIC(k), rr1));
      store<i32>(tmp + TMP_EXP_FORM, rr1 ? EXP_K1 : EXP_K);
      store<f32>(tmp + TMP_EXP_K, k);
      // The scalar build sums in f64, so the pass of logSoftmax and logSumExp (`mass`) sums the
      // mass apart as f64 rows do, for log_expsum_row's near-1 log without a second pass.
      if (!ASC_FEATURE_SIMD) return expsum_body<f32>(x, y, n, k, 1, keep, false, false, 0, true, false, mass ? tmp : 0, <f32>max, mass);
      if (rr1) return keep ? expsum_store_k1(x, y, n, k, ahead) : expsum_k1(x, n, k);
      return keep ? expsum_store_k<f32>(x, y, n, k, ahead, 0, 0) : expsum_k<f32>(x, n, k, 0, 0);
    }
    // Wide rows (some exp below 2^-126): the k-shift too, with vexp_k_wide's subnormal results.
    if (!scaled && cutoff) return expsum_wide_row(x, keep ? y : 0, n, <f32>max, tmp);
  } else if (!scaled && !cutoff && Math.abs(<f64>max) <= KSHIFT64_MAX_ABS && <f64>max != load<f64>(tmp + TMP_MIN)) {
    // f64: the k-shift in steps of ln2/64 (vexp_k64), for the same reasons as f32 above (the unit
    // is stored by the pass).
    const k = kshift_of<f64>(<f64>max);
    if (!ASC_FEATURE_SIMD) return expsum_body<f64>(x, y, n, k, 1, keep, false, false, 0, true, false, tmp, <f64>max);
    return keep ? expsum_store_k<f64>(x, y, n, k, ahead, tmp, <f64>max) : expsum_k<f64>(x, n, k, tmp, <f64>max);
  }
  // The scalar build's loop is faster inlined (measured: x1.35-1.5 on softmax and cross-entropy).
  if (!ASC_FEATURE_SIMD) return expsum_body<T>(x, y, n, max, beta, keep, scaled, cutoff, 0, false, false, tmp);
  // f32 rows that come here without a flush cutoff (|max| above KSHIFT_MAX_ABS, where x - max is
  // exact by Sterbenz's lemma for x >= max - 87, or constant rows) get the same values from the
  // flush loop: no lane is below the cutoff, and a row holding a NaN gives NaN either way. f64
  // rows come here only where they cannot take the k-shift (an exp below 2^-1022, |max| above
  // KSHIFT64_MAX_ABS, a constant row): they take the `scaled` loops, whose multiplication by
  // beta = 1 is exact, for two functions fewer.
  if (scaled || sizeof<T>() == 8) return keep ? expsum_store_scaled<T>(x, y, n, max, beta, ahead, tmp) : expsum_scaled<T>(x, n, max, beta, tmp);
  return keep ? expsum_store_flush<T>(x, y, n, max, ahead, tmp) : expsum_flush<T>(x, n, max, tmp);
}

// The versions of raddexpminusmax for the SIMD builds, each a function of its own rather than
// inlined into the row loops: V8 (TurboFan) allocates registers for the exp loop better when it
// is alone in its function than beside the other passes and the other versions of the loop.
export function expsum_store_scaled<T>(x: usize, y: usize, n: i32, max: T, beta: T, ahead: usize, tmp: usize): f64 { return expsum_body<T>(x, y, n, max, beta, true, true, true, ahead, false, false, tmp); }
export function expsum_store_flush<T>(x: usize, y: usize, n: i32, max: T, ahead: usize, tmp: usize): f64 { return expsum_body<T>(x, y, n, max, 1, true, false, true, ahead, false, false, tmp); }
function expsum_scaled<T>(x: usize, n: i32, max: T, beta: T, tmp: usize): f64 { return expsum_body<T>(x, 0, n, max, beta, false, true, true, 0, false, false, tmp); }
export function expsum_flush<T>(x: usize, n: i32, max: T, tmp: usize): f64 { return expsum_body<T>(x, 0, n, max, 1, false, false, true, 0, false, false, tmp); }
function expsum_store_k<T>(x: usize, y: usize, n: i32, k: T, ahead: usize, tmp: usize, top: T): f64 { return expsum_body<T>(x, y, n, k, 1, true, false, false, ahead, true, false, tmp, top); }
function expsum_k<T>(x: usize, n: i32, k: T, tmp: usize, top: T): f64 { return expsum_body<T>(x, 0, n, k, 1, false, false, false, 0, true, false, tmp, top); }
// The same with vexp_k's rr1 reduction, for rows of range <= RR1_RANGE.
function expsum_store_k1(x: usize, y: usize, n: i32, k: f32, ahead: usize): f64 { return expsum_body<f32>(x, y, n, k, 1, true, false, false, ahead, true, true); }
function expsum_k1(x: usize, n: i32, k: f32): f64 { return expsum_body<f32>(x, 0, n, k, 1, false, false, false, 0, true, true); }

/** raddexpminusmax of a wide f32 row (some exp below 2^-126; y = 0: no store): expsum_wide with
 *  the row's k-shift, or the shift by max itself where |max| is too large for its reduction
 *  (x - max is then exact down to x = max/2, and below that, x < max - 88, its rounding moves the
 *  subnormal result by far less than 2^-149); the unit and the form to tmp. */
export function expsum_wide_row(x: usize, y: usize, n: i32, max: f32, tmp: usize): f64 {
  const big = Math.abs(<f64>max) > KSHIFT_WIDE_MAX_ABS();
  const k = big ? <f32>0 : kshift_of<f32>(max), sub = big ? max : <f32>0;
  if (!big) store<f64>(tmp + TMP_EXP_UNIT, <f64>sexp_k(max, KMAGIC(k)));
  store<i32>(tmp + TMP_EXP_FORM, EXP_WIDE);
  store<f32>(tmp + TMP_EXP_K, k);
  store<f32>(tmp + TMP_EXP_SUB, sub);
  return expsum_wide(x, y, n, k, sub);
}

/** sum of exp(x[i] - sub - k*ln2) over an f32 slice, down to subnormal values (vexp_k_wide), in
 *  f64 (blocked like raddexpminusmax); stores each exp to y[i] unless y is 0. For the rows some of
 *  whose exp values fall below 2^-126, which no timed shape has: one vector per iteration, one
 *  function for both uses, to keep the package small. */
function expsum_wide(x: usize, y: usize, n: i32, k: f32, sub: f32): f64 {
  const magic = KMAGIC(k), lo = WIDE_LO(k);
  let nsum: f64 = 0, ncomp: f64 = 0;
  let i = 0;
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    if (ASC_FEATURE_SIMD) {
      const vmagic = f32x4.splat(magic), vlo = f32x4.splat(lo), vsub = f32x4.splat(sub);
      let va = f32x4.splat(0);
      for (; i <= end - 4; i += 4) {
        const e = vexp_k_wide(f32x4.sub(v128.load(at<f32>(x, i)), vsub), vmagic, vlo);
        if (y) v128.store(at<f32>(y, i), e);
        va = f32x4.add(va, e);
      }
      a = vhsum<f32>(va);
    }
    for (; i < end; i++) {
      const e = sexp_k_wide(load<f32>(at<f32>(x, i)) - sub, magic, lo);
      if (y) store<f32>(at<f32>(y, i), e);
      a += <f64>e;
    }
    ncomp = neumaier_comp(nsum, ncomp, a);
    nsum += a;
  }
  return neumaier_result(nsum, ncomp);
}

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

/** The body of every raddexpminusmax version. With `kshift` `max` is the shift k of vexp_kt,
 *  and each exp is vexp_kt(x[i]) = exp(x[i] - k*ln2) (f32; f64: k*ln2/64). Each SIMD iteration
 *  (64 bytes) of a storing pass also touches the line `ahead` bytes further (touch_line).
 *
 *  f64 rows keep the terms of the elements equal to the row's max (`top` with `kshift`, else
 *  `max`) apart: those are counted, the others summed (the mass). Summed together, the max term's
 *  lane rounds each addition to 2^-53 of 1: up to 32 ulp of the softmax and 1.6e-6 relative in
 *  the log of a confident row's sum (measured at 1001 classes). It returns maxima * unit + mass,
 *  rounded once (the unit: the max's own term), and leaves the unit, the mass and the count at
 *  tmp + TMP_EXP_UNIT, TMP_EXP_MASS and TMP_EXP_MAXIMA (unless tmp is 0) for log_expsum. The
 *  comparison is on x, not on the exp values, and the unit is computed after the loops: nothing
 *  in them waits for it (measured 2-10% faster at 10 classes than comparing with the unit). */
// @ts-ignore: decorator
@inline function expsum_body<T>(x: usize, y: usize, n: i32, max: T, beta: T, keep: bool, scaled: bool, cutoff: bool, ahead: usize, kshift: bool = false, rr1: bool = false, tmp: usize = 0, top: T = 0, mass32: bool = false): f64 {
  const split = sizeof<T>() == 8 || (!ASC_FEATURE_SIMD && mass32);
  if (!kshift) top = max;
  let nsum: f64 = 0, ncomp: f64 = 0, maxima = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const L = LANES<T>();
    const vmax = v128.splat<T>(kshift ? kmagic<T>(max) : max);
    const vbeta = v128.splat<T>(beta);
    const vtop = v128.splat<T>(top);
    let vmaxima = i64x2.splat(0); // minus the count, in each f64 lane
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
      if (ASC_FEATURE_RELAXED_SIMD && kshift && !keep && !split) {
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
        const l0 = v128.load(p), l1 = v128.load(p, 16), l2 = v128.load(p, 32), l3 = v128.load(p, 48);
        let e0: v128, e1: v128, e2: v128, e3: v128;
        if (kshift) {
          e0 = vexp_kt<T>(l0, vmax, rr1);
          e1 = vexp_kt<T>(l1, vmax, rr1);
          e2 = vexp_kt<T>(l2, vmax, rr1);
          e3 = vexp_kt<T>(l3, vmax, rr1);
        } else {
          let x0 = v128.sub<T>(l0, vmax);
          let x1 = v128.sub<T>(l1, vmax);
          let x2 = v128.sub<T>(l2, vmax);
          let x3 = v128.sub<T>(l3, vmax);
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
        if (split) {
          const t0 = f64x2.eq(l0, vtop), t1 = f64x2.eq(l1, vtop), t2 = f64x2.eq(l2, vtop), t3 = f64x2.eq(l3, vtop);
          vmaxima = i64x2.add(vmaxima, i64x2.add(i64x2.add(t0, t1), i64x2.add(t2, t3)));
          e0 = v128.andnot(e0, t0); e1 = v128.andnot(e1, t1); e2 = v128.andnot(e2, t2); e3 = v128.andnot(e3, t3);
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
        const l = v128.load(at<T>(x, i));
        let e: v128;
        if (kshift) e = vexp_kt<T>(l, vmax, rr1);
        else {
          let v = v128.sub<T>(l, vmax);
          if (scaled) v = v128.mul<T>(v, vbeta);
          e = vexp<T>(v, cutoff);
        }
        if (keep) v128.store(at<T>(y, i), e);
        if (split) {
          const t = f64x2.eq(l, vtop);
          vmaxima = i64x2.add(vmaxima, t);
          e = v128.andnot(e, t);
        }
        a = v128.add<T>(a, e);
      }
      const block = vhsum<T>(a);
      ncomp = neumaier_comp(nsum, ncomp, block);
      nsum += block;
    }
    if (split) maxima = -<i32>(i64x2.extract_lane(vmaxima, 0) + i64x2.extract_lane(vmaxima, 1));
  }
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    for (; i < end; i++) {
      const l = load<T>(at<T>(x, i));
      let e: T;
      if (kshift) {
        e = sexp_kt<T>(l, kmagic<T>(max), rr1);
      } else {
        let v = l - max;
        if (scaled) v *= beta;
        e = sexp<T>(v);
      }
      if (keep) store<T>(at<T>(y, i), e);
      if (split && l == top) maxima++;
      else if (!ASC_FEATURE_SIMD && sizeof<T>() == 8) {
        // The scalar build's f64 rows have no lanes to spread the sum over: each addition is
        // compensated (one running f64 sum lost up to 17 ulp of softmax over 1000 classes).
        ncomp = neumaier_comp(nsum, ncomp, <f64>e);
        nsum += <f64>e;
      } else a += <f64>e;
    }
    ncomp = neumaier_comp(nsum, ncomp, a);
    nsum += a;
  }
  const mass = neumaier_result(nsum, ncomp);
  if (!split) return mass;
  // The max's own term: exp(0) = 1, or the k-shift's unit; for an infinite max exp(inf - inf) =
  // NaN, which max - max gives as the pass's own arithmetic does (a NaN literal's bits could
  // differ from it).
  const unit = kshift ? <f64>sexp_kt<T>(top, kmagic<T>(max)) : <f64>(max - max) + 1.0;
  if (tmp) {
    store<f64>(tmp + TMP_EXP_UNIT, unit); // (NaN for an infinite max: log_expsum's log is then NaN too)
    store<f64>(tmp + TMP_EXP_MASS, mass);
    store<i32>(tmp + TMP_EXP_MAXIMA, maxima);
  }
  return <f64>maxima * unit + mass;
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

/** y[i] = x[i] * s (y may be x), from the last element back to the first. Inlined: as a call
 *  from the softmax row loop it cost the simd softmax ~1.5% (measured side by side).
 *  Backwards because the exp-sum pass before it went forwards over x and y: on a wide row the two
 *  fill a core's L2 (128256 f32 classes: 2 x 513 KB against 1 MiB), and the lines that pass
 *  touched last are the ones still there. The in-place last passes of the cross-entropy's
 *  gradient (ce_grad_pass3, ce_prob_grad_pass3) go the same way. Each element is computed as
 *  before, so the bits do not change (the figures: docs/ARCHITECTURE.md, reduce.ts). */
// @ts-ignore: decorator
@inline export function vscale<T>(x: usize, y: usize, n: i32, s: T): void {
  // (the elements past the last whole vector, then the vectors)
  const end = vectors_end<T>(n);
  let i = n;
  for (; i > end; i--) store<T>(at<T>(y, i - 1), load<T>(at<T>(x, i - 1)) * s);
  if (!ASC_FEATURE_SIMD) return;
  const L = LANES<T>();
  const vs = v128.splat<T>(s);
  while (i >= 2 * L) {
    i -= 2 * L;
    const p = at<T>(x, i), q = at<T>(y, i);
    v128.store(q, v128.mul<T>(v128.load(p, 16), vs), 16);
    v128.store(q, v128.mul<T>(v128.load(p), vs));
  }
  if (i) v128.store(y, v128.mul<T>(v128.load(x), vs)); // (one vector left: i = L)
}

/** y[i] = 0. */
export function vzero<T>(y: usize, n: i32): void {
  memory.fill(y, 0, <usize>n << alignof<T>());
}
