// The worker pool (API.md "Multi-core"): results bit-identical to the single-threaded functions
// for 1, 2 and 3 workers on every build, the same errors, dispose, and a Node process that exits.
// No static Node imports: the suite also runs in Chromium (npm run test:browser), where the pool
// uses Web Workers and the page's main thread, which may not block in Atomics.wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import type { Pool } from '../src/index.js';
import { wasmBytes } from '../src/load.js';
import { stats, tuning, workerChunkCounts } from '../src/pool.js';
import { sharedMemoryBuild } from '../src/shared-build.js';
import { BACKENDS } from './helpers/backends.js';
import { diff } from './helpers/compare.js';
import { randomLabels, randomProbabilities, uniformArray } from './helpers/random.js';

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string' &&
  typeof (globalThis as { window?: unknown }).window === 'undefined';
/** The repository root (Node only). */
const root = () => new URL('..', import.meta.url).pathname;
type F = Float32Array | Float64Array;
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Deterministic inputs: every call of a case makes the same arrays. */
const randn = (T: Ctor, n: number, seed: number, scale = 4): F => uniformArray(T, n, seed, scale);
/** Random logits with some special rows: NaN, a -Infinity mask, all -Infinity, +Infinity. */
function logits(T: Ctor, rows: number, C: number, seed: number, specials = true): F {
  const x = randn(T, rows * C, seed);
  if (specials && rows >= 8 && C >= 2) {
    x[1 * C + 1] = NaN;
    x[2 * C] = -Infinity;
    x.fill(-Infinity, 3 * C, 4 * C);
    x[5 * C + C - 1] = Infinity;
    x[6 * C] = 1e30;
  }
  return x;
}
const labels = randomLabels;
const probs = randomProbabilities;

/** The functions under test: the module's (sync) or a pool's (async). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fns = Record<'softmax' | 'logSoftmax' | 'logSumExp' | 'softmaxBackward' | 'logSoftmaxBackward' | 'crossEntropy' | 'crossEntropyWithGrad', (...args: any[]) => unknown>;
type Case = { name: string; run: (f: Fns) => unknown };

const layouts: { name: string; rows: number; C: number; layout: object; ceLayout?: object }[] = [
  { name: '[300, 37]', rows: 300, C: 37, layout: { classes: 37 } },
  { name: '[5, 20000]', rows: 5, C: 20000, layout: { classes: 20000 } },
  { name: '[2000, 1]', rows: 2000, C: 1, layout: { classes: 1 } },
  { name: '[97, 129] shape', rows: 97, C: 129, layout: { shape: [97, 129] }, ceLayout: { shape: [97, 129], axis: 1 } },
];
/** Strided and N-D layouts (the operation's axis is not the last). */
const strided: { name: string; shape: number[]; axis: number }[] = [
  { name: '[7, 33, 50] axis 1', shape: [7, 33, 50], axis: 1 },
  { name: '[3, 40, 8, 9] axis -3', shape: [3, 40, 8, 9], axis: -3 },
  { name: '[4, 5, 6, 70] axis 2', shape: [4, 5, 6, 70], axis: 2 },
  { name: '[64, 3, 5] axis 0 (one outer block)', shape: [64, 3, 5], axis: 0 },
  { name: '[2, 3, 4, 5, 16] axis -1', shape: [2, 3, 4, 5, 16], axis: -1 },
];

