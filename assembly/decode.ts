// Language-model decoding over contiguous rows of C logits of T (f32 or f64): the sampling
// distribution (temperature, top-k, top-p, min-p), inverse-CDF sampling, top-k and argmax.
// No sort of a row: every threshold (the k-th largest logit, the top-p boundary, the
// minTokensToKeep-th largest probability) is found by a radix select over the values' bits
// (rselect: an 11-bit histogram per level, the first over the whole row, the next ones over the
// candidates left in the boundary bin), O(C) per row whatever the data. A kept set is "every
// value >= a threshold", so ties are kept or removed together, whatever the algorithm.
//
// Scratch: `work`, work_bytes(C) from the caller (the histogram, the candidate lists, the block
// maxima or topK's sort keys). Vector loops and the fast paths (select_top's block-maxima
// prefilter, topp_full's band) are for f32 rows in the SIMD builds (VEC); f64 rows and the scalar
// build take plain passes with the same results (the package's size budget).

import { LANES, at, vhmax } from './simd';
import { expsum_store_scaled, vscale } from './reduce';

/** Bytes of the histogram: two copies of 2048 f64 bins (the first level over a whole row fills
 *  them alternately, so consecutive elements of one bin do not wait on each other's store). */
// @ts-ignore: decorator
@inline export const HIST_BYTES: usize = 2 * 2048 * 8;

/** Bytes of the `work` scratch a row kernel of C classes takes: the histogram, then the
 *  candidate list (C i32), then the radix select's own list (C i32) and the block maxima (or
 *  topK's sort keys, C u64 from the same place). */
export function work_bytes(C: i32): usize {
  return HIST_BYTES + 16 * <usize>C + 64;
}

/** Whether the passes over a row of T take the vector loops: f32 rows in the SIMD builds. The
 *  f64 rows (rarer in decoding: language models give float32 logits) take the scalar loops, which
 *  keeps the vector bodies out of the f64 instances (the package's size budget). */
// @ts-ignore: decorator
@inline function VEC<T>(): bool {
  return ASC_FEATURE_SIMD && sizeof<T>() == 4;
}

// @ts-ignore: decorator
@inline const DIGIT: u64 = 11;
// @ts-ignore: decorator
@inline const BINS: i32 = 2048;
/** Elements per block of the block-maxima prefilter (a multiple of 4 vectors). */
// @ts-ignore: decorator
@inline const BLOCK_ELEMS: i32 = 64;

// @ts-ignore: decorator
@inline function list_of(work: usize): usize {
  return work + HIST_BYTES;
}
// @ts-ignore: decorator
@inline function tmp_of(work: usize, C: i32): usize {
  return work + HIST_BYTES + (<usize>C << 2);
}
// @ts-ignore: decorator
@inline function bmax_of(work: usize, C: i32): usize {
  return (work + HIST_BYTES + (<usize>C << 3) + 7) & ~<usize>7;
}

/** The order key of a value: unsigned keys in the order of the values (-Infinity lowest; a NaN
 *  above +Infinity, as torch.topk orders it). f32 keys sit in the top 32 bits. */
// @ts-ignore: decorator
@inline function key_of<T>(v: T): u64 {
  if (v != v) return <u64>-1;
  if (sizeof<T>() == 4) {
    const b = <u64>reinterpret<u32>(<f32>v);
    return ((b & 0x80000000) != 0 ? (~b & 0xFFFFFFFF) : (b | 0x80000000)) << 32;
  } else {
    const b = reinterpret<u64>(<f64>v);
    return (b >> 63) != 0 ? ~b : b | 0x8000000000000000;
  }
}

/** The value of a key (the inverse of key_of for non-NaN values; key 0, below every value's,
 *  gives -Infinity). */
// @ts-ignore: decorator
@inline function value_of<T>(k: u64): T {
  if (k == 0) return <T>-Infinity;
  if (sizeof<T>() == 4) {
    const b = <u32>(k >> 32);
    return <T>reinterpret<f32>((b & 0x80000000) != 0 ? b & 0x7FFFFFFF : ~b);
  } else {
    return <T>reinterpret<f64>((k >> 63) != 0 ? k & 0x7FFFFFFFFFFFFFFF : ~k);
  }
}

