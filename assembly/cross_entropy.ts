// Cross-entropy over `rows` contiguous rows of C logits of T, with the loss and the gradient of
// each row from one fused pass sequence (dE/dz = softmax(z) * sum(q) - q, for
// E = -sum(q * log_softmax(z))):
//   1. m = max(x);
//   2. e = exp(x - m), s = sum(e), keeping e in the gradient buffer, and in the same pass the
//      target-weighted sums the loss needs;
//   3. grad = e * (scale * (S + 2 z lse w) / s) - scale * q, written over e.
// The crossEntropy-only kernels stop after pass 2 and store nothing per element.
//
// Notation (torch.nn.functional.cross_entropy): w = class weights (1 if absent), eps = label
// smoothing, q = the smoothed weighted target, lse = m + log(s) (the row's logSumExp), and
// -log_softmax(x)[c] = lse - x[c] = (m - x[c]) + log(s): every term is formed as (m - x[c]) >= 0
// plus log(s) > 0, so no large numbers cancel when |x| is large.
//
// Per-row losses go to loss[r] (f64, 0 for ignored rows; the caller reduces them) and, when
// lossT != 0, also to lossT[r] as T (the per-sample output a Workspace exposes, so it needs no copy).
// The gradient scale of row r is scales[r] when scales != 0 ('none' with gradOutput), else
// `scale` (gradOutput / denominator for 'mean', gradOutput for 'sum').

import { log64 } from './log';
import { LANES, vectors_end, at, vhsum, neumaier_comp, neumaier_result, vneumaier_comp, log1p_pos, uncounted_lanes } from './simd';
import { rmax, raddexpminusmax, row_ahead, log_expsum, vzero, in_exp_range, TMP_AUX, TMP_AUX2, TMP_EXP_UNIT, TMP_GROUP_SUMS, TMP_GROUP_XT, TMP_GROUP_MAX, TMP_GROUP_LOGS, TMP_GROUP_UNITS, TMP_UNIT_SPARE, TMP_GROUP_TERMS, TMP_GROUP_TSUMS, TMP_GROUP_EXPS, TMP_SPAN, TMP_SPAN_ROW,
  TMP_SCRATCH, NEAR1_SUM, NEAR1_SUM_SHORT, expsum_mass_but, index_of_f32, TMP_ROW_SUM } from './reduce';
import { pair_group4_body, is_short_row, short_rmax, short_raddexpminusmax, short_ratio, short_ratio_of, short_log1p_mass_but, short_vmulsubc, short_group4_store, short_group4_mulsub, short_group4_logs,
  short_group4_logs_of, short_group4_sums, short_group4_unit_lanes, short_group4_ratio_product, short_group4_near1, last_offset } from './short_rows';
import { bytes_of, in_heap } from './checks';
import { REDUCTION_NONE, REDUCTION_MEAN, REDUCTION_SUM, CE_HAS_IGNORE, CE_GROUP_LOGS, LOG_SPAN_ROWS, LOG_SPAN_MAX_C } from '../src/kernel-constants';

/** The target terms of a row's loss, from its max m, for label smoothing with class-index targets
 *  (`prob` false: the term weights are the class weights w, or 1) and for probability targets
 *  (`prob`: the weighted smoothed targets wq[c] = w[c] * (q[c] * keepScale + smoothAdd), whose sum
 *  it stores at tmp + TMP_AUX2): returns d = sum_c weight[c] * (m - x[c]). A term of weight 0 adds
 *  exactly 0, also where x[c] = -Infinity (a mask: its target mass is 0, the limit, where
 *  0 * Infinity would be NaN). It runs before the row's exp pass, which may overwrite x. */
// @ts-ignore: decorator
@inline function ce_target_terms<T>(x: usize, q: usize, n: i32, m: T, w: usize, keepScale: T, smoothAdd: T, prob: bool, tmp: usize): f64 {
  let d: f64 = 0, sq: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD && n >= LANES<T>()) {
    const L = LANES<T>();
    const vm = v128.splat<T>(m), vk = v128.splat<T>(keepScale), va = v128.splat<T>(smoothAdd), zero = v128.splat<T>(0);
    while (i < n) {
      // Lane sums over blocks of TERMS_BLOCK, each block's added in f64: a lane holding a target
      // near 1 takes at most 4 more additions, so the small targets beside it (a one-hot target,
      // smoothed) keep their bits to ~2^-23 of the sum.
      const end = min(i + TERMS_BLOCK, n);
      let d0 = zero, d1 = zero, d2 = zero, d3 = zero, s0 = zero, s1 = zero, s2 = zero, s3 = zero;
      for (; i <= end - 4 * L; i += 4 * L) {
        const o = <usize>i << alignof<T>();
        const t0 = ce_term_weights<T>(q, w, o, vk, va, prob), t1 = ce_term_weights<T>(q, w, o + 16, vk, va, prob);
        const t2 = ce_term_weights<T>(q, w, o + 32, vk, va, prob), t3 = ce_term_weights<T>(q, w, o + 48, vk, va, prob);
        d0 = v128.sub<T>(d0, ce_term<T>(t0, v128.sub<T>(v128.load(x + o), vm), w, prob));
        d1 = v128.sub<T>(d1, ce_term<T>(t1, v128.sub<T>(v128.load(x + o, 16), vm), w, prob));
        d2 = v128.sub<T>(d2, ce_term<T>(t2, v128.sub<T>(v128.load(x + o, 32), vm), w, prob));
        d3 = v128.sub<T>(d3, ce_term<T>(t3, v128.sub<T>(v128.load(x + o, 48), vm), w, prob));
        if (prob) {
          s0 = v128.add<T>(s0, t0);
          s1 = v128.add<T>(s1, t1);
          s2 = v128.add<T>(s2, t2);
          s3 = v128.add<T>(s3, t3);
        }
      }
      // The row's last < 4 vectors; f32 takes the last < 4 elements as the vector ending at n, its
      // lanes already counted masked out (f64 leaves its last element to the loop below).
      for (; i < end && (sizeof<T>() == 4 || i <= n - L); i += L) {
        let o = <usize>i << alignof<T>(), keep = i32x4.splat(-1);
        if (sizeof<T>() == 4 && i > n - L) {
          o = <usize>(n - L) << 2;
          keep = uncounted_lanes(i - (n - L));
        }
        const t0 = v128.and(ce_term_weights<T>(q, w, o, vk, va, prob), keep);
        d0 = v128.sub<T>(d0, v128.and(ce_term<T>(t0, v128.sub<T>(v128.load(x + o), vm), w, prob), keep));
        if (prob) s0 = v128.add<T>(s0, t0);
      }
      d += vhsum<T>(v128.add<T>(v128.add<T>(d0, d1), v128.add<T>(d2, d3)));
      if (prob) sq += vhsum<T>(v128.add<T>(v128.add<T>(s0, s1), v128.add<T>(s2, s3)));
      if (i < end) break; // (f64: one element left)
    }
    i = min(i, n);
  }
  for (; i < n; i++) {
    const xm = load<T>(at<T>(x, i)) - m;
    if (!prob && !w) {
      d -= <f64>xm;
      continue;
    }
    let wt: T = prob ? load<T>(at<T>(q, i)) * keepScale + smoothAdd : <T>1;
    if (w) wt *= load<T>(at<T>(w, i));
    if (prob) sq += <f64>wt;
    if (wt != 0) d -= <f64>(wt * xm);
  }
  if (prob) store<f64>(tmp + TMP_AUX2, sq);
  return d;
}

/** ce_target_terms of a short f32 row (short_rows.ts: whole vectors, the last one moved back to
 *  end at C, its lanes the loop already took masked out; at most 4 additions to a lane). */
