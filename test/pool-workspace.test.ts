// pool.createWorkspace (API.md "Multi-core (worker pool)"): a workspace in the pool's shared
// memory whose compute methods split the active rows across the workers with no copy. Its
// results must be bit-identical to a single-threaded createWorkspace with the same contents, for
// 1, 2 and 3 workers, f32 and f64, class indices and probabilities, every loss option; the
// float64 results are also held to the float64 reference (test/helpers/reference.ts). Then the
// contract's errors: a busy workspace, a disposed workspace or pool, bad options and labels.
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { stats, tuning, workerChunkCounts } from '../src/pool.js';
import { bitDiff } from './helpers/compare.js';
import { randomLabels, randomProbabilities, uniformArray } from './helpers/random.js';
import { crossEntropy64, logSoftmax64, maxErrRatio, softmax64 } from './helpers/reference.js';
import { usePools } from './helpers/pools.js';
import { chunkStart, groupAligned, planChunks, withShortTail } from '../src/plan.js';
import { LOG_SPAN_MAX_C, LOG_SPAN_ROWS } from '../src/kernel-constants.js';
import { F32 } from '../src/dtype.js';

type F = Float32Array | Float64Array;
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyWs = any;

const saved = { ...tuning };
const pools = usePools([1, 2, 3]);

/** Every call through the workers, in chunks of a few rows (many chunks cycling the slots). */
function forcePool(chunk: number): void {
  Object.assign(tuning, { minElements: 1, cutoff: 1, cores: 64, wakeBacklog: 1, workspaceChunkBytes: chunk });
}

/** Logits with the special rows of the pool suite: NaN, a -Infinity mask, all -Infinity, +Infinity. */
function fillLogits(x: F, rows: number, C: number, seed: number): void {
  x.set(uniformArray(x.constructor as Ctor, rows * C, seed));
  if (rows >= 8 && C >= 2) {
    x[1 * C + 1] = NaN;
    x[2 * C] = -Infinity;
    x.fill(-Infinity, 3 * C, 4 * C);
    x[5 * C + C - 1] = Infinity;
  }
}

/** Writes the same contents into workspaces `all` (the first is the single-threaded one). */
function fill(all: AnyWs[], T: Ctor, rows: number, C: number, probabilities: boolean, ignore: number | undefined, seed: number): void {
  for (const ws of all) {
    ws.setRows(rows);
    fillLogits(ws.logits, rows, C, seed);
    if (probabilities) ws.target.set(randomProbabilities(T, rows, C, seed + 1));
    else ws.target.set(randomLabels(rows, C, seed + 1, ignore));
    // Stale outputs, so a row a call fails to write shows.
    ws.output.fill(7);
    ws.grad.fill(7);
    ws.loss.fill(7);
  }
}

/** What a workspace holds after a call, and the call's result. */
const state = (ws: AnyWs, r: unknown) => ({ r: ArrayBuffer.isView(r) ? (r as F).slice() : r, output: ws.output.slice(), grad: ws.grad.slice(), loss: ws.loss.slice() });

const lossOptions = (C: number, rows: number, probabilities: boolean): [string, object][] => {
  const weight = Array.from({ length: C }, (_, c) => 0.5 + (c % 5) * 0.25);
  const out: [string, object][] = [
    ['mean', {}],
    ['sum', { reduction: 'sum' }],
    ['none', { reduction: 'none' }],
    ['weight', { weight }],
    ['weight, sum', { weight, reduction: 'sum' }],
    ['labelSmoothing', { labelSmoothing: 0.1 }],
    ['zLoss', { zLoss: 1e-3 }],
    ['everything, none, gradOutput', { weight, labelSmoothing: 0.05, zLoss: 1e-4, reduction: 'none', gradOutput: uniformArray(Float64Array, rows, 99) }],
    ['mean, gradOutput 2.5', { gradOutput: 2.5, labelSmoothing: 0.2 }],
  ];
  if (!probabilities) out.push(['ignoreIndex 1', { ignoreIndex: 1 }], ['ignoreIndex, weight, mean', { ignoreIndex: -1, weight }]);
  return out;
};

const shapes: { rows: number; capacity: number; C: number }[] = [
  { rows: 300, capacity: 300, C: 37 },
  { rows: 9, capacity: 12, C: 5000 },
  { rows: 200, capacity: 333, C: 1 },
  { rows: 1, capacity: 4, C: 70 },
  { rows: 0, capacity: 4, C: 70 },
];

