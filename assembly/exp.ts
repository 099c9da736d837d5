// exp(x) for the arguments softmax needs: x = logit - max <= 0. One vector form and one scalar
// form per element type, written as the same sequence of operations so they can be checked
// against each other.
//
// Method (f32: XNNPACK's rr2-p5, src/f32-raddstoreexpminusmax): write x = n*ln2 + t with
// n = round(x / ln2) and |t| <= ln2/2, so exp(x) = 2^n * exp(t).
//  - n is rounded by adding a "magic bias" 1.5*2^23 (f32) / 1.5*2^52 (f64): the addition leaves
//    round(x*log2e) in the low mantissa bits. The f32 bias also carries the exponent bias 127, so
//    shifting those bits up into the exponent field builds s = 2^n directly.
//  - t = x - n*ln2 uses a two-constant ln2 (Cody & Waite): ln2_hi has trailing zero bits so
//    n*ln2_hi is exact, and ln2_lo adds the rest.
//  - exp(t) = 1 + t*p(t); f32 uses XNNPACK's degree-5 minimax polynomial (max error ~2 ulp).
//  - f64 reduces in steps of ln2/64 (n = round(x * 64/ln2), |t| <= ln2/128) and takes 2^(n/64)
//    from a 64-entry table, which leaves a degree-5 polynomial (see F64_EXP_TABLE).
//  - Results that would be subnormal (x below ln(smallest normal)) are flushed to 0 (vexp_k_wide
//    keeps them, for the rows that reach them); a NaN x gives NaN (it flows through t), and
//    x = -Infinity gives 0.

import { vmadd } from './simd';

// f32 constants, bit-exact (XNNPACK's hex-float literals).
// @ts-ignore: decorator
@inline const F32_LOG2E: f32 = reinterpret<f32>(0x3FB8AA3B);       // 0x1.715476p+0
// @ts-ignore: decorator
@inline const F32_MAGIC: f32 = reinterpret<f32>(0x4B40007F);       // 0x1.8000FEp23 = 1.5*2^23 + 127
// @ts-ignore: decorator
@inline const F32_MINUS_LN2_HI: f32 = reinterpret<f32>(0xBF317200); // -0x1.62E400p-1
// @ts-ignore: decorator
@inline const F32_MINUS_LN2_LO: f32 = reinterpret<f32>(0xB5BFBE8E); // -0x1.7F7D1Cp-20
// @ts-ignore: decorator
@inline const F32_MINUS_LN2: f32 = reinterpret<f32>(0xBF317218);    // -0x1.62E430p-1, nearest to -ln2
// @ts-ignore: decorator
@inline const F32_C5: f32 = reinterpret<f32>(0x3C07CFCE);          // 0x1.0F9F9Cp-7
// @ts-ignore: decorator
@inline const F32_C4: f32 = reinterpret<f32>(0x3D2B9D0D);          // 0x1.573A1Ap-5
// @ts-ignore: decorator
@inline const F32_C3: f32 = reinterpret<f32>(0x3E2AAD40);          // 0x1.555A80p-3
// @ts-ignore: decorator
@inline const F32_C2: f32 = reinterpret<f32>(0x3EFFFEE3);          // 0x1.FFFDC6p-2
// @ts-ignore: decorator
@inline const F32_C1: f32 = reinterpret<f32>(0x3F7FFFFB);          // 0x1.FFFFF6p-1
// @ts-ignore: decorator
@inline const F32_CUTOFF: f32 = reinterpret<f32>(0xC2AEAC4F);      // -0x1.5D589Ep6 = ln(2^-126)

