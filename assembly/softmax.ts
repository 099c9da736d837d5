// The softmax family over `rows` contiguous rows of C elements of T (f32 or f64).
// Strided layouts (an axis that is not the last) are transposed to rows by the caller.
// Outputs may alias inputs (in place): every pass reads element i before it writes element i.
// `tmp` is TMP_BYTES of the caller's scratch where one pass of a row leaves its second result
// for the next (see TMP_MIN in reduce.ts).

import { LANES, at, vhsum } from './simd';
import { vlog64 } from './log';
import { vexp, sexp } from './exp';
import { TMP_GROUP_UNITS, TMP_GROUP_EXPS, rmax, raddexpminusmax, row_ahead, log_expsum, log_expsum_row, rdot, rsum, rhasnan, vscale, in_exp_range } from './reduce';
import { is_short_row, short_rmax, short_raddexpminusmax, short_ratio, short_log_expsum, short_log_of, short_vscale, short_vsubsub, short_group4_store, short_group4_mulsub,
  short_group4_ratios_of, short_group4_sums, short_group4_unit_lanes, short_vsum, short_group4_rsum, short_softmax_backward_row, short_log_softmax_backward_row } from './short_rows';

/** y = softmax(x * beta) per row: three passes (max; exp-store-and-sum; scale by 1/sum). */
export function softmax_rows<T>(x: usize, y: usize, rows: i32, C: i32, beta: T, tmp: usize): void {
  const stride = <usize>C << alignof<T>();
  if (ASC_FEATURE_SIMD && is_short_row<T>(C) && beta == 1) {
    let r = 0;
    // Software-pipelined: a group's scaling waits on its exp pass's longest chain (max, exp, sum,
    // 1/s), so it runs after the next group's exp pass has been issued.
    let s01 = f64x2.splat(0), s23 = s01, py: usize = 0;
    for (; r <= rows - 4; r += 4) {
      short_group4_store(x, y, stride, C, tmp);
      const n01 = short_group4_sums(tmp, 0), n23 = short_group4_sums(tmp, 1);
      if (r > 0) short_group4_scale_inv(py, stride, C, s01, s23);
      s01 = n01; s23 = n23; py = y;
      x += 4 * stride;
      y += 4 * stride;
    }
    if (r > 0) short_group4_scale_inv(py, stride, C, s01, s23);
    for (; r < rows; r++) {
      const s = short_raddexpminusmax(x, y, C, short_rmax<f32>(x, C), true, tmp, tmp + TMP_GROUP_UNITS);
      short_vscale<T>(y, y, C, <T>(1.0 / s));
      x += stride;
      y += stride;
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const m = rmax<T>(x, C, tmp);
    const ahead = row_ahead(r, rows, stride);
    const s = beta != 1 ? raddexpminusmax<T>(x, y, C, m, beta, true, true, true, tmp, ahead)
      : in_exp_range<T>(m, 1, tmp) ? raddexpminusmax<T>(x, y, C, m, 1, true, false, false, tmp, ahead, false)
      : raddexpminusmax<T>(x, y, C, m, 1, true, false, true, tmp, ahead);
    vscale<T>(y, y, C, <T>(1.0 / s));
    x += stride;
    y += stride;
  }
}

/** y = y / s over four short rows (row k at y + k * stride), s the f64 exp-sums (s01: rows 0, 1):
 *  1/s in f64 and rounded to f32, as <T>(1.0 / s) in softmax_rows' one-row path. */
// @ts-ignore: decorator
@inline function short_group4_scale_inv(y: usize, stride: usize, C: i32, s01: v128, s23: v128): void {
  const one = f64x2.splat(1.0);
  const inv = v128.shuffle<f32>(f32x4.demote_f64x2_zero(f64x2.div(one, s01)), f32x4.demote_f64x2_zero(f64x2.div(one, s23)), 0, 1, 4, 5);
  short_group4_mulsub(y, stride, C, inv, 0, false);
}

/** log_softmax_rows' writes of four short rows (row k at x + k * stride and y + k * stride) from
 *  their group's state: maxima M, sums s01 and s23 (f64), units U. */
// @ts-ignore: decorator
@inline function short_group4_log_softmax(x: usize, y: usize, e: usize, stride: usize, C: i32, M: v128, s01: v128, s23: v128, U: v128): void {
  const r01 = short_group4_ratios_of(s01, U, 0), r23 = short_group4_ratios_of(s23, U, 1);
  const L01 = vlog64(r01), L23 = vlog64(r23);
  short_vsubsub(x, y, C, f32x4.extract_lane(M, 0), <f32>short_log_expsum(f64x2.extract_lane(r01, 0), f64x2.extract_lane(L01, 0), f32x4.extract_lane(U, 0), x, C, f32x4.extract_lane(M, 0), e));
  short_vsubsub(x + stride, y + stride, C, f32x4.extract_lane(M, 1), <f32>short_log_expsum(f64x2.extract_lane(r01, 1), f64x2.extract_lane(L01, 1), f32x4.extract_lane(U, 1), x + stride, C, f32x4.extract_lane(M, 1), e + stride));
  short_vsubsub(x + 2 * stride, y + 2 * stride, C, f32x4.extract_lane(M, 2), <f32>short_log_expsum(f64x2.extract_lane(r23, 0), f64x2.extract_lane(L23, 0), f32x4.extract_lane(U, 2), x + 2 * stride, C, f32x4.extract_lane(M, 2), e + 2 * stride));
  short_vsubsub(x + 3 * stride, y + 3 * stride, C, f32x4.extract_lane(M, 3), <f32>short_log_expsum(f64x2.extract_lane(r23, 1), f64x2.extract_lane(L23, 1), f32x4.extract_lane(U, 3), x + 3 * stride, C, f32x4.extract_lane(M, 3), e + 3 * stride));
}

/** logsumexp_rows' results of four short rows (row k at x + k * stride, its result at out + k)
 *  from their group's state: maxima M, sums s01 and s23 (f64), units U. */
// @ts-ignore: decorator
@inline function short_group4_logsumexp<T>(x: usize, out: usize, e: usize, stride: usize, C: i32, M: v128, s01: v128, s23: v128, U: v128): void {
  const r01 = short_group4_ratios_of(s01, U, 0), r23 = short_group4_ratios_of(s23, U, 1);
  const L01 = vlog64(r01), L23 = vlog64(r23);
  store<T>(at<T>(out, 0), short_logsumexp<T>(x, C, <T>f32x4.extract_lane(M, 0), f64x2.extract_lane(r01, 0), f64x2.extract_lane(L01, 0), f32x4.extract_lane(U, 0), e));
  store<T>(at<T>(out, 1), short_logsumexp<T>(x + stride, C, <T>f32x4.extract_lane(M, 1), f64x2.extract_lane(r01, 1), f64x2.extract_lane(L01, 1), f32x4.extract_lane(U, 1), e + stride));
  store<T>(at<T>(out, 2), short_logsumexp<T>(x + 2 * stride, C, <T>f32x4.extract_lane(M, 2), f64x2.extract_lane(r23, 0), f64x2.extract_lane(L23, 0), f32x4.extract_lane(U, 2), e + 2 * stride));
  store<T>(at<T>(out, 3), short_logsumexp<T>(x + 3 * stride, C, <T>f32x4.extract_lane(M, 3), f64x2.extract_lane(r23, 1), f64x2.extract_lane(L23, 1), f32x4.extract_lane(U, 3), e + 3 * stride));
}

/** Where the group of rows [r, r + 4) keeps its exp values (TMP_GROUP_EXPS: groups alternate
 *  between its two blocks, as a group's logs come after the next group's pass). */
// @ts-ignore: decorator
@inline function group_exps(tmp: usize, r: i32): usize {
  return tmp + TMP_GROUP_EXPS + (<usize>((r >> 2) & 1) << 8);
}

/** y = log_softmax(x * beta) per row = (x - max) * beta - log(sum exp((x - max) * beta)).
 *  Two reading passes and one writing pass; exp values are not stored. */
export function log_softmax_rows<T>(x: usize, y: usize, rows: i32, C: i32, beta: T, tmp: usize): void {
  const stride = <usize>C << alignof<T>();
  const short = is_short_row<T>(C) && beta == 1;
  let r = 0;
  if (ASC_FEATURE_SIMD && short) {
    // Four rows at a time (short_group4_*: the same bits as one at a time, below), pipelined as
    // softmax_rows' groups (a group's logs and writes after the next group's exp pass).
    // The pass keeps its exp values in tmp (group_exps) for its near-1 rows' logs, which then
    // need not compute them again.
    let pM = v128.splat<i32>(0), pU = pM, s01 = pM, s23 = pM, px: usize = 0, py: usize = 0;
    for (; r <= rows - 4; r += 4) {
      const M = short_group4_store(x, group_exps(tmp, r), stride, C, tmp);
      const n01 = short_group4_sums(tmp, 0), n23 = short_group4_sums(tmp, 1), U = short_group4_unit_lanes(tmp);
      if (r > 0) short_group4_log_softmax(px, py, group_exps(tmp, r - 4), stride, C, pM, s01, s23, pU);
      pM = M; pU = U; s01 = n01; s23 = n23; px = x; py = y;
      x += 4 * stride;
      y += 4 * stride;
    }
    if (r > 0) short_group4_log_softmax(px, py, group_exps(tmp, r - 4), stride, C, pM, s01, s23, pU);
  }
  for (; r < rows; r++) {
    let m: T, logs: T;
    if (ASC_FEATURE_SIMD && short) {
      m = short_rmax<T>(x, C);
      const u = tmp + TMP_GROUP_UNITS;
      const r = short_ratio(short_raddexpminusmax(x, 0, C, <f32>m, false, tmp, u), u);
      logs = <T>short_log_expsum(r, short_log_of(r), load<f32>(u), x, C, <f32>m);
    } else {
      m = rmax<T>(x, C, tmp);
      const s = beta != 1 ? raddexpminusmax<T>(x, 0, C, m, beta, false, true, true, tmp, 0)
        : in_exp_range<T>(m, 1, tmp) ? raddexpminusmax<T>(x, 0, C, m, 1, false, false, false, tmp, 0, true, true)
        : raddexpminusmax<T>(x, 0, C, m, 1, false, false, true, tmp, 0);
      logs = <T>(beta != 1 ? log_expsum<T>(s, tmp) : log_expsum_row<T>(s, tmp, x, C, m));
    }
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const L = LANES<T>();
      const vm = v128.splat<T>(m), vb = v128.splat<T>(beta), vl = v128.splat<T>(logs);
      for (; i <= C - 4 * L; i += 4 * L) {
        const p = at<T>(x, i), q = at<T>(y, i);
        const v0 = v128.mul<T>(v128.sub<T>(v128.load(p), vm), vb);
        const v1 = v128.mul<T>(v128.sub<T>(v128.load(p, 16), vm), vb);
        const v2 = v128.mul<T>(v128.sub<T>(v128.load(p, 32), vm), vb);
        const v3 = v128.mul<T>(v128.sub<T>(v128.load(p, 48), vm), vb);
        v128.store(q, v128.sub<T>(v0, vl));
        v128.store(q, v128.sub<T>(v1, vl), 16);
        v128.store(q, v128.sub<T>(v2, vl), 32);
        v128.store(q, v128.sub<T>(v3, vl), 48);
      }
      for (; i <= C - L; i += L) {
        const v = v128.mul<T>(v128.sub<T>(v128.load(at<T>(x, i)), vm), vb);
        v128.store(at<T>(y, i), v128.sub<T>(v, vl));
      }
    }
    for (; i < C; i++) store<T>(at<T>(y, i), (load<T>(at<T>(x, i)) - m) * beta - logs);
    x += stride;
    y += stride;
  }
}

