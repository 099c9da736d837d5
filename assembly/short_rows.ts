// Passes over one short float32 row: C in [LANES, 4 * LANES] = [4, 16] elements, the 10-class
// classifier's case, SIMD builds only (float64 rows and softmax with a temperature take the
// general passes, to keep the embedded builds small). The general passes (reduce.ts) spend most
// of such a row in loop set-up, horizontal reductions of unused accumulators and scalar tails.
// Here the row is whole vectors at 0, LANES, 2 * LANES, ... below C - LANES, and one last vector
// moved back to end exactly at C, which repeats some elements of the one before: a repeated
// element does not change a max or a min, a sum masks out the lanes already counted, and a store
// of a repeated element writes the value computed from the same input. The last vector is loaded
// before anything is stored, so y may be x.
//
// The exp pass is the k-shift (vexp_k, exp.ts): exp(x - k*ln2) with k = round(max * log2e), so
// x - max is never rounded (in f32 it was: 15.6 ulp of softmax on confident 10-class rows). It
// needs every exp at or above 2^-126 (max - min <= 87) and |max| within KSHIFT_MAX_ABS; a row
// outside that (spans past 87 with their subnormal results, |max| > 256 in the simd build, -Inf
// or +Inf entries, a constant row) takes the general passes instead (short_expsum_general). The
// sum is then in units of the max's own exp, the unit (at TMP_GROUP_UNITS), which the softmax and
// the gradient cancel and the logs divide out (r = s / unit, as log_expsum). Rows also go four at
// a time (short_group4_store), with the same bits as one at a time: the same operations on each
// value. Where C = 2 mod 4 (6, 10, 14 classes) a group is C whole vectors (pair_group4_body), and
// a row alone adds its last two exp values in the lanes a group adds them in. The backward passes'
// sums (short_vsum, short_group4_rsum) and writes take the shape of a row alone.

import { log64, vlog64 } from './log';
import { LANES, vhmax, vhsum, log1p_pos, uncounted_lanes } from './simd';
import { vexp, vexp_k, sexp_k, vkshift, skshift, vkmagic, KMAGIC, NO_CUTOFF_RANGE } from './exp';
import { TMP_GROUP_SUMS, TMP_GROUP_MAX, TMP_GROUP_LOGS, TMP_GROUP_UNITS, TMP_SHORT_GENERAL, TMP_EXP_UNIT, NEAR1_SUM_SHORT, KSHIFT_MAX_ABS,
  log_expsum_near1, rmax, in_exp_range, expsum_wide_row, expsum_store_flush, expsum_flush } from './reduce';
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

/** The lane-wise min of a short row's vectors (as short_vmax: pmin passes over NaN the same way). */
// @ts-ignore: decorator
@inline function short_vmin(x: usize, C: i32): v128 {
  let m = f32x4.pmin(f32x4.splat(Infinity), v128.load(x + last_offset<f32>(C)));
  const end = last_offset<f32>(C);
  for (let o: usize = 0; o < end; o += 16) m = f32x4.pmin(m, v128.load(x + o));
  return m;
}

/** The lanes of short rows of maxima vm and minima vn that take the k-shift: not constant (its
 *  exp values are then exactly 1, and its sum C), every exp at or above 2^-126 (vm - vn <=
 *  NO_CUTOFF_RANGE) and |vm| <= KSHIFT_MAX_ABS (false for an infinite max, and for a row of NaN,
 *  whose max stays -Infinity). short_kshift_row takes it for one row. */
// @ts-ignore: decorator
@inline function short_kshift_lanes(vm: v128, vn: v128): v128 {
  // 0 < vm - vn <= NO_CUTOFF_RANGE as one unsigned comparison of the bits of vm - vn minus 1 (a
  // positive float's bits order as it does; 0 wraps around, and NaN and negative bits are above).
  const span = i32x4.sub(f32x4.sub(vm, vn), i32x4.splat(1));
  return v128.and(i32x4.lt_u(span, i32x4.splat(reinterpret<i32>(NO_CUTOFF_RANGE<f32>()))),
    f32x4.le(f32x4.abs(vm), f32x4.splat(<f32>KSHIFT_MAX_ABS())));
}
/** Whether the short row at x of max m takes the k-shift: short_kshift_lanes' test itself, on m
 *  and the row's min (in lane 0). */
