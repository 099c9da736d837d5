// The wasm exports as TypeScript sees them (assembly/index.ts), and the one place a kernel is
// chosen by operation and element type. Pointers are byte addresses; `tmp` is the kernels'
// scratch block (KERNEL_TMP_BYTES, src/kernel-constants.ts).

type Ptr = number;

export interface Kernels {
  readonly memory: WebAssembly.Memory;
  heap_base(): Ptr;
  build_kind(): number;
  softmax_f32(x: Ptr, y: Ptr, rows: number, C: number, beta: number, tmp: Ptr): void;
  softmax_f64(x: Ptr, y: Ptr, rows: number, C: number, beta: number, tmp: Ptr): void;
  log_softmax_f32(x: Ptr, y: Ptr, rows: number, C: number, beta: number, tmp: Ptr): void;
  log_softmax_f64(x: Ptr, y: Ptr, rows: number, C: number, beta: number, tmp: Ptr): void;
  logsumexp_f32(x: Ptr, out: Ptr, rows: number, C: number, tmp: Ptr): void;
  logsumexp_f64(x: Ptr, out: Ptr, rows: number, C: number, tmp: Ptr): void;
  softmax_backward_f32(y: Ptr, g: Ptr, dx: Ptr, rows: number, C: number): void;
  softmax_backward_f64(y: Ptr, g: Ptr, dx: Ptr, rows: number, C: number): void;
  log_softmax_backward_f32(y: Ptr, g: Ptr, dx: Ptr, rows: number, C: number): void;
  log_softmax_backward_f64(y: Ptr, g: Ptr, dx: Ptr, rows: number, C: number): void;
  transpose_f32(src: Ptr, dst: Ptr, outer: number, A: number, B: number): void;
  transpose_f64(src: Ptr, dst: Ptr, outer: number, A: number, B: number): void;
  ce_check_labels_f32(labels: Ptr, n: number, C: number, ignore: number, hasIgnore: number, w: Ptr, denominator: Ptr): number;
  ce_check_labels_f64(labels: Ptr, n: number, C: number, ignore: number, hasIgnore: number, w: Ptr, denominator: Ptr): number;
  ce_index_f32(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr, sumW: number,
    eps: number, zLoss: number, ignore: number, flags: number, scale: number, scales: Ptr, tmp: Ptr): void;
  ce_index_f64(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr, sumW: number,
    eps: number, zLoss: number, ignore: number, flags: number, scale: number, scales: Ptr, tmp: Ptr): void;
  ce_prob_f32(x: Ptr, q: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr,
    eps: number, zLoss: number, scale: number, scales: Ptr, tmp: Ptr): void;
  ce_prob_f64(x: Ptr, q: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr,
    eps: number, zLoss: number, scale: number, scales: Ptr, tmp: Ptr): void;
  ce_index_call_f32(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr, sumW: number,
    eps: number, zLoss: number, ignore: number, flags: number, reduction: number, gradOutput: number, scales: Ptr, tmp: Ptr): number;
  ce_index_call_f64(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr, sumW: number,
    eps: number, zLoss: number, ignore: number, flags: number, reduction: number, gradOutput: number, scales: Ptr, tmp: Ptr): number;
  ce_index_default_f32(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, rows: number, C: number, reduction: number, gradOutput: number, tmp: Ptr): number;
  ce_index_default_f64(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, rows: number, C: number, reduction: number, gradOutput: number, tmp: Ptr): number;
  argmax_f32(x: Ptr, out: Ptr, rows: number, C: number): void;
  argmax_f64(x: Ptr, out: Ptr, rows: number, C: number): void;
  decode_f32(x: Ptr, out: Ptr, u: Ptr, rows: number, C: number, beta: number, topK: number, topP: number, minP: number, minKeep: number, work: Ptr): number;
  decode_f64(x: Ptr, out: Ptr, u: Ptr, rows: number, C: number, beta: number, topK: number, topP: number, minP: number, minKeep: number, work: Ptr): number;
  topk_f32(x: Ptr, rows: number, C: number, k: number, outIdx: Ptr, outVal: Ptr, work: Ptr): void;
  topk_f64(x: Ptr, rows: number, C: number, k: number, outIdx: Ptr, outVal: Ptr, work: Ptr): void;
  ce_grad_scale(reduction: number, gradOutput: number, denominator: number): number;
  ce_reduce(loss: Ptr, rows: number, reduction: number, denominator: number): number;
}

type Functions = { [K in keyof Kernels as Kernels[K] extends (...args: never[]) => unknown ? K : never]: Kernels[K] };
type Arity<F> = F extends (...args: infer P) => unknown ? P['length'] : never;

/** Every exported function with its parameter count: the contract test/exports.test.ts checks
 *  each build against (the type makes it agree with the interface above). */
export const KERNEL_ARITY: { readonly [K in keyof Functions]: Arity<Functions[K]> } = {
  heap_base: 0, build_kind: 0,
  softmax_f32: 6, softmax_f64: 6, log_softmax_f32: 6, log_softmax_f64: 6, logsumexp_f32: 5, logsumexp_f64: 5,
  softmax_backward_f32: 5, softmax_backward_f64: 5, log_softmax_backward_f32: 5, log_softmax_backward_f64: 5,
  transpose_f32: 5, transpose_f64: 5,
  ce_check_labels_f32: 7, ce_check_labels_f64: 7, ce_index_f32: 16, ce_index_f64: 16, ce_prob_f32: 13, ce_prob_f64: 13,
  ce_index_call_f32: 17, ce_index_call_f64: 17, ce_index_default_f32: 9, ce_index_default_f64: 9,
  argmax_f32: 4, argmax_f64: 4, decode_f32: 11, decode_f64: 11, topk_f32: 7, topk_f64: 7,
  ce_grad_scale: 3, ce_reduce: 4,
};

/** The kernel of each operation for each element type, as [f32, f64] (ElementType.index), and
 *  `keep(ptr, result)`: stores the i32 result of the kernel call just made at ptr in wasm memory
 *  (on a pool, the call is only recorded: whoever runs it stores its result there). */
export type KernelTable = {
  readonly [Op in KernelOp]: readonly [Functions[`${Op}_f32`], Functions[`${Op}_f64`]];
} & { readonly keep: (ptr: number, result: number) => void };
/** The operations with a kernel per element type. */
export type KernelOp = 'softmax' | 'log_softmax' | 'logsumexp' | 'softmax_backward' | 'log_softmax_backward' | 'transpose' |
  'ce_check_labels' | 'ce_index' | 'ce_prob' | 'ce_index_call' | 'ce_index_default' | 'argmax' | 'decode' | 'topk';

const KERNEL_OPS: readonly KernelOp[] = ['softmax', 'log_softmax', 'logsumexp', 'softmax_backward', 'log_softmax_backward',
  'transpose', 'ce_check_labels', 'ce_index', 'ce_prob', 'ce_index_call', 'ce_index_default', 'argmax', 'decode', 'topk'];

/** The kernel table over a set of exports (the instance's, or the pool's recording stand-ins
 *  with their own `keep`). */
export function kernelTable(k: Kernels, keep = (ptr: number, result: number) => void (new Int32Array(k.memory.buffer)[ptr >>> 2] = result)): KernelTable {
  const fns = k as unknown as Record<string, unknown>;
  return Object.fromEntries([...KERNEL_OPS.map((op) => [op, [fns[`${op}_f32`], fns[`${op}_f64`]]]), ['keep', keep]]) as unknown as KernelTable;
}
