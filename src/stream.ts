// Streams an operation over its input through wasm memory in cache-sized chunks: copy a chunk
// in, run the kernel on it while it is hot in cache, copy its result out. Each element then
// crosses DRAM once on the way in and once on the way out, and the scratch space is bounded
// by the chunk size, not the input size. A strided layout (axis not last) is transposed to
// contiguous rows inside wasm and back, so every kernel only ever sees rows.

import type { DType, FloatArray } from './check.js';
import type { Layout } from './layout.js';
import type { Runtime } from './load.js';
import { regionSize, type Scratch } from './memory.js';

/** Bytes per chunk of each input: sized so a chunk and its result stay in a 512 KiB L2. */
export const CHUNK_BYTES = 128 * 1024;

export interface ChunkPlan {
  readonly L: Layout;
  readonly dtype: DType;
  readonly shift: 2 | 3;
  /** Outer blocks (of C x inner elements) per chunk. */
  readonly unitsPerChunk: number;
  readonly inputs: number;
  readonly rowOut: boolean;
  /** Scratch bytes the chunk regions take. */
  readonly bytes: number;
}

/** Outer blocks of `unitElems` elements (2^shift bytes each) that one chunk holds (at least 1). */
function unitsFitting(unitElems: number, shift: number): number {
  return Math.max(1, Math.floor((CHUNK_BYTES >> shift) / Math.max(1, unitElems)));
}

/** Whether a contiguous layout (inner = 1) fits one chunk of rows: what planChunks would plan
 *  as unitsPerChunk >= outer, without building the plan (for the one-call fast paths). */
export function fitsOneChunk(L: Layout, dtype: DType): boolean {
  return L.inner === 1 && L.outer <= unitsFitting(L.C, dtype === 'f32' ? 2 : 3);
}

/** Plans the chunking of `inputs` same-shaped inputs (and an optional per-row output). */
export function planChunks(L: Layout, dtype: DType, inputs: number, rowOut: boolean): ChunkPlan {
  const shift = dtype === 'f32' ? 2 : 3;
  const unitElems = L.C * L.inner;
  const unitsPerChunk = Math.max(1, Math.min(L.outer, unitsFitting(unitElems, shift)));
  const chunkBytes = unitsPerChunk * unitElems * (1 << shift);
  const regions = L.inner > 1 ? 2 * inputs : inputs;
  const bytes = regions * regionSize(chunkBytes) + (rowOut ? regionSize(unitsPerChunk * L.inner * (1 << shift)) : 0);
  return { L, dtype, shift, unitsPerChunk, inputs, rowOut, bytes };
}

/**
 * Runs `kernel` over every chunk. `ins` are the inputs (same layout); `elemOut` receives the
 * element-wise result, which the kernel leaves in the row region of input `elemFrom`;
 * `rowOut` receives per-row results (rows = outer * inner, in the order of the shape with the
 * axis removed), which the kernel writes at its `rowOutPtr`. The kernel gets the row-layout
 * region of each input, the per-row output region, the index of the chunk's first row, and
 * the number of rows in the chunk. The scratch must have been begun with room for plan.bytes.
 */