/** out[r] = log(sum(exp(x[r, :]))) = max + log(sum exp(x - max)). Rows whose max is infinite
 *  follow torch.logsumexp: -Infinity for an all -Infinity row, +Infinity for a row holding
 *  +Infinity, NaN if the row holds a NaN. */
export function logsumexp_rows<T>(x: usize, out: usize, rows: i32, C: i32, tmp: usize): void {
  const stride = <usize>C << alignof<T>();
  let r = 0;
  if (ASC_FEATURE_SIMD && is_short_row<T>(C)) {
    // Four rows at a time, then one at a time (short_group4_store: the same bits either way),
    // pipelined as softmax_rows' groups (a group's logs after the next group's exp pass).
    let pM = v128.splat<i32>(0), pU = pM, s01 = pM, s23 = pM, px: usize = 0;
    for (; r <= rows - 4; r += 4) {
      const M = short_group4_store(x, group_exps(tmp, r), stride, C, tmp);
      const n01 = short_group4_sums(tmp, 0), n23 = short_group4_sums(tmp, 1), U = short_group4_unit_lanes(tmp);
      if (r > 0) short_group4_logsumexp<T>(px, out + (<usize>(r - 4) << alignof<T>()), group_exps(tmp, r - 4), stride, C, pM, s01, s23, pU);
      pM = M; pU = U; s01 = n01; s23 = n23; px = x;
      x += 4 * stride;
    }
    if (r > 0) short_group4_logsumexp<T>(px, out + (<usize>(r - 4) << alignof<T>()), group_exps(tmp, r - 4), stride, C, pM, s01, s23, pU);
    for (; r < rows; r++) {
      const m = short_rmax<T>(x, C), u = tmp + TMP_GROUP_UNITS;
      const q = short_ratio(short_raddexpminusmax(x, 0, C, <f32>m, false, tmp, u), u);
      store<T>(at<T>(out, r), short_logsumexp<T>(x, C, m, q, short_log_of(q), load<f32>(u)));
      x += stride;
    }
    return;
  }
  for (; r < rows; r++) {
    const m = rmax<T>(x, C, tmp);
    let v: T;
    if (isFinite<T>(m)) {
      const s = in_exp_range<T>(m, 1, tmp) ? raddexpminusmax<T>(x, 0, C, m, 1, false, false, false, tmp, 0, true, true)
        : raddexpminusmax<T>(x, 0, C, m, 1, false, false, true, tmp, 0);
      v = <T>(<f64>m + log_expsum_row<T>(s, tmp, x, C, m));
    } else {
      v = rhasnan<T>(x, C) ? <T>NaN : m;
    }
    store<T>(at<T>(out, r), v);
    x += stride;
  }
}

