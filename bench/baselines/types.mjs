// The interface every baseline module implements (JSDoc only; this module exports nothing at
// run time). A bench harness imports a baseline's default export, awaits it, then for each
// (op, shape) calls prepareX once and times run().
//
// Rules all baselines follow, so that they compare fairly with softmax-wasm:
// - prepareX does every one-time step for one fixed shape: models/sessions, input tensors or
//   buffers, output buffers, closures. Always await it: the ORT baselines create their sessions
//   asynchronously, so their prepareX return Promises.
// - run() performs one call: copy-in of the logits where the peer needs it, the compute, and the
//   read-back into a JS typed array. It reuses what the peer lets it reuse.
// - result() returns what the last run() produced (for correctness checks; not timed).
// - The gradient is that of the MEAN loss over rows.

/**
 * @template T
 * @typedef {object} Prepared
 * @property {() => void | Promise<void>} run  one call; a Promise when the peer is async (ORT)
 * @property {() => T} result                  the last result
 */

/**
 * @typedef {object} Baseline
 * @property {string} name     label for tables
 * @property {boolean} isAsync true when run() returns a Promise (must be awaited / timed async)
 * @property {object} [config] how the peer is configured (threads, SIMD, paths, session options)
 * @property {(logits: Float32Array, rows: number, classes: number) => Prepared<Float32Array> | Promise<Prepared<Float32Array>>} prepareSoftmax
 * @property {(logits: Float32Array, rows: number, classes: number) => Prepared<Float32Array> | Promise<Prepared<Float32Array>>} prepareLogSoftmax
 * @property {(logits: Float32Array, labels: Int32Array, rows: number, classes: number) => Prepared<number> | Promise<Prepared<number>>} prepareCrossEntropy
 * @property {(logits: Float32Array, labels: Int32Array, rows: number, classes: number) => Prepared<{loss: number, grad: Float32Array}> | Promise<Prepared<{loss: number, grad: Float32Array}>>} prepareCrossEntropyWithGrad
 * @property {() => void | Promise<void>} dispose
 */

export {};
