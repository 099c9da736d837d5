/**
 * softmax-wasm: softmax, log-softmax, logSumExp, their gradients and a fused cross-entropy
 * loss + gradient, in WebAssembly SIMD. The full reference of every name, option and error is
 * `docs/API.md` in the package (and the repository); these exports are exactly its names.
 *
 * @packageDocumentation
 */
export { init, initSync, backend } from './load.js';
export type { Backend, InitOptions } from './load.js';
export { softmax, logSoftmax, logSumExp, softmaxBackward, logSoftmaxBackward } from './softmax.js';
export type { SoftmaxOptions, LogSumExpOptions, BackwardOptions } from './softmax.js';
export type { LayoutOptions } from './layout.js';
export type { FloatArray } from './check.js';
export { crossEntropy, crossEntropyWithGrad } from './cross-entropy.js';
export type { CrossEntropyOptions, LossOptions, LossAndGrad, IndexTarget, Target, Reduction } from './cross-entropy.js';
export { samplingDistribution, sample, topK, argmax } from './decoding.js';
export type { SamplingOptions, SamplingDistributionOptions, SampleOptions, TopKOptions, TopK, ArgmaxOptions, TokenIds } from './decoding.js';
export { createWorkspace } from './workspace.js';
export type { Workspace, WorkspaceOptions, WorkspaceSoftmaxOptions } from './workspace.js';
export { createPool } from './pool.js';
export type { Pool, PoolOptions } from './pool.js';