// f64 constants (table-driven, as ARM's optimized-routines exp, Szabolcs Nagy): x = (64e + j)*ln2/64 + r
// with n = 64e + j = round(x * 64/ln2), j = n mod 64 and |r| <= ln2/128, so exp(x) = 2^e * 2^(j/64)
// * exp(r). 2^(j/64) comes from F64_EXP_TABLE, and the narrow range of r leaves a degree-5
// polynomial (the degree-11 one it replaced needed |r| <= ln2/2: 6 multiply-adds more per vector).
// ln2_hi/ln2_lo are fdlibm's over 64 (ln2_hi has 32 trailing zero bits, so n*ln2_hi/64 is exact
// for |n| < 2^32).
// @ts-ignore: decorator
@inline const F64_TABLE_BITS = 6;
// @ts-ignore: decorator
@inline const F64_64_LOG2E: f64 = 92.33248261689366;              // 64/ln2
// 1.5*2^52, written as its bits: asc 0.28.20 reads the literal 6755399441056768.0 as 1.5*2^52 + 1024.
// @ts-ignore: decorator
@inline const F64_MAGIC: f64 = reinterpret<f64>(0x4338000000000000);
// @ts-ignore: decorator
@inline const F64_MINUS_LN2_HI_64: f64 = -6.93147180369123816490e-01 / 64;
// @ts-ignore: decorator
@inline const F64_MINUS_LN2_LO_64: f64 = -1.90821492927058770002e-10 / 64;
// @ts-ignore: decorator
@inline const F64_CUTOFF: f64 = -708.3964185322641;                // ln(2^-1022)

// exp(r) - 1 = r * (1 + C2 r + C3 r^2 + C4 r^3 + C5 r^4): the Chebyshev interpolant of
// (exp(r) - 1 - r) / r^2 on |r| <= ln2/128 (truncation 4.4e-18 relative, 0.02 ulp). These and the
// table are the output of scripts/build/gen-exp64.py (60-digit decimal arithmetic). The constant
// term stays exactly 1, so exp(0) = 1.
// @ts-ignore: decorator
@inline const F64_C5: f64 = 0.008333339151693497;
// @ts-ignore: decorator
@inline const F64_C4: f64 = 0.04166670739519196;
// @ts-ignore: decorator
@inline const F64_C3: f64 = 0.16666666666664534;
// @ts-ignore: decorator
@inline const F64_C2: f64 = 0.49999999999985073;

// The vector forms read their constants from static data (v128.load32/64_splat) rather than
// splat literals: Node 24's wasm compiler (V8 13.6, Turboshaft) rematerializes a splat literal at
// every use inside a loop, three instructions each, where a load stays one (the exp-sum pass ran
// at ~0.55x of Node 20's speed; see the README's Node 24 section). Indices into the tables:
// @ts-ignore: decorator
@inline const LOG2E = 0, MINUS_LN2_HI = 1, MINUS_LN2_LO = 2, MINUS_LN2 = 3, MAGIC = 4, CUTOFF = 5, ONE = 6, C1 = 7; // Ck at C1 + k - 1
const F32_CONSTS: usize = memory.data<f32>([F32_LOG2E, F32_MINUS_LN2_HI, F32_MINUS_LN2_LO, F32_MINUS_LN2, F32_MAGIC, F32_CUTOFF, 1.0,
  F32_C1, F32_C2, F32_C3, F32_C4, F32_C5]);
