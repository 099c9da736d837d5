// softmax-wasm in a Node worker_thread: `node node-worker.mjs`. The main thread starts a worker
// on this same file; the worker loads the package with initSync() and posts the results back.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
// Importing runs nothing (the package has no side effects), so both threads can import it.
import { initSync, backend, softmax, crossEntropyWithGrad } from 'softmax-wasm';

if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { logits: [2, 1, 0.1, 0.5, 2.5, -1], labels: [0, 1], classes: 3, backend: process.argv[2] },
  });
  worker.once('message', (result) => console.log(JSON.stringify({ app: 'node-worker', ...result })));
  worker.once('error', (err) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  const { logits, labels, classes, backend: forced } = workerData;
  initSync(forced ? { backend: forced } : undefined);
  const x = new Float32Array(logits);
  const probs = softmax(x, { classes });
  const { loss, grad } = crossEntropyWithGrad(x, new Int32Array(labels), { classes });
  parentPort.postMessage({ backend: backend(), softmax: Array.from(probs), loss, grad: Array.from(grad) });
}