// @ts-ignore: decorator
@inline function short_kshift_row(x: usize, C: i32, m: f32): bool {
  const vn = short_vmin(x, C);
  let n = f32x4.pmin(vn, v128.shuffle<f32>(vn, vn, 2, 3, 0, 1));
  n = f32x4.pmin(n, v128.shuffle<f32>(n, n, 1, 0, 3, 2));
  return i32x4.extract_lane(short_kshift_lanes(f32x4.splat(m), n), 0) != 0;
}

/** sum of exp(x - k*ln2) over a short f32 row of max m (k = skshift(m): vexp_k), in f64; with
 *  `keep`, also stores the exp values to y. The unit (the exp the pass gives m) goes to unitAt.
 *  A row the k-shift cannot take (short_kshift_row) takes the general passes. */
// @ts-ignore: decorator
@inline export function short_raddexpminusmax(x: usize, y: usize, C: i32, m: f32, keep: bool, tmp: usize, unitAt: usize): f64 {
  return keep ? short_expsum_store(x, y, C, m, tmp, unitAt) : short_expsum(x, C, m, tmp, unitAt);
}

/** short_raddexpminusmax with and without `keep`: functions of their own (a group of four whose
 *  rows cannot all take the k-shift calls them too). */
function short_expsum_store(x: usize, y: usize, C: i32, m: f32, tmp: usize, unitAt: usize): f64 { return short_expsum_body(x, y, C, m, true, tmp, unitAt); }
function short_expsum(x: usize, C: i32, m: f32, tmp: usize, unitAt: usize): f64 { return short_expsum_body(x, 0, C, m, false, tmp, unitAt); }

// @ts-ignore: decorator
@inline function short_expsum_body(x: usize, y: usize, C: i32, m: f32, keep: bool, tmp: usize, unitAt: usize): f64 {
  if (!short_kshift_row(x, C, m)) return short_expsum_general(x, y, C, m, tmp, unitAt);
  const magic = KMAGIC(skshift(m));
  store<f32>(unitAt, sexp_k(m, magic));
  return vhsum<f32>(short_vexpsum_k(x, y, C, f32x4.splat(magic), keep));
}

/** A short row the k-shift cannot take, over the general passes (in tmp + TMP_SHORT_GENERAL): a
 *  span past 87, the wide k-shift with subnormal results (expsum_wide_row); else (|max| beyond
 *  KSHIFT_MAX_ABS, where x - max is exact for the x >= max / 2 a span <= 87 leaves, or a constant
 *  row) exp(x - max) with unit 1. The exp values to y unless y is 0, the unit to unitAt. */
function short_expsum_general(x: usize, y: usize, C: i32, m: f32, tmp: usize, unitAt: usize): f64 {
  const t = tmp + TMP_SHORT_GENERAL;
  rmax<f32>(x, C, t); // the min, for in_exp_range
  store<f64>(t + TMP_EXP_UNIT, 1);
  let s: f64;
  if (!in_exp_range<f32>(m, 1, t)) s = expsum_wide_row(x, y, C, m, t);
  else s = y ? expsum_store_flush<f32>(x, y, C, m, 0, t) : expsum_flush<f32>(x, C, m, t);
  store<f32>(unitAt, <f32>load<f64>(t + TMP_EXP_UNIT));
  return s;
}

/** The lanes of short_raddexpminusmax's sum before its horizontal step (vmagic: KMAGIC(k) in every lane). */
// @ts-ignore: decorator
@inline function short_vexpsum_k(x: usize, y: usize, C: i32, vmagic: v128, keep: bool): v128 {
  const end = last_offset<f32>(C);
  const last = v128.load(x + end);
  let sum = f32x4.splat(0);
  let o: usize = 0;
  for (; o < end; o += 16) {
    const e = vexp_k(v128.load(x + o), vmagic);
    if (keep) v128.store(y + o, e);
    sum = f32x4.add(sum, e);
  }
  const e = vexp_k(last, vmagic);
  if (keep) v128.store(y + end, e);
  // (C = 2 mod 4: the last vector's two new values are added in lanes 0 and 1, where a group of
  // four adds them (pair_group4_body): the same lanes in the same order, so the same sum)
  if ((C & 3) == 2) return f32x4.add(sum, v128.and(v128.shuffle<f32>(e, e, 2, 3, 0, 1), pair_first()));
  return f32x4.add(sum, v128.and(e, uncounted_lanes(<i32>(o - end) >> 2)));
}