/** The weight a value adds to its bin: 1 (count) or the value itself (mass, values >= 0). */
// @ts-ignore: decorator
@inline function weight<T>(v: T, mass: bool): f64 {
  return mass ? <f64>v : 1.0;
}

/** The bin, walking down from the top, where the running weight first reaches `target`, and the
 *  weight of the bins above it stored at hist (bin 0's slot, read back by the caller); -1 if
 *  the total stays below `target` (rounding). */
function hist_walk(hist: usize, target: f64): i32 {
  let acc = 0.0;
  for (let b = BINS - 1; b >= 0; b--) {
    const h = load<f64>(hist + (<usize>b << 3));
    if (h != 0 && acc + h >= target) {
      store<f64>(hist, acc);
      return b;
    }
    acc += h;
  }
  return -1;
}

// @ts-ignore: decorator
@inline function elem(list: usize, j: i32): i32 {
  return list == 0 ? j : load<i32>(list + (<usize>j << 2));
}

/** The order key of a value >= 0 (the mass mode's weights): its bits, ordered as the values. */
// @ts-ignore: decorator
@inline function raw_key<T>(v: T): u64 {
  return sizeof<T>() == 4 ? <u64>reinterpret<u32>(<f32>v) << 32 : reinterpret<u64>(<f64>v);
}

// @ts-ignore: decorator
@inline function raw_value<T>(k: u64): T {
  return sizeof<T>() == 4 ? <T>reinterpret<f32>(<u32>(k >> 32)) : <T>reinterpret<f64>(k);
}

// @ts-ignore: decorator
@inline function mkey<T>(v: T, mass: bool): u64 {
  return mass ? raw_key<T>(v) : key_of<T>(v);
}

/**
 * The value v among the candidates (indices list[0..cnt) into x, or 0..cnt when list is 0)
 * where the running weight, over the values in descending order with ties as one group, first
 * reaches `target`: the smallest v whose group brings the weight of the candidates >= v to
 * `target` or more. Weights are counts (`mass` false: v is then the target-th largest, in
 * key_of order) or the values themselves (`mass` true, values >= 0: the top-p boundary).
 * Returns -Infinity when the total weight stays under `target` (rounding: keep everything).
 * `tmp` holds cnt i32 (its own candidates).
 */
export function rselect<T>(x: usize, list: usize, cnt: i32, target: f64, mass: bool, hist: usize, tmp: usize): T {
  // Level 0 reads the candidates from `list` (or 0..cnt) and keeps those of the boundary bin in
  // tmp; each next level reads tmp and narrows it in place, 11 more bits, until one value is left.
  let shift: u64 = 64 - DIGIT;
  let prefix: u64 = 0;
  let from = list;
  let kmin: u64 = -1, kmax: u64 = 0;
  for (let level = 0; ; level++) {
    const width: u64 = level == 0 ? DIGIT : shift >= DIGIT ? DIGIT : shift;
    if (level > 0) shift -= width;
    const mask: u64 = (<u64>1 << width) - 1;
    memory.fill(hist, 0, <usize>BINS << 3);
    for (let j = 0; j < cnt; j++) {
      const v = load<T>(at<T>(x, elem(from, j)));
      const p = hist + (<usize>((mkey<T>(v, mass) >> shift) & mask) << 3);
      store<f64>(p, load<f64>(p) + weight<T>(v, mass));
    }
    const b = hist_walk(hist, target);
    if (b < 0) {
      // Rounding of the weights: the lowest candidate keeps everything above it.
      if (level == 0) return <T>-Infinity;
      break;
    }
    target -= load<f64>(hist);
    prefix = (prefix << width) | <u64>b;
    // Compaction without branches (membership of the boundary bin is data, not predictable).
    let c = 0;
    kmin = -1;
    kmax = 0;
    for (let j = 0; j < cnt; j++) {
      const i = elem(from, j);
      const k = mkey<T>(load<T>(at<T>(x, i)), mass);
      const hit = (k >> shift) == prefix;
      store<i32>(tmp + (<usize>c << 2), i);
      c += <i32>hit;
      kmin = hit && k < kmin ? k : kmin;
      kmax = hit && k > kmax ? k : kmax;
    }
    cnt = c;
    from = tmp;
    if (kmin == kmax) break;
  }
  // The boundary's key (or, after rounding, the lowest candidate's).
  return mass ? raw_value<T>(kmin) : value_of<T>(kmin);
}