for (const T of [Float32Array, Float64Array]) {
  const dtype = T === Float32Array ? 'float32' : 'float64';
  for (const target of ['indices', 'probabilities'] as const) {
    const probabilities = target === 'probabilities';
    describe(`pool.createWorkspace ${dtype} ${target}: bit-identical to createWorkspace, 1, 2, 3 threads`, () => {
      for (const { rows, capacity, C } of shapes) {
        it(`[${rows} of ${capacity}, ${C}]`, async () => {
          forcePool(C * (1 << (T === Float32Array ? 2 : 3)) * 3);
          const opts = { classes: C, rows: capacity, dtype, target };
          const single = api.createWorkspace(opts as never) as AnyWs;
          const pooled = pools.map((p) => p.createWorkspace(opts as never) as AnyWs);
          const before = stats.calls;
          try {
            const seed = rows * 7 + C;
            const forward: [string, (ws: AnyWs) => unknown][] = [
              ['softmax', (ws) => ws.softmax()],
              ['logSoftmax', (ws) => ws.logSoftmax()],
              ['softmax T=0.7', (ws) => ws.softmax({ temperature: 0.7 })],
              ['logSoftmax T=3', (ws) => ws.logSoftmax({ temperature: 3 })],
            ];
            const losses: [string, (ws: AnyWs) => unknown][] = [];
            for (const [name, o] of lossOptions(C, rows, probabilities)) {
              losses.push([`crossEntropy ${name}`, (ws) => ws.crossEntropy(o)], [`crossEntropyWithGrad ${name}`, (ws) => ws.crossEntropyWithGrad(o)]);
            }
            for (const [name, run] of [...forward, ...losses]) {
              fill([single, ...pooled], T, rows, C, probabilities, name.includes('ignoreIndex 1') ? 1 : name.includes('ignoreIndex') ? -1 : undefined, seed);
              const want = state(single, run(single));
              for (const [i, ws] of pooled.entries()) {
                const got = state(ws, await run(ws));
                expect(bitDiff(want, got), `${name}, ${pools[i]!.threads} threads`).toBe('');
              }
            }
            if (rows >= 2) expect(stats.calls - before, 'the calls went through the workers').toBeGreaterThan(0);
          } finally {
            single.dispose();
            for (const ws of pooled) ws.dispose();
            Object.assign(tuning, saved);
          }
        });
      }
    });
  }
}

describe('pool.createWorkspace against the float64 reference', () => {
  it('softmax, logSoftmax and cross-entropy with gradient, [500, 300] float64, 2 threads', async () => {
    forcePool(300 * 8 * 16);
    const [rows, C] = [500, 300];
    const ws = pools[1]!.createWorkspace({ classes: C, rows, dtype: 'float64' });
    try {
      const x = uniformArray(Float64Array, rows * C, 5, 8);
      const lab = randomLabels(rows, C, 6, -100);
      ws.logits.set(x);
      ws.target.set(lab);
      const d = { outer: rows, C, inner: 1 };
      expect(maxErrRatio(await ws.softmax(), softmax64(x, d), 1e-15, 1e-12)).toBeLessThanOrEqual(1);
      expect(maxErrRatio(await ws.logSoftmax({ temperature: 2 }), logSoftmax64(x, d, 2), 1e-14, 1e-12)).toBeLessThanOrEqual(1);
      const ref = crossEntropy64(x, lab, d, false, { labelSmoothing: 0.1, zLoss: 1e-3 });
      const loss = await ws.crossEntropyWithGrad({ labelSmoothing: 0.1, zLoss: 1e-3 });
      expect(maxErrRatio([loss], [ref.loss as number], 1e-14, 1e-12)).toBeLessThanOrEqual(1);
      expect(maxErrRatio(ws.grad, ref.grad, 1e-15, 1e-10)).toBeLessThanOrEqual(1);
      expect(maxErrRatio(ws.loss, ref.perRow, 1e-14, 1e-12)).toBeLessThanOrEqual(1);
      // Every worker took part.
      for (const c of workerChunkCounts(pools[1]!)) expect(c).toBeGreaterThan(0);
    } finally {
      ws.dispose();
      Object.assign(tuning, saved);
    }
  });

  it('default tuning: [4096, 1000] crossEntropyWithGrad through the workers, equal to the single-threaded workspace', async () => {
    tuning.cores = Math.max(2, saved.cores);
    const [rows, C] = [4096, 1000];
    const single = api.createWorkspace({ classes: C, rows });
    const ws = pools[1]!.createWorkspace({ classes: C, rows });
    try {
      for (const w of [single, ws]) {
        w.logits.set(uniformArray(Float32Array, rows * C, 8));
        w.target.set(randomLabels(rows, C, 9));
      }
      const before = stats.chunks;
      const got = await ws.crossEntropyWithGrad();
      expect(stats.chunks - before).toBeGreaterThanOrEqual(2);
      expect(bitDiff(single.crossEntropyWithGrad(), got)).toBe('');
      expect(bitDiff(single.grad, ws.grad)).toBe('');
    } finally {
      single.dispose();
      ws.dispose();
      tuning.cores = saved.cores;
    }
  });
});