// @ts-ignore: decorator
@inline function ce_short_target_terms(x: usize, q: usize, C: i32, m: f32, w: usize, keepScale: f32, smoothAdd: f32, prob: bool, tmp: usize): f64 {
  const vm = f32x4.splat(m), vk = f32x4.splat(keepScale), va = f32x4.splat(smoothAdd);
  const end = last_offset<f32>(C);
  let d = f32x4.splat(0), sq = d;
  let o: usize = 0;
  for (; o < end; o += 16) {
    const t0 = ce_term_weights<f32>(q, w, o, vk, va, prob);
    d = f32x4.sub(d, ce_term<f32>(t0, f32x4.sub(v128.load(x + o), vm), w, prob));
    if (prob) sq = f32x4.add(sq, t0);
  }
  const fresh = uncounted_lanes(<i32>(o - end) >> 2);
  const tl = v128.and(ce_term_weights<f32>(q, w, end, vk, va, prob), fresh);
  d = f32x4.sub(d, v128.and(ce_term<f32>(tl, f32x4.sub(v128.load(x + end), vm), w, prob), fresh));
  if (prob) store<f64>(tmp + TMP_AUX2, vhsum<f32>(f32x4.add(sq, tl)));
  return vhsum<f32>(d);
}

/** The target terms of the four short f32 rows of a group (ce_short_target_terms, each from its
 *  own max) to tmp + TMP_GROUP_TERMS and, for probabilities, TMP_GROUP_TSUMS: before the group's
 *  exp pass, which may overwrite x. */
// @ts-ignore: decorator
@inline function ce_group4_terms(x: usize, q: usize, stride: usize, C: i32, w: usize, keepScale: f32, smoothAdd: f32, prob: bool, tmp: usize): void {
  for (let k = 0; k < 4; k++) {
    const xk = x + k * stride;
    store<f64>(tmp + TMP_GROUP_TERMS + (<usize>k << 3), ce_short_target_terms(xk, prob ? q + k * stride : 0, C, short_rmax<f32>(xk, C), w, keepScale, smoothAdd, prob, tmp));
    if (prob) store<f64>(tmp + TMP_GROUP_TSUMS + (<usize>k << 3), load<f64>(tmp + TMP_AUX2));
  }
}
/** ce_group4_terms for label smoothing (class-index groups): a function of its own, since inlined
 *  it made the plain groups' loop around it 2-4% slower. */
function ce_group4_smooth_terms(x: usize, stride: usize, C: i32, w: usize, tmp: usize): void { ce_group4_terms(x, 0, stride, C, w, 0, 0, false, tmp); }

/** The target terms of a row (ce_target_terms), by the short form for a short row. */
// @ts-ignore: decorator
@inline function ce_row_terms<T>(x: usize, q: usize, C: i32, m: T, w: usize, keepScale: T, smoothAdd: T, prob: bool, short: bool, tmp: usize): f64 {
  if (ASC_FEATURE_SIMD && short) return ce_short_target_terms(x, q, C, <f32>m, w, <f32>keepScale, <f32>smoothAdd, prob, tmp);
  return prob ? ce_prob_terms<T>(x, q, C, m, w, keepScale, smoothAdd, tmp) : ce_smooth_terms<T>(x, C, m, w);
}

/** ce_target_terms for label smoothing and for probability targets: functions of their own, each
 *  with its `prob` a constant. */
function ce_smooth_terms<T>(x: usize, n: i32, m: T, w: usize): f64 { return ce_target_terms<T>(x, 0, n, m, w, 0, 0, false, 0); }
function ce_prob_terms<T>(x: usize, q: usize, n: i32, m: T, w: usize, keepScale: T, smoothAdd: T, tmp: usize): f64 { return ce_target_terms<T>(x, q, n, m, w, keepScale, smoothAdd, true, tmp); }

/** ce_target_terms' block: 64 f32 elements, 4 additions to each lane of its 4 vector sums. */
// @ts-ignore: decorator
@inline const TERMS_BLOCK = 64;

/** The term weights of ce_target_terms and ce_short_grad at byte offset o: wq = w * (q * keepScale
 *  + smoothAdd) (`prob`), else the class weights (1 without them). */
// @ts-ignore: decorator
@inline function ce_term_weights<T>(q: usize, w: usize, o: usize, vk: v128, va: v128, prob: bool): v128 {
  if (!prob) return w ? v128.load(w + o) : v128.splat<T>(1);
  const q0 = v128.add<T>(v128.mul<T>(v128.load(q + o), vk), va);
  return w ? v128.mul<T>(q0, v128.load(w + o)) : q0;
}

/** weight * (x - m) for ce_target_terms, 0 where the weight is 0; x - m itself for smoothing
 *  without weights. */
// @ts-ignore: decorator
@inline function ce_term<T>(wt: v128, xm: v128, w: usize, prob: bool): v128 {
  if (!prob && !w) return xm;
  return v128.and(v128.mul<T>(wt, xm), v128.ne<T>(wt, v128.splat<T>(0)));
}

/** Pass 2 of one row from its max m (rmax or short_rmax just ran on it): s = sum exp(x - m)
 *  relative to the row's exp unit (see log_expsum; a short row's at tmp + TMP_GROUP_UNITS), by
 *  the row's exp-sum pass, with the exp values stored to g unless g is 0 (g may be x). `ahead`:
 *  see raddexpminusmax. */
// @ts-ignore: decorator
@inline function ce_row_expsum<T>(x: usize, g: usize, C: i32, m: T, short: bool, ahead: usize, tmp: usize): f64 {
  if (ASC_FEATURE_SIMD && short) {
    const u = tmp + TMP_GROUP_UNITS;
    return g ? short_raddexpminusmax(x, g, C, <f32>m, true, tmp, u) : short_raddexpminusmax(x, 0, C, <f32>m, false, tmp, u);
  }
  const fast = in_exp_range<T>(m, 1, tmp);
  if (g) return fast ? raddexpminusmax<T>(x, g, C, m, 1, true, false, false, tmp, ahead) : raddexpminusmax<T>(x, g, C, m, 1, true, false, true, tmp, ahead);
  return fast ? raddexpminusmax<T>(x, 0, C, m, 1, false, false, false, tmp, 0) : raddexpminusmax<T>(x, 0, C, m, 1, false, false, true, tmp, 0);
}

/** Row length from which a confident-and-wrong gradient row forms its sum again (ce_row_logs)
 *  wherever its max holds half of it; shorter rows only where the max holds 80% (NEAR1_SUM_SHORT):
 *  there each f32 lane of the exp pass adds at most 7 values to the max's term, and the gradient
 *  stays within 1.5e-7 x N up to p = 0.8 (simd and relaxed-simd, C = 17 to 127). Measured on rows
 *  with a random label, logits 2 N(0, 1) (the bench's), where many rows are near 1 at small C:
 *  forming it again below p = 0.5 at every C cost crossEntropyWithGrad 1.10-1.22x the time at
 *  C = 17 and 32, 1.05x at 64, 1.03x at 100. */
// @ts-ignore: decorator
@inline const REFORM_MIN_C: i32 = 128;

/** log(sum exp(x - m)) of the row whose ce_row_expsum returned s. Where `near1` (the loss needs
 *  this log to relative accuracy: the label t is a max, or the targets are probabilities, t = -1)
 *  and s is near its unit, log1p of the off-max mass (ce_short_row_log, ce_row_log). f64 rows sum
 *  their mass apart in the pass itself (log_expsum). The sum for the gradient goes to
 *  tmp + TMP_ROW_SUM: s, or a general f32 row's formed again near 1. With `ratio` (a general f32
 *  row, not `near1`, in a span of rows that take one log: ce_index_rows_body), r = s / unit
 *  itself, the value whose log this would be. */
