// The worker of isolated.mjs: one baseline (loadBaselines' own), its prepared calls by handle,
// timed here with measure.mjs. Nothing in this isolate grows a wasm memory or transfers a buffer
// (impls.mjs imports the library, but nothing here initializes it).

import { parentPort, workerData } from 'node:worker_threads';
import { loadBaselines } from './impls.mjs';
import { calibrateBatch, measureRound } from './measure.mjs';

const [baseline] = await loadBaselines([workerData.id]);
const prepared = new Map();
let next = 1;
const gc = globalThis.gc ?? (() => {});

const handlers = {
  prepare({ op, logits, labels, rows, classes }) {
    prepared.set(next, baseline.prepare(op, logits, labels, rows, classes));
    return next++;
  },
  run({ handle }) {
    const p = prepared.get(handle);
    p.run();
    return p.result();
  },
  calibrate({ handle, budget }) {
    return calibrateBatch(prepared.get(handle).run, false, budget);
  },
  async measure({ handle, task, round }) {
    const p = prepared.get(handle);
    gc();
    const { wall, cpu } = await measureRound({ ...task, run: p.run, isAsync: false }, round);
    return { wall, cpu, result: p.result() };
  },
  dispose({ handle }) {
    prepared.get(handle)?.dispose?.();
    prepared.delete(handle);
  },
};

parentPort.on('message', async ({ id, type, ...args }) => {
  try {
    parentPort.postMessage({ id, value: await handlers[type](args) });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err?.stack ?? err) });
  }
});