/** r = s / unit: a short row's exp-sum relative to its max term (the unit stored at unitAt), as
 *  s * (1 / unit): the reciprocal does not wait for s, and a multiplication on the way to the log
 *  is shorter than a division (a one-row call is a chain of latencies). Groups take the same. */
// @ts-ignore: decorator
@inline export function short_ratio(s: f64, unitAt: usize): f64 {
  return short_ratio_of(s, load<f32>(unitAt));
}
// @ts-ignore: decorator
@inline export function short_ratio_of(s: f64, u: f32): f64 {
  return s * (1.0 / <f64>u);
}

/** log(r) of a short row's exp-sum relative to its max term, r = s / unit (short_ratio; from its
 *  max m and unit u; x intact): `logr`, log64(r) from the caller (a group's four come from two
 *  vlog64), or near 1 (NEAR1_SUM_SHORT in reduce.ts) short_log_expsum_near1, which takes the
 *  row's exp values from `e` where its pass kept them there (else 0). */
// @ts-ignore: decorator
@inline export function short_log_expsum(r: f64, logr: f64, u: f32, x: usize, C: i32, m: f32, e: usize = 0): f64 {
  return r < NEAR1_SUM_SHORT ? short_log_expsum_near1(x, e, C, m, u) : logr;
}

/** The `logr` of short_log_expsum for a row alone: log64(r), or nothing (0) where r takes the
 *  near-1 path, which does not use it (a group's come from vlog64 whatever r is). */
// @ts-ignore: decorator
@inline export function short_log_of(r: f64): f64 {
  return r < NEAR1_SUM_SHORT ? 0 : log64(r);
}

/** log_expsum_near1 of a short row (x intact; its max m, its unit u; r < NEAR1_SUM_SHORT, so m is
 *  its only max): log1p(mass / u), the mass summed apart over the exp values of the row's own
 *  pass (vexp_k, every one at or above 2^-126) but the max's: those the pass kept at e, or (e = 0)
 *  the same values computed again. A row the k-shift cannot take, log_expsum_near1 itself. */
function short_log_expsum_near1(x: usize, e: usize, C: i32, m: f32, u: f32): f64 {
  if (!short_kshift_row(x, C, m)) return log_expsum_near1(x, C, m);
  const vmagic = f32x4.splat(KMAGIC(skshift(m))), vm = f32x4.splat(m);
  const end = last_offset<f32>(C);
  let acc = f32x4.splat(0);
  let o: usize = 0;
  for (; o < end; o += 16) {
    const v = v128.load(x + o);
    acc = f32x4.add(acc, v128.andnot(e ? v128.load(e + o) : vexp_k(v, vmagic), f32x4.eq(v, vm)));
  }
  const v = v128.load(x + end);
  acc = f32x4.add(acc, v128.andnot(e ? v128.load(e + end) : vexp_k(v, vmagic), v128.or(f32x4.eq(v, vm), v128.not(uncounted_lanes(<i32>(o - end) >> 2)))));
  return log1p_pos(vhsum<f32>(acc) / <f64>u);
}

/** The log of a short f32 row's exp-sum relative to its max term, log1p(mass / unit), for a row
 *  whose element t is its max: the unit is e[t], the mass the sum of its other exp values, in f64,
 *  from the exp values e of the row (short_raddexpminusmax's, stored or computed again: the same
 *  bits, summed in the same lanes either way, so the cross-entropy's loss has the same bits with
 *  and without the gradient). t = -1 (no element found to hold the row's `unit`): the log of the
 *  whole sum over `unit`. */
