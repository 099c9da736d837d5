// The soak: millions of mixed calls (every function, the Workspace, random
// shapes and options from cases.ts, and a sprinkle of calls that must fail) on one build,
// watching wasm memory and process RSS, and spot-checking results against the float64
// expectation. Used by soak.test.ts (100k calls in `npm test`) and `npm run soak` (10 million).
import * as api from '../../src/index.js';
import { getRuntime } from '../../src/load.js';
import { build, check, randomParams, type Built } from './cases.js';
import { rng } from '../helpers/random.js';

export interface SoakOptions {
  calls: number;
  seed: number;
  /** Random calls prepared (inputs and expectations) per pool; a new pool every `refresh` calls. */
  pool: number;
  refresh: number;
  maxElems: number;
  /** Check every n-th call's result against its expectation (the others only run). */
  checkEvery: number;
  /** Fraction of calls that are bad calls (each must throw its error class). */
  badRate: number;
  sampleEvery: number;
  onSample?: (s: Sample) => void;
}

export interface Sample {
  calls: number;
  seconds: number;
  wasmBytes: number;
  rssBytes: number;
  heapBytes: number;
  /** The memory of ArrayBuffers (typed arrays' backing stores, outside the JS heap). */
  arrayBufferBytes: number;
}

export interface SoakReport {
  calls: number;
  checked: number;
  bad: number;
  /** Wasm memory after the first warm-up and the largest seen. */
  wasmAfterWarmup: number;
  wasmMax: number;
  /** Pools used (each warmed up, then called without any wasm memory growth allowed). */
  phases: number;
  rssAfterWarmup: number;
  rssMax: number;
  rssEnd: number;
  /** The JS heap in use (after a collection where gc is exposed) after the warm-up and at the end. */
  heapAfterWarmup: number;
  heapEnd: number;
  arrayBuffersAfterWarmup: number;
  arrayBuffersEnd: number;
  seconds: number;
  samples: Sample[];
  byFn: Record<string, number>;
}

const x6 = new Float32Array([1, 2, 3, 4, 5, 6]);
/** Calls that must fail, with their error class: wrong types, sizes, labels, aliasing. */
const BAD: [() => unknown, typeof TypeError | typeof RangeError][] = [
  [() => api.softmax([1, 2, 3] as never, { classes: 3 }), TypeError],
  [() => api.softmax(x6, { classes: 4 }), RangeError],
  [() => api.logSoftmax(x6, { shape: [2, 3], axis: 2 }), RangeError],
  [() => api.logSumExp(x6, { classes: 3, into: new Float32Array(3) }), RangeError],
  [() => api.softmaxBackward(x6, new Float64Array(6) as never, { classes: 3 }), TypeError],
  [() => api.crossEntropy(x6, [0, 3], { classes: 3 }), RangeError],
  [() => api.crossEntropy(x6, new Int32Array([-1, 0]), { classes: 3, reduction: 'none', into: new Float32Array(2) }), RangeError],
  [() => api.crossEntropyWithGrad(x6, [0, 1], { classes: 3, labelSmoothing: 2 }), RangeError],
  [() => api.crossEntropyWithGrad(x6, [0, 1], { classes: 3, gradInto: x6.subarray(1) as never }), RangeError],
  [() => api.softmax(x6, { classes: 3, temperature: 0 }), RangeError],
  [() => api.createWorkspace({ classes: 0, rows: 1 }), RangeError],
  [() => {
    const ws = api.createWorkspace({ classes: 3, rows: 2 });
    ws.target.set([0, 9]);
    try {
      return ws.crossEntropy();
    } finally {
      ws.dispose();
    }
  }, RangeError],
];

function makePool(r: () => number, o: SoakOptions): Built[] {
  return Array.from({ length: o.pool }, () => build(randomParams(r, o.maxElems)));
}

/** At most this many collect-and-yield rounds before a memory sample (see `sample`). */
const SETTLE_ROUNDS = 8;

