// The worker of isolated.mjs: one baseline, its prepared calls by handle, timed here with
// measure.mjs. Nothing in this isolate grows a wasm memory or transfers a buffer.

import { parentPort, workerData } from 'node:worker_threads';
import { calibrateBatch, measureRound } from './measure.mjs';

const { default: create } = await import(new URL(`../baselines/${workerData.file}.mjs`, import.meta.url).href);
const baseline = await create();
const prepared = new Map();
let next = 1;
const gc = globalThis.gc ?? (() => {});

const handlers = {
  prepare({ op, logits, labels, rows, classes }) {
    const p =
      op === 'softmax' ? baseline.prepareSoftmax(logits, rows, classes)
      : op === 'logSoftmax' ? baseline.prepareLogSoftmax(logits, rows, classes)
      : op === 'crossEntropy' ? baseline.prepareCrossEntropy(logits, labels, rows, classes)
      : op === 'crossEntropyWithGrad' ? baseline.prepareCrossEntropyWithGrad(logits, labels, rows, classes)
      : null;
    if (!p) throw new Error(`unknown op ${op}`);
    prepared.set(next, p);
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