/** A value t0 with at least K elements of the row at or above it (in key order), found from the
 *  maxima of blocks of BLOCK_ELEMS (the K-th largest block maximum), or -Infinity when the row
 *  has too few blocks for that to prune. One vector pass; the block maxima go to `bmax`. */
function kth_lower_bound<T>(x: usize, n: i32, K: i32, hist: usize, tmp: usize, bmax: usize): T {
  const B = n / BLOCK_ELEMS;
  // (Only where the vector loops run: elsewhere every element is a candidate, the same answer.)
  if (!VEC<T>() || B < 4 * K) return <T>-Infinity;
  for (let b = 0; b < B; b++) {
    const p = at<T>(x, b * BLOCK_ELEMS);
    let m: T;
    if (VEC<T>()) {
      let m0 = v128.load(p), m1 = v128.load(p, 16), m2 = v128.load(p, 32), m3 = v128.load(p, 48);
      for (let o: usize = 64; o < <usize>BLOCK_ELEMS * sizeof<T>(); o += 64) {
        m0 = v128.pmax<T>(m0, v128.load(p + o));
        m1 = v128.pmax<T>(m1, v128.load(p + o, 16));
        m2 = v128.pmax<T>(m2, v128.load(p + o, 32));
        m3 = v128.pmax<T>(m3, v128.load(p + o, 48));
      }
      m = vhmax<T>(v128.pmax<T>(v128.pmax<T>(m0, m1), v128.pmax<T>(m2, m3)));
    } else {
      m = load<T>(p);
      for (let i = 1; i < BLOCK_ELEMS; i++) {
        const v = load<T>(at<T>(p, i));
        m = v > m ? v : m;
      }
    }
    store<T>(at<T>(bmax, b), m);
  }
  return rselect<T>(bmax, 0, B, <f64>K, false, hist, tmp);
}

/** Keeps the list's entries whose value is >= t (key order), in order; returns how many. */
function filter_ge<T>(x: usize, list: usize, cnt: i32, t: T): i32 {
  const k0 = key_of<T>(t);
  let c = 0;
  for (let j = 0; j < cnt; j++) {
    const i = load<i32>(list + (<usize>j << 2));
    if (key_of<T>(load<T>(at<T>(x, i))) >= k0) {
      store<i32>(list + (<usize>c << 2), i);
      c++;
    }
  }
  return c;
}

/** The K largest of the row (with every element tied with the K-th): their indices in index
 *  order at list_of(work); returns how many (>= K). */
function select_top<T>(x: usize, n: i32, K: i32, work: usize): i32 {
  const hist = work, list = list_of(work), tmp = tmp_of(work, n);
  const t0 = kth_lower_bound<T>(x, n, K, hist, tmp, bmax_of(work, n));
  const cnt = collect_band<T>(x, n, t0, <T>Infinity, list);
  const tk = rselect<T>(x, list, cnt, <f64>K, false, hist, tmp);
  return filter_ge<T>(x, list, cnt, tk);
}

/** The row's max, or NaN if it holds a NaN. */
export function rmaxnan<T>(x: usize, n: i32): T {
  let m = <T>-Infinity;
  let nan = false;
  let i = 0;
  if (VEC<T>()) {
    const L = LANES<T>();
    if (n >= L) {
      let vm = v128.splat<T>(m);
      let vn = v128.splat<i32>(0);
      for (; i <= n - L; i += L) {
        const v = v128.load(at<T>(x, i));
        vm = v128.pmax<T>(vm, v);
        vn = v128.or(vn, v128.ne<T>(v, v));
      }
      m = vhmax<T>(vm);
      nan = v128.any_true(vn);
    }
  }
  for (; i < n; i++) {
    const v = load<T>(at<T>(x, i));
    m = v > m ? v : m;
    nan = nan || v != v;
  }
  return nan ? <T>NaN : m;
}