// @ts-ignore: decorator
@inline function ce_row_logs<T>(s: f64, x: usize, g: usize, C: i32, m: T, t: i32, near1: bool, short: bool, tmp: usize, ratio: bool = false): f64 {
  store<f64>(tmp + TMP_ROW_SUM, s);
  if (sizeof<T>() == 8) return log_expsum<T>(s, tmp);
  if (ASC_FEATURE_SIMD && short) return ce_short_row_log(s, load<f32>(tmp + TMP_GROUP_UNITS), near1, x, g, C, <f32>m, t, tmp);
  const unit = load<f64>(tmp + TMP_EXP_UNIT);
  if (near1) return ce_row_log(s * (1.0 / unit), true, x, g, C, <f32>m, t, <f32>unit, tmp);
  // A gradient row whose max holds most of the sum but is not the label (confident and wrong):
  // the gradient's sum formed again, the max's term apart from the others, as for a label at the
  // max (the f32 lanes of the pass added up to 15 others to it, each rounded to its ulp: 2.3e-7
  // x N at p = 0.96, C = 1003). Below REFORM_MIN_C classes, where the lanes add fewer, only
  // where the max holds 80% of the sum. The loss keeps log(s): it has the same bits without the
  // gradient.
  if (g && s < (C >= REFORM_MIN_C ? NEAR1_SUM : NEAR1_SUM_SHORT) * unit) {
    const mass = expsum_mass_but(x, g, C, <f32>unit, <f32>m, true, tmp);
    store<f64>(tmp + TMP_ROW_SUM, <f64>load<i32>(tmp + TMP_AUX) * unit + mass);
  }
  return ratio ? s * (1.0 / unit) : log_expsum<T>(s, tmp);
}

/** The gradient's last pass over a short f32 row, in place: g = g * a - b * t, where t are
 *  ce_term_weights: the weighted smoothed targets wq (`prob`: ce_prob_grad_pass3),
 *  or the class weights w (label smoothing with weights: ce_grad_pass3's weighted form). */
// @ts-ignore: decorator
@inline function ce_short_grad(g: usize, q: usize, C: i32, a: f32, b: f32, w: usize, k: f32, c: f32, prob: bool): void {
  const va = f32x4.splat(a), vb = f32x4.splat(b), vk = f32x4.splat(k), vc = f32x4.splat(c);
  const end = last_offset<f32>(C);
  const gl = v128.load(g + end);
  for (let o: usize = 0; o < end; o += 16) {
    v128.store(g + o, f32x4.sub(f32x4.mul(v128.load(g + o), va), f32x4.mul(vb, ce_term_weights<f32>(q, w, o, vk, vc, prob))));
  }
  v128.store(g + end, f32x4.sub(f32x4.mul(gl, va), f32x4.mul(vb, ce_term_weights<f32>(q, w, end, vk, vc, prob))));
}

/** Pass 3: g[i] = e[i] * a - b * (w ? w[i] : 1), in place over e, from the last element back to
 *  the first, as vscale (reduce.ts) and for its reason. */
function ce_grad_pass3<T>(g: usize, n: i32, a: T, b: T, w: usize): void {
  const end = vectors_end<T>(n);
  let i = n;
  for (; i > end; i--) {
    const p = at<T>(g, i - 1);
    store<T>(p, load<T>(p) * a - b * (w ? load<T>(at<T>(w, i - 1)) : <T>1));
  }
  if (!ASC_FEATURE_SIMD) return;
  const L = LANES<T>();
  const va = v128.splat<T>(a), vb = v128.splat<T>(b);
  if (w) {
    while (i >= L) {
      i -= L;
      const p = at<T>(g, i);
      v128.store(p, v128.sub<T>(v128.mul<T>(v128.load(p), va), v128.mul<T>(vb, v128.load(at<T>(w, i)))));
    }
    return;
  }
  while (i >= 4 * L) {
    i -= 4 * L;
    const p = at<T>(g, i);
    v128.store(p, v128.sub<T>(v128.mul<T>(v128.load(p, 48), va), vb), 48);
    v128.store(p, v128.sub<T>(v128.mul<T>(v128.load(p, 32), va), vb), 32);
    v128.store(p, v128.sub<T>(v128.mul<T>(v128.load(p, 16), va), vb), 16);
    v128.store(p, v128.sub<T>(v128.mul<T>(v128.load(p), va), vb));
  }
  while (i >= L) {
    i -= L;
    const p = at<T>(g, i);
    v128.store(p, v128.sub<T>(v128.mul<T>(v128.load(p), va), vb));
  }
}

/** Pass 3 for probability targets: g[i] = e[i] * a - b * w[i] * (q[i] * k + c), over e, from the
 *  last element back to the first (as ce_grad_pass3). */
function ce_prob_grad_pass3<T>(g: usize, q: usize, n: i32, a: T, b: T, w: usize, k: T, c: T): void {
  const end = vectors_end<T>(n);
  let i = n;
  for (; i > end; i--) {
    const p = at<T>(g, i - 1);
    let qi = load<T>(at<T>(q, i - 1)) * k + c;
    if (w) qi *= load<T>(at<T>(w, i - 1));
    store<T>(p, load<T>(p) * a - b * qi);
  }
  if (!ASC_FEATURE_SIMD) return;
  const L = LANES<T>();
  const va = v128.splat<T>(a), vb = v128.splat<T>(b), vk = v128.splat<T>(k), vc = v128.splat<T>(c);
  while (i >= L) {
    i -= L;
    const p = at<T>(g, i);
    let vq = v128.add<T>(v128.mul<T>(v128.load(at<T>(q, i)), vk), vc);
    if (w) vq = v128.mul<T>(vq, v128.load(at<T>(w, i)));
    v128.store(p, v128.sub<T>(v128.mul<T>(v128.load(p), va), v128.mul<T>(vb, vq)));
  }
}

/** Validates class-index labels before anything is written: returns the position of the first
 *  label that is neither in [0, C) nor the ignore index (or -1), and otherwise stores at
 *  `denominator` (f64) the mean denominator: the sum of w[label] over the non-ignored rows
 *  (their count without w). */
// @ts-ignore: decorator
@inline export function ce_check_labels<T>(labels: usize, n: i32, C: i32, ignore: i32, hasIgnore: bool, w: usize, denominator: usize): i32 {
  let nsum: f64 = 0, ncomp: f64 = 0;
  let count = 0;
  let r = 0;
  if (ASC_FEATURE_SIMD && !w && n >= 8) {
    // Four labels at a time while they are all valid (the loop below finds the first bad one;
    // a few labels, as a one-sample call's, go there directly).
    const vC = i32x4.splat(C), vIgnore = i32x4.splat(ignore);
    let ignored = i32x4.splat(0);
    for (; r <= n - 4; r += 4) {
      const t = v128.load(at<i32>(labels, r));
      const skip = hasIgnore ? i32x4.eq(t, vIgnore) : i32x4.splat(0);
      if (v128.any_true(v128.andnot(i32x4.ge_u(t, vC), skip))) break;
      ignored = i32x4.add(ignored, skip); // -1 per ignored label
    }
    count = r + (i32x4.extract_lane(ignored, 0) + i32x4.extract_lane(ignored, 1) + i32x4.extract_lane(ignored, 2) + i32x4.extract_lane(ignored, 3));
  }
  for (; r < n; r++) {
    const t = load<i32>(at<i32>(labels, r));
    if (hasIgnore && t == ignore) continue;
    if (<u32>t >= <u32>C) return r;
    if (w) {
      const wt = <f64>load<T>(at<T>(w, t));
      ncomp = neumaier_comp(nsum, ncomp, wt);
      nsum += wt;
    }
    else count++;
  }
  store<f64>(denominator, w ? neumaier_result(nsum, ncomp) : <f64>count);
  return -1;
}


/** The gradient scale of every row of a call: gradOutput / denominator for 'mean' (NaN when
 *  nothing counts, as torch's 0/0 mean), gradOutput for 'sum', 1 for 'none' (whose per-sample
 *  upstream gradients, if any, are the kernel's `scales`). */