// (f64 has no one-constant ln2: index 3 holds -ln2/64 unused, not 0, because the data must not
// hold a run of more than 8 zero bytes: Binaryen leaves those out of a module whose memory is its
// own but not out of its *-threads build, whose memory is imported, and test/pool.test.ts checks
// that the two differ only in the memory section. Its C1 is exactly 1.)
// Then, from index F64_TABLE_AT, F64_EXP_TABLE: 2^(j/64) for j = 0..63, each the float64 nearest
// to it, stored as its bits minus j << 46: adding n << 46 (whose bits above j are e << 52) then
// gives the bits of 2^e * 2^(j/64) with one integer addition, no separate exponent field (ARM's
// optimized-routines exp stores its table this way). It is in the same data as the constants
// because its first entry (1.0) begins with six zero bytes, which Binaryen trims from the start of
// a segment (as above).
const F64_CONSTS: usize = memory.data<f64>([F64_64_LOG2E, F64_MINUS_LN2_HI_64, F64_MINUS_LN2_LO_64, -Math.LN2 / 64, F64_MAGIC, F64_CUTOFF, 1.0,
  1.0, F64_C2, F64_C3, F64_C4, F64_C5,
  reinterpret<f64>(0x3FF0000000000000), reinterpret<f64>(0x3FEFEC9A3E778061), reinterpret<f64>(0x3FEFD9B0D3158574), reinterpret<f64>(0x3FEFC74518759BC8),
  reinterpret<f64>(0x3FEFB5586CF9890F), reinterpret<f64>(0x3FEFA3EC32D3D1A2), reinterpret<f64>(0x3FEF9301D0125B51), reinterpret<f64>(0x3FEF829AAEA92DE0),
  reinterpret<f64>(0x3FEF72B83C7D517B), reinterpret<f64>(0x3FEF635BEB6FCB75), reinterpret<f64>(0x3FEF54873168B9AA), reinterpret<f64>(0x3FEF463B88628CD6),
  reinterpret<f64>(0x3FEF387A6E756238), reinterpret<f64>(0x3FEF2B4565E27CDD), reinterpret<f64>(0x3FEF1E9DF51FDEE1), reinterpret<f64>(0x3FEF1285A6E4030B),
  reinterpret<f64>(0x3FEF06FE0A31B715), reinterpret<f64>(0x3FEEFC08B26416FF), reinterpret<f64>(0x3FEEF1A7373AA9CB), reinterpret<f64>(0x3FEEE7DB34E59FF7),
  reinterpret<f64>(0x3FEEDEA64C123422), reinterpret<f64>(0x3FEED60A21F72E2A), reinterpret<f64>(0x3FEECE086061892D), reinterpret<f64>(0x3FEEC6A2B5C13CD0),
  reinterpret<f64>(0x3FEEBFDAD5362A27), reinterpret<f64>(0x3FEEB9B2769D2CA7), reinterpret<f64>(0x3FEEB42B569D4F82), reinterpret<f64>(0x3FEEAF4736B527DA),
  reinterpret<f64>(0x3FEEAB07DD485429), reinterpret<f64>(0x3FEEA76F15AD2148), reinterpret<f64>(0x3FEEA47EB03A5585), reinterpret<f64>(0x3FEEA23882552225),
  reinterpret<f64>(0x3FEEA09E667F3BCD), reinterpret<f64>(0x3FEE9FB23C651A2F), reinterpret<f64>(0x3FEE9F75E8EC5F74), reinterpret<f64>(0x3FEE9FEB564267C9),
  reinterpret<f64>(0x3FEEA11473EB0187), reinterpret<f64>(0x3FEEA2F336CF4E62), reinterpret<f64>(0x3FEEA589994CCE13), reinterpret<f64>(0x3FEEA8D99B4492ED),
  reinterpret<f64>(0x3FEEACE5422AA0DB), reinterpret<f64>(0x3FEEB1AE99157736), reinterpret<f64>(0x3FEEB737B0CDC5E5), reinterpret<f64>(0x3FEEBD829FDE4E50),
  reinterpret<f64>(0x3FEEC49182A3F090), reinterpret<f64>(0x3FEECC667B5DE565), reinterpret<f64>(0x3FEED503B23E255D), reinterpret<f64>(0x3FEEDE6B5579FDBF),
  reinterpret<f64>(0x3FEEE89F995AD3AD), reinterpret<f64>(0x3FEEF3A2B84F15FB), reinterpret<f64>(0x3FEEFF76F2FB5E47), reinterpret<f64>(0x3FEF0C1E904BC1D2),
  reinterpret<f64>(0x3FEF199BDD85529C), reinterpret<f64>(0x3FEF27F12E57D14B), reinterpret<f64>(0x3FEF3720DCEF9069), reinterpret<f64>(0x3FEF472D4A07897C),
  reinterpret<f64>(0x3FEF5818DCFBA487), reinterpret<f64>(0x3FEF69E603DB3285), reinterpret<f64>(0x3FEF7C97337B9B5F), reinterpret<f64>(0x3FEF902EE78B3FF6),
  reinterpret<f64>(0x3FEFA4AFA2A490DA), reinterpret<f64>(0x3FEFBA1BEE615A27), reinterpret<f64>(0x3FEFD0765B6E4540), reinterpret<f64>(0x3FEFE7C1819E90D8)
]);
// @ts-ignore: decorator
@inline const F64_TABLE_AT = 12;
const F64_EXP_TABLE: usize = F64_CONSTS + (F64_TABLE_AT << 3);

/** The byte offset in F64_EXP_TABLE of entry j = n mod 64, from the low bits of n + F64_MAGIC. */
// @ts-ignore: decorator
@inline function exp_table_offset(nbits: i32): usize {
  return <usize>(nbits & ((1 << F64_TABLE_BITS) - 1)) << 3;
}

