// The decoding functions on a pool: the same results as the module's, bit for bit, for 1 and 2
// workers, every build, float32 and float64, any axis, `into`; the rows split across the workers
// in chunks (counted by the workers themselves); the same errors, the first row that cannot be
// sampled in row order whichever chunk finishes first, and a usable pool after them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import type { Pool } from '../src/index.js';
import { setChunkBytes } from '../src/plan.js';
import { stats, tuning, workerChunkCounts } from '../src/pool.js';
import { BACKENDS } from './helpers/backends.js';
import { rng } from './helpers/random.js';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
/** The decoding functions of a pool, or of the module (`moduleFns`: the same calls, returning
 *  results rather than promises of them; the tests compare the values). */
type Fns = Pick<Pool, 'samplingDistribution' | 'sample' | 'topK' | 'argmax'>;
const moduleFns = api as unknown as Fns;

function logits<T extends Ctor>(T: T, n: number, seed: number): InstanceType<T> {
  const r = rng(seed);
  return new T(n).map(() => (r() + r() + r() - 1.5) * 4) as InstanceType<T>;
}

/** The bytes of a result (typed arrays, or topK's pair), so that -0 and NaN payloads count. */
function bits(v: unknown): string {
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).join(','); // (no Buffer: this suite runs in Chromium too)
  const t = v as { indices: Int32Array; values: Float32Array };
  return `${bits(t.indices)}/${bits(t.values)}`;
}