/** Lets the event loop run for `ms` (vitest's worker answers its parent's heartbeats in between). */
const breathe = (ms = 0) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs the soak on the current build; throws on the first deviation or unexpected error. */
export async function soak(o: SoakOptions): Promise<SoakReport> {
  const r = rng(o.seed);
  const rt = getRuntime('soak');
  const t0 = performance.now();
  const byFn: Record<string, number> = {};
  const samples: Sample[] = [];
  const sample = async (calls: number) => {
    // Full collections first (vitest.config.ts gives the forks --expose-gc), so that the figures
    // measure what the calls keep, not how far behind the collector happens to be (Node 24's
    // runs without it drifted past the RSS bound with a flat heap). V8 frees typed arrays'
    // backing stores on a background thread after the collection that found them dead, so one
    // gc() can leave tens of MiB still counted (34.6 MiB once in CI): collect and yield until
    // the count stops falling, at most SETTLE_ROUNDS times.
    const gc = (globalThis as { gc?: () => void }).gc;
    let m = process.memoryUsage();
    for (let round = 0; gc && round < SETTLE_ROUNDS; round++) {
      gc();
      await breathe(10);
      const next = process.memoryUsage();
      const settled = round > 0 && next.arrayBuffers >= m.arrayBuffers;
      m = next;
      if (settled) break;
    }
    const s = { calls, seconds: (performance.now() - t0) / 1000, wasmBytes: rt.arena.byteLength, rssBytes: m.rss, heapBytes: m.heapUsed, arrayBufferBytes: m.arrayBuffers };
    samples.push(s);
    o.onSample?.(s);
    return s;
  };
  let pool = makePool(r, o);
  // Warm-up: every pool entry twice, so the scratch and the free list reach their working size;
  // after that, calls drawn from the same pool must not grow wasm memory at all.
  const warmUp = () => {
    for (let pass = 0; pass < 2; pass++) for (const b of pool) b.run();
    return rt.arena.byteLength;
  };
  let phaseBytes = warmUp();
  let phases = 1;
  const warm = await sample(0);
  let wasmMax = warm.wasmBytes;
  let rssMax = warm.rssBytes;
  let checked = 0;
  let bad = 0;
  for (let i = 1; i <= o.calls; i++) {
    if (o.badRate && r() < o.badRate) {
      const [call, Kind] = BAD[Math.floor(r() * BAD.length)]!;
      let error: unknown = null;
      try {
        call();
      } catch (e) {
        error = e;
      }
      if (!(error instanceof Kind) || (error as Error).constructor !== Kind) {
        throw new Error(`soak call ${i}: a bad call gave ${error === null ? 'no error' : String(error)} instead of a ${Kind.name}`);
      }
      bad++;
    } else {
      const b = pool[Math.floor(r() * pool.length)]!;
      byFn[b.params.fn] = (byFn[b.params.fn] ?? 0) + 1;
      if (i % o.checkEvery === 0) {
        check(b, b.run(), `soak call ${i}: `);
        checked++;
      } else {
        b.run();
      }
    }
    if (i % 20_000 === 0) await breathe();
    if (o.refresh && i % o.refresh === 0) {
      // New random calls; their sizes stay within the same maxElems, so memory must not grow.
      pool = makePool(r, o);
      phaseBytes = warmUp();
      phases++;
    }
    if (i % o.sampleEvery === 0 || i === o.calls) {
      const s = await sample(i);
      wasmMax = Math.max(wasmMax, s.wasmBytes);
      rssMax = Math.max(rssMax, s.rssBytes);
    }
    if (rt.arena.byteLength !== phaseBytes) {
      throw new Error(`soak call ${i}: wasm memory grew from ${phaseBytes} to ${rt.arena.byteLength} bytes on calls it had already served`);
    }
  }
  const end = samples[samples.length - 1]!;
  return {
    calls: o.calls, checked, bad, wasmAfterWarmup: warm.wasmBytes, wasmMax, phases, rssAfterWarmup: warm.rssBytes, rssMax, rssEnd: end.rssBytes, heapAfterWarmup: warm.heapBytes, heapEnd: end.heapBytes,
    arrayBuffersAfterWarmup: warm.arrayBufferBytes, arrayBuffersEnd: end.arrayBufferBytes,
    seconds: (performance.now() - t0) / 1000, samples, byFn,
  };
}
