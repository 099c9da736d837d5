// Passes over one short float32 row: C in [LANES, 4 * LANES] = [4, 16] elements, the 10-class
// classifier's case, SIMD builds only (float64 rows and softmax with a temperature take the
// general passes, to keep the embedded builds small). The general passes (reduce.ts) spend most
// of such a row in loop set-up, horizontal reductions of unused accumulators and scalar tails.
// Here the row is whole vectors at 0, LANES, 2 * LANES, ... below C - LANES, and one last vector
// moved back to end exactly at C, which repeats some elements of the one before: a repeated
// element does not change a max, a sum masks out the lanes already counted, and a store of a
// repeated element writes the value computed from the same input. The last vector is loaded
// before anything is stored, so y may be x. Each element goes through the same operations as in
// the general passes (the same x - max, the same vexp), so the exp values are bit-identical; only
// the order in which the sum adds them differs. Rows also go four at a time (short_group4_store,
// short_group4_sum), with the same bits as one at a time. The backward passes' sums (short_vsum,
// short_group4_rsum) and writes take the same shape.

import { LANES, vhmax, vhsum, log1p_pos, uncounted_lanes } from './simd';
import { vexp } from './exp';
import { TMP_GROUP_SUMS, TMP_GROUP_MAX, TMP_GROUP_LOGS, NEAR1_SUM_SHORT, log_expsum_near1 } from './reduce';
import { SHORT_ROW_MAX_C } from '../src/kernel-constants';

/** Whether a row of C elements of T takes the short-row passes. */
// @ts-ignore: decorator
@inline export function is_short_row<T>(C: i32): bool {
  return ASC_FEATURE_SIMD && sizeof<T>() == 4 && C >= LANES<T>() && C <= SHORT_ROW_MAX_C; // (4 * LANES<f32>())
}

/** Byte offset of the last vector of a row of C elements. */
// @ts-ignore: decorator
@inline export function last_offset<T>(C: i32): usize {
  return <usize>(C - LANES<T>()) << alignof<T>();
}

/** max of a short row; NaN elements are passed over as in rmax (the exp-sum that follows turns
 *  a NaN into a NaN row). */
// @ts-ignore: decorator
@inline export function short_rmax<T>(x: usize, C: i32): T {
  return vhmax<T>(short_vmax<T>(x, C));
}

/** The lane-wise max of a short row's vectors (short_rmax before its horizontal step). */
// @ts-ignore: decorator
@inline function short_vmax<T>(x: usize, C: i32): v128 {
  // pmax(a, b) keeps a when b is NaN: start from -Infinity so a NaN never becomes the max.
  let m = v128.pmax<T>(v128.splat<T>(<T>-Infinity), v128.load(x + last_offset<T>(C)));
  const end = last_offset<T>(C);
  for (let o: usize = 0; o < end; o += 16) m = v128.pmax<T>(m, v128.load(x + o));
  return m;
}

/** sum of exp(x - max) over a short row, in f64; with `keep`, also stores the exp values to y. */
// @ts-ignore: decorator
@inline export function short_raddexpminusmax<T>(x: usize, y: usize, C: i32, max: T, keep: bool): f64 {
  return vhsum<T>(short_vexpsum<T>(x, y, C, v128.splat<T>(max), keep));
}

/** The lanes of short_raddexpminusmax's sum before its horizontal step (vmax: the max in every lane). */
// @ts-ignore: decorator
@inline function short_vexpsum<T>(x: usize, y: usize, C: i32, vmax: v128, keep: bool): v128 {
  const end = last_offset<T>(C);
  const last = v128.sub<T>(v128.load(x + end), vmax);
  let sum = v128.splat<T>(0);
  let o: usize = 0;
  for (; o < end; o += 16) {
    const e = vexp<T>(v128.sub<T>(v128.load(x + o), vmax));
    if (keep) v128.store(y + o, e);
    sum = v128.add<T>(sum, e);
  }
  const e = vexp<T>(last);
  if (keep) v128.store(y + end, e);
  return v128.add<T>(sum, v128.and(e, uncounted_lanes(<i32>(o - end) >> alignof<T>())));
}

