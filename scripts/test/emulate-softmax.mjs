// The f32 softmax of the k-shift rows, emulated in JS (Math.fround after each float32 operation,
// no fused operations: the scalar and simd builds' arithmetic), with the exp polynomial of the
// kernels (XNNPACK's degree 5) and a degree-6 one, each with the row's sum taken exactly (the
// scalar build sums in float64) and in the SIMD builds' blocks of float32 lane sums. Prints the
// worst ulp per family of `npm run accuracy` against the same references: what the README's
// accuracy notes say a more accurate exp would give, without building it. Rows the k-shift
// does not take (a span past 87, |max| past 256) are left out.
//
//   npm run build && node scripts/test/emulate-softmax.mjs
import { readFileSync } from 'node:fs';
import { FAMILIES, makeFamily, references, ulpOf } from './accuracy.mjs';

const f = Math.fround;
const u32 = new Uint32Array(1), f32 = new Float32Array(u32.buffer);
const bitsOf = (x) => ((f32[0] = x), u32[0]);
const ofBits = (b) => ((u32[0] = b), f32[0]);

// The kernels' constants, read from their one definitions (this script runs on Node 20, which
// cannot import TypeScript): SHORT_ROW_MAX_C, simd.ts's BLOCK and exp.ts's f32 constants (hex bits).
const source = (file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const SHORT_ROW_MAX_C = Number(/SHORT_ROW_MAX_C = (\d+)/.exec(source('src/kernel-constants.ts'))[1]);
const expSource = source('assembly/exp.ts');
const k32 = (name) => ofBits(Number(new RegExp(`const ${name}: f32 = reinterpret<f32>\\((0x[0-9A-Fa-f]+)\\)`).exec(expSource)[1]));
const [LOG2E, MAGIC, MINUS_LN2_HI, MINUS_LN2_LO] = ['F32_LOG2E', 'F32_MAGIC', 'F32_MINUS_LN2_HI', 'F32_MINUS_LN2_LO'].map(k32);
/** exp(t) = 1 + t*p(t), p's coefficients from the constant term up. */
const POLYNOMIALS = {
  'degree 5 (the kernels)': ['F32_C1', 'F32_C2', 'F32_C3', 'F32_C4', 'F32_C5'].map(k32),
  // minimax of the relative error on |t| <= ln2/2 + 0.01 (Lawson's iterations, each coefficient
  // rounded to f32 before the next is fitted): 3.8e-9 relative, where degree 5 is 9.1e-8
  'degree 6': [0x3f800000, 0x3efffffd, 0x3e2aaa3e, 0x3d2aacf1, 0x3c092500, 0x3ab4dbb6].map(ofBits),
};
const BLOCK = Number(/export const BLOCK: i32 = (\d+);/.exec(source('assembly/simd.ts'))[1]);
const LANES = 16; // the exp pass's four vectors of four lanes

/** sexp_k_ops of assembly/exp.ts: exp(x - k*ln2) for magic = KMAGIC(k), with the polynomial c. */
function expK(x, magic, c) {
  const n = f(f(x * LOG2E) + magic);
  const s = ofBits((bitsOf(n) << 23) >>> 0);
  const nk = f(n - magic);
  let t = f(f(nk * MINUS_LN2_HI) + x);
  t = f(f(nk * MINUS_LN2_LO) + t);
  let p = c[c.length - 1];
  for (let j = c.length - 2; j >= 0; j--) p = f(f(p * t) + c[j]);
  return f(f(f(t * s) * p) + s);
}

/** The sum of e as the SIMD builds' exp pass (reduce.ts expsum_body) adds it: per block, 16
 *  float32 lane sums, their four vectors added pairwise, the lanes in float64; the rest's whole
 *  vectors in one float32 sum per lane, then one at a time in float64. Short rows (4-16 classes:
 *  SHORT_ROW_MAX_C) as short_rows.ts short_vexpsum_k adds them. */
function blockSum(e) {
  if (e.length >= 4 && e.length <= SHORT_ROW_MAX_C) return shortSum(e);
  const nv = e.length - (e.length % LANES);
  let s = 0, i = 0;
  while (i < nv) {
    const end = Math.min(i + BLOCK, nv), a = new Array(LANES).fill(0);
    for (; i < end; i += LANES) for (let j = 0; j < LANES; j++) a[j] = f(a[j] + e[i + j]);
    const l = [0, 1, 2, 3].map((q) => f(f(a[q] + a[4 + q]) + f(a[8 + q] + a[12 + q])));
    s += (l[0] + l[1]) + (l[2] + l[3]);
  }
  if (i + 4 <= e.length) {
    const a = [0, 0, 0, 0];
    for (; i + 4 <= e.length; i += 4) for (let j = 0; j < 4; j++) a[j] = f(a[j] + e[i + j]);
    s += (a[0] + a[1]) + (a[2] + a[3]);
  }
  for (; i < e.length; i++) s += e[i];
  return s;
}

/** short_vexpsum_k's sum: four float32 lanes over the row's whole vectors, then its last vector
 *  (ending at the row's end) in the lanes not yet counted, or where C = 2 mod 4 its last two values
 *  in lanes 0 and 1; the lanes in float64, (l0 + l1) + (l2 + l3). */
function shortSum(e) {
  const C = e.length, end = C - 4, a = [0, 0, 0, 0];
  let o = 0;
  for (; o < end; o += 4) for (let j = 0; j < 4; j++) a[j] = f(a[j] + e[o + j]);
  if (C % 4 === 2) (a[0] = f(a[0] + e[C - 2])), (a[1] = f(a[1] + e[C - 1]));
  else for (let j = 0; j < 4; j++) if (end + j >= o) a[j] = f(a[j] + e[end + j]);
  return (a[0] + a[1]) + (a[2] + a[3]);
}

/** Worst ulp of the emulated softmax over a family's k-shift rows (NaN: none); `resum`: the sum
 *  formed again exactly where the max's term holds more than half of it. */
function worstUlp({ rows, C, x }, ref, c, blocks, resum) {
  let worst = NaN;
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * C, (r + 1) * C);
    const m = Math.max(...row), lo = Math.min(...row);
    if (m - lo > 87 || Math.abs(m) > 256 || m === lo) continue;
    const magic = f(MAGIC - Math.round(m * Math.LOG2E));
    const e = Array.from(row, (v) => expK(v, magic, c));
    let s = blocks ? blockSum(e) : e.reduce((a, b) => a + b, 0);
    if (resum && expK(m, magic, c) > s / 2) s = e.reduce((a, b) => a + b, 0);
    const inv = f(1 / s);
    for (let i = 0; i < C; i++) {
      const want = ref.p[r * C + i];
      if (want < 2 ** -126) continue;
      const ulps = Math.abs(f(e[i] * inv) - want) / ulpOf(want);
      worst = Number.isNaN(worst) ? ulps : Math.max(worst, ulps);
    }
  }
  return worst;
}

const cols = Object.entries(POLYNOMIALS).flatMap(([name, c]) => [
  [`${name}, sum exact`, c, false, false],
  [`${name}, f32 blocks`, c, true, false],
  [`${name}, f32 blocks, again near 1`, c, true, true],
]);
console.log(`| family | ${cols.map((k) => k[0]).join(' | ')} |\n| --- |${cols.map(() => ' ---: |').join('')}`);
for (const name of Object.keys(FAMILIES)) {
  const fam = makeFamily(name), ref = references(fam);
  const w = cols.map(([, c, blocks, resum]) => worstUlp(fam, ref, c, blocks, resum));
  console.log(`| ${name} [${fam.rows},${fam.C}] | ${w.map((v) => (Number.isNaN(v) ? '—' : v.toFixed(2))).join(' | ')} |`);
}