export function short_log1p_mass_but(e: usize, C: i32, t: i32, unit: f32): f64 {
  const vt = i32x4.splat(t);
  const end = last_offset<f32>(C);
  let acc = f32x4.splat(0);
  let o: usize = 0;
  for (; o < end; o += 16) {
    acc = f32x4.add(acc, v128.andnot(v128.load(e + o), i32x4.eq(i32x4.add(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(o >> 2))), vt)));
  }
  const keep = v128.andnot(uncounted_lanes(<i32>(o - end) >> 2), i32x4.eq(i32x4.add(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(end >> 2))), vt));
  const sum = vhsum<f32>(f32x4.add(acc, v128.and(v128.load(e + end), keep)));
  return t >= 0 ? log1p_pos(sum / <f64>load<f32>(e + (<usize>t << 2))) : log64(sum / <f64>unit);
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

/** Four short f32 rows at once (row r at x + r * stride, its exp values to y + r * stride): the
 *  passes of short_rmax and short_raddexpminusmax on each, with their horizontal steps done for
 *  the four rows together, so the rows' dependency chains (max, exp, sum) overlap. Returns the
 *  maxima (lane r: row r) and stores them at g + TMP_GROUP_MAX, the sums (f64) at
 *  g + TMP_GROUP_SUMS and the units at g + TMP_GROUP_UNITS; g is the caller's tmp (reduce.ts).
 *  Each result has the same bits as the one-row passes give: the same operations on each value,
 *  in the same order. A group with a row the k-shift cannot take goes one row at a time. */
// @ts-ignore: decorator
@inline function short_group4_body(x: usize, y: usize, stride: usize, C: i32, g: usize): v128 {
  if ((C & 3) == 2) {
    // (pair_group4_body shares vectors between rows: it needs them contiguous)
    assert(stride == <usize>C << 2, 'short_group4_body: rows of C = 2 mod 4 must be contiguous');
    return pair_group4_body(x, y, C, g);
  }
  // The lane-wise max and min of the four rows (short_vmax, short_vmin) in one loop.
  const end = last_offset<f32>(C);
  const x1 = x + stride, x2 = x + 2 * stride, x3 = x + 3 * stride;
  const l0 = v128.load(x + end), l1 = v128.load(x1 + end), l2 = v128.load(x2 + end), l3 = v128.load(x3 + end);
  const lo = f32x4.splat(-Infinity), hi = f32x4.splat(Infinity);
  let m0 = f32x4.pmax(lo, l0), m1 = f32x4.pmax(lo, l1), m2 = f32x4.pmax(lo, l2), m3 = f32x4.pmax(lo, l3);
  let n0 = f32x4.pmin(hi, l0), n1 = f32x4.pmin(hi, l1), n2 = f32x4.pmin(hi, l2), n3 = f32x4.pmin(hi, l3);
  for (let o: usize = 0; o < end; o += 16) {
    const v0 = v128.load(x + o), v1 = v128.load(x1 + o), v2 = v128.load(x2 + o), v3 = v128.load(x3 + o);
    m0 = f32x4.pmax(m0, v0); m1 = f32x4.pmax(m1, v1); m2 = f32x4.pmax(m2, v2); m3 = f32x4.pmax(m3, v3);
    n0 = f32x4.pmin(n0, v0); n1 = f32x4.pmin(n1, v1); n2 = f32x4.pmin(n2, v2); n3 = f32x4.pmin(n3, v3);
  }
  const M = vtranspose_hmax(m0, m1, m2, m3, true), N = vtranspose_hmax(n0, n1, n2, n3, false);
  v128.store(g + TMP_GROUP_MAX, M);
  if (!i32x4.all_true(short_kshift_lanes(M, N))) return group4_rows_alone(x, y, stride, C, M, g);
  const vmagic = vkmagic(vkshift(M));
  v128.store(g + TMP_GROUP_UNITS, vexp_k(M, vmagic));
  // The exp passes two rows to a loop (the overlap of the rows' chains is the point; four to a
  // loop spill, see pair_group4_body).
  const k0 = v128.shuffle<f32>(vmagic, vmagic, 0, 0, 0, 0), k1 = v128.shuffle<f32>(vmagic, vmagic, 1, 1, 1, 1);
  const k2 = v128.shuffle<f32>(vmagic, vmagic, 2, 2, 2, 2), k3 = v128.shuffle<f32>(vmagic, vmagic, 3, 3, 3, 3);
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let o: usize = 0;
  for (; o < end; o += 16) {
    const e0 = vexp_k(v128.load(x + o), k0), e1 = vexp_k(v128.load(x1 + o), k1);
    v128.store(y + o, e0); v128.store(y + stride + o, e1);
    s0 = f32x4.add(s0, e0); s1 = f32x4.add(s1, e1);
  }
  for (let p: usize = 0; p < end; p += 16) {
    const e2 = vexp_k(v128.load(x2 + p), k2), e3 = vexp_k(v128.load(x3 + p), k3);
    v128.store(y + 2 * stride + p, e2); v128.store(y + 3 * stride + p, e3);
    s2 = f32x4.add(s2, e2); s3 = f32x4.add(s3, e3);
  }
  const fresh = uncounted_lanes(<i32>(o - end) >> 2);
  const e0 = vexp_k(l0, k0), e1 = vexp_k(l1, k1), e2 = vexp_k(l2, k2), e3 = vexp_k(l3, k3);
  v128.store(y + end, e0); v128.store(y + stride + end, e1); v128.store(y + 2 * stride + end, e2); v128.store(y + 3 * stride + end, e3);
  s0 = f32x4.add(s0, v128.and(e0, fresh)); s1 = f32x4.add(s1, v128.and(e1, fresh));
  s2 = f32x4.add(s2, v128.and(e2, fresh)); s3 = f32x4.add(s3, v128.and(e3, fresh));
  v128.store(g + TMP_GROUP_SUMS, vhsum_pair(s0, s1));
  v128.store(g + TMP_GROUP_SUMS, vhsum_pair(s2, s3), 16);
  return M;
}