// @ts-ignore: decorator
@inline export function ce_grad_scale(reduction: i32, gradOutput: f64, denominator: f64): f64 {
  if (reduction == REDUCTION_MEAN) return denominator == 0 ? NaN : gradOutput / denominator;
  return reduction == REDUCTION_SUM ? gradOutput : 1.0;
}

/** The reduced loss of a call from its per-row f64 losses ('none': 0, the losses are the result). */
// @ts-ignore: decorator
@inline export function ce_reduce(loss: usize, rows: i32, reduction: i32, denominator: f64): f64 {
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_reduce: loss outside the heap');
  if (reduction == REDUCTION_NONE) return 0;
  // (one row: what the compensated sum gives for it, x + 0 (+0 for -0), without a call)
  const total = rows == 1 ? load<f64>(loss) + 0.0 : f64_rsum(loss, rows);
  if (reduction == REDUCTION_SUM) return total;
  // (total / 1 is total: skip the division's latency, most of a one-sample call's tail)
  return denominator == 1 ? total : denominator == 0 ? NaN : total / denominator;
}

/** ce_index_call with the default options (no class weights, no label smoothing, no z-loss,
 *  ignoreIndex -100, no per-sample upstream gradients): the fewer arguments of the small calls'
 *  fast path (each one costs the JS-to-wasm call ~0.5 ns). */
// @ts-ignore: decorator
@inline export function ce_index_default<T>(x: usize, labels: usize, g: usize, loss: usize, rows: i32, C: i32,
                                    reduction: i32, gradOutput: f64, tmp: usize): f64 {
  if (ASC_FEATURE_SIMD && rows == 1 && is_short_row<T>(C)) {
    // One short row (the [1, 10] call): a call this small is a chain of latencies, and the
    // general path's set-up (label-check loop, scale, the row loop's options, the compensated
    // reduction) is a quarter of it. With one sample, no weights and no smoothing, the scale is
    // gradOutput for 'mean' and 'sum' alike (ce_one_short_row).
    const t = load<i32>(labels);
    if (t != -100) {
      if (<u32>t >= <u32>C) return NaN;
      return ce_one_short_row<T>(x, g, loss, 0, t, C, gradOutput, 0, tmp);
    }
  }
  return ce_index_call<T>(x, labels, g, loss, 0, rows, C, 0, <f64>C, 0, 0, -100, CE_HAS_IGNORE | CE_GROUP_LOGS, reduction, gradOutput, 0, tmp);
}

/** The loss of a call of one short row with label t (checked), no weights, smoothing, z-loss
 *  or per-row scales, 'mean' or 'sum' (so its gradient scale is gradOutput), and its gradient
 *  at g (if any): ce_index_rows' formulas for that case, with their bits (test/fast-paths.test.ts
 *  compares every entry point with the row loop's), the gradient as g * a - b with the `b` given
 *  (ce_index_row's is scale * 0: -0 for a negative scale, which turns a -0 into +0). */
// @ts-ignore: decorator
@inline function ce_one_short_row<T>(x: usize, g: usize, loss: usize, lossT: usize, t: i32, C: i32, gradOutput: f64, b: f64, tmp: usize): f64 {
  const m = short_rmax<T>(x, C), u = tmp + TMP_GROUP_UNITS;
  const xt = <f64>load<T>(at<T>(x, t)); // read before the exp pass may overwrite x
  const s = g ? short_raddexpminusmax(x, g, C, <f32>m, true, tmp, u) : short_raddexpminusmax(x, 0, C, <f32>m, false, tmp, u);
  const l = (<f64>m - xt) + ce_short_row_log(s, load<f32>(u), <f64>m == xt, x, g, C, <f32>m, t, tmp);
  store<f64>(loss, l);
  if (lossT) store<T>(lossT, <T>l);
  if (g) {
    short_vmulsubc<T>(g, C, <T>(gradOutput / s), <T>b);
    const pt = at<T>(g, t);
    store<T>(pt, <T>(<f64>load<T>(pt) - gradOutput));
  }
  return l;
}

/** ce_row_log of a short row from its exp-sum s and unit u (short_raddexpminusmax): near 1 is
 *  s < u * NEAR1_SUM_SHORT (exact in f64, no division), the test a group of four makes too
 *  (short_group4_near1). */
// @ts-ignore: decorator
@inline function ce_short_row_log(s: f64, u: f32, near1: bool, x: usize, g: usize, C: i32, m: f32, t: i32, tmp: usize): f64 {
  if (near1 && s < <f64>u * NEAR1_SUM_SHORT) return ce_log_expsum_near1(x, g, C, t, u, m, g != 0, true, tmp);
  return log64(short_ratio_of(s, u));
}

/** log(r) for a row's exp-sum relative to its max term, r = s / unit; where `near1` (the label t
 *  is a max, x[t] = m, so the loss is log(r) alone; or probability targets, t = -1) and
 *  r < NEAR1_SUM (reduce.ts), ce_log_expsum_near1 (g: the row's gradient, holding its exp values,
 *  or 0). */
// @ts-ignore: decorator
@inline function ce_row_log(r: f64, near1: bool, x: usize, g: usize, C: i32, m: f32, t: i32, unit: f32, tmp: usize): f64 {
  if (near1 && r < NEAR1_SUM) return ce_log_expsum_near1(x, g, C, t, unit, m, g != 0, false, tmp);
  return log64(r);
}

/** The cross-entropy's log(sum exp(x - max)) = log1p(mass) of an f32 row near 1 from its exp
 *  values (y with `stored`: the gradient rows, where the exp-sum pass may have written them over
 *  x; else computed again from x): the mass is the sum of all but the max terms, which the exp
 *  pass gives exactly the unit (expsum_mass_but, in the same chunks either way, so the loss has
 *  the same bits with and without the gradient); tmp + TMP_ROW_SUM gets maxima * unit + mass, the
 *  gradient's sum. A short row (`short`) takes its vectors (short_log1p_mass_but), the max term
 *  apart at element t: the label where it is a max, else (t = -1) the first element whose exp
 *  value equals `unit`, the values computed again by its own pass (short_raddexpminusmax) into
 *  the scratch. */
export function ce_log_expsum_near1(x: usize, y: usize, n: i32, t: i32, unit: f32, max: f32, stored: bool, short: bool, tmp: usize): f64 {
  const scratch = tmp + TMP_SCRATCH;
  if (ASC_FEATURE_SIMD && short) {
    // (computed again by the same pass into the scratch, its unit to the spare slot)
    if (!stored) short_raddexpminusmax(x, scratch, n, max, true, tmp, tmp + TMP_UNIT_SPARE);
    const e = stored ? y : scratch;
    return short_log1p_mass_but(e, n, t < 0 ? index_of_f32(e, n, unit) : t, unit);
  }
  const mass = expsum_mass_but(x, y, n, unit, max, stored, tmp), maxima = load<i32>(tmp + TMP_AUX);
  store<f64>(tmp + TMP_ROW_SUM, <f64>maxima * <f64>unit + mass);
  // (no element holds the unit: the plain log of the whole sum)
  return maxima ? log1p_pos(<f64>(maxima - 1) + mass / <f64>unit) : log64(mass / <f64>unit);
}

/** The rows of a short group (maxima M, sums and x[t] in tmp) whose label is a max and whose
 *  exp-sum is below NEAR1_SUM_SHORT, as bits 0..3 (ce_short_row_log's case). */
// @ts-ignore: decorator
@inline function ce_group4_near1(M: v128, tmp: usize): i32 {
  const m01 = f64x2.promote_low_f32x4(M), m23 = f64x2.promote_low_f32x4(v128.shuffle<f32>(M, M, 2, 3, 0, 1));
  const f01 = v128.and(f64x2.eq(v128.load(tmp + TMP_GROUP_XT), m01), short_group4_near1(tmp, 0));
  const f23 = v128.and(f64x2.eq(v128.load(tmp + TMP_GROUP_XT, 16), m23), short_group4_near1(tmp, 1));
  return i64x2.bitmask(f01) | (i64x2.bitmask(f23) << 2);
}