function cases(T: Ctor): Case[] {
  const out: Case[] = [];
  const t = T === Float32Array ? 'f32' : 'f64';
  const all = [
    ...layouts.map((l) => ({ name: l.name, n: l.rows * l.C, layout: l.layout })),
    ...strided.map((s) => ({ name: s.name, n: s.shape.reduce((a, b) => a * b, 1), layout: { shape: s.shape, axis: s.axis } })),
  ];
  for (const [i, l] of all.entries()) {
    const x = () => {
      const a = randn(T, l.n, 100 + i);
      if (l.n > 100) {
        a[7] = NaN;
        a[50] = -Infinity;
        a[99] = Infinity;
      }
      return a;
    };
    out.push({ name: `softmax ${t} ${l.name}`, run: (f) => f.softmax(x(), l.layout as never) });
    out.push({ name: `softmax ${t} ${l.name} temperature 0.37, in place`, run: (f) => { const a = x(); return f.softmax(a, { ...l.layout, temperature: 0.37, into: a } as never); } });
    out.push({ name: `logSoftmax ${t} ${l.name}`, run: (f) => f.logSoftmax(x(), { ...l.layout, temperature: 2.5 } as never) });
    out.push({ name: `logSumExp ${t} ${l.name}`, run: (f) => f.logSumExp(x(), l.layout as never) });
    const y = () => api.softmax(randn(T, l.n, 200 + i), l.layout as never);
    const ly = () => api.logSoftmax(randn(T, l.n, 200 + i), l.layout as never);
    const g = () => randn(T, l.n, 300 + i, 1);
    out.push({ name: `softmaxBackward ${t} ${l.name}`, run: (f) => f.softmaxBackward(y(), g(), l.layout as never) });
    out.push({ name: `logSoftmaxBackward ${t} ${l.name}, into gradOutput`, run: (f) => { const go = g(); return f.logSoftmaxBackward(ly(), go, { ...l.layout, into: go } as never); } });
  }
  // Cross-entropy: [N, C] with every option, class indices of every type and probabilities.
  const N = 500;
  const C = 37;
  const X = () => logits(T, N, C, 7);
  const w = Array.from({ length: C }, (_, c) => 0.5 + (c % 5) / 4);
  const lab = labels(N, C, 8);
  const labIgn = labels(N, C, 8, -100);
  const opts: [string, object][] = [
    ['mean', {}],
    ['sum', { reduction: 'sum' }],
    ['none', { reduction: 'none' }],
    ['weight', { weight: w }],
    ['weight Float64Array, sum', { weight: Float64Array.from(w), reduction: 'sum' }],
    ['ignoreIndex 3', { ignoreIndex: 3 }],
    ['labelSmoothing 0.1 + weight', { labelSmoothing: 0.1, weight: w }],
    ['zLoss 1e-3', { zLoss: 1e-3 }],
    ['everything, none', { reduction: 'none', weight: w, labelSmoothing: 0.2, zLoss: 1e-4, ignoreIndex: 5 }],
    ['gradOutput 0.25', { gradOutput: 0.25 }],
    ['gradOutput per sample, none', { reduction: 'none', gradOutput: Array.from({ length: N }, (_, i) => (i % 3) - 1) }],
  ];
  for (const [name, o] of opts) {
    out.push({ name: `crossEntropy ${t} indices ${name}`, run: (f) => f.crossEntropy(X(), Int32Array.from(lab), { classes: C, ...o } as never) });
    out.push({ name: `crossEntropyWithGrad ${t} indices ${name}`, run: (f) => f.crossEntropyWithGrad(X(), lab, { classes: C, ...o } as never) });
  }
  out.push({ name: `crossEntropyWithGrad ${t} ignored -100 labels, number[]`, run: (f) => f.crossEntropyWithGrad(X(), labIgn, { classes: C }) });
  out.push({ name: `crossEntropyWithGrad ${t} all ignored (NaN mean)`, run: (f) => f.crossEntropyWithGrad(X(), new Array(N).fill(-100), { classes: C }) });
  for (const Lab of [Uint8Array, Int16Array, Uint16Array, Uint32Array, Int8Array]) {
    out.push({ name: `crossEntropyWithGrad ${t} ${Lab.name} labels`, run: (f) => f.crossEntropyWithGrad(X(), Lab.from(lab), { classes: C, ignoreIndex: 2 }) });
  }
  out.push({ name: `crossEntropyWithGrad ${t} into + gradInto (in place over logits)`, run: (f) => { const x = X(); return f.crossEntropyWithGrad(x, lab, { classes: C, reduction: 'none', into: new T(N), gradInto: x } as never); } });
  const Q = () => probs(T, N, C, 9);
  for (const [name, o] of [['mean', {}], ['sum + weight + smoothing', { reduction: 'sum', weight: w, labelSmoothing: 0.3 }], ['none + zLoss + gradOutput', { reduction: 'none', zLoss: 1e-3, gradOutput: new T(N).fill(0.5) }]] as [string, object][]) {
    out.push({ name: `crossEntropy ${t} probabilities ${name}`, run: (f) => f.crossEntropy(X(), Q() as never, { classes: C, ...o } as never) });
    out.push({ name: `crossEntropyWithGrad ${t} probabilities ${name}`, run: (f) => f.crossEntropyWithGrad(X(), Q() as never, { classes: C, ...o } as never) });
  }
  // Strided cross-entropy: [N, C, d1, d2] (PyTorch/ONNX layout), and a few huge rows.
  const sh = [6, 11, 5, 8];
  const SX = () => randn(T, 6 * 11 * 40, 10);
  const slab = labels(6 * 40, 11, 11, -1);
  out.push({ name: `crossEntropyWithGrad ${t} [6, 11, 5, 8] axis 1`, run: (f) => f.crossEntropyWithGrad(SX(), slab, { shape: sh, ignoreIndex: -1, labelSmoothing: 0.05 }) });
  out.push({ name: `crossEntropyWithGrad ${t} [6, 11, 5, 8] none, probabilities`, run: (f) => f.crossEntropyWithGrad(SX(), probs(T, 6 * 40, 11, 12) as never, { shape: [6, 11, 5, 8], reduction: 'none' } as never) });
  out.push({ name: `crossEntropyWithGrad ${t} [4, 30000]`, run: (f) => f.crossEntropyWithGrad(logits(T, 4, 30000, 13), labels(4, 30000, 14), { classes: 30000, zLoss: 1e-4 }) });
  // One sample (a 1-D shape): a single row, so the calling thread runs it, into the arrays made.
  out.push({ name: `crossEntropyWithGrad ${t} [3000] one sample, none`, run: (f) => f.crossEntropyWithGrad(randn(T, 3000, 15), [7], { shape: [3000], reduction: 'none' }) });
  out.push({ name: `crossEntropy ${t} [3000] one sample`, run: (f) => f.crossEntropy(randn(T, 3000, 15), new Uint16Array([2999]), { shape: [3000], labelSmoothing: 0.1 }) });
  out.push({ name: `crossEntropy ${t} [4, 30000] none`, run: (f) => f.crossEntropy(logits(T, 4, 30000, 13), labels(4, 30000, 14), { classes: 30000, reduction: 'none' }) });
  return out;
}

