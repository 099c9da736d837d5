// The wasm exports: each generic kernel instantiated for f32 and f64. Pointers are byte
// addresses into this module's memory, which the TypeScript wrapper (src/memory.ts) manages.
// The module keeps no state: every result leaves through a return value or a pointer the caller
// passes, and `tmp` is 32 bytes of the caller's scratch (8-aligned) where the passes over one
// row leave their second results for the next (assembly/reduce.ts, TMP_MIN). src/kernels.ts
// declares these exports for TypeScript; test/exports.test.ts checks every build against it.

import * as sm from './softmax';
import * as ce from './cross_entropy';

/** First byte after the module's static data: where the wrapper's arena may begin. */
export function heap_base(): usize {
  return __heap_base;
}

export function softmax_f32(x: usize, y: usize, rows: i32, C: i32, beta: f32, tmp: usize): void { sm.softmax_rows<f32>(x, y, rows, C, beta, tmp); }
export function softmax_f64(x: usize, y: usize, rows: i32, C: i32, beta: f64, tmp: usize): void { sm.softmax_rows<f64>(x, y, rows, C, beta, tmp); }
export function log_softmax_f32(x: usize, y: usize, rows: i32, C: i32, beta: f32, tmp: usize): void { sm.log_softmax_rows<f32>(x, y, rows, C, beta, tmp); }
export function log_softmax_f64(x: usize, y: usize, rows: i32, C: i32, beta: f64, tmp: usize): void { sm.log_softmax_rows<f64>(x, y, rows, C, beta, tmp); }
export function logsumexp_f32(x: usize, out: usize, rows: i32, C: i32, tmp: usize): void { sm.logsumexp_rows<f32>(x, out, rows, C, tmp); }
export function logsumexp_f64(x: usize, out: usize, rows: i32, C: i32, tmp: usize): void { sm.logsumexp_rows<f64>(x, out, rows, C, tmp); }
export function softmax_backward_f32(y: usize, g: usize, dx: usize, rows: i32, C: i32): void { sm.softmax_backward_rows<f32>(y, g, dx, rows, C); }
export function softmax_backward_f64(y: usize, g: usize, dx: usize, rows: i32, C: i32): void { sm.softmax_backward_rows<f64>(y, g, dx, rows, C); }
export function log_softmax_backward_f32(y: usize, g: usize, dx: usize, rows: i32, C: i32): void { sm.log_softmax_backward_rows<f32>(y, g, dx, rows, C); }
export function log_softmax_backward_f64(y: usize, g: usize, dx: usize, rows: i32, C: i32): void { sm.log_softmax_backward_rows<f64>(y, g, dx, rows, C); }
export function transpose_f32(src: usize, dst: usize, outer: i32, A: i32, B: i32): void { sm.transpose<f32>(src, dst, outer, A, B); }
export function transpose_f64(src: usize, dst: usize, outer: i32, A: i32, B: i32): void { sm.transpose<f64>(src, dst, outer, A, B); }

export function ce_check_labels_f32(labels: usize, n: i32, C: i32, ignore: i32, hasIgnore: bool, w: usize, denominator: usize): i32 { return ce.ce_check_labels<f32>(labels, n, C, ignore, hasIgnore, w, denominator); }
export function ce_check_labels_f64(labels: usize, n: i32, C: i32, ignore: i32, hasIgnore: bool, w: usize, denominator: usize): i32 { return ce.ce_check_labels<f64>(labels, n, C, ignore, hasIgnore, w, denominator); }
export function ce_index_f32(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, hasIgnore: bool, scale: f64, scales: usize, tmp: usize): void {
  ce.ce_index_rows<f32>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, hasIgnore, scale, scales, tmp);
}
export function ce_index_f64(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, hasIgnore: bool, scale: f64, scales: usize, tmp: usize): void {
  ce.ce_index_rows<f64>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, hasIgnore, scale, scales, tmp);
}
export function ce_prob_f32(x: usize, q: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, eps: f64, zLoss: f64, scale: f64, scales: usize, tmp: usize): void {
  ce.ce_prob_rows<f32>(x, q, g, loss, lossT, rows, C, w, eps, zLoss, scale, scales, tmp);
}
export function ce_prob_f64(x: usize, q: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, eps: f64, zLoss: f64, scale: f64, scales: usize, tmp: usize): void {
  ce.ce_prob_rows<f64>(x, q, g, loss, lossT, rows, C, w, eps, zLoss, scale, scales, tmp);
}
export function ce_index_call_f32(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, hasIgnore: bool, reduction: i32, gradOutput: f64, scales: usize, tmp: usize): f64 {
  return ce.ce_index_call<f32>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, hasIgnore, reduction, gradOutput, scales, tmp);
}
export function ce_index_call_f64(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, hasIgnore: bool, reduction: i32, gradOutput: f64, scales: usize, tmp: usize): f64 {
  return ce.ce_index_call<f64>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, hasIgnore, reduction, gradOutput, scales, tmp);
}
export function ce_index_default_f32(x: usize, labels: usize, g: usize, loss: usize, rows: i32, C: i32, reduction: i32, gradOutput: f64, tmp: usize): f64 {
  return ce.ce_index_default<f32>(x, labels, g, loss, rows, C, reduction, gradOutput, tmp);
}
export function ce_index_default_f64(x: usize, labels: usize, g: usize, loss: usize, rows: i32, C: i32, reduction: i32, gradOutput: f64, tmp: usize): f64 {
  return ce.ce_index_default<f64>(x, labels, g, loss, rows, C, reduction, gradOutput, tmp);
}
export { ce_grad_scale, ce_reduce } from './cross_entropy';

/** Which build this is: 2 relaxed-simd, 1 simd, 0 scalar (so user-supplied bytes name themselves). */
export function build_kind(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 2 : ASC_FEATURE_SIMD ? 1 : 0;
}
