// Shared body of the onnxruntime-web and onnxruntime-node baselines: same models (built in code by
// onnx-model.mjs), same feeds, same read-back; only the runtime module and its options differ.

import {
  softmaxModel,
  logSoftmaxModel,
  crossEntropyModel,
  crossEntropyWithGradModel,
  crossEntropyWithGradScatterModel,
} from './onnx-model.mjs';

/** @typedef {import('./types.mjs').Baseline} Baseline */

/**
 * @param {any} ort  the onnxruntime-web or onnxruntime-node module
 * @param {{ name: string, sessionOptions: object, preallocateOutputs: boolean, config: object,
 *           gradGraph?: 'onehot' | 'scatter' }} opts
 *   preallocateOutputs: pass output tensors over our own Float32Arrays in `fetches` so the runtime
 *   writes into them (onnxruntime-node supports this for CPU tensors; onnxruntime-web's wasm
 *   backend does not copy results back into pre-allocated CPU tensors, so there each run returns
 *   fresh arrays copied out of the wasm heap).
 * @returns {Baseline}
 */
export function createOrtBaseline(ort, { name, sessionOptions, preallocateOutputs, config, gradGraph = 'onehot' }) {
  if (gradGraph !== 'onehot' && gradGraph !== 'scatter') {
    throw new RangeError(`gradGraph must be 'onehot' or 'scatter', got ${gradGraph}`);
  }
  const gradModel = gradGraph === 'scatter' ? crossEntropyWithGradScatterModel : crossEntropyWithGradModel;
  /** @type {Set<any>} */
  const sessions = new Set();

  async function session(modelBytes) {
    const s = await ort.InferenceSession.create(modelBytes, sessionOptions);
    sessions.add(s);
    return s;
  }

  // The logits tensor wraps the caller's Float32Array (no copy here): onnxruntime-node reads it in
  // place, onnxruntime-web copies it into the wasm heap on every run (that copy is timed).
  const logitsTensor = (logits, rows, classes) => new ort.Tensor('float32', logits, [rows, classes]);

  // ONNX losses take int64 labels only. The conversion is done once here, as a pipeline that
  // feeds ORT would produce int64 labels directly; it is not timed.
  const labelsTensor = (labels, rows) =>
    new ort.Tensor('int64', BigInt64Array.from(labels, (v) => BigInt(v)), [rows]);

  /** Prepared run for a single-output [rows, classes] model. */
  async function prepareElementwise(modelBytes, outName, logits, rows, classes) {
    const s = await session(modelBytes);
    const feeds = { logits: logitsTensor(logits, rows, classes) };
    let out = new Float32Array(rows * classes);
    const fetches = { [outName]: new ort.Tensor('float32', out, [rows, classes]) };
    return {
      run: preallocateOutputs
        ? async () => {
            await s.run(feeds, fetches);
          }
        : async () => {
            out = (await s.run(feeds))[outName].data;
          },
      result: () => out,
    };
  }

  return {
    name: gradGraph === 'scatter' ? `${name} [grad: scatter]` : name,
    isAsync: true,
    config: { ...config, gradGraph },

    prepareSoftmax(logits, rows, classes) {
      return prepareElementwise(softmaxModel(rows, classes), 'probs', logits, rows, classes);
    },

    prepareLogSoftmax(logits, rows, classes) {
      return prepareElementwise(logSoftmaxModel(rows, classes), 'logp', logits, rows, classes);
    },

    async prepareCrossEntropy(logits, labels, rows, classes) {
      const s = await session(crossEntropyModel(rows, classes));
      const feeds = { logits: logitsTensor(logits, rows, classes), labels: labelsTensor(labels, rows) };
      const lossBuf = new Float32Array(1);
      const fetches = { loss: new ort.Tensor('float32', lossBuf, []) };
      let loss = NaN;
      return {
        run: preallocateOutputs
          ? async () => {
              await s.run(feeds, fetches);
              loss = lossBuf[0];
            }
          : async () => {
              loss = (await s.run(feeds)).loss.data[0];
            },
        result: () => loss,
      };
    },

    async prepareCrossEntropyWithGrad(logits, labels, rows, classes) {
      const s = await session(gradModel(rows, classes));
      const feeds = { logits: logitsTensor(logits, rows, classes), labels: labelsTensor(labels, rows) };
      const lossBuf = new Float32Array(1);
      let grad = new Float32Array(rows * classes);
      const fetches = {
        loss: new ort.Tensor('float32', lossBuf, []),
        grad: new ort.Tensor('float32', grad, [rows, classes]),
      };
      let loss = NaN;
      return {
        run: preallocateOutputs
          ? async () => {
              await s.run(feeds, fetches);
              loss = lossBuf[0];
            }
          : async () => {
              const out = await s.run(feeds);
              loss = out.loss.data[0];
              grad = out.grad.data;
            },
        result: () => ({ loss, grad }),
      };
    },

    async dispose() {
      for (const s of sessions) await s.release();
      sessions.clear();
    },
  };
}

/**
 * The onnxruntime-web baseline (ort-web.mjs for the configuration and why), in Node or a page:
 * `wasmPaths` is the folder of its ort-wasm-simd-threaded.{mjs,wasm} (a file: URL in Node, an
 * http URL in the page).
 * @param {any} ort the onnxruntime-web module
 * @param {{ gradGraph?: 'onehot' | 'scatter', wasmPaths: string }} options
 * @returns {Promise<Baseline>}
 */
export async function createOrtWebBaseline(ort, { gradGraph = 'onehot', wasmPaths }) {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = wasmPaths;
  ort.env.logLevel = 'error';
  const sessionOptions = {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  };
  return createOrtBaseline(ort, {
    name: `ort-web ${ort.env.versions.web} (wasm simd, 1T)`,
    gradGraph,
    sessionOptions,
    preallocateOutputs: false,
    config: {
      numThreads: ort.env.wasm.numThreads,
      proxy: ort.env.wasm.proxy,
      wasmPaths: ort.env.wasm.wasmPaths,
      sessionOptions,
    },
  });
}