/** splat(F32_CONSTS[i]). */
// @ts-ignore: decorator
@inline function kf32(i: i32): v128 {
  return v128.load32_splat(F32_CONSTS + (<usize>i << 2));
}

/** splat(F64_CONSTS[i]). */
// @ts-ignore: decorator
@inline function kf64(i: i32): v128 {
  return v128.load64_splat(F64_CONSTS + (<usize>i << 3));
}

/** exp of each lane of vx (vx <= 0 expected; see the header). `cutoff` = false skips the flush
 *  to 0 (2 of ~22 operations) for callers that know every lane is >= CUTOFF<T>(). */
// @ts-ignore: decorator
@inline export function vexp<T>(vx: v128, cutoff: bool = true): v128 {
  if (sizeof<T>() == 4) {
    // vexp_k with k = 0 (its magic bias is then F32_MAGIC): the same operations in the same order.
    const vf = vexp_k(vx, kf32(MAGIC));
    return cutoff ? v128.andnot(vf, f32x4.lt(vx, kf32(CUTOFF))) : vf;
  } else {
    const vf = vexp_k64(vx, kf64(MAGIC));
    return cutoff ? v128.andnot(vf, f64x2.lt(vx, kf64(CUTOFF))) : vf;
  }
}

/** The f64 form of vexp_k: exp(vi - K*ln2/64) of each f64 lane of vi, with vmagic =
 *  splat(KMAGIC64(K)) for an integer K (K = 0: vexp<f64>), every vi - K*ln2/64 in [-708.39, 0.01]
 *  (so the scale below is a normal number) and |vi| <= KSHIFT64_MAX_ABS + 709. The magic-bias
 *  addition leaves n - K in the low bits (n = round(vi * 64/ln2)), which pick the table entry and
 *  the exponent: 2^((n-K)/64). t = vi - n*ln2/64 is reduced from vi itself: n*ln2_hi/64 is exact
 *  for |n| < 2^32, and vi - n*ln2_hi/64 is exact (the two are within a factor 2), so t carries
 *  only the rounding of n*ln2_lo/64 (~2^-53 |t|), where exp(vi - max) also carries the rounding of
 *  vi - max (2^-53 |vi - max| relative: 5 ulp at vi - max = -10). */
// @ts-ignore: decorator
@inline function vexp_k64(vi: v128, vmagic: v128): v128 {
  let vn = vmadd<f64>(vi, kf64(LOG2E), vmagic);
  // 2^((n-K)/64): the table entries of both lanes' j plus (n-K) << 46 (see F64_EXP_TABLE).
  let vs = v128.load64_zero(F64_EXP_TABLE + exp_table_offset(i32x4.extract_lane(vn, 0)));
  vs = v128.load64_lane(F64_EXP_TABLE + exp_table_offset(i32x4.extract_lane(vn, 2)), vs, 1);
  vs = i64x2.add(vs, i64x2.shl(vn, 52 - F64_TABLE_BITS));
  vn = f64x2.sub(vn, vmagic);
  let vt = vmadd<f64>(vn, kf64(MINUS_LN2_HI), vi);
  vt = vmadd<f64>(vn, kf64(MINUS_LN2_LO), vt);
  let vp = vmadd<f64>(kf64(C1 + 4), vt, kf64(C1 + 3));
  vp = vmadd<f64>(vp, vt, kf64(C1 + 2));
  vp = vmadd<f64>(vp, vt, kf64(C1 + 1));
  vp = vmadd<f64>(vp, vt, kf64(ONE));
  vt = f64x2.mul(vt, vs);
  return vmadd<f64>(vt, vp, vs);
}

/** One lane of vexp_k64 (magic: KMAGIC64(K)), with the same bits. */
// @ts-ignore: decorator
@inline function sexp_k64(x: f64, magic: f64): f64 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.extract_lane(vexp_k64(f64x2.splat(x), f64x2.splat(magic)), 0);
  return sexp_k64_ops(x, magic);
}

/** vexp_k64's operations (unfused) on one value. */
// @ts-ignore: decorator
@inline function sexp_k64_ops(x: f64, magic: f64): f64 {
  let n = x * F64_64_LOG2E + magic;
  const nb = reinterpret<u64>(n);
  const s = reinterpret<f64>(load<u64>(F64_EXP_TABLE + exp_table_offset(<i32>nb)) + (nb << (52 - F64_TABLE_BITS)));
  n -= magic;
  let t = n * F64_MINUS_LN2_HI_64 + x;
  t = n * F64_MINUS_LN2_LO_64 + t;
  let p = F64_C5 * t + F64_C4;
  p = p * t + F64_C3;
  p = p * t + F64_C2;
  p = p * t + 1.0;
  t *= s;
  return t * p + s;
}

