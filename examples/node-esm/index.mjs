// softmax-wasm from a Node ES module: `node index.mjs`. Prints the results as JSON.
import { init, backend, softmax, crossEntropyWithGrad, createWorkspace } from 'softmax-wasm';

// Two samples of three classes (row-major [2, 3]) and their class labels.
const logits = new Float32Array([2, 1, 0.1, 0.5, 2.5, -1]);
const labels = new Int32Array([0, 1]);

// `node index.mjs scalar` forces a build; init() alone picks the fastest this runtime runs.
const forced = process.argv[2];
await init(forced ? { backend: forced } : undefined);

const probs = softmax(logits, { classes: 3 });
const { loss, grad } = crossEntropyWithGrad(logits, labels, { classes: 3 });
// The same loss through a Workspace: inputs written straight into wasm memory, no copies.
const ws = createWorkspace({ classes: 3, rows: 2 });
ws.logits.set(logits);
ws.target.set(labels);
const workspaceLoss = ws.crossEntropyWithGrad();
ws.dispose();
console.log(JSON.stringify({ app: 'node-esm', backend: backend(), softmax: Array.from(probs), loss, grad: Array.from(grad), workspaceLoss }));
