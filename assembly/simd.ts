// Lane helpers shared by every kernel. `T` is f32 or f64; a v128 holds LANES<T>() of them.
// The conditions on ASC_FEATURE_* and sizeof<T>() are constants, folded at compile time, so each
// build (scalar, simd, relaxed-simd) keeps only its own branch.

import { log64 } from './log';

/** Elements per block of the blocked sums: partial sums of one block stay in T lanes (each lane
 *  adds BLOCK / 16 values), then the block total joins an f64 compensated sum. This keeps a row
 *  of 128k float32 logits accurate to ~1e-7 where one f32 running sum drifts to ~1e-6. */
export const BLOCK: i32 = 256;

/** Number of T lanes in a v128: 4 for f32, 2 for f64. */
// @ts-ignore: decorator
@inline export function LANES<T>(): i32 {
  return 16 / <i32>sizeof<T>();
}

/** Where the whole vectors of a row of n elements of T end (0 in the scalar build): a backward
 *  pass (vscale, reduce.ts) takes the elements from there to n one at a time, then the vectors. */
// @ts-ignore: decorator
@inline export function vectors_end<T>(n: i32): i32 {
  return ASC_FEATURE_SIMD ? n & ~(LANES<T>() - 1) : 0;
}

/** Byte address of element i of a T array at p. */
// @ts-ignore: decorator
@inline export function at<T>(p: usize, i: i32): usize {
  return p + (<usize>i << alignof<T>());
}

/** a * b + c. The relaxed-simd build fuses it into one rounding (the reason that build exists). */
// @ts-ignore: decorator
@inline export function vmadd<T>(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return v128.relaxed_madd<T>(a, b, c);
  } else {
    return v128.add<T>(v128.mul<T>(a, b), c);
  }
}

/** Sum of the lanes of v, in f64, in a fixed order. */
// @ts-ignore: decorator
@inline export function vhsum<T>(v: v128): f64 {
  if (sizeof<T>() == 4) {
    return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) +
           (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
  } else {
    return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
  }
}

/** Largest lane of v; NaN lanes are passed over, exactly like the scalar `v > m ? v : m`. */
// @ts-ignore: decorator
@inline export function vhmax<T>(v: v128): T {
  if (sizeof<T>() == 4) {
    let m = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    m = f32x4.pmax(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2));
    return <T>f32x4.extract_lane(m, 0);
  } else {
    return <T>f64x2.extract_lane(f64x2.pmax(v, v128.shuffle<f64>(v, v, 1, 0)), 0);
  }
}

/** Compensated (Neumaier) summation, for sums of block totals and of per-row losses. The state
 *  is two f64 locals of the caller, (sum, comp), both starting at 0; adding x is
 *  `comp = neumaier_comp(sum, comp, x); sum += x;` and the total is neumaier_result(sum, comp). */
// @ts-ignore: decorator
@inline export function neumaier_comp(sum: f64, comp: f64, x: f64): f64 {
  const t = sum + x;
  // Neumaier's variant of Kahan summation: recover the low part lost by whichever addend is smaller.
  return comp + (Math.abs(sum) >= Math.abs(x) ? (sum - t) + x : (x - t) + sum);
}

/** neumaier_comp on each f64 lane. */
// @ts-ignore: decorator
@inline export function vneumaier_comp(sum: v128, comp: v128, x: v128): v128 {
  const t = f64x2.add(sum, x);
  const big = f64x2.ge(f64x2.abs(sum), f64x2.abs(x));
  return f64x2.add(comp, v128.bitselect(f64x2.add(f64x2.sub(sum, t), x), f64x2.add(f64x2.sub(x, t), sum), big));
}

// @ts-ignore: decorator
@inline export function neumaier_result(sum: f64, comp: f64): f64 {
  // With an infinite or NaN addend the compensation is NaN (Inf - Inf); the plain sum is right then.
  return isFinite(sum) ? sum + comp : sum;
}

/** log(1 + m) for m >= 0, to a few ulp also where 1 + m rounds (m below 2^-53 included): for
 *  m < 2^-7 its series to m^8 (the next term is below 2^-56 of the sum: no call of log64, as
 *  for the confident rows that mostly need it); above, log(u) of u = 1 + m rounded, less the
 *  rounding (u - 1 - m) / u (Goldberg). (~lib's log1p costs several times a log.) */
// @ts-ignore: decorator
@inline export function log1p_pos(m: f64): f64 {
  if (m < 0.0078125) {
    const p = ((((((-1.0 / 8 * m + 1.0 / 7) * m - 1.0 / 6) * m + 1.0 / 5) * m - 1.0 / 4) * m + 1.0 / 3) * m - 0.5) * m;
    return m + m * p;
  }
  const u = 1 + m;
  return log64(u) - ((u - 1) - m) / u;
}

/** The mask of the lanes of a row's last vector (moved back to end at the row's end) that the vectors before it did not count:
 *  its lowest `counted` lanes (0..LANES-1) repeat elements the loop already took. */
// @ts-ignore: decorator
@inline export function uncounted_lanes(counted: i32): v128 {
  return i32x4.gt_s(i32x4(0, 1, 2, 3), i32x4.splat(counted - 1));
}
