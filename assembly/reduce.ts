// Reductions over one contiguous slice of n elements of T (f32 or f64) at address x.
// Each has the SIMD body (4 vectors per iteration, independent accumulators), then the scalar
// loop that finishes the tail in the SIMD builds and does all the work in the scalar build.

import { BLOCK, LANES, at, vhmax, vhsum, neumaier_add, neumaier_reset, neumaier_result } from './simd';
import { vexp, sexp } from './exp';

/** max over the slice; NaN elements are passed over (a NaN still poisons the row through the
 *  exp-sum that follows, which is where the caller gets its NaN). -Infinity for n = 0. */
export function rmax<T>(x: usize, n: i32): T {
  let m = <T>-Infinity;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const U = 4 * LANES<T>();
    if (n >= U) {
      let m0 = v128.splat<T>(m), m1 = m0, m2 = m0, m3 = m0;
      for (; i <= n - U; i += U) {
        const p = at<T>(x, i);
        m0 = v128.pmax<T>(m0, v128.load(p));
        m1 = v128.pmax<T>(m1, v128.load(p, 16));
        m2 = v128.pmax<T>(m2, v128.load(p, 32));
        m3 = v128.pmax<T>(m3, v128.load(p, 48));
      }
      m = vhmax<T>(v128.pmax<T>(v128.pmax<T>(m0, m1), v128.pmax<T>(m2, m3)));
    }
  }
  for (; i < n; i++) {
    const v = load<T>(at<T>(x, i));
    m = v > m ? v : m;
  }
  return m;
}

/** sum of exp((x[i] - max) * beta), in f64 (blocked, see BLOCK); when `keep`, also stores each
 *  exp value to y[i] (y may be x). `keep` is a constant at every call site, so the store and
 *  its test vanish from the version that only sums. */
// @ts-ignore: decorator
@inline export function raddexpminusmax<T>(x: usize, y: usize, n: i32, max: T, beta: T, keep: bool): f64 {
  neumaier_reset();
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const U = 4 * LANES<T>();
    const vmax = v128.splat<T>(max);
    const vbeta = v128.splat<T>(beta);
    const nv = n - n % U;
    while (i < nv) {
      const end = min(i + BLOCK, nv);
      let a0 = v128.splat<T>(0), a1 = a0, a2 = a0, a3 = a0;
      for (; i < end; i += U) {
        const p = at<T>(x, i);
        const e0 = vexp<T>(v128.mul<T>(v128.sub<T>(v128.load(p), vmax), vbeta));
        const e1 = vexp<T>(v128.mul<T>(v128.sub<T>(v128.load(p, 16), vmax), vbeta));
        const e2 = vexp<T>(v128.mul<T>(v128.sub<T>(v128.load(p, 32), vmax), vbeta));
        const e3 = vexp<T>(v128.mul<T>(v128.sub<T>(v128.load(p, 48), vmax), vbeta));
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
      }
      neumaier_add(vhsum<T>(v128.add<T>(v128.add<T>(a0, a1), v128.add<T>(a2, a3))));
    }
  }
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    for (; i < end; i++) {
      const e = sexp<T>((load<T>(at<T>(x, i)) - max) * beta);
      if (keep) store<T>(at<T>(y, i), e);
      a += <f64>e;
    }
    neumaier_add(a);
  }
  return neumaier_result();
}

/** sum of x[i] * y[i], in f64 (blocked like raddexpminusmax). */
export function rdot<T>(x: usize, y: usize, n: i32): f64 {
  neumaier_reset();
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const U = 4 * LANES<T>();
    const nv = n - n % U;
    while (i < nv) {
      const end = min(i + BLOCK, nv);
      let a0 = v128.splat<T>(0), a1 = a0, a2 = a0, a3 = a0;
      for (; i < end; i += U) {
        const p = at<T>(x, i), q = at<T>(y, i);
        a0 = v128.add<T>(a0, v128.mul<T>(v128.load(p), v128.load(q)));
        a1 = v128.add<T>(a1, v128.mul<T>(v128.load(p, 16), v128.load(q, 16)));
        a2 = v128.add<T>(a2, v128.mul<T>(v128.load(p, 32), v128.load(q, 32)));
        a3 = v128.add<T>(a3, v128.mul<T>(v128.load(p, 48), v128.load(q, 48)));
      }
      neumaier_add(vhsum<T>(v128.add<T>(v128.add<T>(a0, a1), v128.add<T>(a2, a3))));
    }
  }
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    for (; i < end; i++) a += <f64>load<T>(at<T>(x, i)) * <f64>load<T>(at<T>(y, i));
    neumaier_add(a);
  }
  return neumaier_result();
}

/** sum of x[i], in f64 (blocked like raddexpminusmax). */
export function rsum<T>(x: usize, n: i32): f64 {
  neumaier_reset();
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const U = 4 * LANES<T>();
    const nv = n - n % U;
    while (i < nv) {
      const end = min(i + BLOCK, nv);
      let a0 = v128.splat<T>(0), a1 = a0, a2 = a0, a3 = a0;
      for (; i < end; i += U) {
        const p = at<T>(x, i);
        a0 = v128.add<T>(a0, v128.load(p));
        a1 = v128.add<T>(a1, v128.load(p, 16));
        a2 = v128.add<T>(a2, v128.load(p, 32));
        a3 = v128.add<T>(a3, v128.load(p, 48));
      }
      neumaier_add(vhsum<T>(v128.add<T>(v128.add<T>(a0, a1), v128.add<T>(a2, a3))));
    }
  }
  while (i < n) {
    const end = min(i + BLOCK, n);
    let a: f64 = 0;
    for (; i < end; i++) a += <f64>load<T>(at<T>(x, i));
    neumaier_add(a);
  }
  return neumaier_result();
}

/** true when the slice holds a NaN. Only used on the rare rows whose max is infinite. */
export function rhasnan<T>(x: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const v = load<T>(at<T>(x, i));
    if (v != v) return true;
  }
  return false;
}

/** y[i] = x[i] * s (y may be x). */
export function vscale<T>(x: usize, y: usize, n: i32, s: T): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = v128.splat<T>(s);
    const L = LANES<T>();
    for (; i <= n - L; i += L) v128.store(at<T>(y, i), v128.mul<T>(v128.load(at<T>(x, i)), vs));
  }
  for (; i < n; i++) store<T>(at<T>(y, i), load<T>(at<T>(x, i)) * s);
}

/** y[i] = 0. */
export function vzero<T>(y: usize, n: i32): void {
  memory.fill(y, 0, <usize>n << alignof<T>());
}
