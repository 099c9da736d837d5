// log(x) of an f64: the kernels' logs of exp-sums (log_expsum, the cross-entropy's losses,
// log1p_pos), in place of Math.log. ~lib's Math.log (musl's log.c, 2018) reads two tables of 128
// entries: 4 KiB of data in each of the three builds (3.9 kB each deflated). This one has
// its structure (ARM optimized-routines' log, Szabolcs Nagy) with a table of 32 entries (768
// bytes), and the same accuracy (about 0.52 ulp):
//  - x = 2^k * z with z in [OFF, 2 OFF) = [0.68, 1.36), found from tmp = bits(x) - bits(OFF):
//    the top 5 bits of tmp's mantissa field pick a subinterval, whose entry holds invc ~ 1/c (c
//    its center, rounded to 8 significant bits) and logc = -log(invc) as hi + lo, hi a multiple
//    of 2^-43 (so k*LN2_HI + hi is exact). The subinterval around 1 has invc = 1: near x = 1,
//    r = x - 1 exactly, and the result keeps its relative accuracy.
//  - r = z * invc - 1 (|r| < 0.0162) is exact as rhi + rlo without a fused multiply-add: z with its
//    low 8 mantissa bits cleared (zh) times invc fits in 53 bits, so rhi = zh * invc - 1 is exact
//    (Sterbenz), and rlo = (z - zh) * invc is below 2^-44. r = rhi + rlo rounds only where
//    |r| >= 2^-8; its error (Fast2Sum) joins the low part.
//  - log(x) = k*ln2 + logc + r + r^2 P(r), P of degree 7 (relative truncation 1.2e-19), with
//    k*ln2 + logc + r summed as hi + lo (Fast2Sum: |w| >= |r| wherever w != 0). The table and P are
//    the output of scripts/build/gen-log64.py.
// The scalar and vector forms run the same operations, none fused, so every build and every lane
// gives the same bits. Measured against double-double references over 450k points (near 1, at
// every subinterval's edges, across the exponent range): worst 0.515 ulp (~lib's: 0.516).

// @ts-ignore: decorator
@inline const LN2_HI: f64 = reinterpret<f64>(0x3FE62E42FEE00000); // fdlibm's: 32 trailing zero bits, k*LN2_HI exact for |k| < 2^20
// @ts-ignore: decorator
@inline const LN2_LO: f64 = reinterpret<f64>(0x3DEA39EF35793C76);
// @ts-ignore: decorator
@inline const OFF: u64 = 0x3FE5C00000000000;
// @ts-ignore: decorator
@inline const TABLE_BITS: u64 = 5;
// @ts-ignore: decorator
@inline const P0: f64 = reinterpret<f64>(0xBFE0000000000000);
// @ts-ignore: decorator
@inline const P1: f64 = reinterpret<f64>(0x3FD5555555555553);
// @ts-ignore: decorator
@inline const P2: f64 = reinterpret<f64>(0xBFD000000000211C);
// @ts-ignore: decorator
@inline const P3: f64 = reinterpret<f64>(0x3FC99999999C4286);
// @ts-ignore: decorator
@inline const P4: f64 = reinterpret<f64>(0xBFC555554257DBCA);
// @ts-ignore: decorator
@inline const P5: f64 = reinterpret<f64>(0x3FC249242B905ACF);
// @ts-ignore: decorator
@inline const P6: f64 = reinterpret<f64>(0xBFC001BE3AF4CAD1);
// @ts-ignore: decorator
@inline const P7: f64 = reinterpret<f64>(0x3FBC7B7BDE52FD6B);

