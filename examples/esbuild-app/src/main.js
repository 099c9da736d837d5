// softmax-wasm in a esbuild app: import, init(), compute. Nothing to configure: the wasm bytes ship
// inside the package's JavaScript, so there is no .wasm file to serve or locate.
import { init, backend, softmax, crossEntropyWithGrad, createWorkspace } from 'softmax-wasm';

// Two samples of three classes (row-major [2, 3]) and their class labels.
const logits = new Float32Array([2, 1, 0.1, 0.5, 2.5, -1]);
const labels = new Int32Array([0, 1]);

async function main() {
  // `?backend=scalar` forces a build (the browser tests use it); init() alone picks the fastest.
  const forced = new URLSearchParams(location.search).get('backend');
  await init(forced ? { backend: forced } : undefined);

  const probs = softmax(logits, { classes: 3 });
  const { loss, grad } = crossEntropyWithGrad(logits, labels, { classes: 3 });
  // The same loss through a Workspace: inputs written straight into wasm memory, no copies.
  const ws = createWorkspace({ classes: 3, rows: 2 });
  ws.logits.set(logits);
  ws.target.set(labels);
  const workspaceLoss = ws.crossEntropyWithGrad();
  ws.dispose();
  show({ app: 'esbuild', backend: backend(), softmax: Array.from(probs), loss, grad: Array.from(grad), workspaceLoss });
}

function show(result) {
  document.querySelector('#backend').textContent = result.backend;
  document.querySelector('#loss').textContent = result.loss.toFixed(6);
  const cells = (v, n) => [0, 1, 2].map((c) => `<td>${v[n * 3 + c].toFixed(6)}</td>`).join('');
  document.querySelector('#rows').innerHTML = [0, 1]
    .map((n) => `<tr><th>sample ${n}, label ${labels[n]}</th>${cells(result.softmax, n)}${cells(result.grad, n)}</tr>`)
    .join('');
  const out = document.querySelector('#result');
  out.textContent = JSON.stringify(result, null, 2);
  out.dataset.status = 'done';
}

main().catch((err) => {
  const out = document.querySelector('#result');
  out.textContent = String(err && err.stack ? err.stack : err);
  out.dataset.status = 'error';
  console.error(err);
});
