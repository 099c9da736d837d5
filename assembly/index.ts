// The wasm exports: each generic kernel instantiated for f32 and f64. Pointers are byte
// addresses into this module's memory, which the TypeScript wrapper (src/memory.ts) manages.
// Each export first asserts that its pointer ranges lie in the heap (checks.ts): only the checked
// build keeps these, the shipping builds compile them away (noAssert).
// The module keeps no state: every result leaves through a return value or a pointer the caller
// passes, and `tmp` is TMP_BYTES of the caller's scratch (8-aligned) where the passes over one row
// leave their second results for the next (assembly/reduce.ts, TMP_MIN). src/kernels.ts declares
// these exports for TypeScript; test/exports.test.ts checks every build against it.

import * as sm from './softmax';
import * as ce from './cross_entropy';
import * as dec from './decode';
import { bytes_of, in_heap, in_heap_or_null } from './checks';
import { TMP_BYTES } from './reduce';

/** First byte after the module's static data: where the wrapper's arena may begin. */
export function heap_base(): usize {
  return __heap_base;
}

export function softmax_f32(x: usize, y: usize, rows: i32, C: i32, beta: f32, tmp: usize): void {
  const n = bytes_of<f32>(rows, C);
  assert(in_heap(x, n), 'softmax_f32: x outside the heap');
  assert(in_heap(y, n), 'softmax_f32: y outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'softmax_f32: tmp outside the heap');
  sm.softmax_rows<f32>(x, y, rows, C, beta, tmp);
}
export function softmax_f64(x: usize, y: usize, rows: i32, C: i32, beta: f64, tmp: usize): void {
  const n = bytes_of<f64>(rows, C);
  assert(in_heap(x, n), 'softmax_f64: x outside the heap');
  assert(in_heap(y, n), 'softmax_f64: y outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'softmax_f64: tmp outside the heap');
  sm.softmax_rows<f64>(x, y, rows, C, beta, tmp);
}
export function log_softmax_f32(x: usize, y: usize, rows: i32, C: i32, beta: f32, tmp: usize): void {
  const n = bytes_of<f32>(rows, C);
  assert(in_heap(x, n), 'log_softmax_f32: x outside the heap');
  assert(in_heap(y, n), 'log_softmax_f32: y outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'log_softmax_f32: tmp outside the heap');
  sm.log_softmax_rows<f32>(x, y, rows, C, beta, tmp);
}
export function log_softmax_f64(x: usize, y: usize, rows: i32, C: i32, beta: f64, tmp: usize): void {
  const n = bytes_of<f64>(rows, C);
  assert(in_heap(x, n), 'log_softmax_f64: x outside the heap');
  assert(in_heap(y, n), 'log_softmax_f64: y outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'log_softmax_f64: tmp outside the heap');
  sm.log_softmax_rows<f64>(x, y, rows, C, beta, tmp);
}
export function logsumexp_f32(x: usize, out: usize, rows: i32, C: i32, tmp: usize): void {
  assert(in_heap(x, bytes_of<f32>(rows, C)), 'logsumexp_f32: x outside the heap');
  assert(in_heap(out, bytes_of<f32>(rows)), 'logsumexp_f32: out outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'logsumexp_f32: tmp outside the heap');
  sm.logsumexp_rows<f32>(x, out, rows, C, tmp);
}
export function logsumexp_f64(x: usize, out: usize, rows: i32, C: i32, tmp: usize): void {
  assert(in_heap(x, bytes_of<f64>(rows, C)), 'logsumexp_f64: x outside the heap');
  assert(in_heap(out, bytes_of<f64>(rows)), 'logsumexp_f64: out outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'logsumexp_f64: tmp outside the heap');
  sm.logsumexp_rows<f64>(x, out, rows, C, tmp);
}
export function softmax_backward_f32(y: usize, g: usize, dx: usize, rows: i32, C: i32): void {
  const n = bytes_of<f32>(rows, C);
  assert(in_heap(y, n), 'softmax_backward_f32: y outside the heap');
  assert(in_heap(g, n), 'softmax_backward_f32: g outside the heap');
  assert(in_heap(dx, n), 'softmax_backward_f32: dx outside the heap');
  sm.softmax_backward_rows<f32>(y, g, dx, rows, C);
}
export function softmax_backward_f64(y: usize, g: usize, dx: usize, rows: i32, C: i32): void {
  const n = bytes_of<f64>(rows, C);
  assert(in_heap(y, n), 'softmax_backward_f64: y outside the heap');
  assert(in_heap(g, n), 'softmax_backward_f64: g outside the heap');
  assert(in_heap(dx, n), 'softmax_backward_f64: dx outside the heap');
  sm.softmax_backward_rows<f64>(y, g, dx, rows, C);
}
export function log_softmax_backward_f32(y: usize, g: usize, dx: usize, rows: i32, C: i32): void {
  const n = bytes_of<f32>(rows, C);
  assert(in_heap(y, n), 'log_softmax_backward_f32: y outside the heap');
  assert(in_heap(g, n), 'log_softmax_backward_f32: g outside the heap');
  assert(in_heap(dx, n), 'log_softmax_backward_f32: dx outside the heap');
  sm.log_softmax_backward_rows<f32>(y, g, dx, rows, C);
}
export function log_softmax_backward_f64(y: usize, g: usize, dx: usize, rows: i32, C: i32): void {
  const n = bytes_of<f64>(rows, C);
  assert(in_heap(y, n), 'log_softmax_backward_f64: y outside the heap');
  assert(in_heap(g, n), 'log_softmax_backward_f64: g outside the heap');
  assert(in_heap(dx, n), 'log_softmax_backward_f64: dx outside the heap');
  sm.log_softmax_backward_rows<f64>(y, g, dx, rows, C);
}
export function transpose_f32(src: usize, dst: usize, outer: i32, A: i32, B: i32): void {
  const n = bytes_of<f32>(outer, A, B);
  assert(in_heap(src, n), 'transpose_f32: src outside the heap');
  assert(in_heap(dst, n), 'transpose_f32: dst outside the heap');
  sm.transpose<f32>(src, dst, outer, A, B);
}
export function transpose_f64(src: usize, dst: usize, outer: i32, A: i32, B: i32): void {
  const n = bytes_of<f64>(outer, A, B);
  assert(in_heap(src, n), 'transpose_f64: src outside the heap');
  assert(in_heap(dst, n), 'transpose_f64: dst outside the heap');
  sm.transpose<f64>(src, dst, outer, A, B);
}

export function ce_check_labels_f32(labels: usize, n: i32, C: i32, ignore: i32, hasIgnore: bool, w: usize, denominator: usize): i32 {
  assert(in_heap(labels, bytes_of<i32>(n)), 'ce_check_labels_f32: labels outside the heap');
  assert(in_heap_or_null(w, bytes_of<f32>(C)), 'ce_check_labels_f32: w outside the heap');
  assert(in_heap(denominator, bytes_of<f64>(1)), 'ce_check_labels_f32: denominator outside the heap');
  return ce.ce_check_labels<f32>(labels, n, C, ignore, hasIgnore, w, denominator);
}
export function ce_check_labels_f64(labels: usize, n: i32, C: i32, ignore: i32, hasIgnore: bool, w: usize, denominator: usize): i32 {
  assert(in_heap(labels, bytes_of<i32>(n)), 'ce_check_labels_f64: labels outside the heap');
  assert(in_heap_or_null(w, bytes_of<f64>(C)), 'ce_check_labels_f64: w outside the heap');
  assert(in_heap(denominator, bytes_of<f64>(1)), 'ce_check_labels_f64: denominator outside the heap');
  return ce.ce_check_labels<f64>(labels, n, C, ignore, hasIgnore, w, denominator);
}
export function ce_index_f32(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, flags: i32, scale: f64, scales: usize, tmp: usize): void {
  const n = bytes_of<f32>(rows, C);
  assert(in_heap(x, n), 'ce_index_f32: x outside the heap');
  assert(in_heap(labels, bytes_of<i32>(rows)), 'ce_index_f32: labels outside the heap');
  assert(in_heap_or_null(g, n), 'ce_index_f32: g outside the heap');
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_index_f32: loss outside the heap');
  assert(in_heap_or_null(lossT, bytes_of<f32>(rows)), 'ce_index_f32: lossT outside the heap');
  assert(in_heap_or_null(w, bytes_of<f32>(C)), 'ce_index_f32: w outside the heap');
  assert(in_heap_or_null(scales, bytes_of<f64>(rows)), 'ce_index_f32: scales outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'ce_index_f32: tmp outside the heap');
  ce.ce_index_rows<f32>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, flags, scale, scales, tmp);
}
export function ce_index_f64(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, flags: i32, scale: f64, scales: usize, tmp: usize): void {
  const n = bytes_of<f64>(rows, C);
  assert(in_heap(x, n), 'ce_index_f64: x outside the heap');
  assert(in_heap(labels, bytes_of<i32>(rows)), 'ce_index_f64: labels outside the heap');
  assert(in_heap_or_null(g, n), 'ce_index_f64: g outside the heap');
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_index_f64: loss outside the heap');
  assert(in_heap_or_null(lossT, bytes_of<f64>(rows)), 'ce_index_f64: lossT outside the heap');
  assert(in_heap_or_null(w, bytes_of<f64>(C)), 'ce_index_f64: w outside the heap');
  assert(in_heap_or_null(scales, bytes_of<f64>(rows)), 'ce_index_f64: scales outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'ce_index_f64: tmp outside the heap');
  ce.ce_index_rows<f64>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, flags, scale, scales, tmp);
}
export function ce_prob_f32(x: usize, q: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, eps: f64, zLoss: f64, scale: f64, scales: usize, tmp: usize): void {
  const n = bytes_of<f32>(rows, C);
  assert(in_heap(x, n), 'ce_prob_f32: x outside the heap');
  assert(in_heap(q, n), 'ce_prob_f32: q outside the heap');
  assert(in_heap_or_null(g, n), 'ce_prob_f32: g outside the heap');
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_prob_f32: loss outside the heap');
  assert(in_heap_or_null(lossT, bytes_of<f32>(rows)), 'ce_prob_f32: lossT outside the heap');
  assert(in_heap_or_null(w, bytes_of<f32>(C)), 'ce_prob_f32: w outside the heap');
  assert(in_heap_or_null(scales, bytes_of<f64>(rows)), 'ce_prob_f32: scales outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'ce_prob_f32: tmp outside the heap');
  ce.ce_prob_rows<f32>(x, q, g, loss, lossT, rows, C, w, eps, zLoss, scale, scales, tmp);
}
export function ce_prob_f64(x: usize, q: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, eps: f64, zLoss: f64, scale: f64, scales: usize, tmp: usize): void {
  const n = bytes_of<f64>(rows, C);
  assert(in_heap(x, n), 'ce_prob_f64: x outside the heap');
  assert(in_heap(q, n), 'ce_prob_f64: q outside the heap');
  assert(in_heap_or_null(g, n), 'ce_prob_f64: g outside the heap');
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_prob_f64: loss outside the heap');
  assert(in_heap_or_null(lossT, bytes_of<f64>(rows)), 'ce_prob_f64: lossT outside the heap');
  assert(in_heap_or_null(w, bytes_of<f64>(C)), 'ce_prob_f64: w outside the heap');
  assert(in_heap_or_null(scales, bytes_of<f64>(rows)), 'ce_prob_f64: scales outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'ce_prob_f64: tmp outside the heap');
  ce.ce_prob_rows<f64>(x, q, g, loss, lossT, rows, C, w, eps, zLoss, scale, scales, tmp);
}
export function ce_index_call_f32(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, flags: i32, reduction: i32, gradOutput: f64, scales: usize, tmp: usize): f64 {
  const n = bytes_of<f32>(rows, C);
  assert(in_heap(x, n), 'ce_index_call_f32: x outside the heap');
  assert(in_heap(labels, bytes_of<i32>(rows)), 'ce_index_call_f32: labels outside the heap');
  assert(in_heap_or_null(g, n), 'ce_index_call_f32: g outside the heap');
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_index_call_f32: loss outside the heap');
  assert(in_heap_or_null(lossT, bytes_of<f32>(rows)), 'ce_index_call_f32: lossT outside the heap');
  assert(in_heap_or_null(w, bytes_of<f32>(C)), 'ce_index_call_f32: w outside the heap');
  assert(in_heap_or_null(scales, bytes_of<f64>(rows)), 'ce_index_call_f32: scales outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'ce_index_call_f32: tmp outside the heap');
  return ce.ce_index_call<f32>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, flags, reduction, gradOutput, scales, tmp);
}
export function ce_index_call_f64(x: usize, labels: usize, g: usize, loss: usize, lossT: usize, rows: i32, C: i32, w: usize, sumW: f64, eps: f64, zLoss: f64, ignore: i32, flags: i32, reduction: i32, gradOutput: f64, scales: usize, tmp: usize): f64 {
  const n = bytes_of<f64>(rows, C);
  assert(in_heap(x, n), 'ce_index_call_f64: x outside the heap');
  assert(in_heap(labels, bytes_of<i32>(rows)), 'ce_index_call_f64: labels outside the heap');
  assert(in_heap_or_null(g, n), 'ce_index_call_f64: g outside the heap');
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_index_call_f64: loss outside the heap');
  assert(in_heap_or_null(lossT, bytes_of<f64>(rows)), 'ce_index_call_f64: lossT outside the heap');
  assert(in_heap_or_null(w, bytes_of<f64>(C)), 'ce_index_call_f64: w outside the heap');
  assert(in_heap_or_null(scales, bytes_of<f64>(rows)), 'ce_index_call_f64: scales outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'ce_index_call_f64: tmp outside the heap');
  return ce.ce_index_call<f64>(x, labels, g, loss, lossT, rows, C, w, sumW, eps, zLoss, ignore, flags, reduction, gradOutput, scales, tmp);
}
export function ce_index_default_f32(x: usize, labels: usize, g: usize, loss: usize, rows: i32, C: i32, reduction: i32, gradOutput: f64, tmp: usize): f64 {
  const n = bytes_of<f32>(rows, C);
  assert(in_heap(x, n), 'ce_index_default_f32: x outside the heap');
  assert(in_heap(labels, bytes_of<i32>(rows)), 'ce_index_default_f32: labels outside the heap');
  assert(in_heap_or_null(g, n), 'ce_index_default_f32: g outside the heap');
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_index_default_f32: loss outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'ce_index_default_f32: tmp outside the heap');
  return ce.ce_index_default<f32>(x, labels, g, loss, rows, C, reduction, gradOutput, tmp);
}
export function ce_index_default_f64(x: usize, labels: usize, g: usize, loss: usize, rows: i32, C: i32, reduction: i32, gradOutput: f64, tmp: usize): f64 {
  const n = bytes_of<f64>(rows, C);
  assert(in_heap(x, n), 'ce_index_default_f64: x outside the heap');
  assert(in_heap(labels, bytes_of<i32>(rows)), 'ce_index_default_f64: labels outside the heap');
  assert(in_heap_or_null(g, n), 'ce_index_default_f64: g outside the heap');
  assert(in_heap(loss, bytes_of<f64>(rows)), 'ce_index_default_f64: loss outside the heap');
  assert(in_heap(tmp, <f64>TMP_BYTES), 'ce_index_default_f64: tmp outside the heap');
  return ce.ce_index_default<f64>(x, labels, g, loss, rows, C, reduction, gradOutput, tmp);
}
export function argmax_f32(x: usize, out: usize, rows: i32, C: i32): void {
  assert(in_heap(x, bytes_of<f32>(rows, C)), 'argmax_f32: x outside the heap');
  assert(in_heap(out, bytes_of<f32>(rows)), 'argmax_f32: out outside the heap');
  dec.argmax_rows<f32>(x, out, rows, C);
}
export function decode_f32(x: usize, out: usize, u: usize, rows: i32, C: i32, beta: f32, topK: i32, topP: f64, minP: f64, minKeep: i32, work: usize): i32 {
  assert(in_heap(x, bytes_of<f32>(rows, C)), 'decode_f32: x outside the heap');
  assert(in_heap_or_null(out, bytes_of<f32>(rows)), 'decode_f32: out outside the heap');
  assert(in_heap_or_null(u, bytes_of<f64>(rows)), 'decode_f32: u outside the heap');
  assert(in_heap(work, <f64>dec.work_bytes(C)), 'decode_f32: work outside the heap');
  return dec.decode_rows<f32>(x, out, u, rows, C, beta, topK, topP, minP, minKeep, work);
}
export function topk_f32(x: usize, rows: i32, C: i32, k: i32, outIdx: usize, outVal: usize, work: usize): void {
  assert(in_heap(x, bytes_of<f32>(rows, C)), 'topk_f32: x outside the heap');
  assert(in_heap(outIdx, bytes_of<i32>(rows, k)), 'topk_f32: outIdx outside the heap');
  assert(in_heap(outVal, bytes_of<f32>(rows, k)), 'topk_f32: outVal outside the heap');
  assert(in_heap(work, <f64>dec.work_bytes(C)), 'topk_f32: work outside the heap');
  dec.topk_rows<f32>(x, rows, C, k, outIdx, outVal, work);
}
export function argmax_f64(x: usize, out: usize, rows: i32, C: i32): void {
  assert(in_heap(x, bytes_of<f64>(rows, C)), 'argmax_f64: x outside the heap');
  assert(in_heap(out, bytes_of<f64>(rows)), 'argmax_f64: out outside the heap');
  dec.argmax_rows<f64>(x, out, rows, C);
}
export function decode_f64(x: usize, out: usize, u: usize, rows: i32, C: i32, beta: f64, topK: i32, topP: f64, minP: f64, minKeep: i32, work: usize): i32 {
  assert(in_heap(x, bytes_of<f64>(rows, C)), 'decode_f64: x outside the heap');
  assert(in_heap_or_null(out, bytes_of<f64>(rows)), 'decode_f64: out outside the heap');
  assert(in_heap_or_null(u, bytes_of<f64>(rows)), 'decode_f64: u outside the heap');
  assert(in_heap(work, <f64>dec.work_bytes(C)), 'decode_f64: work outside the heap');
  return dec.decode_rows<f64>(x, out, u, rows, C, beta, topK, topP, minP, minKeep, work);
}
export function topk_f64(x: usize, rows: i32, C: i32, k: i32, outIdx: usize, outVal: usize, work: usize): void {
  assert(in_heap(x, bytes_of<f64>(rows, C)), 'topk_f64: x outside the heap');
  assert(in_heap(outIdx, bytes_of<i32>(rows, k)), 'topk_f64: outIdx outside the heap');
  assert(in_heap(outVal, bytes_of<f64>(rows, k)), 'topk_f64: outVal outside the heap');
  assert(in_heap(work, <f64>dec.work_bytes(C)), 'topk_f64: work outside the heap');
  dec.topk_rows<f64>(x, rows, C, k, outIdx, outVal, work);
}
// (ce_reduce asserts its range itself: a wrapper here would change the shipping builds' layout)
export { ce_grad_scale, ce_reduce } from './cross_entropy';

/** Which build this is: 2 relaxed-simd, 1 simd, 0 scalar (so user-supplied bytes name themselves). */
export function build_kind(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 2 : ASC_FEATURE_SIMD ? 1 : 0;
}