/** The lowest index of the row's largest value, a NaN counting as the largest (the first NaN). */
export function rargmax<T>(x: usize, n: i32): i32 {
  const m = rmaxnan<T>(x, n);
  if (m != m) {
    for (let i = 0; i < n; i++) {
      const v = load<T>(at<T>(x, i));
      if (v != v) return i;
    }
  }
  let i = 0;
  if (VEC<T>()) {
    const L = LANES<T>();
    const vm = v128.splat<T>(m);
    while (i <= n - L && !v128.any_true(v128.eq<T>(v128.load(at<T>(x, i)), vm))) i += L;
  }
  for (; i < n; i++) {
    if (load<T>(at<T>(x, i)) == m) return i;
  }
  return 0;
}

/** argmax of each row, as a T (an index < 2^24 is exact in f32) at out[r]. */
export function argmax_rows<T>(x: usize, out: usize, rows: i32, C: i32): void {
  for (let r = 0; r < rows; r++) {
    store<T>(at<T>(out, r), <T>rargmax<T>(at<T>(x, r * C), C));
  }
}

/** The least value of x over the list's entries. */
function list_min<T>(x: usize, list: usize, cnt: i32): T {
  let m = <T>Infinity;
  for (let j = 0; j < cnt; j++) {
    const v = load<T>(at<T>(x, load<i32>(list + (<usize>j << 2))));
    m = v < m ? v : m;
  }
  return m;
}

/** x[i] = -Infinity where x[i] < t, over the row. */
function rmaskbelow<T>(x: usize, n: i32, t: T): void {
  let i = 0;
  if (VEC<T>()) {
    const L = LANES<T>();
    const vt = v128.splat<T>(t), ninf = v128.splat<T>(<T>-Infinity);
    for (; i <= n - L; i += L) {
      const p = at<T>(x, i);
      const v = v128.load(p);
      v128.store(p, v128.bitselect(ninf, v, v128.lt<T>(v, vt)));
    }
  }
  for (; i < n; i++) {
    const p = at<T>(x, i);
    if (load<T>(p) < t) store<T>(p, <T>-Infinity);
  }
}

/** y[i] = y[i] >= t ? y[i] : 0 over the row; returns the sum of what is kept (f64). */
export function raddkeepabove<T>(y: usize, n: i32, t: T): f64 {
  let sum = 0.0;
  let i = 0;
  if (VEC<T>()) {
    const L = LANES<T>();
    const vt = v128.splat<T>(t);
    while (i <= n - L) {
      const end = min(n - L, i + 256);
      let acc = v128.splat<T>(0);
      for (; i <= end; i += L) {
        const p = at<T>(y, i);
        const e = v128.and(v128.load(p), v128.ge<T>(v128.load(p), vt));
        v128.store(p, e);
        acc = v128.add<T>(acc, e);
      }
      sum += lanes_sum<T>(acc);
    }
  }
  for (; i < n; i++) {
    const p = at<T>(y, i);
    const e = load<T>(p) >= t ? load<T>(p) : <T>0;
    store<T>(p, e);
    sum += <f64>e;
  }
  return sum;
}

/** The index the inverse CDF of the (unnormalized, >= 0) row y draws for u * total: the smallest
 *  i whose running sum (f64, index order) exceeds it, or the last nonzero entry. */
