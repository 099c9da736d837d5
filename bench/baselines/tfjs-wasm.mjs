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
import { createTfjsBaseline } from './tfjs-common.mjs';

/** @typedef {import('./types.mjs').Baseline} Baseline */

const require = createRequire(import.meta.url);
const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));

/** @returns {Promise<Baseline>} */
export default function create() {
  return createTfjsBaseline({
    simdBinary: path.join(distDir, 'tfjs-backend-wasm-simd.wasm'),
    missing: path.join(distDir, 'not-the-simd-build.wasm'),
  });
}