/** A group with a row the k-shift cannot take (maxima M, stored at g + TMP_GROUP_MAX): its four
 *  rows one at a time (row k at x + k * stride, its exp values at y + k * stride), leaving the
 *  state a group leaves. Returns M. */
// @ts-ignore: decorator
@inline function group4_rows_alone(x: usize, y: usize, stride: usize, C: i32, M: v128, g: usize): v128 {
  for (let k = 0; k < 4; k++) {
    const o = <usize>k * stride;
    store<f64>(g + TMP_GROUP_SUMS + (<usize>k << 3), short_raddexpminusmax(x + o, y + o, C, load<f32>(g + TMP_GROUP_MAX + (<usize>k << 2)), true, g, g + TMP_GROUP_UNITS + (<usize>k << 2)));
  }
  return M;
}

/** Lanes 0 and 1: in a pair of C = 2 mod 4 rows, the shared vector's part of the first row. */
// @ts-ignore: decorator
@inline function pair_first(): v128 { return i32x4(-1, -1, 0, 0); }

/** short_group4_body for C = 2 mod 4 (6, 10, 14 classes), rows contiguous (stride C * 4): a pair
 *  of rows is C / 2 whole vectors, the first row's (C - 2) / 4, one shared (the first row's last
 *  two elements in lanes 0 and 1, the second's first two in lanes 2 and 3), then the second's.
 *  So a group is C vectors where its rows one at a time take C + 2 (10 classes: 10 exp vectors,
 *  not 12; measured 2-5% off a 10-class softmax or cross-entropy). The sums have the bits of a row
 *  alone (short_vexpsum_k): each lane adds the same values in the same order (the second row's
 *  lanes turned by two, which vhsum_pair's (l0 + l1) + (l2 + l3) does not see). The max and min
 *  take half of the shared vector twice, which does not change them. */