const saved = { ...tuning };
afterAll(() => Object.assign(tuning, saved));

for (const b of BACKENDS) {
  describe(`pool results = single-threaded results, ${b} build`, () => {
    const pools: Pool[] = [];
    beforeAll(async () => {
      for (const threads of [1, 2, 3]) pools.push(await api.createPool({ threads, backend: b }));
      expect(api.backend()).toBe(b);
    });
    afterAll(async () => {
      // Every worker of every pool took part (the tests below let all of them run at once).
      for (const p of pools) {
        const counts = workerChunkCounts(p);
        expect(counts.length).toBe(p.threads);
        for (const c of counts) expect(c, `chunks run by each of ${p.threads} workers: ${counts.join(', ')}`).toBeGreaterThan(0);
        await p.dispose();
      }
    });

    for (const T of [Float32Array, Float64Array]) {
      for (const c of cases(T)) {
        it(c.name, async () => {
          const want = await c.run(api);
          // Every input through the workers, in chunks small enough to cycle through the slots;
          // with and without the calling thread taking chunks while it waits.
          for (const [chunkBytes, help] of [[2048, true], [16384, false]] as const) {
            Object.assign(tuning, { minElements: 1, cutoff: 1, chunkBytes, help, cores: 64, wakeBacklog: 1 });
            for (const p of pools) {
              const got = await c.run(p as unknown as Fns);
              expect(diff(want, got), `${p.threads} threads, chunks of ${chunkBytes} bytes`).toBe('');
            }
          }
          Object.assign(tuning, saved);
        });
      }
    }

    it('default tuning: a large input through the workers, a small one on this thread', async () => {
      tuning.cores = Math.max(2, saved.cores); // (a machine with one core keeps every call on its thread)
      const x = randn(Float32Array, 256 * 1000, 1);
      const lab = labels(256, 1000, 2);
      for (const p of pools) {
        const before = { ...stats };
        expect(diff(api.crossEntropyWithGrad(x, lab, { classes: 1000 }), await p.crossEntropyWithGrad(x, lab, { classes: 1000 }))).toBe('');
        expect(stats.calls, 'the large call went through the pool').toBe(before.calls + 1);
        expect(stats.chunks - before.chunks).toBeGreaterThan(p.threads);
        expect(diff(api.softmax(x, { classes: 1000 }), await p.softmax(x, { classes: 1000 }))).toBe('');
        const s = randn(Float64Array, 64 * 10, 3);
        const calls = stats.calls;
        expect(diff(api.logSoftmax(s, { classes: 10 }), await p.logSoftmax(s, { classes: 10 }))).toBe('');
        expect(stats.calls, 'the small call ran on this thread').toBe(calls);
        // Above minElements but below the cutoff (work 64000 + 64 * 64 < 100000): this thread too.
        const m = randn(Float32Array, 64 * 1000, 4);
        expect(diff(api.softmax(m, { classes: 1000 }), await p.softmax(m, { classes: 1000 }))).toBe('');
        expect(diff(api.crossEntropyWithGrad(m, lab.slice(0, 64), { shape: [64, 1000] }), await p.crossEntropyWithGrad(m, lab.slice(0, 64), { shape: [64, 1000] }))).toBe('');
        expect(stats.calls, 'the mid-size calls ran on this thread').toBe(calls);
      }
      tuning.cores = saved.cores;
    });
  });
}