/** logsumexp of a short row from its max m, its exp-sum relative to the max term r (short_ratio)
 *  and its unit u, with the infinite maxima of logsumexp_rows. */
// @ts-ignore: decorator
@inline function short_logsumexp<T>(x: usize, C: i32, m: T, r: f64, logr: f64, u: f32, e: usize = 0): T {
  return isFinite<T>(m) ? <T>(<f64>m + short_log_expsum(r, logr, u, x, C, <f32>m, e)) : rhasnan<T>(x, C) ? <T>NaN : m;
}

/** dx = y * (g - sum(g * y)) per row: the vector-Jacobian product of softmax. */
export function softmax_backward_rows<T>(y: usize, g: usize, dx: usize, rows: i32, C: i32): void {
  const stride = <usize>C << alignof<T>();
  if (ASC_FEATURE_SIMD && is_short_row<T>(C)) {
    short_backward_rows(y, g, dx, rows, C, true);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const d = <T>rdot<T>(g, y, C);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const L = LANES<T>();
      const vd = v128.splat<T>(d);
      for (; i <= C - L; i += L) {
        const vy = v128.load(at<T>(y, i));
        v128.store(at<T>(dx, i), v128.mul<T>(vy, v128.sub<T>(v128.load(at<T>(g, i)), vd)));
      }
    }
    for (; i < C; i++) {
      store<T>(at<T>(dx, i), load<T>(at<T>(y, i)) * (load<T>(at<T>(g, i)) - d));
    }
    y += stride;
    g += stride;
    dx += stride;
  }
}