// @ts-ignore: decorator
@inline export function pair_group4_body(x: usize, y: usize, C: i32, g: usize): v128 {
  const sp = <usize>(C - 2) << 2; // the shared vector's offset in a pair
  const x2 = x + (<usize>C << 3), xb = x + sp + 16, xd = x2 + sp + 16;
  const s01 = v128.load(x + sp), s23 = v128.load(x2 + sp);
  const d0 = v128.shuffle<f32>(s01, s01, 0, 1, 0, 1), d1 = v128.shuffle<f32>(s01, s01, 2, 3, 2, 3);
  const d2 = v128.shuffle<f32>(s23, s23, 0, 1, 0, 1), d3 = v128.shuffle<f32>(s23, s23, 2, 3, 2, 3);
  // (short_group4_body's max-and-min loop over other vectors: one function shared by the two, the
  // maxima handed back through tmp, made both 3.5-7% slower)
  const lo = f32x4.splat(-Infinity), hi = f32x4.splat(Infinity);
  let m0 = f32x4.pmax(lo, d0), m1 = f32x4.pmax(lo, d1), m2 = f32x4.pmax(lo, d2), m3 = f32x4.pmax(lo, d3);
  let n0 = f32x4.pmin(hi, d0), n1 = f32x4.pmin(hi, d1), n2 = f32x4.pmin(hi, d2), n3 = f32x4.pmin(hi, d3);
  for (let o: usize = 0; o < sp; o += 16) {
    const v0 = v128.load(x + o), v1 = v128.load(xb + o), v2 = v128.load(x2 + o), v3 = v128.load(xd + o);
    m0 = f32x4.pmax(m0, v0); m1 = f32x4.pmax(m1, v1); m2 = f32x4.pmax(m2, v2); m3 = f32x4.pmax(m3, v3);
    n0 = f32x4.pmin(n0, v0); n1 = f32x4.pmin(n1, v1); n2 = f32x4.pmin(n2, v2); n3 = f32x4.pmin(n3, v3);
  }
  const M = vtranspose_hmax(m0, m1, m2, m3, true), N = vtranspose_hmax(n0, n1, n2, n3, false);
  v128.store(g + TMP_GROUP_MAX, M);
  if (!i32x4.all_true(short_kshift_lanes(M, N))) return group4_rows_alone(x, y, <usize>C << 2, C, M, g);
  const vmagic = vkmagic(vkshift(M));
  v128.store(g + TMP_GROUP_UNITS, vexp_k(M, vmagic));
  const k0 = v128.shuffle<f32>(vmagic, vmagic, 0, 0, 0, 0), k1 = v128.shuffle<f32>(vmagic, vmagic, 1, 1, 1, 1);
  const k2 = v128.shuffle<f32>(vmagic, vmagic, 2, 2, 2, 2), k3 = v128.shuffle<f32>(vmagic, vmagic, 3, 3, 3, 3);
  const e01 = vexp_k(s01, v128.shuffle<f32>(vmagic, vmagic, 0, 0, 1, 1));
  const e23 = vexp_k(s23, v128.shuffle<f32>(vmagic, vmagic, 2, 2, 3, 3));
  const y2 = y + (<usize>C << 3), yb = y + sp + 16, yd = y2 + sp + 16;
  v128.store(y + sp, e01);
  v128.store(y2 + sp, e23);
  // (the second row's first two elements open its lanes 2 and 3; the first row's last two close its lanes 0 and 1)
  let a0 = f32x4.splat(0), a2 = a0;
  let a1 = v128.andnot(e01, pair_first()), a3 = v128.andnot(e23, pair_first());
  // (two rows to a loop: four at once need more vector registers than x64 has, and V8 then
  // spills accumulators and k's to the stack in the loop; 2-3% of a 10-class call)
  for (let o: usize = 0; o < sp; o += 16) {
    const e0 = vexp_k(v128.load(x + o), k0), e1 = vexp_k(v128.load(xb + o), k1);
    v128.store(y + o, e0); v128.store(yb + o, e1);
    a0 = f32x4.add(a0, e0); a1 = f32x4.add(a1, e1);
  }
  for (let o: usize = 0; o < sp; o += 16) {
    const e2 = vexp_k(v128.load(x2 + o), k2), e3 = vexp_k(v128.load(xd + o), k3);
    v128.store(y2 + o, e2); v128.store(yd + o, e3);
    a2 = f32x4.add(a2, e2); a3 = f32x4.add(a3, e3);
  }
  a0 = f32x4.add(a0, v128.and(e01, pair_first()));
  a2 = f32x4.add(a2, v128.and(e23, pair_first()));
  v128.store(g + TMP_GROUP_SUMS, vhsum_pair(a0, a1));
  v128.store(g + TMP_GROUP_SUMS, vhsum_pair(a2, a3), 16);
  return M;
}