/** log(s) of a short row's exp-sum s (from its max m; x intact): near 1 (NEAR1_SUM_SHORT in
 *  reduce.ts), log_expsum_near1. */
// @ts-ignore: decorator
@inline export function short_log_expsum(s: f64, x: usize, C: i32, m: f32): f64 {
  return s < NEAR1_SUM_SHORT ? log_expsum_near1(x, C, m) : Math.log(s);
}

/** The mass of a short f32 row whose element t is its max m (exp(0) = 1, the unit): the sum of its
 *  other exp values, in f64, from the exp values stored at y (`stored`), or computed again from x
 *  by the same vexp(x - m) as short_raddexpminusmax, summed in the same lanes either way (the
 *  cross-entropy's log1p of it then has the same bits with and without the gradient). */
export function short_mass_but(x: usize, y: usize, C: i32, t: i32, m: f32, stored: bool): f64 {
  const vm = f32x4.splat(m), vt = i32x4.splat(t);
  const end = last_offset<f32>(C);
  let acc = f32x4.splat(0);
  let o: usize = 0;
  for (; o < end; o += 16) {
    const e = stored ? v128.load(y + o) : vexp<f32>(f32x4.sub(v128.load(x + o), vm));
    acc = f32x4.add(acc, v128.andnot(e, i32x4.eq(i32x4.add(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(o >> 2))), vt)));
  }
  const e = stored ? v128.load(y + end) : vexp<f32>(f32x4.sub(v128.load(x + end), vm));
  const keep = v128.andnot(uncounted_lanes(<i32>(o - end) >> 2), i32x4.eq(i32x4.add(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(end >> 2))), vt));
  return vhsum<f32>(f32x4.add(acc, v128.and(e, keep)));
}

/** The lanes of sum(x * y) (`dot`) or of sum(x) over a short f32 row, before the horizontal step:
 *  the sums of the backward passes. */
// @ts-ignore: decorator
@inline export function short_vsum(x: usize, y: usize, C: i32, dot: bool): v128 {
  const end = last_offset<f32>(C);
  let acc = f32x4.splat(0);
  let o: usize = 0;
  for (; o < end; o += 16) acc = f32x4.add(acc, dot ? f32x4.mul(v128.load(x + o), v128.load(y + o)) : v128.load(x + o));
  const last = dot ? f32x4.mul(v128.load(x + end), v128.load(y + end)) : v128.load(x + end);
  return f32x4.add(acc, v128.and(last, uncounted_lanes(<i32>(o - end) >> 2)));
}

/** short_vsum of four rows (row r at x + r * stride, y + r * stride), each summed in f64 as
 *  vhsum<f32> sums one and rounded to f32: lane r holds row r's. */
// @ts-ignore: decorator
@inline export function short_group4_rsum(x: usize, y: usize, stride: usize, C: i32, dot: bool): v128 {
  const s0 = short_vsum(x, y, C, dot), s1 = short_vsum(x + stride, y + stride, C, dot);
  const s2 = short_vsum(x + 2 * stride, y + 2 * stride, C, dot), s3 = short_vsum(x + 3 * stride, y + 3 * stride, C, dot);
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(vhsum_pair(s0, s1)), f32x4.demote_f64x2_zero(vhsum_pair(s2, s3)), 0, 1, 4, 5);
}

/** dx = y * (g - d) over a short f32 row (softmax's backward write; dx may be y or g). */
// @ts-ignore: decorator
@inline export function short_softmax_backward_row(y: usize, g: usize, dx: usize, C: i32, d: f32): void {
  const vd = f32x4.splat(d);
  const end = last_offset<f32>(C);
  const ly = v128.load(y + end), lg = v128.load(g + end);
  for (let o: usize = 0; o < end; o += 16) v128.store(dx + o, f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(g + o), vd)));
  v128.store(dx + end, f32x4.mul(ly, f32x4.sub(lg, vd)));
}