/** dx = g - exp(y) * sum(g) per row: the vector-Jacobian product of log_softmax. */
export function log_softmax_backward_rows<T>(y: usize, g: usize, dx: usize, rows: i32, C: i32): void {
  const stride = <usize>C << alignof<T>();
  if (ASC_FEATURE_SIMD && is_short_row<T>(C)) {
    short_backward_rows(y, g, dx, rows, C, false);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s = <T>rsum<T>(g, C);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const L = LANES<T>();
      const vs = v128.splat<T>(s);
      for (; i <= C - L; i += L) {
        const e = vexp<T>(v128.load(at<T>(y, i)));
        v128.store(at<T>(dx, i), v128.sub<T>(v128.load(at<T>(g, i)), v128.mul<T>(e, vs)));
      }
    }
    for (; i < C; i++) {
      store<T>(at<T>(dx, i), load<T>(at<T>(g, i)) - sexp<T>(load<T>(at<T>(y, i))) * s);
    }
    y += stride;
    g += stride;
    dx += stride;
  }
}

/** The backward passes over short f32 rows (`soft`: softmax's, dx = y * (g - sum(g * y)); else
 *  log-softmax's, dx = g - exp(y) * sum(g)): four rows' sums at a time, then the rest one by one,
 *  each row's sum with the same bits either way. */
