// Deterministic test data, shared by every suite: one generator (mulberry32, the one the fixtures
// README specifies for the PyTorch cases, so fixture inputs and test inputs come from the same
// sequence), and the few shapes of random data the suites build from it. Pure: no Node imports
// (test/pool.test.ts also runs in Chromium).

export type FloatArray = Float32Array | Float64Array;
export type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** mulberry32: uniform numbers in [0, 1), each a multiple of 2^-32; the same sequence for a seed
 *  on every run and every build. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [-scale, scale). */
export function uniform(n: number, seed: number, scale = 4): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** The same values as uniform(n, seed, scale), in a typed array of the given type. */
export function uniformArray<T extends FloatCtor>(T: T, n: number, seed: number, scale = 4): InstanceType<T> {
  const r = rng(seed);
  const a = new T(n) as InstanceType<T>;
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** One standard normal value from two of r's numbers (Box-Muller, its cosine branch). */
export function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** n class indices in [0, C); with `ignore`, every 7th one (from index 3) is `ignore` instead. */
export function randomLabels(n: number, C: number, seed: number, ignore?: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => (ignore !== undefined && i % 7 === 3 ? ignore : Math.floor(r() * C)));
}

/** rows x C probabilities (row-major, each row sums to 1 up to rounding) in the given type. */
export function randomProbabilities<T extends FloatCtor>(T: T, rows: number, C: number, seed: number): InstanceType<T> {
  const q = uniformArray(T, rows * C, seed, 1).map((v) => Math.abs(v)) as InstanceType<T>;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += q[r * C + c]!;
    for (let c = 0; c < C; c++) q[r * C + c]! /= s;
  }
  return q;
}
