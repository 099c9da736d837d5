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
// the order in which the sum adds them differs.

import { LANES, vhmax, vhsum } from './simd';
import { vexp } from './exp';

/** Whether a row of C elements of T takes the short-row passes. */
// @ts-ignore: decorator
@inline export function is_short_row<T>(C: i32): bool {
  return ASC_FEATURE_SIMD && sizeof<T>() == 4 && C >= LANES<T>() && C <= 4 * LANES<T>();
}

/** Byte offset of the last vector of a row of C elements. */
// @ts-ignore: decorator
@inline function last_offset<T>(C: i32): usize {
  return <usize>(C - LANES<T>()) << alignof<T>();
}

/** max of a short row; NaN elements are passed over as in rmax (the exp-sum that follows turns
 *  a NaN into a NaN row). */
// @ts-ignore: decorator
@inline export function short_rmax<T>(x: usize, C: i32): T {
  // pmax(a, b) keeps a when b is NaN: start from -Infinity so a NaN never becomes the max.
  let m = v128.pmax<T>(v128.splat<T>(<T>-Infinity), v128.load(x + last_offset<T>(C)));
  const end = last_offset<T>(C);
  for (let o: usize = 0; o < end; o += 16) m = v128.pmax<T>(m, v128.load(x + o));
  return vhmax<T>(m);
}

/** sum of exp(x - max) over a short row, in f64; with `keep`, also stores the exp values to y. */
// @ts-ignore: decorator
@inline export function short_raddexpminusmax<T>(x: usize, y: usize, C: i32, max: T, keep: bool): f64 {
  const vmax = v128.splat<T>(max);
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
  // Lanes of the last vector below o were counted by the loop (o - end of them, 0..LANES-1).
  const counted = <i32>(o - end) >> alignof<T>();
  return vhsum<T>(v128.add<T>(sum, v128.and(e, i32x4.gt_s(i32x4(0, 1, 2, 3), i32x4.splat(counted - 1)))));
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