// (logc lo, logc hi, invc) per subinterval. Two constraints of Binaryen on data (see F64_CONSTS in
// exp.ts) set the layout: it trims zero bytes from the start of a segment (an invc begins with six,
// so it comes last), and a run of more than 8 zero bytes would differ between a build and its
// *-threads twin (the entry of c = 1 holds -0.0 for logc, not 0).
const LOG_TABLE: usize = memory.data<f64>([
  reinterpret<f64>(0x3CEE4DA62D0C25AD), reinterpret<f64>(0xBFD7EAF83B82B000), reinterpret<f64>(0x3FF7400000000000),
  reinterpret<f64>(0x3D2A89DDEA0F7F59), reinterpret<f64>(0xBFD686C81E9B1800), reinterpret<f64>(0x3FF6C00000000000),
  reinterpret<f64>(0xBCE684E49EB067D5), reinterpret<f64>(0xBFD51AAD872DF800), reinterpret<f64>(0x3FF6400000000000),
  reinterpret<f64>(0x3D20B1C686519460), reinterpret<f64>(0xBFD3A64C55694800), reinterpret<f64>(0x3FF5C00000000000),
  reinterpret<f64>(0x3D15CA14B6CFB03F), reinterpret<f64>(0xBFD2895A13DE8800), reinterpret<f64>(0x3FF5600000000000),
  reinterpret<f64>(0xBD26A8C4FD055A66), reinterpret<f64>(0xBFD1058BF9AE4800), reinterpret<f64>(0x3FF4E00000000000),
  reinterpret<f64>(0x3D0D572AAB993C87), reinterpret<f64>(0xBFCFB9186D5E4000), reinterpret<f64>(0x3FF4800000000000),
  reinterpret<f64>(0x3D21BA91BBCA681B), reinterpret<f64>(0xBFCD5C216B4FC000), reinterpret<f64>(0x3FF4200000000000),
  reinterpret<f64>(0x3CBA4E633FCD9066), reinterpret<f64>(0xBFCAF3C94E80C000), reinterpret<f64>(0x3FF3C00000000000),
  reinterpret<f64>(0x3D2BBDBF7FDBFA09), reinterpret<f64>(0xBFC87FA06520D000), reinterpret<f64>(0x3FF3600000000000),
  reinterpret<f64>(0xBD1E9E439F105039), reinterpret<f64>(0xBFC5FF3070A79000), reinterpret<f64>(0x3FF3000000000000),
  reinterpret<f64>(0x3CF178864D27543A), reinterpret<f64>(0xBFC371FC201E9000), reinterpret<f64>(0x3FF2A00000000000),
  reinterpret<f64>(0x3D0A699688E85BF4), reinterpret<f64>(0xBFC0D77E7CD09000), reinterpret<f64>(0x3FF2400000000000),
  reinterpret<f64>(0x3D2A342C2AF0003C), reinterpret<f64>(0xBFBE27076E2B0000), reinterpret<f64>(0x3FF2000000000000),
  reinterpret<f64>(0x3D137C294D2F5668), reinterpret<f64>(0xBFB8C345D631A000), reinterpret<f64>(0x3FF1A00000000000),
  reinterpret<f64>(0x3D1F025B61C65E57), reinterpret<f64>(0xBFB51B073F062000), reinterpret<f64>(0x3FF1600000000000),
  reinterpret<f64>(0x3D147C5E768FA309), reinterpret<f64>(0xBFB16536EEA38000), reinterpret<f64>(0x3FF1200000000000),
  reinterpret<f64>(0xBD2CFC4634F2A1EE), reinterpret<f64>(0xBFA77458F632C000), reinterpret<f64>(0x3FF0C00000000000),
  reinterpret<f64>(0xBD2980267C7E09E4), reinterpret<f64>(0xBF9F829B0E780000), reinterpret<f64>(0x3FF0800000000000),
  reinterpret<f64>(0xBCDF1E7CF6D3A69C), reinterpret<f64>(0xBF8FC0A8B0FC0000), reinterpret<f64>(0x3FF0400000000000),
  reinterpret<f64>(0x8000000000000000), reinterpret<f64>(0x8000000000000000), reinterpret<f64>(0x3FF0000000000000),
  reinterpret<f64>(0x3D0111C05CF1D753), reinterpret<f64>(0x3FA0415D89E74000), reinterpret<f64>(0x3FEF000000000000),
  reinterpret<f64>(0xBD0E113E4FC93B7B), reinterpret<f64>(0x3FAEEA31C006C000), reinterpret<f64>(0x3FEE200000000000),
  reinterpret<f64>(0x3CEC1E8DA99DED32), reinterpret<f64>(0x3FB700D30AEAC000), reinterpret<f64>(0x3FED400000000000),
  reinterpret<f64>(0x3D1A89401FA71733), reinterpret<f64>(0x3FBDA72763844000), reinterpret<f64>(0x3FEC800000000000),
  reinterpret<f64>(0x3D039D6CCB81B4A1), reinterpret<f64>(0x3FC2D1610C868000), reinterpret<f64>(0x3FEBA00000000000),
  reinterpret<f64>(0xBD127023EB68981C), reinterpret<f64>(0x3FC5BF406B544000), reinterpret<f64>(0x3FEB000000000000),
  reinterpret<f64>(0x3D07F22858A0FF6F), reinterpret<f64>(0x3FC95A5ADCF70000), reinterpret<f64>(0x3FEA400000000000),
  reinterpret<f64>(0xBCF1EC72C5962BD2), reinterpret<f64>(0x3FCC6FFBC6F01000), reinterpret<f64>(0x3FE9A00000000000),
  reinterpret<f64>(0x3D1BCBECCA0CDF30), reinterpret<f64>(0x3FCF991C6CB3B000), reinterpret<f64>(0x3FE9000000000000),
  reinterpret<f64>(0x3D2B9ACDF7A51681), reinterpret<f64>(0x3FD16B5CCBACF800), reinterpret<f64>(0x3FE8600000000000),
  reinterpret<f64>(0x3D2A9CFA4A5004F4), reinterpret<f64>(0x3FD2BEF07CDC9000), reinterpret<f64>(0x3FE7E00000000000),
]);

