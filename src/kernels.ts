// The wasm exports as TypeScript sees them (assembly/index.ts). Pointers are byte addresses.

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
    eps: number, zLoss: number, ignore: number, hasIgnore: number, scale: number, scales: Ptr, tmp: Ptr): void;
  ce_index_f64(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr, sumW: number,
    eps: number, zLoss: number, ignore: number, hasIgnore: number, scale: number, scales: Ptr, tmp: Ptr): void;
  ce_prob_f32(x: Ptr, q: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr,
    eps: number, zLoss: number, scale: number, scales: Ptr, tmp: Ptr): void;
  ce_prob_f64(x: Ptr, q: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr,
    eps: number, zLoss: number, scale: number, scales: Ptr, tmp: Ptr): void;
  ce_index_call_f32(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr, sumW: number,
    eps: number, zLoss: number, ignore: number, hasIgnore: number, reduction: number, gradOutput: number, scales: Ptr, tmp: Ptr): number;
  ce_index_call_f64(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, lossT: Ptr, rows: number, C: number, w: Ptr, sumW: number,
    eps: number, zLoss: number, ignore: number, hasIgnore: number, reduction: number, gradOutput: number, scales: Ptr, tmp: Ptr): number;
  ce_index_default_f32(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, rows: number, C: number, reduction: number, gradOutput: number, tmp: Ptr): number;
  ce_index_default_f64(x: Ptr, labels: Ptr, g: Ptr, loss: Ptr, rows: number, C: number, reduction: number, gradOutput: number, tmp: Ptr): number;
  ce_grad_scale(reduction: number, gradOutput: number, denominator: number): number;
  ce_reduce(loss: Ptr, rows: number, reduction: number, denominator: number): number;
}
