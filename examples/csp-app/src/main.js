// softmax-wasm under a strict Content Security Policy. Compiling WebAssembly in a page needs
// 'wasm-unsafe-eval' in its script-src; this page tries the three ways to load the kernels and
// shows which work under the policy it was served with:
//   embedded: init(), the bytes inside the package's JS (needs 'wasm-unsafe-eval')
//   bytes:    init({ wasm: bytes }), the package's .wasm file fetched by the page (same rule)
//   module:   init({ wasm: module }), a WebAssembly.Module compiled by a worker, whose own policy
//             may allow wasm: works even under `script-src 'self'`
import { init, backend, softmax, crossEntropyWithGrad } from 'softmax-wasm';
// The package ships its builds as plain files too (softmax-wasm/wasm/softmax.{scalar,simd,relaxed-simd}.wasm);
// Vite's `?url` emits the file and gives its URL.
import simdUrl from 'softmax-wasm/wasm/softmax.simd.wasm?url';

const logits = new Float32Array([2, 1, 0.1, 0.5, 2.5, -1]);
const labels = new Int32Array([0, 1]);

function compute() {
  const probs = softmax(logits, { classes: 3 });
  const { loss, grad } = crossEntropyWithGrad(logits, labels, { classes: 3 });
  return { ok: true, backend: backend(), softmax: Array.from(probs), loss, grad: Array.from(grad) };
}

async function attempt(load) {
  try {
    await load();
    return compute();
  } catch (err) {
    return { ok: false, error: `${err.name}: ${err.message}` };
  }
}

function compileInWorker(url) {
  const worker = new Worker(new URL('./compile-worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      worker.terminate();
      if (data.module) resolve(data.module);
      else reject(new Error(data.error));
    };
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(new URL(url, location.href).href);
  });
}

async function main() {
  const result = { app: 'csp' };
  result.embedded = await attempt(() => init());
  result.bytes = await attempt(async () => init({ wasm: await (await fetch(simdUrl)).arrayBuffer() }));
  result.module = await attempt(async () => init({ wasm: await compileInWorker(simdUrl) }));
  for (const k of ['embedded', 'bytes', 'module']) {
    const r = result[k];
    document.querySelector(`#${k}`).textContent = r.ok ? `works (backend ${r.backend}, loss ${r.loss.toFixed(6)})` : `blocked: ${r.error}`;
  }
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