describe("a pooled workspace call's short tail (src/plan.ts withShortTail)", () => {
  it('chunks cover the rows once, in order: whole chunks, then chunks a quarter the size, span-aligned up to LOG_SPAN_MAX_C classes', () => {
    for (const C of [1, 10, 16, 17, 256, 257, 1000]) {
      for (const outer of [2, 7, 64, 65, 300, 1000, 4097]) {
        for (const per0 of [1, 3, 4, 5, 64, 100, 256, 1000]) {
          const L = { outer, C, inner: 1, rows: outer };
          const per = groupAligned(Math.min(per0, outer), L);
          for (const tail of [0, 1, 2, 4]) {
            const plan = withShortTail(planChunks(L, F32, 0, false, per, 1), tail);
            const what = `C ${C}, ${outer} rows, ${per} per chunk, tail ${tail}`;
            expect(chunkStart(plan, 0), what).toBe(0);
            expect(chunkStart(plan, plan.chunks), what).toBe(outer);
            const sizes = Array.from({ length: plan.chunks }, (_, c) => chunkStart(plan, c + 1) - chunkStart(plan, c));
            for (const n of sizes) expect(n, what).toBeGreaterThan(0);
            const spans = C <= LOG_SPAN_MAX_C;
            for (let c = 0; c < plan.chunks; c++) {
              expect(sizes[c], what).toBeLessThanOrEqual(c < plan.headChunks ? per : plan.tailUnits);
              // (every chunk starts on a span of LOG_SPAN_ROWS rows: the bits depend on it)
              if (spans) expect(chunkStart(plan, c) % LOG_SPAN_ROWS, what).toBe(0);
            }
            const whole = Math.ceil(outer / per);
            if (tail === 0 || plan.tailUnits >= per || whole <= tail) expect(plan.chunks, what).toBe(whole);
            else expect(plan.tailUnits, what).toBeLessThanOrEqual(Math.max(spans ? LOG_SPAN_ROWS : 1, Math.ceil(per / 4)));
          }
        }
      }
    }
  });

  it('[1000, 10] float32 in chunks of 320 rows and a tail of 64 (a quarter, 80, group-aligned): bit-identical to createWorkspace, 1, 2, 3 threads', async () => {
    const [rows, C] = [1000, 10];
    Object.assign(tuning, { minElements: 1, cutoff: 1, cores: 64, wakeBacklog: 1, chunksPerThread: 1, workspaceChunkBytes: 320 * C * 4 });
    const single = api.createWorkspace({ classes: C, rows }) as AnyWs;
    const pooled = pools.map((p) => p.createWorkspace({ classes: C, rows }) as AnyWs);
    try {
      for (const [name, o] of [['mean', {}], ['sum', { reduction: 'sum' }], ['none', { reduction: 'none' }], ['labelSmoothing', { labelSmoothing: 0.1 }]] as const) {
        fill([single, ...pooled], Float32Array, rows, C, false, undefined, 31);
        const want = state(single, single.crossEntropyWithGrad(o));
        for (const [i, ws] of pooled.entries()) {
          const before = stats.chunks;
          const got = state(ws, await ws.crossEntropyWithGrad(o));
          // 2 chunks of 320 rows, then 360 rows in 6 chunks of up to 64
          expect(stats.chunks - before, `${name}, ${pools[i]!.threads} threads: chunks`).toBe(8);
          expect(bitDiff(want, got), `${name}, ${pools[i]!.threads} threads`).toBe('');
        }
      }
    } finally {
      single.dispose();
      for (const ws of pooled) ws.dispose();
      Object.assign(tuning, saved);
    }
  });
});

