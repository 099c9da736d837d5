// The TensorFlow.js baseline's body, shared by Node (tfjs-wasm.mjs: the .wasm by file path) and
// the browser page (bench/browser/page.mjs: the .wasm by URL). See tfjs-wasm.mjs for the
// configuration and why.

import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** @typedef {import('./types.mjs').Baseline} Baseline */

let initialized = false;

/** `simdBinary`: where the SIMD binary is (a file path or URL); `missing`: a path that does not
 *  exist, given for the other two binaries so that tfjs fails loudly if it picks one of them. */
async function initBackend(simdBinary, missing) {
  if (initialized) return;
  setWasmPaths({
    'tfjs-backend-wasm-simd.wasm': simdBinary,
    'tfjs-backend-wasm.wasm': missing,
    'tfjs-backend-wasm-threaded-simd.wasm': missing,
  });
  // One thread. In Node tfjs reports no thread support; a cross-origin isolated page has it, and
  // tfjs would pick the threaded binary, so say no (setThreadsCount(1) says it either way).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
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

/**
 * @param {{ simdBinary: string, missing: string }} where
 * @returns {Promise<Baseline>}
 */
export async function createTfjsBaseline({ simdBinary, missing }) {
  await initBackend(simdBinary, missing);
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