/** y = y * a[r] - b, or (`sub` false) y * a[r], over the four rows r of a group (row r at y +
 *  r * stride; a: f32x4): short_vmulsubc and short_vscale of each row, the same operation on
 *  each value, over a group of pairs (pair_group4_body) where C = 2 mod 4. */
// @ts-ignore: decorator
@inline export function short_group4_mulsub(y: usize, stride: usize, C: i32, a: v128, b: f32, sub: bool): void {
  if ((C & 3) != 2) {
    if (sub) {
      short_vmulsubc<f32>(y, C, f32x4.extract_lane(a, 0), b);
      short_vmulsubc<f32>(y + stride, C, f32x4.extract_lane(a, 1), b);
      short_vmulsubc<f32>(y + 2 * stride, C, f32x4.extract_lane(a, 2), b);
      short_vmulsubc<f32>(y + 3 * stride, C, f32x4.extract_lane(a, 3), b);
    } else {
      short_vscale<f32>(y, y, C, f32x4.extract_lane(a, 0));
      short_vscale<f32>(y + stride, y + stride, C, f32x4.extract_lane(a, 1));
      short_vscale<f32>(y + 2 * stride, y + 2 * stride, C, f32x4.extract_lane(a, 2));
      short_vscale<f32>(y + 3 * stride, y + 3 * stride, C, f32x4.extract_lane(a, 3));
    }
    return;
  }
  const sp = <usize>(C - 2) << 2;
  const vb = f32x4.splat(b);
  const a0 = v128.shuffle<f32>(a, a, 0, 0, 0, 0), a1 = v128.shuffle<f32>(a, a, 1, 1, 1, 1);
  const a2 = v128.shuffle<f32>(a, a, 2, 2, 2, 2), a3 = v128.shuffle<f32>(a, a, 3, 3, 3, 3);
  const y2 = y + (<usize>C << 3), yb = y + sp + 16, yd = y2 + sp + 16;
  const v01 = f32x4.mul(v128.load(y + sp), v128.shuffle<f32>(a, a, 0, 0, 1, 1));
  const v23 = f32x4.mul(v128.load(y2 + sp), v128.shuffle<f32>(a, a, 2, 2, 3, 3));
  v128.store(y + sp, sub ? f32x4.sub(v01, vb) : v01);
  v128.store(y2 + sp, sub ? f32x4.sub(v23, vb) : v23);
  for (let o: usize = 0; o < sp; o += 16) {
    const v0 = f32x4.mul(v128.load(y + o), a0), v1 = f32x4.mul(v128.load(yb + o), a1);
    const v2 = f32x4.mul(v128.load(y2 + o), a2), v3 = f32x4.mul(v128.load(yd + o), a3);
    v128.store(y + o, sub ? f32x4.sub(v0, vb) : v0); v128.store(yb + o, sub ? f32x4.sub(v1, vb) : v1);
    v128.store(y2 + o, sub ? f32x4.sub(v2, vb) : v2); v128.store(yd + o, sub ? f32x4.sub(v3, vb) : v3);
  }
}

/** The horizontal max (`max`) or min of each of four f32 vectors, as the lanes of one: each
 *  vhmax's steps (pmax(v, v[2, 3, 0, 1]), then pmax(m, m[1, 0, 3, 2])), transposed. */
// @ts-ignore: decorator
@inline function vtranspose_hmax(m0: v128, m1: v128, m2: v128, m3: v128, max: bool): v128 {
  const a0 = v128.shuffle<f32>(m0, m1, 0, 4, 1, 5), b0 = v128.shuffle<f32>(m0, m1, 2, 6, 3, 7);
  const a1 = v128.shuffle<f32>(m2, m3, 0, 4, 1, 5), b1 = v128.shuffle<f32>(m2, m3, 2, 6, 3, 7);
  const t0 = max ? f32x4.pmax(a0, b0) : f32x4.pmin(a0, b0), t1 = max ? f32x4.pmax(a1, b1) : f32x4.pmin(a1, b1);
  const a = v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), b = v128.shuffle<f32>(t0, t1, 2, 3, 6, 7);
  return max ? f32x4.pmax(a, b) : f32x4.pmin(a, b);
}

