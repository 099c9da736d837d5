// A baseline timed in a worker thread of its own (Node): a V8 isolate that no wasm memory has ever
// grown in. Growing an ordinary wasm memory (the verification's large Workspaces, the peers'
// memories) detaches its old buffer, and from then on V8 checks every typed-array access in that
// isolate for a detached buffer: on Node 20 the plain-JS loop ran 4-11% slower in the bench's own
// thread. A plain-JS user's process never gets there, so the plain-JS baseline is timed
// where it cannot either. The worker runs the baseline's calls and times them with the same
// measure.mjs (the process's CPU clock: the main thread idles, awaiting the reply); the rounds stay
// interleaved with everything else's, one message each.

import { Worker } from 'node:worker_threads';

/**
 * Wraps a baseline of `loadBaselines` (impls.mjs) so that its calls run in a worker, which loads it
 * again by its id. The prepared objects have `calibrate` and `measure`, which the suite
 * uses instead of timing `run` on this thread.
 */
export function isolated(baseline) {
  // (not unref'd: the main thread awaits its replies; dispose() ends it)
  const worker = new Worker(new URL('./isolated-worker.mjs', import.meta.url), { workerData: { id: baseline.id } });
  let next = 1;
  const pending = new Map();
  worker.on('message', ({ id, value, error }) => {
    const p = pending.get(id);
    pending.delete(id);
    if (error) p.reject(new Error(`${baseline.label} (worker): ${error}`));
    else p.resolve(value);
  });
  const fail = (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('error', fail);
  // (an exit with calls pending, which dispose() never leaves, would otherwise hang the run)
  worker.on('exit', (code) => fail(new Error(`${baseline.label}: its worker exited (code ${code})`)));
  const call = (type, args = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, type, ...args });
    });
  return {
    ...baseline,
    async prepare(op, logits, labels, rows, classes) {
      const handle = await call('prepare', { op, logits, labels, rows, classes });
      let result;
      return {
        run: async () => {
          result = await call('run', { handle });
        },
        result: () => result,
        calibrate: (budget) => call('calibrate', { handle, budget }),
        measure: async (task, round) => {
          // (the result after the timed calls comes back too: the suite checks it after timing)
          const m = await call('measure', { handle, task, round });
          result = m.result;
          return m;
        },
        dispose: () => void call('dispose', { handle }),
      };
    },
    async dispose() {
      await baseline.dispose();
      await worker.terminate();
    },
  };
}
