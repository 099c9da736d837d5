// Baseline: onnxruntime-node 1.30 (native CPU execution provider, MLAS kernels), one thread: the
// native ceiling for the same models as ort-web.mjs (built in code by onnx-model.mjs).
//
// Configuration, and why:
// - The prebuilt binding in the package (bin/napi-v6/<platform>/<arch>) is used as shipped.
// - Session: executionProviders ['cpu'], intraOpNumThreads 1, interOpNumThreads 1 (a single
//   thread, to compare like with like against single-threaded wasm), executionMode 'sequential',
//   graphOptimizationLevel 'all'.
// - Zero-copy where the binding allows: the logits tensor wraps the caller's Float32Array (read in
//   place by the native code), and outputs are pre-allocated Float32Arrays passed as `fetches`,
//   which the binding writes into directly. run() is async (session.run).

import ort from 'onnxruntime-node';
import { createOrtBaseline } from './ort-common.mjs';

/** @typedef {import('./types.mjs').Baseline} Baseline */

/**
 * @param {{ gradGraph?: 'onehot' | 'scatter' }} [options] loss+grad graph (see onnx-model.mjs)
 * @returns {Promise<Baseline>}
 */
export default async function create({ gradGraph = 'onehot' } = {}) {
  ort.env.logLevel = 'error';
  const sessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  return createOrtBaseline(ort, {
    name: `ort-node ${ort.env.versions.node} (native cpu, 1T)`,
    gradGraph,
    sessionOptions,
    preallocateOutputs: true,
    config: { sessionOptions },
  });
}
