// Baseline: onnxruntime-web 1.30 (WebAssembly execution provider, SIMD build), in Node, one
// thread, running the models built in code by onnx-model.mjs.
//
// Configuration, and why:
// - `import 'onnxruntime-web'` resolves (package "exports", node condition) to dist/ort.node.min.mjs.
//   We point env.wasm.wasmPaths at the package's own dist/ folder (a file: URL) so the
//   ort-wasm-simd-threaded.{mjs,wasm} pair is loaded from node_modules, never fetched. 1.30 ships
//   only SIMD builds (the "-threaded" binary also runs single-threaded).
// - env.wasm.numThreads = 1 (no worker threads; also lets the process exit on its own) and
//   env.wasm.proxy = false (run on the calling thread, as softmax-wasm does).
// - Session: executionProviders ['wasm'], graphOptimizationLevel 'all', executionMode 'sequential',
//   intra/interOpNumThreads 1.
// - run() is async (session.run). The logits tensor is created once over the caller's array;
//   each run copies it into the wasm heap and copies the outputs back out into fresh typed arrays
//   (the wasm backend has no working pre-allocated CPU outputs), all of which is timed.

import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';
import { createOrtWebBaseline } from './ort-common.mjs';

/** @typedef {import('./types.mjs').Baseline} Baseline */

const require = createRequire(import.meta.url);
// require.resolve gives the package's CJS entry (dist/ort.node.min.js); its folder holds the wasm.
const distDir = path.dirname(require.resolve('onnxruntime-web'));

/**
 * @param {{ gradGraph?: 'onehot' | 'scatter' }} [options] loss+grad graph (see onnx-model.mjs)
 * @returns {Promise<Baseline>}
 */
export default function create({ gradGraph = 'onehot' } = {}) {
  return createOrtWebBaseline(ort, { gradGraph, wasmPaths: pathToFileURL(distDir + path.sep).href });
}