/** dx = g - exp(y) * s over a short f32 row (log-softmax's backward write; dx may be y or g). */
// @ts-ignore: decorator
@inline export function short_log_softmax_backward_row(y: usize, g: usize, dx: usize, C: i32, s: f32): void {
  const vs = f32x4.splat(s);
  const end = last_offset<f32>(C);
  const ly = v128.load(y + end), lg = v128.load(g + end);
  for (let o: usize = 0; o < end; o += 16) v128.store(dx + o, f32x4.sub(v128.load(g + o), f32x4.mul(vexp<f32>(v128.load(y + o)), vs)));
  v128.store(dx + end, f32x4.sub(lg, f32x4.mul(vexp<f32>(ly), vs)));
}

/** Four short f32 rows at once (row r at x + r * stride, and at y + r * stride for `keep`): the
 *  passes of short_rmax and short_raddexpminusmax on each, with their horizontal steps done for
 *  the four rows together, so the rows' dependency chains (max, exp, sum) overlap. Returns the
 *  maxima (lane r: row r) and stores them at g + TMP_GROUP_MAX and the sums (f64) at
 *  g + TMP_GROUP_SUMS; g is the caller's tmp (reduce.ts). Each result has the same bits as the
 *  one-row passes give: the same operations on each value, in the same order. */
