// Baseline: TensorFlow.js 4.22 on its WebAssembly backend (XNNPACK, SIMD build), in Node.
//
// Configuration, and why:
// - The .wasm binaries are loaded from the package's own dist/ folder by file path. We hand
//   setWasmPaths a file map in which ONLY the SIMD binary exists: tfjs picks the binary from its
//   feature flags (WASM_HAS_SIMD_SUPPORT / WASM_HAS_MULTITHREAD_SUPPORT), so if it ever chose the
//   scalar or threaded build, init would fail loudly instead of silently benchmarking another one.
// - One thread: tfjs disables wasm threads in Node (WASM_HAS_MULTITHREAD_SUPPORT is false when
//   IS_NODE), and we also call setThreadsCount(1) so the setting is explicit either way.
// - tf.enableProdMode(): skips debug-time validation, as a performance-minded user would.
// - Each run() uploads the logits (tf.tensor2d copies them into the wasm heap), computes, and
//   reads back with dataSync() (a copy out of the heap), all inside tf.tidy so no tensor
//   survives the call and memory stays flat. That mirrors the copies softmax-wasm's timing pays.
// - Cross-entropy uses the tfjs built-in a user would reach for:
//   tf.losses.softmaxCrossEntropy(tf.oneHot(labels, C), logits), whose default reduction
//   SUM_BY_NONZERO_WEIGHTS is the mean over rows when there are no weights. tfjs has no
//   integer-label loss, so the label upload and oneHot are part of every call. The gradient comes
//   from tf.valueAndGrad over that loss (tfjs's custom gradient: softmax - onehot, times dy).

import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** @typedef {import('./types.mjs').Baseline} Baseline */

const require = createRequire(import.meta.url);
const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));

let initialized = false;

async function initBackend() {
  if (initialized) return;
  const missing = path.join(distDir, 'not-the-simd-build.wasm');
  setWasmPaths({
    'tfjs-backend-wasm-simd.wasm': path.join(distDir, 'tfjs-backend-wasm-simd.wasm'),
    'tfjs-backend-wasm.wasm': missing,
    'tfjs-backend-wasm-threaded-simd.wasm': missing,
  });
  setThreadsCount(1);
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'wasm') {
    throw new Error(`tfjs-wasm baseline: backend is '${tf.getBackend()}', expected 'wasm'`);
  }
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
    throw new Error('tfjs-wasm baseline: tfjs reports no wasm SIMD support');
  }
  tf.enableProdMode();
  initialized = true;
}

/** @returns {Promise<Baseline>} */
export default async function create() {
  await initBackend();
  const threads = getThreadsCount();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');

  return {
    name: `tfjs-wasm ${tf.version_core} (${simd ? 'simd' : 'scalar'}, ${threads}T)`,
    isAsync: false,
    /** What the backend reported, for the report/table footnotes. */
    config: {
      backend: tf.getBackend(),
      WASM_HAS_SIMD_SUPPORT: simd,
      WASM_HAS_MULTITHREAD_SUPPORT: mt,
      threads,
      wasmBinary: 'tfjs-backend-wasm-simd.wasm',
    },

    prepareSoftmax(logits, rows, classes) {
      /** @type {Float32Array} */
      let out = new Float32Array(0);
      return {
        run() {
          tf.tidy(() => {
            const x = tf.tensor2d(logits, [rows, classes], 'float32');
            out = /** @type {Float32Array} */ (tf.softmax(x).dataSync());
          });
        },
        result: () => out,
      };
    },

    prepareLogSoftmax(logits, rows, classes) {
      /** @type {Float32Array} */
      let out = new Float32Array(0);
      return {
        run() {
          tf.tidy(() => {
            const x = tf.tensor2d(logits, [rows, classes], 'float32');
            out = /** @type {Float32Array} */ (tf.logSoftmax(x).dataSync());
          });
        },
        result: () => out,
      };
    },

    prepareCrossEntropy(logits, labels, rows, classes) {
      let loss = NaN;
      return {
        run() {
          tf.tidy(() => {
            const x = tf.tensor2d(logits, [rows, classes], 'float32');
            const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
            loss = tf.losses.softmaxCrossEntropy(onehot, x).dataSync()[0];
          });
        },
        result: () => loss,
      };
    },

    prepareCrossEntropyWithGrad(logits, labels, rows, classes) {
      // valueAndGrad differentiates w.r.t. its argument only; the one-hot targets are closed over
      // (set per call) so tfjs does not also compute a gradient for them.
      /** @type {tf.Tensor} */
      let onehot;
      const lossAndGrad = tf.valueAndGrad((x) => tf.losses.softmaxCrossEntropy(onehot, x));
      let loss = NaN;
      /** @type {Float32Array} */
      let grad = new Float32Array(0);
      return {
        run() {
          tf.tidy(() => {
            const x = tf.tensor2d(logits, [rows, classes], 'float32');
            onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
            const { value, grad: g } = lossAndGrad(x);
            loss = value.dataSync()[0];
            grad = /** @type {Float32Array} */ (g.dataSync());
          });
        },
        result: () => ({ loss, grad }),
      };
    },

    dispose() {
      // Every per-call tensor is freed by tf.tidy; nothing else holds wasm memory or handles.
      tf.disposeVariables();
    },
  };
}