// @ts-ignore: decorator
@inline function short_backward_rows(y: usize, g: usize, dx: usize, rows: i32, C: i32, soft: bool): void {
  const stride = <usize>C << 2;
  let r = 0;
  for (; r <= rows - 4; r += 4) {
    let d = short_group4_rsum(g, y, stride, C, soft);
    // The four writes as a loop (one copy of the row's code: the size budget), lane 0 of d each.
    for (let k = 0; k < 4; k++) {
      if (soft) short_softmax_backward_row(y, g, dx, C, f32x4.extract_lane(d, 0));
      else short_log_softmax_backward_row(y, g, dx, C, f32x4.extract_lane(d, 0));
      d = v128.shuffle<f32>(d, d, 1, 2, 3, 0);
      y += stride;
      g += stride;
      dx += stride;
    }
  }
  for (; r < rows; r++) {
    const d = <f32>vhsum<f32>(short_vsum(g, y, C, soft));
    if (soft) short_softmax_backward_row(y, g, dx, C, d);
    else short_log_softmax_backward_row(y, g, dx, C, d);
    y += stride;
    g += stride;
    dx += stride;
  }
}

/** dst[o, b, a] = src[o, a, b] for o < outer, a < A, b < B: moves an axis that is not the last
 *  to the end (and back, with A and B swapped), in 16 x 16 tiles so both sides stay in cache. */
export function transpose<T>(src: usize, dst: usize, outer: i32, A: i32, B: i32): void {
  const TILE = 16;
  const block = <usize>A * <usize>B << alignof<T>();
  for (let o = 0; o < outer; o++) {
    for (let a0 = 0; a0 < A; a0 += TILE) {
      const a1 = min(a0 + TILE, A);
      for (let b0 = 0; b0 < B; b0 += TILE) {
        const b1 = min(b0 + TILE, B);
        for (let a = a0; a < a1; a++) {
          for (let b = b0; b < b1; b++) {
            store<T>(at<T>(dst, b * A + a), load<T>(at<T>(src, a * B + b)));
          }
        }
      }
    }
    src += block;
    dst += block;
  }
}