describe('pool.createWorkspace: errors', () => {
  it('bad options: the errors of createWorkspace, naming Pool.createWorkspace', () => {
    const p = pools[0]!;
    expect(() => p.createWorkspace(undefined as never)).toThrowError(TypeError);
    expect(() => p.createWorkspace({ classes: 0, rows: 3 })).toThrowError(/Pool\.createWorkspace.*options\.classes/);
    expect(() => p.createWorkspace({ classes: 3, rows: -1 })).toThrowError(RangeError);
    expect(() => p.createWorkspace({ classes: 3, rows: 1.5 })).toThrowError(/options\.rows/);
    expect(() => p.createWorkspace({ classes: 3, rows: 3, dtype: 'int8' as never })).toThrowError(RangeError);
    expect(() => p.createWorkspace({ classes: 3, rows: 3, target: 'soft' as never })).toThrowError(/options\.target/);
  });

  it('bad call options and labels reject as the single-threaded workspace throws', async () => {
    const ws = pools[1]!.createWorkspace({ classes: 10, rows: 4 });
    const single = api.createWorkspace({ classes: 10, rows: 4 });
    try {
      for (const w of [ws, single]) w.target.set([1, 2, 10, 3]);
      const msg = (() => {
        try {
          single.crossEntropy();
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      })();
      expect(msg).toMatch(/target\[2\]/);
      await expect(ws.crossEntropy()).rejects.toThrowError(new RangeError(msg));
      await expect(ws.softmax({ temperature: -1 })).rejects.toThrowError(RangeError);
      await expect(ws.crossEntropy({ reduction: 'avg' as never })).rejects.toThrowError(/options\.reduction/);
      await expect(ws.crossEntropy({ weight: [1] })).rejects.toThrowError(/options\.weight/);
      // The workspace works after them.
      ws.target.set([1, 2, 3, 4]);
      single.target.set([1, 2, 3, 4]);
      expect(bitDiff(single.crossEntropy(), await ws.crossEntropy())).toBe('');
    } finally {
      ws.dispose();
      single.dispose();
    }
  });

  it('a second call before the first settles rejects with Error; the first completes', async () => {
    const ws = pools[1]!.createWorkspace({ classes: 100, rows: 64 });
    try {
      ws.logits.set(uniformArray(Float32Array, 6400, 3));
      ws.target.set(randomLabels(64, 100, 4));
      const first = ws.softmax();
      const second = ws.logSoftmax();
      await expect(second).rejects.toThrowError(/pending/);
      await expect(second).rejects.toBeInstanceOf(Error);
      const out = await first;
      expect(out[0]).toBeGreaterThan(0);
      // Settled: the next call runs.
      await expect(ws.crossEntropy()).resolves.toBeTypeOf('number');
    } finally {
      ws.dispose();
    }
  });

  it('after ws.dispose(): views throw and calls reject with Error', async () => {
    const ws = pools[1]!.createWorkspace({ classes: 10, rows: 4 });
    ws.dispose();
    expect(() => ws.logits).toThrowError(/disposed/);
    expect(() => ws.setRows(1)).toThrowError(Error);
    await expect(ws.softmax()).rejects.toThrowError(/disposed/);
    await expect(ws.crossEntropyWithGrad()).rejects.toThrowError(/disposed/);
    ws.dispose(); // twice is fine
  });

  it('pool.dispose() disposes its workspaces; a call pending then rejects', async () => {
    const pool = await api.createPool({ threads: 2 });
    const ws = pool.createWorkspace({ classes: 10, rows: 4, dtype: 'float64' });
    const other = pool.createWorkspace({ classes: 10, rows: 4 });
    ws.logits.fill(1);
    const pending = ws.softmax().then(() => null, (e: unknown) => e);
    await pool.dispose();
    const error = await pending;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/disposed/);
    expect(() => ws.logits).toThrowError(/disposed/);
    expect(() => other.output).toThrowError(/disposed/);
    await expect(other.crossEntropy()).rejects.toThrowError(Error);
    expect(() => pool.createWorkspace({ classes: 10, rows: 4 })).toThrowError(/disposed/);
  });
});

describe('a new workspace reads as zeros, as a new typed array does, also in memory a disposed one used', () => {
  const views = (ws: AnyWs): F[] => [ws.logits, ws.target, ws.output, ws.grad, ws.loss];
  const nonzero = (ws: AnyWs) => views(ws).reduce((n, v) => n + v.filter((x: number) => x !== 0).length, 0);
  const makers: [string, (o: object) => AnyWs][] = [
    ['createWorkspace', (o) => api.createWorkspace(o as never)],
    ['pool.createWorkspace', (o) => pools[1]!.createWorkspace(o as never)],
  ];
  for (const [name, make] of makers) {
    it(name, () => {
      const shapes = [{ classes: 10, rows: 64 }, { classes: 7, rows: 33, dtype: 'float64', target: 'probabilities' }];
      for (const o of shapes) {
        const at = `${name} ${JSON.stringify(o)}`;
        const first = make(o);
        for (const v of views(first)) v.fill(3);
        first.dispose();
        // the same size takes the block the first freed; a smaller one, part of it
        for (const rows of [o.rows, o.rows >> 1]) {
          const next = make({ ...o, rows });
          expect(nonzero(next), `${at}, then ${rows} rows`).toBe(0);
          for (const v of views(next)) v.fill(5);
          next.dispose();
        }
      }
    });
  }
});
