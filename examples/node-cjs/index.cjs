// softmax-wasm from a CommonJS module: `node index.cjs`. The package's "require" entry is a real
// CommonJS file, so this works on every Node 20 release, also those (20.0 to 20.18) that cannot
// require() an ES module: `node --no-experimental-require-module index.cjs` proves it on newer ones.
const { initSync, backend, softmax, crossEntropyWithGrad, createWorkspace } = require('softmax-wasm');

// Two samples of three classes (row-major [2, 3]) and their class labels.
const logits = new Float32Array([2, 1, 0.1, 0.5, 2.5, -1]);
const labels = new Int32Array([0, 1]);

// CommonJS has no top-level await: initSync() loads the wasm synchronously (init() works too).
const forced = process.argv[2];
initSync(forced ? { backend: forced } : undefined);

const probs = softmax(logits, { classes: 3 });
const { loss, grad } = crossEntropyWithGrad(logits, labels, { classes: 3 });
// The same loss through a Workspace: inputs written straight into wasm memory, no copies.
const ws = createWorkspace({ classes: 3, rows: 2 });
ws.logits.set(logits);
ws.target.set(labels);
const workspaceLoss = ws.crossEntropyWithGrad();
ws.dispose();
console.log(JSON.stringify({ app: 'node-cjs', backend: backend(), softmax: Array.from(probs), loss, grad: Array.from(grad), workspaceLoss }));
