// softmax-wasm inside a Web Worker: the page sends the inputs, the worker computes with
// initSync() and sends the results back. Vite bundles the worker (and the package in it) from
// the standard `new Worker(new URL(...), { type: 'module' })` form; nothing to configure.
const logits = [2, 1, 0.1, 0.5, 2.5, -1];
const labels = [0, 1];

function run(backend) {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      worker.terminate();
      if (data.ok) resolve(data);
      else reject(new Error(data.error));
    };
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage({ logits, labels, classes: 3, backend });
  });
}

async function main() {
  const forced = new URLSearchParams(location.search).get('backend') ?? undefined;
  const r = await run(forced);
  const result = { app: 'worker', backend: r.backend, softmax: r.softmax, loss: r.loss, grad: r.grad, workspaceLoss: r.workspaceLoss };
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
