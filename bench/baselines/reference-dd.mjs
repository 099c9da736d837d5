// Double-double references for float64 results: every value is carried as an unevaluated sum
// hi + lo of two float64s (~106 significant bits; Dekker 1971, Knuth's two-sum), so a float64
// result can be measured in ulps against a reference whose own error is ~2^-100 relative. Used by
// `npm run accuracy` (its float64 table) and by the float64 accuracy tests.

/** A double-double value hi + lo, |lo| <= ulp(hi)/2. @typedef {{ hi: number, lo: number }} DD */

/** @param {number} hi @param {number} lo @returns {DD} hi + lo renormalized (fast two-sum: |hi| >= |lo|). */
function fast(hi, lo) {
  const s = hi + lo;
  return { hi: s, lo: lo - (s - hi) };
}

/** @param {number} a @param {number} b @returns {DD} a + b exactly (two-sum). */
export function twoSum(a, b) {
  const s = a + b, bb = s - a;
  return { hi: s, lo: (a - (s - bb)) + (b - bb) };
}

const SPLIT = 134217729; // 2^27 + 1 (Veltkamp's split of a float64 into two 26-bit halves)
/** @param {number} a @param {number} b @returns {DD} a * b exactly (Dekker's two-product). */
function twoProd(a, b) {
  const p = a * b;
  let c = SPLIT * a;
  const ah = c - (c - a), al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b), bl = b - bh;
  return { hi: p, lo: ((ah * bh - p) + ah * bl + al * bh) + al * bl };
}

/** @param {DD} a @param {DD} b @returns {DD} */
export function add(a, b) {
  const s = twoSum(a.hi, b.hi), t = twoSum(a.lo, b.lo);
  const u = fast(s.hi, s.lo + t.hi);
  return fast(u.hi, u.lo + t.lo);
}

/** @param {DD} a @param {DD} b @returns {DD} */
export function mul(a, b) {
  const p = twoProd(a.hi, b.hi);
  return fast(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

/** @param {DD} a @param {DD} b @returns {DD} a / b (two Newton-style correction steps). */
export function div(a, b) {
  const q1 = a.hi / b.hi;
  let r = add(a, neg(mul(b, { hi: q1, lo: 0 })));
  const q2 = r.hi / b.hi;
  r = add(r, neg(mul(b, { hi: q2, lo: 0 })));
  const q3 = r.hi / b.hi;
  return add(fast(q1, q2), { hi: q3, lo: 0 });
}

/** @param {DD} a @returns {DD} */
export function neg(a) {
  return { hi: -a.hi, lo: -a.lo };
}

/** @param {number} a @returns {DD} */
export function dd(a) {
  return { hi: a, lo: 0 };
}

const LN2 = { hi: 0.6931471805599453, lo: 2.3190468138462996e-17 };
const HALVINGS = 10;

/**
 * exp of a double-double: x = k ln2 + r, exp(r / 2^10) by its Taylor series (|r / 2^10| < 3.4e-4,
 * 14 terms leave < 1e-50), squared 10 times, times 2^k. Relative error ~1e-29. Results below
 * 2^-1022 (where 2^k's scaling of lo would lose bits) are returned as hi only; -Infinity gives 0.
 * @param {DD} x @returns {DD}
 */
export function exp(x) {
  if (x.hi === -Infinity) return dd(0);
  const k = Math.round(x.hi / LN2.hi);
  let r = add(x, neg(mul(LN2, dd(k))));
  r = { hi: r.hi / 2 ** HALVINGS, lo: r.lo / 2 ** HALVINGS };
  let term = dd(1), sum = dd(1);
  for (let n = 1; n <= 14; n++) {
    term = div(mul(term, r), dd(n));
    sum = add(sum, term);
  }
  for (let i = 0; i < HALVINGS; i++) sum = mul(sum, sum);
  // 2^k in two steps, so that 2^k itself never overflows or underflows before the product.
  const k1 = Math.trunc(k / 2), k2 = k - k1;
  return { hi: sum.hi * 2 ** k1 * 2 ** k2, lo: sum.lo * 2 ** k1 * 2 ** k2 };
}

/**
 * log of a positive double-double: y = log(hi) refined by one Newton step y + (a exp(-y) - 1),
 * which squares the float64 start's 1e-16 relative error.
 * @param {DD} a @returns {DD}
 */
export function log(a) {
  const y = dd(Math.log(a.hi));
  return add(y, add(mul(a, exp(neg(y))), dd(-1)));
}

/** @param {DD} a @returns {number} a rounded to float64. */
export function toNumber(a) {
  return a.hi + a.lo;
}

/**
 * The softmax family of one row x[0..C) of float64 values, in double-double: d[i] = x[i] - max
 * (exact), p[i] = exp(d[i]) / S and logp[i] = d[i] - log S with S the sum of exp(d), and
 * lse = max + log S.
 * @param {ArrayLike<number>} x @returns {{ p: DD[], logp: DD[], lse: DD, d: DD[], logS: DD }}
 */
export function softmaxRow(x) {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  const d = Array.from(x, (v) => twoSum(v, -max));
  const e = d.map(exp);
  let S = dd(0);
  for (const v of e) S = add(S, v);
  const logS = log(S);
  return { p: e.map((v) => div(v, S)), logp: d.map((v) => add(v, neg(logS))), lse: add(dd(max), logS), d, logS };
}

/**
 * |out - ref| in ulps of float64 at ref (2^(floor(log2 |ref|) - 52); the smallest normal's ulp
 * below 2^-1022).
 * @param {number} out @param {DD} ref @returns {number}
 */
export function ulps64(out, ref) {
  const r = Math.abs(ref.hi);
  const e = r >= 2 ** -1022 ? Math.floor(Math.log2(r)) : -1022;
  // Math.log2 can round up to the next integer just below a power of two.
  const ulp = 2 ** ((2 ** e > r ? e - 1 : e) - 52);
  return Math.abs(toNumber(add(dd(out), neg(ref)))) / ulp;
}