/** The logs of a short group's four exp-sums at tmp + TMP_GROUP_LOGS (short_group4_logs), by
 *  ce_short_row_log's near-1 form for the rows flagged by ce_group4_near1 (g: the gradient rows, or 0;
 *  labels 0: probability targets, whose flagged rows find a max by its exp value).
 *  With `prod` (CE_GROUP_LOGS: only the sum of the losses is used), the other rows' logs go in
 *  as one log of their product, on the first row. */
function ce_group4_near1_logs(rows: i32, x: usize, g: usize, labels: usize, stride: usize, C: i32, ignore: i32, hasIgnore: bool, prod: bool, tmp: usize): void {
  let p: f64 = 1;
  for (let k = 0; k < 4; k++) {
    const t = labels ? load<i32>(labels + (<usize>k << 2)) : -1, o = <usize>k * stride;
    const r = short_ratio(load<f64>(tmp + TMP_GROUP_SUMS + (<usize>k << 3)), tmp + TMP_GROUP_UNITS + (<usize>k << 2));
    let l: f64 = 0;
    // (an ignored row's loss is 0 whatever its log: its label may lie outside the row)
    if (((rows >> k) & 1) && !(hasIgnore && t == ignore)) {
      l = ce_log_expsum_near1(x + o, g ? g + o : 0, C, t, load<f32>(tmp + TMP_GROUP_UNITS + (<usize>k << 2)), load<f32>(tmp + TMP_GROUP_MAX + (<usize>k << 2)), g != 0, true, tmp);
    } else if (prod) p *= r;
    else l = log64(r);
    store<f64>(tmp + TMP_GROUP_LOGS + (<usize>k << 3), l);
  }
  if (prod && p != 1) store<f64>(tmp + TMP_GROUP_LOGS, load<f64>(tmp + TMP_GROUP_LOGS) + log64(p));
}

/** A whole call with class-index targets in one wasm call, for inputs that fit one chunk (a
 *  small call would otherwise spend more time crossing into wasm than computing): the label
 *  check, the mean denominator, the rows and the reduction. Returns the reduced loss (0 for
 *  'none'), or NaN when a label is out of range (nothing is computed then: the caller finds
 *  the label with ce_check_labels). Arguments as ce_index_rows, with the reduction and gradOutput in place of the scale. */
export function ce_index_call<T>(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32,
                                 w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, flags: i32,
                                 reduction: i32, gradOutput: f64, scales: usize, tmp: usize): f64 {
  if (ASC_FEATURE_SIMD && rows == 1 && is_short_row<T>(C) && !w && eps == 0 && zLoss == 0 && !scales && reduction != REDUCTION_NONE) {
    // One short row without options (a Workspace's [1, 10] call): ce_index_default's path.
    const t = load<i32>(labels);
    if (!((flags & CE_HAS_IGNORE) != 0 && t == ignore)) {
      if (<u32>t >= <u32>C) return NaN;
      return ce_one_short_row<T>(x, g, loss, lossT, t, C, gradOutput, gradOutput * 0.0, tmp);
    }
  }
  if (ce_check_labels<T>(labels, rows, C, ignore, (flags & CE_HAS_IGNORE) != 0, w, tmp + TMP_AUX) >= 0) return NaN;
  const denominator = reduction == REDUCTION_MEAN ? load<f64>(tmp + TMP_AUX) : <f64>rows;
  const scale = ce_grad_scale(reduction, gradOutput, denominator);
  ce_index_rows<T>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, flags, scale, scales, tmp);
  return ce_reduce(loss, rows, reduction, denominator);
}

/** Cross-entropy with class-index targets over `rows` rows (see the file header). g = 0 computes
 *  the loss only. sumW = sum of all class weights (C without weights). Labels must have been
 *  checked by ce_check_labels. */
export function ce_index_rows<T>(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32,
                                 w: usize, sumW: f64, eps: f64, zLoss: f64,
                                 ignore: i32, flags: i32, scale: f64, scales: usize, tmp: usize): void {
  // Short f32 rows without weights, smoothing, z-loss or per-row scales (the common call) run in
  // a function of their own, the same body with those options constant: their groups' pipeline
  // (below) is only there, and the options' branches are gone (a 10-class call: 1-3.5% less time).
  if (is_short_row<T>(C) && !w && eps == 0 && zLoss == 0 && !scales) {
    ce_index_short_rows_plain(x, labels, g, loss, lossT, rows, C, ignore, flags, scale, tmp);
  } else ce_index_rows_body<T>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, flags, scale, scales, tmp, false);
}

/** ce_index_rows of short f32 rows without weights, smoothing, z-loss or per-row scales. */
function ce_index_short_rows_plain(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32,
                                   ignore: i32, flags: i32, scale: f64, tmp: usize): void {
  ce_index_rows_body<f32>(x, labels, g, loss, lossT, rows, C, 0, <f64>C, 0, 0, ignore, flags, scale, 0, tmp, true);
}

/** ce_index_rows' body. `plainShort` (a constant): the rows are short f32 rows without weights,
 *  smoothing, z-loss or per-row scales (ce_index_short_rows_plain); without it, rows of that kind
 *  never come here, so the groups that take the plain form are only in that function. */
