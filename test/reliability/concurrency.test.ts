// Concurrency: independent calls interleaved from async code share one
// instance safely (every call is synchronous, so nothing interleaves inside one); several
// worker_threads, each with its own instance (initSync in the worker), compute at the same time
// on SharedArrayBuffer inputs and give the single-threaded results, bit for bit.
// (The multi-core pool, createPool, has its own tests.)
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { getRuntime } from '../../src/load.js';
import { BACKENDS, use } from '../helpers/backends.js';
import { crossEntropy64, softmax64, type Dims } from '../helpers/reference.js';
import { build, check, randomParams } from './cases.js';
import { expectClose, shared } from './common.js';
import { rng, uniform } from '../helpers/random.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = resolve(root, 'dist/index.js');
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('interleaved async calls on one instance', () => {
  it('three async tasks, each awaiting between calls, all get right answers', async () => {
    use('simd');
    const task = async (seed: number) => {
      const r = rng(seed);
      for (let i = 0; i < 150; i++) {
        const b = build(randomParams(r, 4000));
        const result = b.run();
        await tick(); // another task runs here
        check(b, result, `task ${seed}, call ${i}: `);
      }
    };
    await Promise.all([task(1), task(2), task(3)]);
  });

  it('a Workspace held across awaits while another task grows memory: properties stay live', async () => {
    use('relaxed-simd');
    const C = 16;
    const N = 32;
    const d: Dims = { outer: N, C, inner: 1 };
    const x = Float32Array.from(uniform(N * C, 3));
    const labels = Array.from({ length: N }, (_, i) => (i * 5) % C);
    const ws = api.createWorkspace({ classes: C, rows: N });
    ws.logits.set(x);
    ws.target.set(labels);
    const held = ws.logits;
    const start = getRuntime('test').arena.byteLength;
    const grower = (async () => {
      for (let k = 1; k <= 6; k++) {
        // (rows of a quarter of the memory there was at the start, up to one and a half times
        // it: memory must grow)
        const big = new Float32Array(k * (start >> 4)).fill(k);
        expectClose(api.logSumExp(big, { classes: big.length }), [k + Math.log(big.length)], true, 'grower');
        await tick();
      }
    })();
    const user = (async () => {
      for (let k = 0; k < 6; k++) {
        await tick();
        const loss = ws.crossEntropyWithGrad({ reduction: 'sum' }) as number;
        const e = crossEntropy64(x, labels, d, false, { reduction: 'sum' });
        expectClose(loss, e.loss, true, 'ws loss between awaits');
        expectClose(ws.grad, e.grad, true, 'ws grad between awaits');
        expectClose(ws.softmax(), softmax64(x, d), true, 'ws softmax between awaits');
      }
    })();
    const before = getRuntime('test').arena.byteLength;
    await Promise.all([grower, user]);
    expect(getRuntime('test').arena.byteLength).toBeGreaterThan(before);
    // The view read before the growth was detached by it: read ws.logits again instead.
    expect(held.length).toBe(0);
    expect(Array.from(ws.logits)).toEqual(Array.from(x));
    ws.dispose();
  });

  it('concurrent init() calls resolve to one instance; a forced switch disposes workspaces made before it', async () => {
    await Promise.all([api.init(), api.init(), api.init({ backend: 'simd' })]);
    expect(api.backend()).toBe('simd');
    const ws = api.createWorkspace({ classes: 3, rows: 1 });
    await Promise.all([api.init({ backend: 'scalar' }), api.init({ backend: 'scalar' })]);
    expect(api.backend()).toBe('scalar');
    expect(() => ws.softmax()).toThrowError(/disposed/);
    expect(Array.from(api.softmax(new Float32Array([0, 0]), { classes: 2 }))).toEqual([0.5, 0.5]);
  });
});