// @ts-ignore: decorator
@inline function short_group4_body(x: usize, y: usize, stride: usize, C: i32, keep: bool, g: usize): v128 {
  const m0 = short_vmax<f32>(x, C), m1 = short_vmax<f32>(x + stride, C);
  const m2 = short_vmax<f32>(x + 2 * stride, C), m3 = short_vmax<f32>(x + 3 * stride, C);
  // vhmax of each, transposed: pmax(v, v[2, 3, 0, 1]), then pmax(m, m[1, 0, 3, 2]).
  const t0 = f32x4.pmax(v128.shuffle<f32>(m0, m1, 0, 4, 1, 5), v128.shuffle<f32>(m0, m1, 2, 6, 3, 7));
  const t1 = f32x4.pmax(v128.shuffle<f32>(m2, m3, 0, 4, 1, 5), v128.shuffle<f32>(m2, m3, 2, 6, 3, 7));
  const M = f32x4.pmax(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(g + TMP_GROUP_MAX, M);
  // The four exp passes written out: as a loop over the rows (through memory) the group gained
  // half as much (the overlap of the rows' chains is the point).
  const s0 = short_vexpsum<f32>(x, y, C, v128.shuffle<f32>(M, M, 0, 0, 0, 0), keep);
  const s1 = short_vexpsum<f32>(x + stride, y + stride, C, v128.shuffle<f32>(M, M, 1, 1, 1, 1), keep);
  const s2 = short_vexpsum<f32>(x + 2 * stride, y + 2 * stride, C, v128.shuffle<f32>(M, M, 2, 2, 2, 2), keep);
  const s3 = short_vexpsum<f32>(x + 3 * stride, y + 3 * stride, C, v128.shuffle<f32>(M, M, 3, 3, 3, 3), keep);
  v128.store(g + TMP_GROUP_SUMS, vhsum_pair(s0, s1));
  v128.store(g + TMP_GROUP_SUMS, vhsum_pair(s2, s3), 16);
  return M;
}

/** short_group4 that stores the exp values to y (may be x), and the one that does not: functions
 *  of their own, called once per four rows, rather than the passes inlined at every call site. */
export function short_group4_store(x: usize, y: usize, stride: usize, C: i32, tmp: usize): v128 { return short_group4_body(x, y, stride, C, true, tmp); }
export function short_group4_sum(x: usize, stride: usize, C: i32, tmp: usize): v128 { return short_group4_body(x, 0, stride, C, false, tmp); }

/** The logs of the four exp-sums a short_group4_* call left in tmp, stored at tmp + TMP_GROUP_LOGS.
 *  (Four calls of Math.log: a vector log (fdlibm's, with its division) had a longer dependency
 *  chain than the four calls, and made a row alone slower; a row alone must take the same log.) */
// @ts-ignore: decorator
@inline export function short_group4_logs(tmp: usize): void {
  store<f64>(tmp + TMP_GROUP_LOGS, Math.log(load<f64>(tmp + TMP_GROUP_SUMS)));
  store<f64>(tmp + TMP_GROUP_LOGS, Math.log(load<f64>(tmp + TMP_GROUP_SUMS, 8)), 8);
  store<f64>(tmp + TMP_GROUP_LOGS, Math.log(load<f64>(tmp + TMP_GROUP_SUMS, 16)), 16);
  store<f64>(tmp + TMP_GROUP_LOGS, Math.log(load<f64>(tmp + TMP_GROUP_SUMS, 24)), 24);
}

/** In place of short_group4_logs where only the four rows' sum of losses is used: log of the
 *  product of the four exp-sums at tmp + TMP_GROUP_LOGS, then 0, 0, 0 (each sum is in [1, 16],
 *  or NaN: the product cannot overflow, and log((s0 s1)(s2 s3)) = sum of the logs to ~3 ulp). */
// @ts-ignore: decorator
@inline export function short_group4_logprod(tmp: usize): void {
  const s01 = load<f64>(tmp + TMP_GROUP_SUMS) * load<f64>(tmp + TMP_GROUP_SUMS, 8);
  const s23 = load<f64>(tmp + TMP_GROUP_SUMS, 16) * load<f64>(tmp + TMP_GROUP_SUMS, 24);
  v128.store(tmp + TMP_GROUP_LOGS, f64x2.replace_lane(f64x2.splat(0), 0, Math.log(s01 * s23)));
  v128.store(tmp + TMP_GROUP_LOGS, f64x2.splat(0), 16);
}

/** vhsum<f32> of a and of b, as the two lanes of an f64x2: (a0 + a1) + (a2 + a3) in f64. */
// @ts-ignore: decorator
@inline function vhsum_pair(a: v128, b: v128): v128 {
  const lo = v128.shuffle<f32>(a, b, 0, 4, 1, 5), hi = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const p01 = f64x2.add(f64x2.promote_low_f32x4(lo), f64x2.promote_low_f32x4(v128.shuffle<f32>(lo, lo, 2, 3, 0, 1)));
  const p23 = f64x2.add(f64x2.promote_low_f32x4(hi), f64x2.promote_low_f32x4(v128.shuffle<f32>(hi, hi, 2, 3, 0, 1)));
  return f64x2.add(p01, p23);
}

/** g = g * a - b over a short row, in place. */
// @ts-ignore: decorator
@inline export function short_vmulsubc<T>(g: usize, C: i32, a: T, b: T): void {
  const va = v128.splat<T>(a), vb = v128.splat<T>(b);
  const end = last_offset<T>(C);
  const last = v128.load(g + end);
  for (let o: usize = 0; o < end; o += 16) v128.store(g + o, v128.sub<T>(v128.mul<T>(v128.load(g + o), va), vb));
  v128.store(g + end, v128.sub<T>(v128.mul<T>(last, va), vb));
}

/** y = x * a over a short row (y may be x). */
// @ts-ignore: decorator
@inline export function short_vscale<T>(x: usize, y: usize, C: i32, a: T): void {
  const va = v128.splat<T>(a);
  const end = last_offset<T>(C);
  const last = v128.load(x + end);
  for (let o: usize = 0; o < end; o += 16) v128.store(y + o, v128.mul<T>(v128.load(x + o), va));
  v128.store(y + end, v128.mul<T>(last, va));
}

/** y = (x - a) - b over a short f32 row (y may be x): log_softmax_rows' write pass with beta = 1,
 *  whose (x - m) * 1 - logs is the same value. */
// @ts-ignore: decorator
@inline export function short_vsubsub(x: usize, y: usize, C: i32, a: f32, b: f32): void {
  const va = f32x4.splat(a), vb = f32x4.splat(b);
  const end = last_offset<f32>(C);
  const last = v128.load(x + end);
  for (let o: usize = 0; o < end; o += 16) v128.store(y + o, f32x4.sub(f32x4.sub(v128.load(x + o), va), vb));
  v128.store(y + end, f32x4.sub(f32x4.sub(last, va), vb));
}
