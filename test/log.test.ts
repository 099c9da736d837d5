// test:browser skip (compiles assembly/log.ts with asc, which this suite runs in Node)
// The kernels' float64 log (assembly/log.ts: log64 and its two-lane twin vlog64), compiled on its
// own and checked against double-double references (bench/baselines/reference-dd.mjs, ~2^-100
// relative) where its table and reduction can go wrong: at 1 and around it, at every table
// subinterval's edges, at the exponent range's ends and in the subnormals; Math.log's results for
// 0, negatives, infinities and NaN; and vlog64's lanes bit for bit against log64 (the short-row
// groups take vlog64, a row alone log64).
import { beforeAll, describe, expect, it } from 'vitest';
import logSource from '../assembly/log.ts?raw';
import * as DD from '../bench/baselines/reference-dd.mjs';
import { rng } from './helpers/random.js';

interface LogModule {
  log(x: number): number;
  /** lane `lane` of vlog64([x, y]) */
  vlog(x: number, y: number, lane: number): number;
}

const ENTRY = `import { log64, vlog64 } from './log';
export function log(x: f64): f64 { return log64(x); }
export function vlog(x: f64, y: f64, lane: i32): f64 {
  const v = vlog64(f64x2.replace_lane(f64x2.splat(x), 1, y));
  return lane ? f64x2.extract_lane(v, 1) : f64x2.extract_lane(v, 0);
}`;

let m: LogModule;
beforeAll(async () => {
  const asc = await import('assemblyscript/asc');
  const out = await asc.compileString({ 'entry.ts': ENTRY, 'log.ts': logSource }, { optimizeLevel: 3, runtime: 'stub', noAssert: true, enable: ['simd'] });
  if (!out.binary) throw new Error(`asc: ${out.stderr.toString()}`);
  m = new WebAssembly.Instance(new WebAssembly.Module(out.binary as BufferSource), { env: { abort() {} } }).exports as unknown as LogModule;
}, 120_000);

const view = new DataView(new ArrayBuffer(8));
const fromBits = (b: bigint) => (view.setBigUint64(0, BigInt.asUintN(64, b)), view.getFloat64(0));
const bitsOf = (x: number) => (view.setFloat64(0, x), view.getBigUint64(0));
/** The float64 OFF of assembly/log.ts: z in [OFF, 2 OFF), split into 32 by the top 5 bits. */
const OFF = 0x3fe5c00000000000n;

/** The test points: positive, finite, normal and subnormal. */
function points(): number[] {
  const r = rng(1905);
  const xs: number[] = [];
  for (let i = 1; i <= 4096; i++) xs.push(i); // the exp-sums of constant rows: log(C)
  for (let i = 0; i < 4000; i++) xs.push(1 + (r() - 0.5) * 2 ** -Math.floor(1 + 52 * r())); // around 1
  for (let i = -1; i <= 1; i++) for (let d = 1n; d < 40n; d++) xs.push(fromBits(bitsOf(1) + BigInt(i) * d)); // 1 and its neighbours
  for (let j = 0n; j <= 32n; j++) {
    const edge = OFF + (j << 47n);
    for (let i = 0; i < 60; i++) {
      const d = BigInt(Math.floor((r() - 0.5) * 2 ** Math.floor(1 + 46 * r())));
      for (const e of [0n, 1n, -1n, 9n, -30n]) xs.push(fromBits(edge + d + (e << 52n)));
    }
  }
  for (let i = 0; i < 4000; i++) xs.push(2 ** (Math.floor(2046 * r()) - 1022) * (1 + r())); // the exponent range
  for (let i = 0; i < 500; i++) xs.push(r() * 2 ** -1022); // subnormals
  xs.push(Number.MIN_VALUE, 2 ** -1022, Number.MAX_VALUE, 2, 0.5, Math.E);
  return xs.filter((x) => x > 0 && x < Infinity);
}

/** log(x) in double-double. Near 1, where DD.log's Newton step leaves an absolute error of ~1e-29
 *  (0.5-1 ulp of a log below 1e-13), the series of log1p(d) for the exact d = x - 1, |d| < 1/16. */
type Dd = ReturnType<typeof DD.dd>;
function refLog(x: number): Dd {
  if (Math.abs(x - 1) >= 1 / 16) return DD.log(DD.dd(x));
  const d = DD.dd(x - 1);
  let sum = DD.dd(0), power = d;
  for (let n = 1; n <= 40; n++) {
    sum = DD.add(sum, DD.div(n % 2 ? power : DD.neg(power), DD.dd(n)));
    power = DD.mul(power, d);
  }
  return sum;
}

const ulps = (out: number, x: number) => DD.ulps64(out, refLog(x));

describe('log64: float64 log to ~0.52 ulp', () => {
  it('is within 0.53 ulp of the double-double log wherever it can go wrong, and at 1 and the powers of 2 the correctly rounded value', () => {
    let worst = 0, at = 0;
    for (const x of points()) {
      const e = ulps(m.log(x), x);
      if (e > worst) (worst = e), (at = x);
    }
    expect(worst, `worst at x = ${at}`).toBeLessThan(0.53);
    expect(Object.is(m.log(1), 0)).toBe(true);
    const ln2 = { hi: Math.LN2, lo: 2.3190468138462996e-17 };
    for (let k = -1074; k <= 1023; k += 13) expect(m.log(2 ** k)).toBe(DD.toNumber(DD.mul(DD.dd(k), ln2)));
  });

  it('gives what Math.log gives for 0, negatives, infinities and NaN', () => {
    expect(m.log(0)).toBe(-Infinity);
    expect(m.log(-0)).toBe(-Infinity);
    expect(m.log(Infinity)).toBe(Infinity);
    for (const x of [-1, -Number.MIN_VALUE, -Infinity, NaN]) expect(m.log(x)).toBeNaN();
  });

  it('vlog64: each lane has the bits of log64, whatever the other lane holds (special values included)', () => {
    const others = [1.5, 0.9, 0, -1, NaN, Infinity, Number.MIN_VALUE];
    const xs = [...points().slice(0, 6000), ...others];
    let mismatches = 0;
    for (const x of xs) {
      const want = bitsOf(m.log(x));
      for (const y of others) {
        if (bitsOf(m.vlog(x, y, 0)) !== want || bitsOf(m.vlog(y, x, 1)) !== want) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });
});