// The vector form reads its constants from static data (v128.load64_splat), as exp.ts's vector
// forms do: Node 24's wasm compiler rematerializes a splat literal at every use, three
// instructions each, where a load is one. Indices into LOG_CONSTS (its first entry must not begin
// with a zero byte, and no run of more than 8 zero bytes may form: see F64_CONSTS in exp.ts; the
// scalar build, which has no vector form, leaves the table out):
// @ts-ignore: decorator
@inline const K_P1 = 0, K_P0 = 1, K_P2 = 2, K_P3 = 3, K_P4 = 4, K_P5 = 5, K_P6 = 6, K_P7 = 7, K_LN2_HI = 8, K_LN2_LO = 9,
  K_OFF = 10, K_MAGIC = 11, K_ONE = 12, K_MIN_NORMAL = 13, K_INF = 14, K_EXP_FIELD = 15, K_LOW8 = 16, K_SIGN12 = 17, K_MAGIC_SIGN12 = 18;
const LOG_CONSTS: usize = !ASC_FEATURE_SIMD ? 0 : memory.data<f64>([P1, P0, P2, P3, P4, P5, P6, P7, LN2_HI, LN2_LO,
  reinterpret<f64>(OFF), reinterpret<f64>(0x4338000000000000), 1.0, reinterpret<f64>(0x0010000000000000), Infinity,
  reinterpret<f64>(0xFFF0000000000000), reinterpret<f64>(0xFFFFFFFFFFFFFF00),
  reinterpret<f64>(0x0000000000000800), reinterpret<f64>(0x4338000000000000 - 0x800)]);

/** splat(LOG_CONSTS[i]). */
// @ts-ignore: decorator
@inline function klog(i: i32): v128 {
  return v128.load64_splat(LOG_CONSTS + (<usize>i << 3));
}

/** The address of the table entry for tmp = bits(x) - OFF. */
// @ts-ignore: decorator
@inline function log_entry(tmp: u64): usize {
  return LOG_TABLE + <usize>((tmp >> (52 - TABLE_BITS)) & ((1 << TABLE_BITS) - 1)) * 24;
}

/** log(x), for every input as Math.log (+-0: -Infinity, x < 0: NaN, NaN: NaN, +Infinity:
 *  +Infinity; subnormals are scaled by 2^52 first), to about 0.52 ulp. */