describe('errors: the same classes and messages as the single-threaded functions', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await api.createPool({ threads: 2 });
    Object.assign(tuning, { minElements: 1, cutoff: 1, cores: 64 });
  });
  afterAll(async () => {
    Object.assign(tuning, saved);
    await pool.dispose();
  });

  const x = () => randn(Float32Array, 600, 1);
  const detached = () => {
    const a = new Float32Array(600);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    return a;
  };
  const bad: [string, (f: Fns) => unknown][] = [
    ['length not a multiple of classes', (f) => f.softmax(x(), { classes: 7 })],
    ['neither classes nor shape', (f) => f.softmax(x(), {} as never)],
    ['both classes and shape', (f) => f.logSoftmax(x(), { classes: 6, shape: [600] } as never)],
    ['negative temperature', (f) => f.softmax(x(), { classes: 6, temperature: -1 })],
    ['temperature as a string', (f) => f.softmax(x(), { classes: 6, temperature: '1' as never })],
    ['into of the wrong type', (f) => f.softmax(x(), { classes: 6, into: new Float64Array(600) as never })],
    ['into of the wrong length', (f) => f.logSoftmax(x(), { classes: 6, into: new Float32Array(599) })],
    ['axis out of range', (f) => f.softmax(x(), { shape: [10, 60], axis: 2 })],
    ['shape/length mismatch', (f) => f.logSumExp(x(), { shape: [10, 61] })],
    ['logSumExp into of the wrong length', (f) => f.logSumExp(x(), { classes: 6, into: new Float32Array(600) })],
    ['a detached input', (f) => f.softmax(detached(), { classes: 6 })],
    ['not a float array', (f) => f.softmax(new Int32Array(600) as never, { classes: 6 })],
    ['options missing', (f) => f.softmax(x(), undefined as never)],
    ['gradOutput of another type', (f) => f.softmaxBackward(x(), new Float64Array(600) as never, { classes: 6 })],
    ['gradOutput of another length', (f) => f.logSoftmaxBackward(x(), new Float32Array(60), { classes: 6 })],
    ['label out of range (typed)', (f) => f.crossEntropy(x(), Int32Array.from({ length: 100 }, (_, i) => (i === 17 ? 6 : 1)), { classes: 6 })],
    ['label not an integer (number[])', (f) => f.crossEntropyWithGrad(x(), Array.from({ length: 100 }, (_, i) => (i === 42 ? 2.5 : 1)), { classes: 6 })],
    ['label NaN (number[])', (f) => f.crossEntropyWithGrad(x(), Array.from({ length: 100 }, (_, i) => (i === 3 ? NaN : 1)), { classes: 6 })],
    ['label not a number', (f) => f.crossEntropy(x(), Array.from({ length: 100 }, (_, i) => (i === 9 ? '1' : 1)) as never, { classes: 6 })],
    ['labels of the wrong length', (f) => f.crossEntropy(x(), new Int32Array(99), { classes: 6 })],
    ['target of the wrong kind', (f) => f.crossEntropy(x(), 'abc' as never, { classes: 6 })],
    ['probabilities of another type', (f) => f.crossEntropy(x(), new Float64Array(600) as never, { classes: 6 })],
    ['weight of the wrong length', (f) => f.crossEntropy(x(), new Int32Array(100), { classes: 6, weight: [1, 2] })],
    ['unknown reduction', (f) => f.crossEntropy(x(), new Int32Array(100), { classes: 6, reduction: 'avg' as never })],
    ['ignoreIndex with probabilities', (f) => f.crossEntropy(x(), new Float32Array(600), { classes: 6, ignoreIndex: 0 })],
    ['labelSmoothing out of range', (f) => f.crossEntropyWithGrad(x(), new Int32Array(100), { classes: 6, labelSmoothing: 1.5 })],
    ['negative zLoss', (f) => f.crossEntropyWithGrad(x(), new Int32Array(100), { classes: 6, zLoss: -1 })],
    ['gradOutput array with mean', (f) => f.crossEntropyWithGrad(x(), new Int32Array(100), { classes: 6, gradOutput: [1] as never })],
    ['gradOutput of the wrong length', (f) => f.crossEntropyWithGrad(x(), new Int32Array(100), { classes: 6, reduction: 'none', gradOutput: new Float32Array(3) })],
    ['into with mean', (f) => f.crossEntropy(x(), new Int32Array(100), { classes: 6, into: new Float32Array(100) } as never)],
    ['gradInto with crossEntropy', (f) => f.crossEntropy(x(), new Int32Array(100), { classes: 6, gradInto: new Float32Array(600) })],
    ['gradInto of the wrong length', (f) => f.crossEntropyWithGrad(x(), new Int32Array(100), { classes: 6, gradInto: new Float32Array(6) })],
  ];
  for (const [name, call] of bad) {
    it(name, async () => {
      let want: unknown;
      try {
        call(api);
      } catch (e) {
        want = e;
      }
      expect(want, 'the single-threaded call throws').toBeInstanceOf(Error);
      const got = await Promise.resolve().then(() => call(pool as unknown as Fns)).then(() => undefined, (e: unknown) => e);
      expect(got).toBeInstanceOf((want as Error).constructor);
      expect((got as Error).constructor).toBe((want as Error).constructor);
      expect((got as Error).message).toBe((want as Error).message);
      // No error leaves the pool in a bad state: the next call works.
      const ok = randn(Float32Array, 600, 5);
      expect(diff(api.logSoftmax(ok, { classes: 6 }), await pool.logSoftmax(ok, { classes: 6 }))).toBe('');
    });
  }

  it('calls return Promises, errors included (no synchronous throw)', () => {
    const p = pool.softmax(x(), { classes: 7 });
    expect(p).toBeInstanceOf(Promise);
    return expect(p).rejects.toThrowError(RangeError);
  });

  it('createPool checks its options', async () => {
    await expect(api.createPool({ threads: 0 })).rejects.toThrowError(RangeError);
    await expect(api.createPool({ threads: 1.5 })).rejects.toThrowError(RangeError);
    await expect(api.createPool({ threads: 'many' as never })).rejects.toThrowError(RangeError);
    await expect(api.createPool({ threads: {} as never })).rejects.toThrowError(TypeError);
    await expect(api.createPool({ backend: 'gpu' as never })).rejects.toThrowError(RangeError);
    await expect(api.createPool(5 as never)).rejects.toThrowError(TypeError);
  });
});