/** The magic bias of vexp_k64 for the shift K (in steps of ln2/64): 1.5*2^52 - K, exact for
 *  |K| < 2^51. */
// @ts-ignore: decorator
@inline function KMAGIC64(K: f64): f64 {
  return F64_MAGIC - K;
}

/** The shift of a k-shift exp pass for a row of max `max`: k = round(max/ln2) for f32 (vexp_k),
 *  K = round(max * 64/ln2) for f64 (vexp_k64). */
// @ts-ignore: decorator
@inline export function kshift_of<T>(max: T): T {
  return sizeof<T>() == 4 ? <T>nearest<f64>(<f64>max * Math.LOG2E) : <T>nearest<f64>(<f64>max * F64_64_LOG2E);
}

/** The magic bias of the k-shift exp for the shift k of kshift_of<T>. */
// @ts-ignore: decorator
@inline export function kmagic<T>(k: T): T {
  return sizeof<T>() == 4 ? <T>KMAGIC(<f32>k) : <T>KMAGIC64(<f64>k);
}

/** vexp_k or vexp_k64 by the lane type (vmagic: splat(kmagic<T>(k))). */
// @ts-ignore: decorator
@inline export function vexp_kt<T>(vi: v128, vmagic: v128, rr1: bool = false): v128 {
  return sizeof<T>() == 4 ? vexp_k(vi, vmagic, rr1) : vexp_k64(vi, vmagic);
}

/** sexp_k or sexp_k64 by the type (magic: kmagic<T>(k)). */
// @ts-ignore: decorator
@inline export function sexp_kt<T>(x: T, magic: T, rr1: bool = false): T {
  return sizeof<T>() == 4 ? <T>sexp_k(<f32>x, <f32>magic, rr1) : <T>sexp_k64(<f64>x, <f64>magic);
}

/** The f32 exp of rows that need no flush to zero (raddexpminusmax's k-shift path, reduce.ts):
 *  exp(vi - k*ln2) of each f32 lane of vi, with vmagic = splat(KMAGIC(k)) for an integer k
 *  (|k| <= 2^15), and every vi - k*ln2 in [-87.68, 0.35] (so 2^(n-k) below is a normal number).
 *  It is vexp with the shift by the row's max folded into the range reduction: n = round(vi*log2e)
 *  comes out of the magic-bias addition as n - k in the exponent bits (KMAGIC carries -k), and
 *  t = vi - n*ln2 is reduced from vi itself, so the separate vi - max of vexp is gone (one
 *  operation per vector: measured 5-9% of the f32 kernels with the simd build, ~7% of the
 *  exp-sum pass with relaxed-simd). It is also more accurate than exp(vi - max): the rounding of
 *  vi - max to f32 is gone; with ln2_hi + ln2_lo = ln2 to 5.5e-14 the reduction adds < 2e-9
 *  relative error (~0.02 ulp) while n*ln2_hi is exact: |n| < 2^15 with the fused multiply-add
 *  of relaxed-simd, |n| < 2^9 unfused (ln2_hi has 15 significant bits; see KSHIFT_MAX_ABS).
 *  `rr1` (relaxed-simd only) reduces with one constant, t = fma(n, -ln2, vi) (XNNPACK's
 *  avx2-rr1-p5; one operation fewer, measured +7-9% on the f32 kernels): t is off by
 *  n*(ln2 - ln2_f32) = n * 1.9e-9. The part k*1.9e-9 is one factor common to the whole row,
 *  which the softmax, the gradient and log(sum / exp_unit) cancel; the rest, with n - k >= -44
 *  (rows of range <= 30, RR1_RANGE in reduce.ts), keeps the error <= 2.8 ulp (measured over
 *  30M points per k, k from -5000 to 23637; rr2: 1.97 ulp). With `accumulate`, returns vacc + the exp (for the sums that do not
 *  keep the exp values). */