export function rsample<T>(y: usize, n: i32, target: f64): i32 {
  let run = 0.0;
  // Whole blocks first (four partial sums each): skip a block while its total keeps the running
  // sum <= target.
  let i = 0;
  for (; i + 64 <= n; i += 64) {
    let s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (let j = 0; j < 64; j += 4) {
      const p = at<T>(y, i + j);
      s0 += <f64>load<T>(p);
      s1 += <f64>load<T>(p, sizeof<T>());
      s2 += <f64>load<T>(p, 2 * sizeof<T>());
      s3 += <f64>load<T>(p, 3 * sizeof<T>());
    }
    const s = (s0 + s1) + (s2 + s3);
    if (run + s > target) break;
    run += s;
  }
  for (; i < n; i++) {
    const e = <f64>load<T>(at<T>(y, i));
    if (e > 0) {
      run += e;
      if (run > target) return i;
    }
  }
  // Rounding left the running sum <= target: the last token of nonzero probability.
  for (let j = n - 1; j >= 0; j--) if (load<T>(at<T>(y, j)) > 0) return j;
  return 0;
}



/** The sums of the row's weights at or above lo and at or above hi (f64, at out and out + 8):
 *  one vector pass, lanes summed per block of 256 and the blocks in f64. */
function masked_sums2<T>(y: usize, n: i32, lo: T, hi: T, out: usize): void {
  let sl = 0.0, sh = 0.0;
  let i = 0;
  if (VEC<T>()) {
    const L = LANES<T>();
    const vl = v128.splat<T>(lo), vh = v128.splat<T>(hi);
    while (i <= n - L) {
      const end = min(n - L, i + 256);
      let al = v128.splat<T>(0), ah = al;
      for (; i <= end; i += L) {
        const v = v128.load(at<T>(y, i));
        al = v128.add<T>(al, v128.and(v, v128.ge<T>(v, vl)));
        ah = v128.add<T>(ah, v128.and(v, v128.ge<T>(v, vh)));
      }
      sl += lanes_sum<T>(al);
      sh += lanes_sum<T>(ah);
    }
  }
  for (; i < n; i++) {
    const v = load<T>(at<T>(y, i));
    if (v >= lo) sl += <f64>v;
    if (v >= hi) sh += <f64>v;
  }
  store<f64>(out, sl);
  store<f64>(out, sh, 8);
}

/** The octave-quarter bin of a weight in [0, 1] (2048 bins; f64 weights below 2^-255 in bin 0). */
// @ts-ignore: decorator
@inline function wbin<T>(v: T): i32 {
  if (sizeof<T>() == 4) return <i32>(reinterpret<u32>(<f32>v) >> 21);
  const b = <i32>(reinterpret<u64>(<f64>v) >> 50) - 3072;
  return b < 0 ? 0 : b;
}

/** The least weight of bin b (0 for b <= 0). */
// @ts-ignore: decorator
@inline function wbin_lo<T>(b: i32): T {
  if (b <= 0) return <T>0;
  if (sizeof<T>() == 4) return <T>reinterpret<f32>(<u32>b << 21);
  return <T>reinterpret<f64>(<u64>(b + 3072) << 50);
}

// @ts-ignore: decorator
@inline function lanes_sum<T>(v: v128): f64 {
  if (sizeof<T>() == 4) {
    return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) + (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
  } else {
    return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
  }
}

/** The indices of the row's values in [lo, hi), and of its NaNs, in index order, into list;
 *  returns how many. f32 rows in the SIMD builds test four vectors at a time and pack each
 *  one's indices with a shuffle (pack_lanes), without a branch per vector: a band's values are
 *  scattered over the row, and a branch on each vector's hits was mispredicted so often that it
 *  took half of a top-p sample call (the topP 0.95 band of a language model's row holds 9089 of
 *  its 128256 values); rows with few values in the band skip four vectors in one branch. */