export function log64(x: f64): f64 {
  let ix = reinterpret<u64>(x);
  const top = <u32>(ix >> 48);
  if (top - 0x0010 >= 0x7FF0 - 0x0010) {
    // x below 2^-1022, negative, infinite or NaN
    if (ix << 1 == 0) return -Infinity;
    if (ix == 0x7FF0000000000000) return x;
    if ((top & 0x8000) != 0 || (top & 0x7FF0) == 0x7FF0) return (x - x) / (x - x);
    ix = reinterpret<u64>(x * reinterpret<f64>(0x4330000000000000)) - (<u64>52 << 52); // subnormal: x * 2^52
  }
  const tmp = ix - OFF;
  const e = log_entry(tmp);
  const k = <f64>(<i64>tmp >> 52);
  const iz = ix - (tmp & (<u64>0xFFF << 52));
  const z = reinterpret<f64>(iz), zh = reinterpret<f64>(iz & ~<u64>0xFF);
  const invc = load<f64>(e, 16);
  const rhi = zh * invc - 1, rlo = (z - zh) * invc;
  // r rounds only where |r| >= 2^-8, and then |rhi| >> |rlo|: Fast2Sum gives its error exactly.
  const r = rhi + rlo, rerr = rlo - (r - rhi);
  const w = k * LN2_HI + load<f64>(e, 8);
  const hi = w + r;
  const lo = ((w - hi) + r) + (rerr + (k * LN2_LO + load<f64>(e)));
  const r2 = r * r, r4 = r2 * r2;
  const p = ((P0 + r * P1) + r2 * (P2 + r * P3)) + r4 * ((P4 + r * P5) + r2 * (P6 + r * P7));
  return lo + r2 * p + hi;
}

/** log64 of both f64 lanes of v, with the same operations (so the same bits); a vector with a
 *  lane below 2^-1022, negative, infinite or NaN takes log64 lane by lane. (For the logs of four
 *  short rows at a time: two of these cost less than four calls of log64.) */
export function vlog64(v: v128): v128 {
  const ok = v128.and(f64x2.ge(v, klog(K_MIN_NORMAL)), f64x2.lt(v, klog(K_INF)));
  if (!i64x2.all_true(ok)) return f64x2.replace_lane(f64x2.splat(log64(f64x2.extract_lane(v, 0))), 1, log64(f64x2.extract_lane(v, 1)));
  const tmp = i64x2.sub(v, klog(K_OFF));
  const e0 = log_entry(<u64>i64x2.extract_lane(tmp, 0)), e1 = log_entry(<u64>i64x2.extract_lane(tmp, 1));
  // k exactly, as f64: k + 1.5*2^52 has k in its low bits. (k = tmp >> 52, arithmetic: the top 12
  // bits sign-extended, as ((tmp >>> 52) ^ 0x800) - 0x800, since x64 has no 64-bit arithmetic
  // vector shift before AVX-512 and V8 spells one out in six instructions)
  const magic = klog(K_MAGIC);
  const k = f64x2.sub(i64x2.add(v128.xor(i64x2.shr_u(tmp, 52), klog(K_SIGN12)), klog(K_MAGIC_SIGN12)), magic);
  const iz = i64x2.sub(v, v128.and(tmp, klog(K_EXP_FIELD)));
  const zh = v128.and(iz, klog(K_LOW8));
  const invc = v128.load64_lane(e1 + 16, v128.load64_zero(e0 + 16), 1);
  const rhi = f64x2.sub(f64x2.mul(zh, invc), klog(K_ONE)), rlo = f64x2.mul(f64x2.sub(iz, zh), invc);
  const r = f64x2.add(rhi, rlo), rerr = f64x2.sub(rlo, f64x2.sub(r, rhi));
  const w = f64x2.add(f64x2.mul(k, klog(K_LN2_HI)), v128.load64_lane(e1 + 8, v128.load64_zero(e0 + 8), 1));
  const hi = f64x2.add(w, r);
  const lo = f64x2.add(f64x2.add(f64x2.sub(w, hi), r),
    f64x2.add(rerr, f64x2.add(f64x2.mul(k, klog(K_LN2_LO)), v128.load64_lane(e1, v128.load64_zero(e0), 1))));
  const r2 = f64x2.mul(r, r), r4 = f64x2.mul(r2, r2);
  const p01 = f64x2.add(klog(K_P0), f64x2.mul(r, klog(K_P1))), p23 = f64x2.add(klog(K_P2), f64x2.mul(r, klog(K_P3)));
  const p45 = f64x2.add(klog(K_P4), f64x2.mul(r, klog(K_P5))), p67 = f64x2.add(klog(K_P6), f64x2.mul(r, klog(K_P7)));
  const p = f64x2.add(f64x2.add(p01, f64x2.mul(r2, p23)), f64x2.mul(r4, f64x2.add(p45, f64x2.mul(r2, p67))));
  return f64x2.add(f64x2.add(lo, f64x2.mul(r2, p)), hi);
}