describe('lifecycle', () => {
  it("threads: a number, or 'auto' = the available cores", async () => {
    const p = await api.createPool({ threads: 3 });
    expect(p.threads).toBe(3);
    await p.dispose();
    const q = await api.createPool();
    const cores = isNode
      ? (await import('node:os')).availableParallelism()
      : (globalThis as unknown as { navigator: { hardwareConcurrency: number } }).navigator.hardwareConcurrency;
    expect(q.threads).toBe(cores);
    await q.dispose();
  });

  it('a disposed pool rejects every call with Error; dispose is idempotent', async () => {
    const p = await api.createPool({ threads: 2 });
    await p.dispose();
    await p.dispose();
    const x = new Float32Array(100000);
    const calls = [
      p.softmax(x, { classes: 10 }), p.logSoftmax(x, { classes: 10 }), p.logSumExp(x, { classes: 10 }),
      p.softmaxBackward(x, x, { classes: 10 }), p.logSoftmaxBackward(x, x, { classes: 10 }),
      p.crossEntropy(x, new Int32Array(10000), { classes: 10 }), p.crossEntropyWithGrad(x, new Int32Array(10000), { classes: 10 }),
      p.softmax(new Float32Array(3), { classes: 3 }),
    ];
    for (const c of calls) await expect(c).rejects.toThrowError(/disposed/);
    for (const c of calls) await expect(c).rejects.toBeInstanceOf(Error);
  });

  it('a backend switch (init) disposes the pools made before it', async () => {
    await api.init({ backend: 'simd' });
    const p = await api.createPool({ threads: 2 });
    await api.init({ backend: 'scalar' });
    await expect(p.softmax(new Float32Array(100000), { classes: 10 })).rejects.toThrowError(/disposed/);
    await p.dispose();
    const q = await api.createPool({ threads: 2 });
    expect(api.backend()).toBe('scalar');
    const x = randn(Float32Array, 100000, 4);
    expect(diff(api.softmax(x, { classes: 10 }), await q.softmax(x, { classes: 10 }))).toBe('');
    await q.dispose();
  });

  it('two pools side by side give the same results', async () => {
    const [p, q] = await Promise.all([api.createPool({ threads: 2 }), api.createPool({ threads: 1 })]);
    const x = randn(Float64Array, 200 * 300, 6);
    const lab = labels(200, 300, 7);
    const [a, c] = await Promise.all([p.crossEntropyWithGrad(x, lab, { classes: 300 }), q.crossEntropyWithGrad(x, lab, { classes: 300 })]);
    expect(diff(a, c)).toBe('');
    expect(diff(a, api.crossEntropyWithGrad(x, lab, { classes: 300 }))).toBe('');
    await Promise.all([p.dispose(), q.dispose()]);
  });

  it('threads poll for tuning.spinMs before they sleep: calls close together wake no sleeping worker', async () => {
    const saved = { ...tuning };
    // (spinMs is read when the workers start; 5 s: longer than this test, so nothing sleeps in it)
    Object.assign(tuning, { spinMs: 5000, minElements: 1, cutoff: 1, cores: 64 });
    const p = await api.createPool({ threads: 2 });
    try {
      const x = randn(Float32Array, 64 * 1000, 8);
      const want = api.softmax(x, { classes: 1000 });
      const before = { ...stats };
      for (let i = 0; i < 5; i++) expect(diff(want, await p.softmax(x, { classes: 1000 }))).toBe('');
      expect(stats.calls - before.calls, 'the calls went through the pool').toBe(5);
      expect(stats.chunks - before.chunks).toBeGreaterThan(5 * 2);
      // Each worker polls from its start: none was asleep, so no call woke one, and the calling
      // thread polled for its chunks rather than blocking in Atomics.wait.
      expect(stats.wakes - before.wakes).toBe(0);
      expect(stats.waits - before.waits).toBe(0);
    } finally {
      Object.assign(tuning, saved);
      await p.dispose();
    }
  });

  /** Runs node with `args` in the repository root. */
  const node = async (args: string[]) => {
    const { execFile } = await import('node:child_process');
    return new Promise<{ code: number | null; out: string }>((done) => {
      execFile(process.execPath, args, { cwd: root(), timeout: 30_000 }, (err, stdout, stderr) => {
        done({ code: err ? (err as { code?: number }).code ?? 1 : 0, out: stdout + stderr });
      });
    });
  };
  it.runIf(isNode)('a Node process exits normally after dispose (ESM and CJS), and without it', async () => {
    const { existsSync } = await import('node:fs');
    const dist = `${root()}dist/index.js`;
    expect(existsSync(dist), `${dist} (npm run build)`).toBe(true);
    const esm = `import { createPool, softmax } from ${JSON.stringify(dist)};
      const pool = await createPool({ threads: 2 });
      const x = new Float32Array(1 << 20).map((_, i) => Math.sin(i));
      const a = await pool.softmax(x, { classes: 1024 }), b = softmax(x, { classes: 1024 });
      console.log(a.every((v, i) => Object.is(v, b[i])) ? 'same' : 'DIFFERENT');
      ${'await pool.dispose();'}`;
    const r1 = await node(['--input-type=module', '-e', esm]);
    expect(r1.out.trim()).toBe('same');
    expect(r1.code).toBe(0);
    const r2 = await node(['--input-type=module', '-e', esm.replace('await pool.dispose();', '')]);
    expect(r2.out.trim()).toBe('same');
    expect(r2.code).toBe(0);
    const cjs = `const { createPool, crossEntropy } = require(${JSON.stringify(`${root()}dist/index.cjs`)});
      createPool({ threads: 3 }).then(async (pool) => {
        const x = new Float64Array(1 << 18).map((_, i) => Math.cos(i)), t = new Int32Array(1 << 10).fill(3);
        console.log(Object.is(await pool.crossEntropy(x, t, { classes: 256 }), crossEntropy(x, t, { classes: 256 })) ? 'same' : 'DIFFERENT');
        await pool.dispose();
      });`;
    const r3 = await node(['-e', cjs]);
    expect(r3.out.trim()).toBe('same');
    expect(r3.code).toBe(0);
  });
});

