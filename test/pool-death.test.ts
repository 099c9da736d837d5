// A pool worker that dies (here: terminated from outside, as the OS or an out-of-memory kill
// would) makes the pool reject every later call, and those of its pooled workspaces, with an
// Error that says which worker stopped and what to do; the pool can still be disposed cleanly.
// (killWorker is a module-internal test helper of src/pool.ts, not part of the package's API.)
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { killWorker, tuning } from '../src/pool.js';
import { randomLabels, uniformArray } from './helpers/random.js';

/** Resolves once `probe` rejects (the pool has noticed the death), or fails after 5 s. */
async function untilRejects(probe: () => Promise<unknown>): Promise<Error> {
  for (let t = 0; t < 500; t++) {
    const e = await probe().then(() => null, (e: unknown) => e as Error);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the pool did not notice the dead worker within 5 s');
}

describe('a pool worker that dies', () => {
  it('rejects later pool and workspace calls with a clear Error; dispose() still ends the pool', async () => {
    const saved = { ...tuning };
    Object.assign(tuning, { minElements: 1, cutoff: 1, cores: 64 });
    try {
      const pool = await api.createPool({ threads: 2 });
      const ws = pool.createWorkspace({ classes: 100, rows: 64 });
      ws.logits.set(uniformArray(Float32Array, 6400, 1));
      ws.target.set(randomLabels(64, 100, 2));
      const x = uniformArray(Float32Array, 64 * 100, 3);
      // Works before.
      const want = api.softmax(x, { classes: 100 });
      expect(Array.from(await pool.softmax(x, { classes: 100 }))).toEqual(Array.from(want));
      await expect(ws.crossEntropy()).resolves.toBeTypeOf('number');

      killWorker(pool, 1);
      const e = await untilRejects(() => pool.softmax(x, { classes: 100 }));
      expect(e).toBeInstanceOf(Error);
      expect(e.message).toMatch(/Pool\.softmax: worker 1 stopped \(it (exited with code \d+|threw terminated)\); this pool can run no more calls: dispose it/);
      await expect(pool.crossEntropyWithGrad(x, randomLabels(64, 100, 4), { classes: 100 })).rejects.toThrowError(/worker 1 stopped/);
      await expect(ws.softmax()).rejects.toThrowError(/Workspace\.softmax: .*worker 1 stopped/);
      expect(() => pool.createWorkspace({ classes: 3, rows: 1 })).toThrowError(/worker 1 stopped/);
      // The module's own functions are unaffected.
      expect(Array.from(api.softmax(x, { classes: 100 }))).toEqual(Array.from(want));
      await pool.dispose();
      await expect(pool.softmax(x, { classes: 100 })).rejects.toThrowError(/disposed/);
      expect(() => ws.logits).toThrowError(/disposed/);
    } finally {
      Object.assign(tuning, saved);
    }
  });

  it('a worker ended by dispose() is not a death: the next pool works', async () => {
    const pool = await api.createPool({ threads: 1 });
    await pool.dispose();
    const again = await api.createPool({ threads: 1 });
    const x = uniformArray(Float64Array, 50, 5);
    expect(Array.from(await again.logSoftmax(x, { classes: 5 }))).toEqual(Array.from(api.logSoftmax(x, { classes: 5 })));
    await again.dispose();
  });
});