/** The error a call throws or rejects with, as "Class: message" ('' when it returns). */
async function error(run: () => unknown): Promise<string> {
  try {
    await run();
    return '';
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

/** Layouts: contiguous rows, a middle class axis (strided rows), the class axis of a 3-d shape. */
const LAYOUTS = [
  { shape: [7, 1000], rows: 7, C: 1000, outer: 7 },
  { shape: [3, 300, 4], axis: 1, rows: 12, C: 300, outer: 3 },
  { shape: [4, 2, 500], axis: -1, rows: 8, C: 500, outer: 8 },
];

/** Per layout, every decoding call with a spread of options; each returns its result. */
function calls(T: Ctor, lay: (typeof LAYOUTS)[number], seed: number): { name: string; run: (f: Fns) => unknown }[] {
  const { shape, axis, rows, C } = lay;
  const L = { shape, axis };
  const x = logits(T, rows * C, seed);
  const prev = Array.from({ length: rows }, (_, r) => [r, 3, 3, C - 1 - r]);
  const opts = [
    {},
    { temperature: 0.7, topK: 40, topP: 0.9, minP: 0.02, repetitionPenalty: 1.3, presencePenalty: 0.5, frequencyPenalty: 0.2, previousTokens: prev },
    { temperature: 0, previousTokens: [1, 2, 2], repetitionPenalty: 2 },
    { topP: 0.5, minTokensToKeep: 3, temperature: 1.5 },
  ];
  const u = Array.from({ length: rows }, (_, r) => (r * 0.37) % 1);
  const out: { name: string; run: (f: Fns) => unknown }[] = [];
  opts.forEach((o, i) => {
    out.push({ name: `samplingDistribution ${i}`, run: (f) => f.samplingDistribution(x, { ...L, ...o }) });
    out.push({ name: `samplingDistribution ${i} into`, run: (f) => f.samplingDistribution(x, { ...L, ...o, into: new T(x.length) as never }) });
    out.push({ name: `sample ${i} uniforms`, run: (f) => f.sample(x, { ...L, ...o, uniforms: u }) });
    out.push({ name: `sample ${i} random into`, run: (f) => f.sample(x, { ...L, ...o, random: rng(seed + i), into: new Int32Array(rows) }) });
  });
  out.push({ name: 'topK 5', run: (f) => f.topK(x, 5, L) });
  out.push({ name: 'topK 17 logProbs', run: (f) => f.topK(x, 17, { ...L, logProbs: true, temperature: 0.8 }) });
  out.push({ name: 'topK C', run: (f) => f.topK(x, C, { ...L, logProbs: true }) });
  out.push({ name: 'argmax', run: (f) => f.argmax(x, L) });
  return out;
}

/** Chunks the pool's workers have run, once they reach `n` (a worker counts a chunk just after
 *  marking it done, so the count may trail the call's end by a moment), or after 2 s. */
async function workerRuns(p: Pool, n: number): Promise<number> {
  const total = () => workerChunkCounts(p).reduce((a, c) => a + c, 0);
  for (let i = 0; i < 2000 && total() < n; i++) await new Promise((r) => setTimeout(r, 1));
  return total();
}

const saved = { ...tuning };
/** Every call through the workers, in chunks of a row or so, the calling thread not helping. */
const onWorkers = () => Object.assign(tuning, { minElements: 1, cutoff: 1, chunkBytes: 2048, help: false, cores: 64, wakeBacklog: 1 });
afterEach(() => {
  Object.assign(tuning, saved);
  setChunkBytes();
});

for (const b of BACKENDS) {
  describe(`decoding on a pool, ${b} build`, () => {
    const pools: Pool[] = [];
    beforeAll(async () => {
      for (const threads of [1, 2]) pools.push(await api.createPool({ threads, backend: b }));
    });
    afterAll(async () => {
      await Promise.all(pools.map((p) => p.dispose()));
    });

    it('samplingDistribution, sample, topK and argmax give the module\'s results (default tuning)', async () => {
      for (const T of [Float32Array, Float64Array]) {
        const x = logits(T, 2 * 50257, 11);
        const o = { classes: 50257, temperature: 0.7, topK: 40, topP: 0.9, minP: 0.02, previousTokens: [3, 3, 17] };
        for (const p of pools) {
          expect(await p.samplingDistribution(x, o)).toEqual(api.samplingDistribution(x, o));
          const u = [0.1, 0.999];
          expect(await p.sample(x, { ...o, uniforms: u })).toEqual(api.sample(x, { ...o, uniforms: u }));
          expect(await p.topK(x, 20, { classes: 50257, logProbs: true })).toEqual(api.topK(x, 20, { classes: 50257, logProbs: true }));
          expect(await p.argmax(x, { shape: [2, 50257] })).toEqual(api.argmax(x, { shape: [2, 50257] }));
        }
      }
    });

    it('on the workers, in chunks, bit for bit the module\'s results: float32 and float64, any axis, into', async () => {
      for (const T of [Float32Array, Float64Array]) {
        for (const [li, lay] of LAYOUTS.entries()) {
          for (const c of calls(T, lay, 40 + li)) {
            const what = `${T.name} [${lay.shape}] axis ${lay.axis ?? -1} ${c.name}`;
            const want = bits(c.run(moduleFns));
            setChunkBytes(1); // the module's streamed path: an outer block per chunk
            expect(bits(c.run(moduleFns)), `${what}, streamed`).toBe(want);
            setChunkBytes();
            onWorkers();
            for (const p of pools) {
              const before = { ...stats };
              const ran = workerChunkCounts(p).reduce((a, n) => a + n, 0);
              expect(bits(await c.run(p)), `${what}, ${p.threads} workers`).toBe(want);
              // Through the ring, every chunk run by a worker (the calling thread does not help).
              expect(stats.calls - before.calls, what).toBe(1);
              expect(stats.chunks - before.chunks, what).toBe(lay.outer);
              expect(await workerRuns(p, ran + stats.chunks - before.chunks) - ran, what).toBe(stats.chunks - before.chunks);
            }
            Object.assign(tuning, saved);
          }
        }
      }
    });

    it('sample draws its uniforms on the calling thread, once per row in row order, before any chunk', async () => {
      const x = logits(Float32Array, 6 * 1000, 3);
      onWorkers();
      for (const p of pools) {
        const seen: number[] = [];
        const r = rng(9);
        const chunks = stats.chunks;
        const random = () => {
          expect(stats.chunks, 'no chunk started before the last draw').toBe(chunks);
          const v = r();
          seen.push(v);
          return v;
        };
        const got = await p.sample(x, { classes: 1000, random, topP: 0.8 });
        expect(seen.length).toBe(6);
        expect(got).toEqual(api.sample(x, { classes: 1000, uniforms: seen, topP: 0.8 }));
      }
    });

    it('the first row that cannot be sampled in row order, whichever chunk finishes first; the pool stays usable', async () => {
      const C = 1000;
      for (const T of [Float32Array, Float64Array]) {
        const cases: [string, (x: Float32Array | Float64Array) => void][] = [
          ['NaN in row 6, -Infinity row 2', (x) => { x[6 * C + 5] = NaN; x.fill(-Infinity, 2 * C, 3 * C); }],
          ['+Infinity in the last row', (x) => { x[8 * C - 1] = Infinity; }],
          ['NaN in rows 0 and 1', (x) => { x[0] = NaN; x[C + 999] = NaN; }],
        ];
        for (const [name, spoil] of cases) {
          const x = logits(T, 8 * C, 21);
          spoil(x);
          const o = { classes: C, topP: 0.9, uniforms: new Array(8).fill(0.5) };
          const want = await error(() => api.sample(x, o));
          expect(want).toMatch(/^RangeError: sample: row \d+ of logits cannot be sampled/);
          const wantDist = await error(() => api.samplingDistribution(x, { classes: C }));
          onWorkers();
          for (const p of pools) {
            const calls = stats.calls;
            expect(await error(() => p.sample(x, o)), `${T.name} ${name}`).toBe(want);
            expect(await error(() => p.samplingDistribution(x, { classes: C })), `${T.name} ${name}`).toBe(wantDist);
            expect(stats.calls - calls, 'both through the workers').toBe(2);
            const ok = logits(T, 8 * C, 22);
            expect(bits(await p.sample(ok, { ...o, uniforms: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] })))
              .toBe(bits(api.sample(ok, { ...o, uniforms: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] })));
            expect(bits(await p.topK(ok, 3, { classes: C }))).toBe(bits(api.topK(ok, 3, { classes: C })));
          }
          Object.assign(tuning, saved);
        }
        // Two chunks of 8 rows: the first's bad row is its last, after 7 rows of work; the
        // second's is its first, which its kernel stops at at once, so that chunk usually
        // finishes first. Row 7 it is.
        const x = logits(T, 16 * C, 23);
        x[7 * C + 1] = NaN;
        x[8 * C + 2] = Infinity;
        const o = { classes: C, topP: 0.9, topK: 100, uniforms: new Array(16).fill(0.5) };
        const want = await error(() => api.sample(x, o));
        expect(want).toMatch(/row 7 of logits/);
        Object.assign(onWorkers(), { chunksPerThread: 1, chunkBytes: 8 * C * T.BYTES_PER_ELEMENT });
        for (const p of pools) {
          const chunks = stats.chunks;
          expect(await error(() => p.sample(x, o))).toBe(want);
          expect(stats.chunks - chunks, 'two chunks').toBe(2);
        }
        Object.assign(tuning, saved);
      }
    });

    it('argument errors: the same classes and messages, thrown before any chunk', async () => {
      const x = logits(Float32Array, 4 * 1000, 5);
      const bad: [string, (f: Fns) => unknown][] = [
        ['topK k = 0', (f) => f.topK(x, 0, { classes: 1000 })],
        ['topK k > C', (f) => f.topK(x, 1001, { classes: 1000 })],
        ['topK logProbs', (f) => f.topK(x, 2, { classes: 1000, logProbs: 1 as never })],
        ['uniforms length', (f) => f.sample(x, { classes: 1000, uniforms: [0.5] })],
        ['uniform 1', (f) => f.sample(x, { classes: 1000, uniforms: [0.5, 0.5, 1, 0.5] })],
        ['random()', (f) => f.sample(x, { classes: 1000, random: () => 2 })],
        ['previousTokens', (f) => f.samplingDistribution(x, { classes: 1000, previousTokens: [1, 1000] })],
        ['previousTokens rows', (f) => f.sample(x, { classes: 1000, previousTokens: [[1], [2]] })],
        ['into', (f) => f.samplingDistribution(x, { classes: 1000, into: new Float64Array(4000) as never })],
        ['sample into', (f) => f.sample(x, { classes: 1000, into: new Int32Array(3) })],
        ['topP', (f) => f.samplingDistribution(x, { classes: 1000, topP: 0 })],
        ['layout', (f) => f.sample(x, { classes: 999 })],
      ];
      onWorkers();
      for (const [name, run] of bad) {
        const want = await error(() => run(moduleFns));
        expect(want, name).not.toBe('');
        for (const p of pools) {
          const chunks = stats.chunks;
          expect(await error(() => run(p)), name).toBe(want);
          expect(stats.chunks, name).toBe(chunks);
        }
      }
      const p = pools[pools.length - 1]!;
      expect(bits(await p.topK(x, 4, { classes: 1000 }))).toBe(bits(api.topK(x, 4, { classes: 1000 })));
    });
  });
}