function collect_band<T>(y: usize, n: i32, lo: T, hi: T, list: usize): i32 {
  let c = 0;
  let i = 0;
  if (VEC<T>()) {
    const vl = f32x4.splat(<f32>lo), vh = f32x4.splat(<f32>hi);
    let idx = i32x4(0, 1, 2, 3);
    for (; i <= n - 16; i += 16) {
      const p = at<T>(y, i);
      const k0 = in_band(v128.load(p), vl, vh), k1 = in_band(v128.load(p, 16), vl, vh);
      const k2 = in_band(v128.load(p, 32), vl, vh), k3 = in_band(v128.load(p, 48), vl, vh);
      if (v128.any_true(v128.or(v128.or(k0, k1), v128.or(k2, k3)))) {
        c = pack_lanes(list, c, k0, idx);
        c = pack_lanes(list, c, k1, i32x4.add(idx, i32x4.splat(4)));
        c = pack_lanes(list, c, k2, i32x4.add(idx, i32x4.splat(8)));
        c = pack_lanes(list, c, k3, i32x4.add(idx, i32x4.splat(12)));
      }
      idx = i32x4.add(idx, i32x4.splat(16));
    }
    for (; i <= n - 4; i += 4) {
      c = pack_lanes(list, c, in_band(v128.load(at<T>(y, i)), vl, vh), idx);
      idx = i32x4.add(idx, i32x4.splat(4));
    }
  }
  for (; i < n; i++) {
    const e = load<T>(at<T>(y, i));
    store<i32>(list + (<usize>c << 2), i);
    c += <i32>!(e < lo || e >= hi);
  }
  return c;
}

/** The lanes of f32 vector v in [lo, hi) or NaN (collect_band's test), as all-ones lanes. */
// @ts-ignore: decorator
@inline function in_band(v: v128, lo: v128, hi: v128): v128 {
  return v128.not(v128.or(f32x4.lt(v, lo), f32x4.ge(v, hi)));
}

/** i8x16.swizzle patterns, one per 4-bit lane mask: the bytes of the set lanes' i32s, in lane
 *  order, then 255 (a zero byte). */
const PACK_LANES: usize = !ASC_FEATURE_SIMD ? 0 : memory.data<u8>([
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255,
  8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255,
  4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255,
  12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255,
  4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255,
  8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
]);

/** Stores the lanes of idx where mask k is set at list[c..], in lane order; returns c plus
 *  their count. It writes four lanes whatever the count: with c <= the index of the vector's
 *  first element (c counts a subset of the elements before it), the store stays within the
 *  elements read so far. */
// @ts-ignore: decorator
@inline function pack_lanes(list: usize, c: i32, k: v128, idx: v128): i32 {
  const m = i32x4.bitmask(k);
  v128.store(list + (<usize>c << 2), i8x16.swizzle(idx, v128.load(PACK_LANES + (<usize>m << 4))));
  return c + popcnt(m);
}

/**
 * The top-p boundary of a whole row of weights y (in [0, 1]): an estimate from every 16th weight
 * (a histogram by quarter octaves) gives a band [lo, hi) of two octaves around it; one vector pass
 * checks that the mass at or above hi is below the target and at or above lo reaches it (with
 * 1e-5 to spare, else that end of the band opens up); the band's weights are collected and the
 * radix select finds the boundary among them, the mass above the band taken off the target.
 * Exact whatever the estimate: a bad one only costs a wider band.
 */
function topp_full<T>(y: usize, n: i32, target: f64, work: usize): T {
  const hist = work;
  memory.fill(hist, 0, <usize>BINS << 3);
  // The head (weights >= 2^-8, few) exactly, the rest from every 16th weight, times 16.
  const step = n >= 4096 ? 16 : 1;
  const H = step == 1 ? <T>Infinity : <T>0.00390625;
  const list = list_of(work);
  const heads = step == 1 ? 0 : collect_band<T>(y, n, H, <T>Infinity, list);
  for (let j = 0; j < heads; j++) {
    const v = load<T>(at<T>(y, load<i32>(list + (<usize>j << 2))));
    const p = hist + (<usize>wbin<T>(v) << 3);
    store<f64>(p, load<f64>(p) + <f64>v);
  }
  for (let i = 0; i < n; i += step) {
    const v = load<T>(at<T>(y, i));
    if (v < H) {
      const p = hist + (<usize>wbin<T>(v) << 3);
      store<f64>(p, load<f64>(p) + <f64>v * <f64>step);
    }
  }
  let b = 0;
  let acc = 0.0;
  for (let k = BINS - 1; k >= 0; k--) {
    acc += load<f64>(hist + (<usize>k << 3));
    if (acc >= target) {
      b = k;
      break;
    }
  }
  let lo = wbin_lo<T>(b - 4);
  let hi = b + 5 < BINS ? wbin_lo<T>(b + 5) : <T>Infinity;
  const sums = work + (<usize>BINS << 3);
  masked_sums2<T>(y, n, lo, hi, sums);
  let above = load<f64>(sums, 8);
  if (!(above < target * (1 - 1e-5))) {
    hi = <T>Infinity;
    above = 0;
  }
  if (!(load<f64>(sums) >= target * (1 + 1e-5))) lo = <T>0;
  const cnt = collect_band<T>(y, n, lo, hi, list);
  const v = rselect<T>(y, list, cnt, max(target - above, 0.0), true, work, tmp_of(work, n));
  return v == <T>-Infinity ? lo : v;
}