// @ts-ignore: decorator
@inline function ce_index_rows_body<T>(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32,
                                 w: usize, sumW: f64, eps: f64, zLoss: f64,
                                 ignore: i32, flags: i32, scale: f64, scales: usize, tmp: usize, plainShort: bool): void {
  const hasIgnore = (flags & CE_HAS_IGNORE) != 0;
  // Only the sum of the rows' losses is used, and the groups of four are the same in any chunking.
  const groupLogs = (flags & CE_GROUP_LOGS) != 0 && !lossT;
  const stride = <usize>C << alignof<T>();
  const smooth = eps != 0;
  const short = plainShort || is_short_row<T>(C);
  const epsC = eps / <f64>C;
  // Rows whose loss is (m - x[t]) + log(s) and gradient e * (scale / s) - scale at t: their groups
  // take those in vectors (ce_index_group4_plain).
  const plain = plainShort;
  let r = 0;
  // Where only the sum of the losses is used (groupLogs), the groups of short rows and the general
  // f32 rows of up to LOG_SPAN_MAX_C classes (rowSpans, below) of a span of LOG_SPAN_ROWS rows
  // (from a multiple of it: the chunks hold multiples of it) take one log of the product of their
  // rows' r, on the span's first such row (span_add): the logs were the most costly step of a
  // 10-class row (one per group of four: 12-17% of the call), and 11-17% of a 32- to 100-class one.
  span_begin(tmp);
  // (rows without weights, z-loss or per-row scales, with or without label smoothing, whose loss
  // takes log(r) (1 - eps) + eps / C * C times (ce_index_row): spanCoef, 1 without smoothing; a
  // label at the max takes its own log, log1p near 1)
  const spanOpts = groupLogs && !w && zLoss == 0 && !scales;
  const spanCoef = (1 - eps) + epsC * sumW;
  if (ASC_FEATURE_SIMD && short) {
    // A plain group (the common one) finishes (its logs, losses and gradient) after the next
    // group's exp pass: its finishing waits on the longest chain of its exp pass (max, k, exp, sum),
    // which the next group's independent work then covers. Its state waits in these.
    let pending = false, pr = 0, pg: usize = 0;
    let pM = v128.splat<i32>(0), pXT01 = pM, pXT23 = pM, pS01 = pM, pS23 = pM, pU = pM;
    // Four short rows at a time (short_group4_*: the same bits as one at a time, below).
    for (;; r += 4) {
      const more = r <= rows - 4;
      let M = v128.splat<i32>(0), XT = M;
      if (more) {
        // Each row's x[t], and its smoothing terms, are read before the exp pass may overwrite x with e.
        XT = ce_group4_label_logits(x, labels + (<usize>r << 2), stride, C, ignore, hasIgnore);
        v128.store(tmp + TMP_GROUP_XT, f64x2.promote_low_f32x4(XT));
        v128.store(tmp + TMP_GROUP_XT, f64x2.promote_low_f32x4(v128.shuffle<f32>(XT, XT, 2, 3, 0, 1)), 16);
        if (smooth) ce_group4_smooth_terms(x, stride, C, w, tmp);
        // (the loss alone keeps its exp values in tmp: the one group pass, which stores them)
        const y = g ? g : tmp + TMP_GROUP_EXPS;
        // (the plain rows of 6, 10 or 14 classes take the group's passes inlined: V8's wasm calls
        // save no vector register, so a call spills the pending group's state around it; 0.93-0.97x
        // the time at 10 classes on Node 24 relaxed-simd, 0.97-0.99x on Node 20 simd, for ~2.6 kB
        // of wasm per SIMD build)
        M = plainShort && (C & 3) == 2 ? pair_group4_body(x, y, C, tmp) : short_group4_store(x, y, stride, C, tmp);
      }
      if (pending) {
        let logs01 = f64x2.splat(0), logs23 = logs01;
        if (groupLogs) {
          span_add(loss, pr, short_group4_ratio_product(pS01, pS23, pU), 1, tmp);
        } else {
          short_group4_logs_of(pS01, pS23, pU, tmp + TMP_GROUP_LOGS);
          logs01 = v128.load(tmp + TMP_GROUP_LOGS);
          logs23 = v128.load(tmp + TMP_GROUP_LOGS, 16);
        }
        ce_index_group4_plain(pg, loss + (<usize>pr << 3), lossT ? lossT + (<usize>pr << alignof<T>()) : 0, labels + (<usize>pr << 2), stride, C, scale,
          pM, pXT01, pXT23, logs01, logs23, pS01, pS23);
        pending = false;
      }
      if (!more) break;
      const plainGroup = plain && !(hasIgnore && ce_group4_has_label(labels + (<usize>r << 2), ignore));
      // (rows whose label is a max and whose sum is near 1 take their logs apart, below; the
      // test of the sums only where a label is a max)
      const near1 = v128.any_true(f32x4.eq(XT, M)) ? ce_group4_near1(M, tmp) : 0;
      if (plainGroup && !near1) {
        pending = true;
        pr = r;
        pg = g;
        pM = M;
        pXT01 = v128.load(tmp + TMP_GROUP_XT);
        pXT23 = v128.load(tmp + TMP_GROUP_XT, 16);
        pS01 = short_group4_sums(tmp, 0);
        pS23 = short_group4_sums(tmp, 1);
        pU = short_group4_unit_lanes(tmp);
      } else if (plainGroup) {
        ce_group4_near1_logs(near1, x, g, labels + (<usize>r << 2), stride, C, ignore, hasIgnore, groupLogs, tmp);
        ce_index_group4_plain(g, loss + (<usize>r << 3), lossT ? lossT + (<usize>r << alignof<T>()) : 0, labels + (<usize>r << 2), stride, C, scale,
          M, v128.load(tmp + TMP_GROUP_XT), v128.load(tmp + TMP_GROUP_XT, 16), v128.load(tmp + TMP_GROUP_LOGS), v128.load(tmp + TMP_GROUP_LOGS, 16),
          short_group4_sums(tmp, 0), short_group4_sums(tmp, 1));
      } else {
        // (label smoothing's groups: their logs in the span, as rowSpans' rows below)
        const inSpan = spanOpts && !near1 && !(hasIgnore && ce_group4_has_label(labels + (<usize>r << 2), ignore));
        if (inSpan) span_add(loss, r, short_group4_ratio_product(short_group4_sums(tmp, 0), short_group4_sums(tmp, 1), short_group4_unit_lanes(tmp)), spanCoef, tmp);
        else if (near1) ce_group4_near1_logs(near1, x, g, labels + (<usize>r << 2), stride, C, ignore, hasIgnore, false, tmp);
        else short_group4_logs(tmp);
        for (let k = 0; k < 4; k++) {
          const t = load<i32>(at<i32>(labels, r + k)), gk = g ? g + k * stride : 0;
          if (hasIgnore && t == ignore) {
            ce_ignored_row<T>(gk, loss, lossT, r + k, C);
            continue;
          }
          const s = load<f64>(tmp + TMP_GROUP_SUMS + (<usize>k << 3));
          ce_index_row<T>(gk, loss, lossT, r + k, t, C, w, sumW, eps, epsC, zLoss, scale, scales,
            <f64>load<f32>(tmp + TMP_GROUP_MAX + (<usize>k << 2)), load<f64>(tmp + TMP_GROUP_XT + (<usize>k << 3)), s, inSpan ? 0 : load<f64>(tmp + TMP_GROUP_LOGS + (<usize>k << 3)),
            smooth ? load<f64>(tmp + TMP_GROUP_TERMS + (<usize>k << 3)) : 0, true);
        }
      }
      x += 4 * stride;
      if (g) g += 4 * stride;
    }
  }
  const rowSpans = spanOpts && sizeof<T>() == 4 && !short && C <= LOG_SPAN_MAX_C;
  for (; r < rows; r++) {
    const t = load<i32>(at<i32>(labels, r));
    if (hasIgnore && t == ignore) {
      ce_ignored_row<T>(g, loss, lossT, r, C);
    } else {
      const m: T = ASC_FEATURE_SIMD && short ? short_rmax<T>(x, C) : rmax<T>(x, C, tmp);
      // x[t] read after the max pass has brought the row into cache, and it and the smoothing's
      // terms before pass 2 may overwrite x with e
      const xt = ce_label_logit<T>(x, t, C, ignore, hasIgnore);
      const d = smooth ? ce_row_terms<T>(x, 0, C, m, w, 0, 0, false, short, tmp) : 0.0;
      const s = ce_row_expsum<T>(x, g, C, m, short, g ? row_ahead(r, rows, stride) : 0, tmp);
      // (in a span: lr is the row's r, the span's factor, and its own loss takes no log)
      const inSpan = rowSpans && <f64>m != xt;
      const lr = ce_row_logs<T>(s, x, g, C, m, t, <f64>m == xt, short, tmp, inSpan);
      ce_index_row<T>(g, loss, lossT, r, t, C, w, sumW, eps, epsC, zLoss, scale, scales, <f64>m, xt, load<f64>(tmp + TMP_ROW_SUM), inSpan ? 0 : lr, d, short);
      if (inSpan) span_add(loss, r, lr, spanCoef, tmp);
    }
    x += stride;
    if (g) g += stride;
  }
  span_end(loss, spanCoef, tmp);
}

/** Opens no span yet (ce_index_rows_body's spans: their state in tmp, TMP_SPAN). */
// @ts-ignore: decorator
@inline function span_begin(tmp: usize): void {
  store<f64>(tmp + TMP_SPAN, 1);
  store<i32>(tmp + TMP_SPAN_ROW, -1);
}
/** The rows from r (one row or a group) add p, the product of their r, to their span, the aligned
 *  block of LOG_SPAN_ROWS rows they lie in; where that is not the open span, the open one ends
 *  first (span_end's step) and theirs opens at r. */
// @ts-ignore: decorator
@inline function span_add(loss: usize, r: i32, p: f64, coef: f64, tmp: usize): void {
  const first = load<i32>(tmp + TMP_SPAN_ROW);
  if (first >= 0 && first / LOG_SPAN_ROWS == r / LOG_SPAN_ROWS) {
    store<f64>(tmp + TMP_SPAN, load<f64>(tmp + TMP_SPAN) * p);
    return;
  }
  span_end(loss, coef, tmp);
  store<f64>(tmp + TMP_SPAN, p);
  store<i32>(tmp + TMP_SPAN_ROW, r);
}
/** Adds coef * log of the open span's product to the loss of its first row (none open: nothing). */
// @ts-ignore: decorator
@inline function span_end(loss: usize, coef: f64, tmp: usize): void {
  const first = load<i32>(tmp + TMP_SPAN_ROW);
  if (first >= 0) store<f64>(at<f64>(loss, first), load<f64>(at<f64>(loss, first)) + coef * log64(load<f64>(tmp + TMP_SPAN)));
}