/** The worker: its own instance of the built package, computing on shared inputs. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const api = await import(workerData.url);
  api.initSync({ backend: workerData.backend });
  const { x, labels, C, out } = workerData;
  const N = x.length / C;
  for (let it = 0; it < workerData.iterations; it++) {
    // Interleave a call that grows this instance's memory, a Workspace and the functions.
    if (it % 7 === 3) api.logSumExp(new Float64Array(50000 * (1 + it % 5)).fill(1), { classes: 50000 * (1 + it % 5) });
    api.softmax(x, { classes: C, into: out.softmax });
    api.logSoftmax(x, { shape: [N, C], axis: 0, into: out.logSoftmaxAxis0 });
    api.logSumExp(x, { classes: C, into: out.lse });
    const r = api.crossEntropyWithGrad(x, labels, { classes: C, labelSmoothing: 0.1, gradInto: out.grad });
    out.loss[0] = r.loss;
    const ws = api.createWorkspace({ classes: C, rows: N });
    ws.logits.set(x);
    ws.target.set(labels);
    out.wsLoss[0] = ws.crossEntropy({ reduction: 'sum' });
    ws.dispose();
  }
  parentPort.postMessage({ backend: api.backend() });
})().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

function runWorker(backend: string, data: object): Promise<{ backend?: string; error?: string }> {
  return new Promise((res, rej) => {
    const w = new Worker(WORKER, { eval: true, workerData: { ...data, url: pathToFileURL(dist).href, backend } });
    w.once('message', (m) => {
      void w.terminate();
      res(m);
    });
    w.once('error', rej);
  });
}

describe('worker threads, each with its own instance', () => {
  it('four workers at once (every build) on SharedArrayBuffer inputs give the single-threaded results bit for bit', async () => {
    expect(existsSync(dist), 'dist/index.js: run `npm run build` first').toBe(true);
    const C = 257;
    const N = 96;
    const x = shared(Float32Array, uniform(N * C, 21, 6));
    const labels = shared(Int32Array, Array.from({ length: N }, (_, i) => (i * 31) % C));
    const outputs = () => ({
      softmax: shared(Float32Array, new Float32Array(N * C)),
      logSoftmaxAxis0: shared(Float32Array, new Float32Array(N * C)),
      lse: shared(Float32Array, new Float32Array(N)),
      grad: shared(Float32Array, new Float32Array(N * C)),
      loss: shared(Float64Array, [0]),
      wsLoss: shared(Float64Array, [0]),
    });
    const builds = [...BACKENDS, 'simd'] as const;
    const outs = builds.map(outputs);
    const replies = await Promise.all(builds.map((b, i) => runWorker(b, { x, labels, C, out: outs[i], iterations: 40 })));
    for (const [i, m] of replies.entries()) {
      expect(m.error, `worker ${i}`).toBeUndefined();
      expect(m.backend).toBe(builds[i]);
    }
    // The same calls here, single-threaded, on the same build: identical bits.
    for (const [i, b] of builds.entries()) {
      use(b);
      const o = outs[i]!;
      expect(Array.from(o.softmax)).toEqual(Array.from(api.softmax(x, { classes: C })));
      expect(Array.from(o.logSoftmaxAxis0)).toEqual(Array.from(api.logSoftmax(x, { shape: [N, C], axis: 0 })));
      expect(Array.from(o.lse)).toEqual(Array.from(api.logSumExp(x, { classes: C })));
      const r = api.crossEntropyWithGrad(x, labels, { classes: C, labelSmoothing: 0.1 });
      expect(o.loss[0]).toBe(r.loss);
      expect(Array.from(o.grad)).toEqual(Array.from(r.grad));
      // And right: against the float64 reference.
      const d: Dims = { outer: N, C, inner: 1 };
      expectClose(o.softmax, softmax64(x, d), true, `worker ${i} softmax`);
      const e = crossEntropy64(x, labels, d, false, { labelSmoothing: 0.1 });
      expectClose(o.loss[0]!, e.loss, true, `worker ${i} loss`);
      expectClose(o.grad, e.grad, true, `worker ${i} grad`);
      expectClose(o.wsLoss[0]!, crossEntropy64(x, labels, d, false, { reduction: 'sum' }).loss, true, `worker ${i} workspace loss`);
    }
  });
});
