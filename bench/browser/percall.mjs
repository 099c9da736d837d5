// The per-call micro-harness (`npm run bench:browser -- --percall`): one [1,10]
// crossEntropyWithGrad call taken apart, timed on a CPU clock in the page and, from the same
// bundle, in the Node that runs the runner, to compare a small call's cost between them:
//   api          crossEntropyWithGrad(logits, labels, { classes: 10, gradInto }) (the inline path)
//   apiKept      api, its result kept in a variable, as the benchmark's loop keeps it (the result
//                object is then allocated on every call)
//   apiNoGrad    crossEntropy(logits, labels, { classes: 10 })
//   naive        plain JS (bench/baselines/naive.mjs), the yardstick (its run keeps the loss
//                in its closure, as in the benchmark)
//   kernel       the kernel the inline path calls (ce_index_default_f32), data already in wasm memory
//   kernelCopies the same with the copies in and out (what the API adds beyond its JS)
//   emptyCall    a JS-to-wasm call of an export that does nothing (build_kind)
// With --mixed the other functions run first (runTheOthers). It imports the library's internals
// from src/ (esbuild compiles the TypeScript), so it measures the working tree, not dist/.

import * as lib from '../../src/index.ts';
import { currentRuntime } from '../../src/load.ts';
import naive from '../baselines/naive.mjs';
import { makeInputs } from '../baselines/reference64.mjs';

/** CPU ms: the page's main thread (read by bench/browser.mjs) or this Node process. */
const cpu = () => {
  if (globalThis.__benchCpuMs) return globalThis.__benchCpuMs();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The cost of one pair of clock reads, in ms. */
async function clockCost() {
  let best = Infinity;
  for (let i = 0; i < 50; i++) {
    const a = await cpu();
    best = Math.min(best, (await cpu()) - a);
  }
  return best;
}

/** Median ns per call of `fn` over batches of >= 20 ms for `ms` ms (the clock's cost subtracted). */
async function timeNs(fn, ms, over) {
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    if (performance.now() - t0 > 20) break;
    batch *= 2;
  }
  const s = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const c0 = await cpu();
    for (let i = 0; i < batch; i++) fn();
    const c1 = await cpu();
    s.push(((c1 - c0 - over) / batch) * 1e6);
  }
  s.sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** mixed: the module's other functions and a Workspace's first, at the shapes and with the
 *  options objects of the benchmark's page (which verifies every shape and function before it
 *  times any), so that the [1,10] call is timed in a process whose shared code has seen them. */
function runTheOthers() {
  for (const [rows, classes] of [[1, 10], [64, 10], [1024, 10], [128, 1000]]) {
    const { logits, labels } = makeInputs(rows, classes);
    const out = new Float32Array(rows * classes);
    const ws = lib.createWorkspace({ classes, rows });
    ws.logits.set(logits);
    ws.target.set(labels);
    for (let i = 0; i < 2000; i++) {
      lib.softmax(logits, { classes, into: out });
      lib.logSoftmax(logits, { classes, into: out });
      lib.crossEntropy(logits, labels, { classes });
      lib.crossEntropyWithGrad(logits, labels, { classes, gradInto: out });
      ws.softmax();
      ws.logSoftmax();
      ws.crossEntropy();
      ws.crossEntropyWithGrad();
    }
    ws.dispose();
  }
}

/** Times the tasks on the runtime's default build (what init() picks). */
export async function run({ rounds = 5, ms = 100, detached = false, mixed = false } = {}) {
  // detached: first detach a buffer, as any wasm memory growth or transfer does in a real page;
  // from then on V8 checks every typed-array access for a detached buffer (its protector is gone).
  if (detached) {
    const b = new ArrayBuffer(8);
    structuredClone(b, { transfer: [b] });
  }
  await lib.init();
  if (mixed) runTheOthers();
  const rt = currentRuntime();
  const { logits, labels } = makeInputs(1, 10);
  const grad = new Float32Array(10);
  const withGrad = { classes: 10, gradInto: grad };
  const noGrad = { classes: 10 };
  const base = rt.tmp + 8192; // past the kernels' tmp block, inside the arena's first pages
  const k = rt.table.ce_index_default[0];
  rt.arena.f32.set(logits, base >>> 2);
  rt.arena.i32[(base + 64) >>> 2] = labels[0];
  const empty = rt.kernels.build_kind;
  // (written and never read: a result kept as the benchmark's loop keeps it)
  let kept = null;
  const tasks = {
    api: () => lib.crossEntropyWithGrad(logits, labels, withGrad),
    apiKept: () => {
      kept = lib.crossEntropyWithGrad(logits, labels, withGrad);
    },
    apiNoGrad: () => lib.crossEntropy(logits, labels, noGrad),
    naive: (await naive()).prepareCrossEntropyWithGrad(logits, labels, 1, 10).run,
    kernel: () => k(base, base + 64, base, base + 128, 1, 10, 1, 1, rt.tmp),
    kernelCopies: () => {
      const v = rt.arena.f32;
      const p = base >>> 2;
      for (let i = 0; i < 10; i++) v[p + i] = logits[i];
      rt.arena.i32[(base + 64) >>> 2] = labels[0];
      k(base, base + 64, base, base + 128, 1, 10, 1, 1, rt.tmp);
      for (let i = 0; i < 10; i++) grad[i] = v[p + i];
    },
    emptyCall: () => empty(),
  };
  const over = await clockCost();
  const res = {};
  const list = Object.entries(tasks);
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of r % 2 ? [...list].reverse() : list) {
      (res[name] ??= []).push(await timeNs(fn, ms, over));
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  return { build: lib.backend(), tasks: Object.fromEntries(Object.entries(res).map(([n, v]) => [n, { median: median(v), rounds: v }])) };
}
