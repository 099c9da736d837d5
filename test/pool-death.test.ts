// A pool worker that dies (here: terminated from outside, as the OS or an out-of-memory kill
// would) makes the pool reject every later call, and those of its pooled workspaces, with an
// Error that says which worker stopped and what to do; the pool can still be disposed cleanly.
// (killWorker is a module-internal test helper of src/pool.ts, not part of the package's API.)
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { forceCanBlock } from '../src/pool-host.js';
import { endWorkerUnnoticed, killWorker, noStopProbe, tuning } from '../src/pool.js';
import { randomLabels, uniformArray } from './helpers/random.js';

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string' &&
  typeof (globalThis as { window?: unknown }).window === 'undefined';

/** Ends worker k of `pool` without the pool hearing of it; in a browser, waits until it has
 *  stopped. Chromium ends a worker that sleeps in
 *  Atomics.wait (an idle pool worker) only by its forcible termination, 2 s after terminate():
 *  until then it still wakes and runs chunks (measured: still running at 1 s, gone at 2 s). */
async function gone(pool: api.Pool, k: number): Promise<void> {
  const ended = endWorkerUnnoticed(pool, k);
  if (isNode) return; // (not awaited: the thread ends while the call waits, and its exit event is not handled before it)
  await ended;
  await new Promise((r) => setTimeout(r, 3000));
}

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
      const ws = pool.createWorkspace({ classes: 300, rows: 64 });
      ws.logits.set(uniformArray(Float32Array, 19200, 1));
      ws.target.set(randomLabels(64, 300, 2));
      const x = uniformArray(Float32Array, 64 * 300, 3);
      // Works before.
      const want = api.softmax(x, { classes: 300 });
      expect(Array.from(await pool.softmax(x, { classes: 300 }))).toEqual(Array.from(want));
      await expect(ws.crossEntropy()).resolves.toBeTypeOf('number');

      killWorker(pool, 1);
      const e = await untilRejects(() => pool.softmax(x, { classes: 300 }));
      expect(e).toBeInstanceOf(Error);
      expect(e.message).toMatch(/Pool\.softmax: worker 1 stopped \(it (exited with code \d+|threw terminated)\); this pool can run no more calls: dispose it/);
      await expect(pool.crossEntropyWithGrad(x, randomLabels(64, 300, 4), { classes: 300 })).rejects.toThrowError(/worker 1 stopped/);
      await expect(ws.softmax()).rejects.toThrowError(/Workspace\.softmax: .*worker 1 stopped/);
      expect(() => pool.createWorkspace({ classes: 3, rows: 1 })).toThrowError(/worker 1 stopped/);
      // The module's own functions are unaffected.
      expect(Array.from(api.softmax(x, { classes: 300 }))).toEqual(Array.from(want));
      await pool.dispose();
      await expect(pool.softmax(x, { classes: 300 })).rejects.toThrowError(/disposed/);
      expect(() => ws.logits).toThrowError(/disposed/);
    } finally {
      Object.assign(tuning, saved);
    }
  });

  // The calling thread waits for a chunk synchronously (Atomics.wait in Node), where no 'exit'
  // event can reach it. Here the only worker is ended without the pool hearing of it, so the
  // call's chunks are never run (help: false keeps the calling thread from running them itself),
  // as when a worker dies holding a chunk: the call must reject, not hang. Node tells
  // synchronously that the thread has ended (WorkerHandle.stopped); browsers do not (the tests
  // below, with the stall limit, run there too).
  it.runIf(isNode)('a call waiting for a worker that has ended rejects with a clear Error, not a hang', async () => {
    const saved = { ...tuning };
    Object.assign(tuning, { minElements: 1, cutoff: 1, cores: 64, help: false });
    try {
      const pool = await api.createPool({ threads: 1 });
      const x = uniformArray(Float32Array, 64 * 300, 6);
      const want = Array.from(api.softmax(x, { classes: 300 }));
      expect(Array.from(await pool.softmax(x, { classes: 300 }))).toEqual(want);
      await gone(pool, 0);
      const t0 = performance.now();
      await expect(pool.softmax(x, { classes: 300 })).rejects.toThrowError(/worker 0 stopped \(it ended while a call waited for it\); this pool can run no more calls: dispose it/);
      expect(performance.now() - t0).toBeLessThan(5000);
      await expect(pool.logSoftmax(x, { classes: 300 })).rejects.toThrowError(/Pool\.logSoftmax: worker 0 stopped/);
      expect(Array.from(api.softmax(x, { classes: 300 }))).toEqual(want); // the module's own functions are unaffected
      await pool.dispose();
    } finally {
      Object.assign(tuning, saved);
    }
  });

  // Where the runtime cannot tell synchronously that a thread has ended (Deno, Bun, Web Workers:
  // no WorkerHandle.stopped), a chunk that has not finished in tuning.stallMs ends the call.
  it('without a way to tell, a chunk that does not finish in tuning.stallMs rejects the call', async () => {
    const saved = { ...tuning };
    Object.assign(tuning, { minElements: 1, cutoff: 1, cores: 64, help: false, stallMs: 300 });
    try {
      const pool = await api.createPool({ threads: 1 });
      const ws = pool.createWorkspace({ classes: 300, rows: 64 });
      ws.logits.set(uniformArray(Float32Array, 19200, 7));
      ws.target.set(randomLabels(64, 300, 8));
      const single = api.createWorkspace({ classes: 300, rows: 64 });
      single.logits.set(ws.logits);
      single.target.set(ws.target);
      expect(await ws.crossEntropyWithGrad()).toBe(single.crossEntropyWithGrad());
      noStopProbe(pool);
      await gone(pool, 0);
      const t0 = performance.now();
      await expect(ws.crossEntropyWithGrad()).rejects.toThrowError(/a worker did not finish its part of a call in 0\.3 s \(it stopped or is stuck\); this pool can run no more calls: dispose it/);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
      await expect(ws.softmax()).rejects.toThrowError(/Workspace\.softmax: .*did not finish/);
      await pool.dispose();
      single.dispose();
    } finally {
      Object.assign(tuning, saved);
    }
  });

  // A browser's main thread may not block: there the calling thread spins while it waits for a
  // chunk, and looks at the time every 1024 polls. The same stall limit ends the call.
  it('a calling thread that spins (as a browser\'s main thread) is ended by the stall limit too', async () => {
    const saved = { ...tuning };
    Object.assign(tuning, { minElements: 1, cutoff: 1, cores: 64, help: false, stallMs: 300 });
    forceCanBlock(false);
    try {
      const pool = await api.createPool({ threads: 1 });
      const x = uniformArray(Float64Array, 64 * 300, 9);
      const want = Array.from(api.logSoftmax(x, { classes: 300 }));
      expect(Array.from(await pool.logSoftmax(x, { classes: 300 }))).toEqual(want);
      noStopProbe(pool);
      await gone(pool, 0);
      const t0 = performance.now();
      await expect(pool.logSoftmax(x, { classes: 300 })).rejects.toThrowError(/a worker did not finish its part of a call in 0\.3 s \(it stopped or is stuck\)/);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
      await expect(pool.softmax(x, { classes: 300 })).rejects.toThrowError(/Pool\.softmax: a worker did not finish/);
      await pool.dispose();
    } finally {
      forceCanBlock(undefined);
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