// @ts-ignore: decorator
@inline export function vexp_k(vi: v128, vmagic: v128, rr1: bool = false, accumulate: bool = false, vacc: v128 = v128.splat<i32>(0)): v128 {
  let vn = vmadd<f32>(vi, kf32(LOG2E), vmagic);
  const vs = i32x4.shl(vn, 23);
  vn = f32x4.sub(vn, vmagic);
  let vt = vk_reduce(vi, vn, rr1);
  const vp = vpoly5(vt);
  if (accumulate) {
    // acc + exp: 2^n * (1 + t*p) rounds like s + (t*s)*p (s is a power of 2), and the addition
    // to acc is fused into the multiplication by s: one operation fewer than exp, then add.
    return vmadd<f32>(vmadd<f32>(vt, vp, kf32(ONE)), vs, vacc);
  }
  vt = f32x4.mul(vt, vs);
  return vmadd<f32>(vt, vp, vs);
}

/** vexp_k's range reduction: t = vi - n*ln2 (vn: n), with two constants or, `rr1`, one. */
// @ts-ignore: decorator
@inline function vk_reduce(vi: v128, vn: v128, rr1: bool): v128 {
  if (rr1) return vmadd<f32>(vn, kf32(MINUS_LN2), vi);
  return vmadd<f32>(vn, kf32(MINUS_LN2_LO), vmadd<f32>(vn, kf32(MINUS_LN2_HI), vi));
}

/** vexp_k for the rows whose exp values may fall below the smallest normal float (max - min >
 *  NO_CUTOFF_RANGE): exp(vi - k*ln2) down to the subnormal 2^-149, where vexp flushes below 2^-126.
 *  2^(n-k) does not fit one exponent field there, so it is applied as two factors 2^e1 * 2^e2,
 *  e1 = (n-k) >> 1: s1 * (1 + t*p) is computed as in vexp_k (the same bits, scaled by a power of
 *  2), and the multiplication by 2^e2 rounds it once into a subnormal. Lanes below vlo (set by
 *  the caller to WIDE_LO(k), whose exp is ~2^-248, 0 in f32) are raised to vlo, which
 *  keeps n - k >= -250 (both factors normal) and turns -Infinity into 0; NaN stays NaN. vmagic is
 *  KMAGIC(k), and |vi| * log2e must stay below 2^9 unfused (2^15 fused) as in vexp_k. */
// @ts-ignore: decorator
@inline export function vexp_k_wide(vi: v128, vmagic: v128, vlo: v128): v128 {
  vi = f32x4.pmax(vi, vlo);
  let vn = vmadd<f32>(vi, kf32(LOG2E), vmagic);
  // n - k: vn and F32_MAGIC lie in one binade of ulp 1, so their bit patterns differ by n - k.
  const ve = i32x4.sub(vn, kf32(MAGIC));
  const ve1 = i32x4.shr_s(ve, 1);
  const vs1 = i32x4.shl(i32x4.add(ve1, i32x4.splat(127)), 23);
  const vs2 = i32x4.shl(i32x4.add(i32x4.sub(ve, ve1), i32x4.splat(127)), 23);
  let vt = vk_reduce(vi, f32x4.sub(vn, vmagic), false);
  const vp = vpoly5(vt);
  vt = f32x4.mul(vt, vs1);
  return f32x4.mul(vmadd<f32>(vt, vp, vs1), vs2);
}

/** The lower bound vexp_k_wide's callers give it for the shift k: k*ln2 - 172 (exp(-172) ~ 2^-248,
 *  0 in f32; n - k stays >= -250, where both of its scale factors are normal). */
// @ts-ignore: decorator
@inline export function WIDE_LO(k: f32): f32 {
  return <f32>(<f64>k * Math.LN2 - 172);
}

/** One lane of vexp_k_wide (lo: the lower bound of its vlo), with the same bits. */
// @ts-ignore: decorator
@inline export function sexp_k_wide(x: f32, magic: f32, lo: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(vexp_k_wide(f32x4.splat(x), f32x4.splat(magic), f32x4.splat(lo)), 0);
  x = x < lo ? lo : x;
  const n = x * F32_LOG2E + magic;
  const e = <i32>(reinterpret<u32>(n) - reinterpret<u32>(F32_MAGIC));
  const e1 = e >> 1;
  const s1 = reinterpret<f32>((e1 + 127) << 23);
  const s2 = reinterpret<f32>((e - e1 + 127) << 23);
  return sexp_scaled(x, n - magic, s1) * s2;
}

