// The worker: loads softmax-wasm with initSync() (synchronous compilation is fine off the main
// thread) and answers each message with the results.
import { initSync, backend, softmax, crossEntropyWithGrad, createWorkspace } from 'softmax-wasm';

self.onmessage = ({ data }) => {
  try {
    initSync(data.backend ? { backend: data.backend } : undefined);
    const logits = new Float32Array(data.logits);
    const labels = new Int32Array(data.labels);
    const probs = softmax(logits, { classes: data.classes });
    const { loss, grad } = crossEntropyWithGrad(logits, labels, { classes: data.classes });
    const ws = createWorkspace({ classes: data.classes, rows: labels.length });
    ws.logits.set(logits);
    ws.target.set(labels);
    const workspaceLoss = ws.crossEntropyWithGrad();
    ws.dispose();
    self.postMessage({ ok: true, backend: backend(), softmax: Array.from(probs), loss, grad: Array.from(grad), workspaceLoss });
  } catch (err) {
    self.postMessage({ ok: false, error: String(err && err.stack ? err.stack : err) });
  }
};