export function streamChunks(
  rt: Runtime,
  scratch: Scratch,
  plan: ChunkPlan,
  ins: readonly FloatArray[],
  elemOut: FloatArray | null,
  elemFrom: number,
  rowOut: FloatArray | null,
  kernel: (rowPtrs: readonly number[], rowOutPtr: number, firstRow: number, rows: number) => void,
): void {
  const { L, shift, unitsPerChunk } = plan;
  const { outer, C, inner } = L;
  const unitElems = C * inner;
  const chunkBytes = unitsPerChunk * unitElems * (1 << shift);
  const raw: number[] = [];
  for (let k = 0; k < ins.length; k++) raw.push(scratch.take(chunkBytes));
  const rows: number[] = raw;
  if (inner > 1) {
    const tr: number[] = [];
    for (let k = 0; k < ins.length; k++) tr.push(scratch.take(chunkBytes));
    return streamStrided(rt, plan, ins, elemOut, elemFrom, rowOut, kernel, raw, tr, rowOut ? scratch.take(unitsPerChunk * inner * (1 << shift)) : 0);
  }
  const rowOutPtr = rowOut ? scratch.take(unitsPerChunk * (1 << shift)) : 0;
  const whole = outer <= unitsPerChunk;
  for (let u0 = 0; u0 < outer; u0 += unitsPerChunk) {
    const n = Math.min(unitsPerChunk, outer - u0);
    const e0 = u0 * C;
    const ne = n * C;
    const view = viewOf(rt, plan.dtype);
    for (let k = 0; k < ins.length; k++) {
      view.set(whole ? ins[k]! : ins[k]!.subarray(e0, e0 + ne), raw[k]! >>> shift);
    }
    kernel(rows, rowOutPtr, u0, n);
    if (elemOut) {
      const p = raw[elemFrom]! >>> shift;
      copyOut(elemOut, e0, view, p, ne);
    }
    if (rowOut) {
      const p = rowOutPtr >>> shift;
      copyOut(rowOut, u0, view, p, n);
    }
  }
}

function streamStrided(
  rt: Runtime,
  plan: ChunkPlan,
  ins: readonly FloatArray[],
  elemOut: FloatArray | null,
  elemFrom: number,
  rowOut: FloatArray | null,
  kernel: (rowPtrs: readonly number[], rowOutPtr: number, firstRow: number, rows: number) => void,
  raw: number[],
  tr: number[],
  rowOutPtr: number,
): void {
  const { L, shift, unitsPerChunk } = plan;
  const { outer, C, inner } = L;
  const k32 = plan.dtype === 'f32';
  const transpose = k32 ? rt.kernels.transpose_f32 : rt.kernels.transpose_f64;
  const unitElems = C * inner;
  for (let u0 = 0; u0 < outer; u0 += unitsPerChunk) {
    const n = Math.min(unitsPerChunk, outer - u0);
    const e0 = u0 * unitElems;
    const ne = n * unitElems;
    const view = viewOf(rt, plan.dtype);
    for (let k = 0; k < ins.length; k++) {
      view.set(ins[k]!.subarray(e0, e0 + ne), raw[k]! >>> shift);
      transpose(raw[k]!, tr[k]!, n, C, inner); // [n, C, inner] -> [n, inner, C]: rows of C
    }
    kernel(tr, rowOutPtr, u0 * inner, n * inner);
    if (elemOut) {
      transpose(tr[elemFrom]!, raw[elemFrom]!, n, inner, C); // back to [n, C, inner]
      const p = raw[elemFrom]! >>> shift;
      elemOut.set(view.subarray(p, p + ne), e0);
    }
    if (rowOut) {
      const p = rowOutPtr >>> shift;
      rowOut.set(view.subarray(p, p + n * inner), u0 * inner);
    }
  }
}

/** view[p..p+n) = src[0..n) (a loop for a few elements, where set()'s call costs more). */
export function copyIn(view: FloatArray, p: number, src: FloatArray, n: number): void {
  if (n <= 16) for (let i = 0; i < n; i++) view[p + i] = src[i]!;
  else view.set(src, p);
}

/** dst[d..d+n) = view[p..p+n): a plain loop for short runs, where making a subarray view
 *  costs more than the copy. */
export function copyOut(dst: FloatArray, d: number, view: FloatArray, p: number, n: number): void {
  if (n <= 64) for (let i = 0; i < n; i++) dst[d + i] = view[p + i]!;
  else dst.set(view.subarray(p, p + n), d);
}

/** The current view of wasm memory for an element type (re-derived if memory grew). */
export function viewOf(rt: Runtime, dtype: DType): FloatArray {
  const a = rt.arena.views();
  return dtype === 'f32' ? a.f32 : a.f64;
}