/** p(t) of exp(t) = 1 + t*p(t) in each f32 lane (XNNPACK's degree-5 rr2-p5 coefficients). */
// @ts-ignore: decorator
@inline function vpoly5(vt: v128): v128 {
  let vp = vmadd<f32>(kf32(C1 + 4), vt, kf32(C1 + 3));
  vp = vmadd<f32>(vp, vt, kf32(C1 + 2));
  vp = vmadd<f32>(vp, vt, kf32(C1 + 1));
  return vmadd<f32>(vp, vt, kf32(C1));
}

/** The magic bias of vexp_k for the shift k: 1.5*2^23 + 127 - k (F32_MAGIC - k), exact in f32
 *  for |k| < 2^22. */
// @ts-ignore: decorator
@inline export function KMAGIC(k: f32): f32 {
  return F32_MAGIC - k;
}

/** The shift k = round(max * log2e) of vexp_k for a short row's max (short_rows.ts), with the
 *  product rounded to f32: one vector operation more for four rows, and a lane of vkshift has the
 *  bits of skshift. The rounding of the product (<= 2^-24 * 370) keeps |max - k*ln2| below 0.35,
 *  inside vexp_k's range. */
// @ts-ignore: decorator
@inline export function vkshift(vmax: v128): v128 {
  return f32x4.nearest(f32x4.mul(vmax, kf32(LOG2E)));
}
// @ts-ignore: decorator
@inline export function skshift(max: f32): f32 {
  return nearest<f32>(max * F32_LOG2E);
}
/** KMAGIC of each lane of vk. */
// @ts-ignore: decorator
@inline export function vkmagic(vk: v128): v128 {
  return f32x4.sub(kf32(MAGIC), vk);
}

/** A bound on max - min below which every exp argument of a row is above the flush-to-zero
 *  cutoff, so the row may use vexp(.., false). A little inside ln(smallest normal). */
// @ts-ignore: decorator
@inline export function NO_CUTOFF_RANGE<T>(): T {
  return sizeof<T>() == 4 ? <T>87.0 : <T>708.0;
}

/** exp(x), scalar: the same operations as vexp, one lane at a time. */
// @ts-ignore: decorator
@inline export function sexp<T>(x: T): T {
  if (sizeof<T>() == 4) {
    const xf = <f32>x;
    return <T>(xf < F32_CUTOFF ? <f32>0 : sexp_k_ops(xf, F32_MAGIC));
  } else {
    const xd = <f64>x;
    const f = sexp_k64_ops(xd, F64_MAGIC);
    return <T>(xd < F64_CUTOFF ? 0.0 : f);
  }
}

/** One f32 lane of vexp_k: exp(x - k*ln2) for vmagic = KMAGIC(k), with the same bits as the
 *  vector form (for the last < 4 elements of a row, and for exp_unit). The relaxed-simd build
 *  takes lane 0 of vexp_k itself, since its multiply-adds are fused. */
// @ts-ignore: decorator
@inline export function sexp_k(x: f32, magic: f32, rr1: bool = false): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(vexp_k(f32x4.splat(x), f32x4.splat(magic), rr1), 0);
  return sexp_k_ops(x, magic);
}

/** vexp_k's operations (unfused, rr2) on one value. */
// @ts-ignore: decorator
@inline function sexp_k_ops(x: f32, magic: f32): f32 {
  const n = x * F32_LOG2E + magic;
  return sexp_scaled(x, n - magic, reinterpret<f32>(reinterpret<u32>(n) << 23));
}

/** The rest of sexp_k_ops and sexp_k_wide once n = round(x * log2e) and s (2^n, or its first
 *  factor) are known: t = x - n*ln2 (two constants), s + (t*s)*p(t). */
// @ts-ignore: decorator
@inline function sexp_scaled(x: f32, n: f32, s: f32): f32 {
  let t = n * F32_MINUS_LN2_HI + x;
  t = n * F32_MINUS_LN2_LO + t;
  let p = F32_C5 * t + F32_C4;
  p = p * t + F32_C3;
  p = p * t + F32_C2;
  p = p * t + F32_C1;
  t *= s;
  return t * p + s;
}