describe('the shared-memory builds', () => {
  const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
  /** Active data segments [start, end) of a module (memory 0, i32.const offsets). */
  function dataSegments(bytes: Uint8Array): [number, number][] {
    const leb = (p: number): [number, number] => {
      let r = 0;
      let s = 0;
      let x: number;
      do {
        x = bytes[p++]!;
        r |= (x & 0x7f) << s;
        s += 7;
      } while (x & 0x80);
      return [r >>> 0, p];
    };
    let p = 8;
    const out: [number, number][] = [];
    while (p < bytes.length) {
      const id = bytes[p++]!;
      let size: number;
      [size, p] = leb(p);
      if (id === 11) {
        let q = p;
        let n: number;
        [n, q] = leb(q);
        for (let i = 0; i < n; i++) {
          expect(bytes[q++], 'an active segment of memory 0').toBe(0);
          expect(bytes[q++], 'i32.const').toBe(0x41);
          let at: number;
          [at, q] = leb(q);
          expect(bytes[q++], 'end').toBe(0x0b);
          let len: number;
          [len, q] = leb(q);
          out.push([at, at + len]);
          q += len;
        }
      }
      p += size;
    }
    return out;
  }

  for (const b of BACKENDS) {
    it.runIf(isNode)(`${b}: derived from the embedded build, byte for byte the asc '${b}-threads' target`, async () => {
      const { existsSync, readFileSync } = await import('node:fs');
      const derived = sharedMemoryBuild(wasmBytes(b));
      const file = `${root()}build/softmax.${b}-threads.wasm`;
      expect(existsSync(file), `${file} (npm run build)`).toBe(true);
      expect(sameBytes(derived, readFileSync(file))).toBe(true);
    });

    it(`${b}: its data segments lie below heap_base, and a later instantiation rewrites only them`, () => {
      const bytes = sharedMemoryBuild(wasmBytes(b));
      const module = new WebAssembly.Module(bytes as BufferSource);
      const memory = new WebAssembly.Memory({ initial: 4, maximum: 256, shared: true });
      const env = { env: { memory, abort() {} } };
      const first = new WebAssembly.Instance(module, env).exports as { heap_base(): number };
      const heap = first.heap_base();
      const segments = dataSegments(bytes);
      expect(segments.length).toBeGreaterThan(0);
      for (const [, end] of segments) expect(end).toBeLessThanOrEqual(heap);
      // Memory in use (the arena starts at heap_base) survives another instance's start-up, and
      // the constant tables are rewritten with the same bytes.
      const u8 = new Uint8Array(memory.buffer);
      for (let i = heap; i < u8.length; i++) u8[i] = (i * 31) & 0xff;
      const before = u8.slice();
      new WebAssembly.Instance(module, env);
      expect(sameBytes(u8, before)).toBe(true);
    });
  }
});