/** short_group4_body, storing the exp values to y (may be x; a pass that keeps none gives a block
 *  of its tmp): a function of its own, called once per four rows, rather than the passes inlined
 *  at every call site. */
export function short_group4_store(x: usize, y: usize, stride: usize, C: i32, tmp: usize): v128 { return short_group4_body(x, y, stride, C, tmp); }

/** The units of rows 2h and 2h + 1 of a group (U: its four units, f32), as f64. */
// @ts-ignore: decorator
@inline function short_group4_units(U: v128, h: i32): v128 {
  return f64x2.promote_low_f32x4(h ? v128.shuffle<f32>(U, U, 2, 3, 0, 1) : U);
}

/** The group state a short_group4_* call left in tmp: its sums of rows 2h and 2h + 1 (f64), and
 *  its four units (f32). */
// @ts-ignore: decorator
@inline export function short_group4_sums(tmp: usize, h: i32): v128 { return v128.load(tmp + TMP_GROUP_SUMS + (<usize>h << 4)); }
// @ts-ignore: decorator
@inline export function short_group4_unit_lanes(tmp: usize): v128 { return v128.load(tmp + TMP_GROUP_UNITS); }

/** r = s / unit (short_ratio) of rows 2h and 2h + 1 of a group (s: their sums, U: its units). */
// @ts-ignore: decorator
@inline export function short_group4_ratios_of(s: v128, U: v128, h: i32): v128 {
  return f64x2.mul(s, f64x2.div(f64x2.splat(1.0), short_group4_units(U, h)));
}

/** The lanes of rows 2h and 2h + 1 of a group whose r = s / unit is below NEAR1_SUM_SHORT, tested
 *  as s < unit * NEAR1_SUM_SHORT (exact in f64: no division). */
// @ts-ignore: decorator
@inline export function short_group4_near1(tmp: usize, h: i32): v128 {
  return f64x2.lt(short_group4_sums(tmp, h), f64x2.mul(short_group4_units(short_group4_unit_lanes(tmp), h), f64x2.splat(NEAR1_SUM_SHORT)));
}

/** The logs of the four rows' r (short_group4_ratios_of; s01, s23 the sums, U the units), stored
 *  at `out` (four f64): two vlog64, which give a row alone's log64 bits and cost less than four
 *  calls of it. */
// @ts-ignore: decorator
@inline export function short_group4_logs_of(s01: v128, s23: v128, U: v128, out: usize): void {
  const r01 = short_group4_ratios_of(s01, U, 0), r23 = short_group4_ratios_of(s23, U, 1);
  v128.store(out, vlog64(r01));
  v128.store(out, vlog64(r23), 16);
}
/** short_group4_logs_of for the group a short_group4_* call left in tmp, to tmp + TMP_GROUP_LOGS. */
// @ts-ignore: decorator
@inline export function short_group4_logs(tmp: usize): void {
  short_group4_logs_of(short_group4_sums(tmp, 0), short_group4_sums(tmp, 1), short_group4_unit_lanes(tmp), tmp + TMP_GROUP_LOGS);
}

/** The product of the four rows' r (short_group4_ratios_of), as the product of the sums over that
 *  of the units: where only the rows' sum of losses is used, a span of such groups takes one log
 *  of the product of their products (cross_entropy.ts ce_index_rows; each sum is in [0.7, 16 *
 *  1.42] or NaN, each unit in [0.7, 1.42], so a group's product is below 1.2e6 (2^20.2), a span of
 *  LOG_SPAN_ROWS = 64 rows' below 2^322, far from overflow, and its log is the sum of the 64 logs
 *  to ~2e-14 absolute: ~150 roundings of 2^-53 relative in the product). */
// @ts-ignore: decorator
@inline export function short_group4_ratio_product(s01: v128, s23: v128, U: v128): f64 {
  const s = f64x2.mul(s01, s23);
  const u = f64x2.mul(short_group4_units(U, 0), short_group4_units(U, 1));
  return (f64x2.extract_lane(s, 0) * f64x2.extract_lane(s, 1)) / (f64x2.extract_lane(u, 0) * f64x2.extract_lane(u, 1));
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