/** The min-p threshold on the weights (the max's weight is exp(0) = 1, so p < minP * max(p) is
 *  weight < minP), lowered to the minKeep-th largest weight when that keeps more. */
function minp_threshold<T>(x: usize, list: usize, cnt: i32, minP: f64, minKeep: i32, work: usize, C: i32): T {
  let t = <T>minP;
  if (minKeep > 1) {
    const tk = rselect<T>(x, list, cnt, <f64>minKeep, false, work, tmp_of(work, C));
    t = tk < t ? tk : t;
  }
  return t;
}

/**
 * The sampling distribution of each row of x (rows of C, already penalized), in place: removed
 * tokens 0, kept ones summing to 1; or, when `u` is not 0, the token drawn with the row's
 * uniform u[r] (f64), stored as a T at out[r] (x is then left with scratch values).
 * beta = 1 / temperature, 0 for greedy. topK = 0, topP >= 1, minP <= 0 are off; minKeep >= 1.
 * `work` holds work_bytes(C). Returns the first row (of this call) that cannot be sampled (NaN,
 * +Infinity, all -Infinity), or -1: rows before it are done, it and the rows after it are not.
 *
 * The steps are passes over the row: top-k's threshold (select_top's block-maxima prefilter and
 * radix select over the few candidates, for f32 rows in the SIMD builds; a radix select of the
 * row otherwise) and its mask, one exp pass, top-p's and min-p's thresholds and one keep pass
 * each, then the draw or the normalization.
 */
export function decode_rows<T>(x: usize, out: usize, u: usize, rows: i32, C: i32, beta: T, topK: i32, topP: f64, minP: f64, minKeep: i32, work: usize): i32 {
  const list = list_of(work);
  for (let r = 0; r < rows; r++) {
    const row = at<T>(x, r * C);
    const m = rmaxnan<T>(row, C);
    if (m != m || m == <T>Infinity || m == <T>-Infinity) return r;
    let pick = -1;
    const K = topK > 0 ? min(max(topK, minKeep), C) : C;
    if (beta == 0) {
      // Greedy: one-hot at the first argmax.
      pick = rargmax<T>(row, C);
      if (u == 0) {
        memory.fill(row, 0, <usize>C << alignof<T>());
        store<T>(at<T>(row, pick), <T>1);
      }
    } else {
      // Top-k: the logits below the k'-th largest become -Infinity (that value from the few
      // candidates select_top leaves where the vector loops run, else a radix select of the row).
      if (K < C) rmaskbelow<T>(row, C, VEC<T>() ? list_min<T>(row, list, select_top<T>(row, C, K, work)) : rselect<T>(row, 0, C, <f64>K, false, work, tmp_of(work, C)));
      // One exp pass, the softmax family's (reduce.ts).
      let S = expsum_store_scaled<T>(row, row, C, m, beta, 0, 0);
      if (topP < 1) {
        const t = VEC<T>() ? topp_full<T>(row, C, topP * S, work) : rselect<T>(row, 0, C, topP * S, true, work, tmp_of(work, C));
        const tk = minKeep > 1 ? rselect<T>(row, 0, C, <f64>minKeep, false, work, tmp_of(work, C)) : t;
        const tt = tk < t ? tk : t;
        if (tt > 0) S = raddkeepabove<T>(row, C, tt);
      }
      if (minP > 0) {
        const t = minp_threshold<T>(row, 0, C, minP, minKeep, work, C);
        if (t > 0) S = raddkeepabove<T>(row, C, t);
      }
      if (u != 0) pick = rsample<T>(row, C, load<f64>(u + (<usize>r << 3)) * S);
      else vscale<T>(row, row, C, <T>(1.0 / S));
    }
    if (u != 0) store<T>(at<T>(out, r), <T>pick);
  }
  return -1;
}