/** x[t] of four short f32 rows (row k at x + k * stride, its label t at labels + 4k, checked by
 *  ce_check_labels), as the lanes of an f32x4; an ignored row's lane is its x[0] (its label may
 *  lie outside the row, and its loss is 0 whatever the lane holds). */
// @ts-ignore: decorator
@inline function ce_group4_label_logits(x: usize, labels: usize, stride: usize, C: i32, ignore: i32, hasIgnore: bool): v128 {
  let t = v128.load(labels);
  if (hasIgnore) t = v128.andnot(t, i32x4.eq(t, i32x4.splat(ignore)));
  // The one access the entry checks cannot bound (as ce_label_logit's).
  assert(i32x4.all_true(i32x4.lt_u(t, i32x4.splat(C))), 'ce_group4_label_logits: label outside [0, C) (not checked by ce_check_labels)');
  const o = i32x4.add(i32x4.shl(t, 2), i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(<i32>stride)));
  let v = f32x4.splat(load<f32>(x + <usize>i32x4.extract_lane(o, 0)));
  v = f32x4.replace_lane(v, 1, load<f32>(x + <usize>i32x4.extract_lane(o, 1)));
  v = f32x4.replace_lane(v, 2, load<f32>(x + <usize>i32x4.extract_lane(o, 2)));
  return f32x4.replace_lane(v, 3, load<f32>(x + <usize>i32x4.extract_lane(o, 3)));
}

/** Whether one of the four labels at p is `ignore`. */
// @ts-ignore: decorator
@inline function ce_group4_has_label(p: usize, ignore: i32): bool {
  return v128.any_true(i32x4.eq(v128.load(p), i32x4.splat(ignore)));
}

/** ce_index_row for four short f32 rows without weights, smoothing, z-loss or per-row scales, none
 *  of them ignored (labels at `labels`; from the group: M the maxima, xt01 and xt23 the x[t], logs01
 *  and logs23 the logs, s01 and s23 the exp-sums, in f64, two rows to a vector): the losses and
 *  the gradient scales two rows to a vector. The same operations on each
 *  value as ce_index_row's, where its factors are 1 and its terms 0 (ct * lt = lt for ct = 1,
 *  scale * (1 + 0) / s = scale / s), so the same bits. */
// @ts-ignore: decorator
@inline function ce_index_group4_plain(g: usize, loss: usize, lossT: usize, labels: usize, stride: usize, C: i32, scale: f64,
                                       M: v128, xt01: v128, xt23: v128, logs01: v128, logs23: v128, s01: v128, s23: v128): void {
  const m01 = f64x2.promote_low_f32x4(M), m23 = f64x2.promote_low_f32x4(v128.shuffle<f32>(M, M, 2, 3, 0, 1));
  const d01 = f64x2.sub(m01, xt01), d23 = f64x2.sub(m23, xt23);
  const l01 = f64x2.add(d01, logs01);
  const l23 = f64x2.add(d23, logs23);
  v128.store(loss, l01);
  v128.store(loss, l23, 16);
  if (lossT) v128.store(lossT, v128.shuffle<f32>(f32x4.demote_f64x2_zero(l01), f32x4.demote_f64x2_zero(l23), 0, 1, 4, 5));
  if (!g) return;
  const vsc = f64x2.splat(scale);
  const a = v128.shuffle<f32>(f32x4.demote_f64x2_zero(f64x2.div(vsc, s01)), f32x4.demote_f64x2_zero(f64x2.div(vsc, s23)), 0, 1, 4, 5);
  // ce_index_row's g * a - scale * epsC: b = -0 for a negative scale, which turns a -0 into +0
  // (for b = +0, g * a - b is g * a, every value: the other branch)
  if (scale < 0 || 1 / scale < 0) short_group4_mulsub(g, stride, C, a, <f32>(scale * 0.0), true);
  else short_group4_mulsub(g, stride, C, a, 0, false);
  ce_sub_at_label(g, labels, scale);
  ce_sub_at_label(g + stride, labels + 4, scale);
  ce_sub_at_label(g + 2 * stride, labels + 8, scale);
  ce_sub_at_label(g + 3 * stride, labels + 12, scale);
}

/** g[t] -= scale in f64, rounded once, for the row at g with its label at `label`. */
// @ts-ignore: decorator
@inline function ce_sub_at_label(g: usize, label: usize, scale: f64): void {
  const pt = at<f32>(g, load<i32>(label));
  store<f32>(pt, <f32>(<f64>load<f32>(pt) - scale));
}

/** An ignored row: loss 0, and a zero gradient row g (if any). */
// @ts-ignore: decorator
@inline function ce_ignored_row<T>(g: usize, loss: usize, lossT: usize, r: i32, C: i32): void {
  store<f64>(at<f64>(loss, r), 0);
  if (lossT) store<T>(at<T>(lossT, r), 0);
  if (g) vzero<T>(g, C);
}

/** x[t] of the row at x (0 for an ignored row, which has no class t). */
// @ts-ignore: decorator
@inline function ce_label_logit<T>(x: usize, t: i32, C: i32, ignore: i32, hasIgnore: bool): f64 {
  if (hasIgnore && t == ignore) return 0;
  // The one access the entry checks cannot bound: x[t], g[t] and w[t] lie in their rows
  // only if the caller ran ce_check_labels first.
  assert(<u32>t < <u32>C, 'ce_index_rows: label outside [0, C) (not checked by ce_check_labels)');
  return <f64>load<T>(at<T>(x, t));
}

/** The loss of row r with label t (not ignored) and its gradient row g (which holds the row's exp
 *  values), from the row's max m, x[t], its exp-sum s, log(sum exp(x - m)) and, with smoothing,
 *  the weighted sum d of m - x[c] (ce_target_terms). */
// @ts-ignore: decorator
@inline function ce_index_row<T>(g: usize, loss: usize, lossT: usize, r: i32, t: i32, C: i32, w: usize, sumW: f64, eps: f64,
                                 epsC: f64, zLoss: f64, scale: f64, scales: usize,
                                 m: f64, xt: f64, s: f64, logs: f64, d: f64, short: bool): void {
  const smooth = eps != 0;
  const wt: f64 = w ? <f64>load<T>(at<T>(w, t)) : 1.0;
  // (1 - eps) * w[t] * (lse - x[t]) + (eps / C) * sum_c w[c] * (lse - x[c])
  // A target term of mass 0 ((1 - eps) * w[t] = 0: labelSmoothing 1 or weight 0) adds exactly 0
  // also when x[t] = -Infinity (a mask; 0 * Infinity would be NaN). NaN logits still give NaN.
  const ct = (1 - eps) * wt, lt = (m - xt) + logs;
  let l = ct != 0 || lt != Infinity ? ct * lt : 0.0;
  if (smooth) l += epsC * (d + logs * sumW);
  const lse = m + logs;
  if (zLoss != 0) l += zLoss * lse * lse * wt;
  store<f64>(at<f64>(loss, r), l);
  if (lossT) store<T>(at<T>(lossT, r), <T>l);
  if (g) {
    const sc = scales ? load<f64>(at<f64>(scales, r)) : scale;
    // Without smoothing only w[t] takes part (as in PyTorch): a NaN or infinite weight of
    // another class must not reach the gradient through 0 * w[c].
    const S = smooth ? (1 - eps) * wt + epsC * sumW : wt;
    const zterm = zLoss != 0 ? 2 * zLoss * lse * wt : 0.0;
    if (ASC_FEATURE_SIMD && short && smooth && w) ce_short_grad(g, 0, C, <f32>(sc * (S + zterm) / s), <f32>(sc * epsC), w, 0, 0, false);
    else if (ASC_FEATURE_SIMD && short) short_vmulsubc<T>(g, C, <T>(sc * (S + zterm) / s), <T>(sc * epsC));
    else ce_grad_pass3<T>(g, C, <T>(sc * (S + zterm) / s), <T>(sc * epsC), smooth ? w : 0);
    const pt = at<T>(g, t);
    store<T>(pt, <T>(<f64>load<T>(pt) - sc * (1 - eps) * wt));
  }
}

/** Cross-entropy with probability targets q (same layout as x) over `rows` rows. */
export function ce_prob_rows<T>(x: usize, q: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32,
                                w: usize, eps: f64, zLoss: f64, scale: f64, scales: usize, tmp: usize): void {
  const stride = <usize>C << alignof<T>();
  const k = <T>(1 - eps), c = <T>(eps / <f64>C);
  const short = is_short_row<T>(C);
  let r = 0;
  if (ASC_FEATURE_SIMD && short) {
    // Four short rows at a time, as ce_index_rows' groups (the same bits as one at a time, below).
    for (; r <= rows - 4; r += 4) {
      // (the terms before the exp pass, which may overwrite x)
      ce_group4_terms(x, q, stride, C, w, <f32>k, <f32>c, true, tmp);
      short_group4_store(x, g ? g : tmp + TMP_GROUP_EXPS, stride, C, tmp);
      const near1 = i64x2.bitmask(v128.and(short_group4_near1(tmp, 0), ce_prob_needs_near1(tmp, 0)))
        | (i64x2.bitmask(v128.and(short_group4_near1(tmp, 1), ce_prob_needs_near1(tmp, 1))) << 2);
      if (near1) ce_group4_near1_logs(near1, x, g, 0, stride, C, 0, false, false, tmp);
      else short_group4_logs(tmp);
      for (let j = 0; j < 4; j++) {
        const o = <usize>j << 3;
        ce_prob_row<T>(g ? g + j * stride : 0, q + j * stride, loss, lossT, r + j, C, w, k, c, zLoss, scale, scales, <f64>load<f32>(tmp + TMP_GROUP_MAX + (<usize>j << 2)),
          load<f64>(tmp + TMP_GROUP_TERMS + o), load<f64>(tmp + TMP_GROUP_TSUMS + o), load<f64>(tmp + TMP_GROUP_SUMS + o), load<f64>(tmp + TMP_GROUP_LOGS + o), true);
      }
      x += 4 * stride;
      q += 4 * stride;
      if (g) g += 4 * stride;
    }
  }
  for (; r < rows; r++) {
    const m: T = ASC_FEATURE_SIMD && short ? short_rmax<T>(x, C) : rmax<T>(x, C, tmp);
    // (the terms before the exp pass, which may overwrite x)
    const d = ce_row_terms<T>(x, q, C, m, w, k, c, true, short, tmp), S = load<f64>(tmp + TMP_AUX2);
    const s = ce_row_expsum<T>(x, g, C, m, short, g ? row_ahead(r, rows, stride) : 0, tmp);
    const logs = ce_row_logs<T>(s, x, g, C, m, -1, d < PROB_NEAR1_TERMS * S, short, tmp);
    ce_prob_row<T>(g, q, loss, lossT, r, C, w, k, c, zLoss, scale, scales, <f64>m, d, S, load<f64>(tmp + TMP_ROW_SUM), logs, short);
    x += stride;
    q += stride;
    if (g) g += stride;
  }
}

/** The loss of a row with probability targets, d + log(s) * S (ce_prob_row), needs log(s) to
 *  relative accuracy near s = 1 (the near-1 log, ce_row_logs) where the target terms d are below
 *  PROB_NEAR1_TERMS * S: where the target mass sits on the max (d = 0 for a one-hot target
 *  there), or a smoothing of 1e-5 is all of d. Elsewhere the plain log's error, at most ~1e-6 *
 *  S, is below 1.25e-7 of the loss. */
// @ts-ignore: decorator
@inline const PROB_NEAR1_TERMS: f64 = 8;

/** The lanes of rows 2h and 2h + 1 of a short group with probability targets whose terms need the
 *  near-1 log (PROB_NEAR1_TERMS). */
// @ts-ignore: decorator
@inline function ce_prob_needs_near1(tmp: usize, h: i32): v128 {
  const o = <usize>h << 4;
  return f64x2.lt(v128.load(tmp + TMP_GROUP_TERMS + o), f64x2.mul(v128.load(tmp + TMP_GROUP_TSUMS + o), f64x2.splat(PROB_NEAR1_TERMS)));
}

/** The loss of row r with probability targets q and its gradient row g (which holds the row's exp
 *  values), from the row's max m, its target terms d and S (ce_target_terms), its exp-sum s and
 *  log(sum exp(x - m)). */
// @ts-ignore: decorator
@inline function ce_prob_row<T>(g: usize, q: usize, loss: usize, lossT: usize, r: i32, C: i32, w: usize, k: T, c: T, zLoss: f64, scale: f64, scales: usize,
                                m: f64, d: f64, S: f64, s: f64, logs: f64, short: bool): void {
  // sum_c wq[c] * (lse - x[c]) = sum_c wq[c] * (m - x[c]) + log(s) * sum_c wq[c]
  let l = d + logs * S;
  const lse = m + logs;
  if (zLoss != 0) l += zLoss * lse * lse;
  store<f64>(at<f64>(loss, r), l);
  if (lossT) store<T>(at<T>(lossT, r), <T>l);
  if (g) {
    const sc = scales ? load<f64>(at<f64>(scales, r)) : scale;
    const zterm = zLoss != 0 ? 2 * zLoss * lse : 0.0;
    if (ASC_FEATURE_SIMD && short) ce_short_grad(g, q, C, <f32>(sc * (S + zterm) / s), <f32>sc, w, <f32>k, <f32>c, true);
    else ce_prob_grad_pass3<T>(g, q, C, <T>(sc * (S + zterm) / s), <T>sc, w, k, c);
  }
}

/** Compensated sum of n f64 values (the per-row losses), in a fixed order (value i in lane i % 4
 *  on the SIMD builds, the lanes added last): the same bits however the rows were split into
 *  chunks or across threads, since it runs once over all of them. */
export function f64_rsum(p: usize, n: i32): f64 {
  let nsum: f64 = 0, ncomp: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD && n >= 8) {
    // Four running sums instead of one: the scalar loop waits on each addition (4 cycles a
    // value, 5% of a 10-class crossEntropyWithGrad).
    let s01 = f64x2.splat(0), s23 = s01, c01 = s01, c23 = s01;
    for (; i <= n - 4; i += 4) {
      const v01 = v128.load(at<f64>(p, i)), v23 = v128.load(at<f64>(p, i), 16);
      c01 = vneumaier_comp(s01, c01, v01);
      s01 = f64x2.add(s01, v01);
      c23 = vneumaier_comp(s23, c23, v23);
      s23 = f64x2.add(s23, v23);
    }
    for (let k = 0; k < 4; k++) {
      const v = k == 0 ? f64x2.extract_lane(s01, 0) : k == 1 ? f64x2.extract_lane(s01, 1) : k == 2 ? f64x2.extract_lane(s23, 0) : f64x2.extract_lane(s23, 1);
      ncomp = neumaier_comp(nsum, ncomp, v);
      nsum += v;
    }
    const c = f64x2.add(c01, c23);
    ncomp += f64x2.extract_lane(c, 0) + f64x2.extract_lane(c, 1);
  }
  for (; i < n; i++) {
    const v = load<f64>(at<f64>(p, i));
    ncomp = neumaier_comp(nsum, ncomp, v);
    nsum += v;
  }
  return neumaier_result(nsum, ncomp);
}