/** Whether entry a comes after entry b in topK's order: value descending (keys), then index. */
// @ts-ignore: decorator
@inline function after(keys: usize, idx: usize, a: i32, b: i32): bool {
  const ka = load<u64>(keys + (<usize>a << 3)), kb = load<u64>(keys + (<usize>b << 3));
  return ka < kb || (ka == kb && load<i32>(idx + (<usize>a << 2)) > load<i32>(idx + (<usize>b << 2)));
}

// @ts-ignore: decorator
@inline function swap(keys: usize, idx: usize, a: i32, b: i32): void {
  const ka = load<u64>(keys + (<usize>a << 3)), ia = load<i32>(idx + (<usize>a << 2));
  store<u64>(keys + (<usize>a << 3), load<u64>(keys + (<usize>b << 3)));
  store<i32>(idx + (<usize>a << 2), load<i32>(idx + (<usize>b << 2)));
  store<u64>(keys + (<usize>b << 3), ka);
  store<i32>(idx + (<usize>b << 2), ia);
}

/** Heapsort of n (key, index) pairs into topK's order (k log k: only the k selected are
 *  sorted): a max-heap under `after` (its root the entry that comes last), then extraction. */
function sort_topk(keys: usize, idx: usize, n: i32): void {
  for (let s = (n >> 1) - 1; s >= 0; s--) sift(keys, idx, s, n);
  for (let end = n - 1; end > 0; end--) {
    swap(keys, idx, 0, end);
    sift(keys, idx, 0, end);
  }
}

function sift(keys: usize, idx: usize, s: i32, n: i32): void {
  let i = s;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && after(keys, idx, c + 1, c)) c++;
    if (!after(keys, idx, c, i)) return;
    swap(keys, idx, i, c);
    i = c;
  }
}

/**
 * The k largest of each row, descending, ties by lower index (a NaN the largest): their indices
 * (i32) at outIdx[r * k ..] and values (T) at outVal[r * k ..]. `work` holds work_bytes(C).
 * (topK's log-probabilities come from the softmax family's log_softmax kernel over the same rows.)
 */
export function topk_rows<T>(x: usize, rows: i32, C: i32, k: i32, outIdx: usize, outVal: usize, work: usize): void {
  const list = list_of(work);
  for (let r = 0; r < rows; r++) {
    const row = at<T>(x, r * C);
    const oi = outIdx + (<usize>(r * k) << 2);
    const ov = at<T>(outVal, r * k);
    const cnt = select_top<T>(row, C, k, work);
    // The list holds the k largest and every tie of the k-th (its least value): those above it,
    // then as many of its ties as fit; then only those k are sorted.
    let tk: u64 = -1;
    for (let j = 0; j < cnt; j++) {
      const kk = key_of<T>(load<T>(at<T>(row, load<i32>(list + (<usize>j << 2)))));
      tk = kk < tk ? kk : tk;
    }
    let c = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < cnt && c < k; j++) {
        const i = load<i32>(list + (<usize>j << 2));
        const kk = key_of<T>(load<T>(at<T>(row, i)));
        if (pass == 0 ? kk > tk : kk == tk) {
          store<i32>(oi + (<usize>c << 2), i);
          c++;
        }
      }
    }
    const keys = (tmp_of(work, C) + 7) & ~<usize>7;
    for (let j = 0; j < k; j++) store<u64>(keys + (<usize>j << 3), key_of<T>(load<T>(at<T>(row, load<i32>(oi + (<usize>j << 2))))));
    sort_topk(keys, oi, k);
    for (let j = 0; j < k; j++) store<T>(at<T>(ov, j), load<T>(at<T>(row, load<i32>(oi + (<usize>j << 2)))));
  }
}
