// The one chunk loop: every call that goes through wasm memory in chunks runs here. Per chunk:
// copy its inputs into a slot, transpose them to rows if the axis is not the last, run the kernel
// on the rows, transpose the element-wise result back, copy the results out. An Executor decides
// what "run" means: on this thread it is a direct call; in the pool (src/pool-ring.ts) the calls
// are recorded into the slot's command area and a worker runs them, while this loop fills the
// next slots. Each element then crosses DRAM once on the way in and once on the way out.

import type { FloatArray } from './dtype.js';
import type { KernelTable } from './kernels.js';
import type { Arena } from './memory.js';
import { chunkStart, type ChunkPlan } from './plan.js';

/** The kernel calls of one chunk: `regions` are the row-layout regions of the inputs, `rowOut`
 *  the per-row output region, rows [firstRow, firstRow + rows) of the call (rows = slices, in the
 *  order of the shape with the axis removed), `tmp` the kernels' scratch, `own` the slot's
 *  ChunkPlan.ownBytes. It runs on this thread when the chunk is loaded; on a pool its kernel
 *  calls are only recorded there, so it may write the slot's memory but not read kernel results. */
export type ChunkCall = (k: KernelTable, regions: readonly number[], rowOut: number, firstRow: number, rows: number, tmp: number, own: number) => void;

/** How the chunks of a call run. */
export interface Executor {
  /** The kernels the loop calls (the pool's record the calls instead). */
  readonly table: KernelTable;
  /** Before chunk i's kernel calls (slot s). */
  begin(i: number, s: number): void;
  /** After them: chunk i may run. */
  submit(i: number, s: number): void;
  /** Waits until chunk i has run. */
  wait(i: number, s: number): void;
  /** After the loop, also when it threw: `loaded` chunks were submitted, `collected` collected. */
  end(loaded: number, collected: number): void;
  /** The slot of chunk i. */
  slot(i: number): number;
  /** The kernels' tmp block for the calls of slot s (KERNEL_TMP_BYTES). */
  tmp(s: number): number;
  /** A pool's: the id under which whoever runs a chunk reaches array `a` itself (it is backed by
   *  a SharedArrayBuffer the workers have), or 0 (this thread copies it). */
  shared?(a: FloatArray): number;
  /** Adds to the chunk being loaded a copy of `bytes` between array `id` (at byte `offset` of its
   *  buffer) and wasm address `ptr`: into wasm (`toWasm`) or out of it. */
  copy?(toWasm: boolean, id: number, offset: number, ptr: number, bytes: number): void;
}

/** The executor of this thread: every call runs when it is made. */
export function directExecutor(table: KernelTable, tmp: number): Executor {
  const none = () => {};
  return { table, begin: none, submit: none, wait: none, end: none, slot: () => 0, tmp: () => tmp };
}

/** The inputs and outputs of a chunked call. */
export interface ChunkIO {
  readonly ins: readonly FloatArray[];
  /** Receives the element-wise result, which the kernel leaves in the region of input `elemFrom`. */
  readonly elemOut: FloatArray | null;
  readonly elemFrom: number;
  /** Receives the per-row results. */
  readonly rowOut: FloatArray | null;
  /** On this thread, once a chunk's inputs are copied in and before any of its kernels: `p` is
   *  the element index (in the type's view) of input 0's copy, laid out as the call's input
   *  ([n, C, inner]), holding rows [firstRow, firstRow + rows). */
  readonly prepare?: (p: number, firstRow: number, rows: number) => void;
  /** On this thread, in chunk order, once a chunk has run and before its results are copied
   *  out: reads what its kernels left in `regions` or `own`. May throw (the loop then stops). */
  readonly collect?: (regions: readonly number[], own: number, firstRow: number, rows: number) => void;
}

/** The in-place mode of the loop, for a call over memory its kernels address themselves (a
 *  Workspace's fixed pointers, in the pool's shared memory or this thread's): no input or output
 *  is copied, the plan's slots hold no regions (`inputs` 0), and the chunk call finds its rows
 *  from `firstRow`. Only the executor's part remains: which chunk runs where, and when. */
export const IN_PLACE: ChunkIO = { ins: [], elemOut: null, elemFrom: 0, rowOut: null };

/** Runs every chunk of `plan`, whose slots start at `base`, through `exec`: chunk i is loaded
 *  (copied in, its kernel calls handed to the executor) once chunk i - slots is collected (waited
 *  for, its results copied out). One straight function, no closures made per call: it runs for
 *  every streamed and pooled call. */
export function runChunks(exec: Executor, arena: Arena, plan: ChunkPlan, base: number, io: ChunkIO, call: ChunkCall): void {
  const { L, dt, chunks, slots, regionBytes, slotBytes, ownBytes } = plan;
  const { C, inner } = L;
  if (chunks === 1 && inner === 1) return runOneChunk(exec, arena, plan, base, io, call);
  const { ins, elemOut, elemFrom, rowOut } = io;
  const nIns = ins.length;
  const shift = dt.shift;
  const strided = inner > 1;
  const table = exec.table;
  const transpose = table.transpose[dt.index]!;
  const view = dt.view(arena);
  // Region j of a slot: the raw inputs, then (strided) their transposes, then the per-row output.
  const rowsAt = strided ? nIns * regionBytes : 0;
  const rowOutAt = (strided ? 2 : 1) * nIns * regionBytes;
  const rowRegions: number[][] = [];
  for (let s = 0; s < slots; s++) rowRegions.push(ins.map((_, j) => base + s * slotBytes + rowsAt + j * regionBytes));
  const ids = sharedIds(exec, io);
  const unitBytes = (C * inner) << shift;
  let loaded = 0;
  let collected = 0;
  try {
    for (let i = 0; i < chunks + slots; i++) {
      if (i >= slots && i - slots < chunks) {
        const c = i - slots, s = exec.slot(c), slot = base + s * slotBytes;
        exec.wait(c, s);
        collected = c + 1;
        const u0 = chunkStart(plan, c), n = chunkStart(plan, c + 1) - u0;
        io.collect?.(rowRegions[s]!, slot + slotBytes - ownBytes, u0 * inner, n * inner);
        if (elemOut && !ids?.[nIns]) copyOut(elemOut, u0 * C * inner, arena, view, (slot + elemFrom * regionBytes) >>> shift, n * C * inner);
        if (rowOut && !ids?.[nIns + 1]) copyOut(rowOut, u0 * inner, arena, view, (slot + rowOutAt) >>> shift, n * inner);
      }
      if (i >= chunks) continue;
      const s = exec.slot(i), slot = base + s * slotBytes;
      const u0 = chunkStart(plan, i), n = chunkStart(plan, i + 1) - u0, e0 = u0 * C * inner, ne = n * C * inner;
      exec.begin(i, s);
      for (let j = 0; j < nIns; j++) {
        if (ids?.[j]) exec.copy!(true, ids[j]!, ins[j]!.byteOffset + u0 * unitBytes, slot + j * regionBytes, n * unitBytes);
        else if (arena.byteCopy) arena.byteCopy(view.buffer, slot + j * regionBytes, ins[j]!.buffer, ins[j]!.byteOffset + (e0 << shift), ne << shift);
        else view.set(chunks === 1 ? ins[j]! : ins[j]!.subarray(e0, e0 + ne), (slot + j * regionBytes) >>> shift);
      }
      io.prepare?.(slot >>> shift, u0 * inner, n * inner);
      if (strided) for (let j = 0; j < nIns; j++) transpose(slot + j * regionBytes, slot + rowsAt + j * regionBytes, n, C, inner); // [n, C, inner] -> rows of C
      call(table, rowRegions[s]!, rowOut ? slot + rowOutAt : 0, u0 * inner, n * inner, exec.tmp(s), slot + slotBytes - ownBytes);
      if (strided && elemOut) transpose(slot + rowsAt + elemFrom * regionBytes, slot + elemFrom * regionBytes, n, inner, C); // back to [n, C, inner]
      if (ids?.[nIns]) exec.copy!(false, ids[nIns]!, elemOut!.byteOffset + u0 * unitBytes, slot + elemFrom * regionBytes, n * unitBytes);
      if (ids?.[nIns + 1]) exec.copy!(false, ids[nIns + 1]!, rowOut!.byteOffset + ((u0 * inner) << shift), slot + rowOutAt, (n * inner) << shift);
      exec.submit(i, s);
      loaded = i + 1;
    }
  } finally {
    exec.end(loaded, collected);
  }
}

/** The ids under which the executor's runners reach the inputs, then the element-wise and the
 *  per-row output, themselves (arrays backed by a SharedArrayBuffer they have: whoever runs a
 *  chunk copies them), 0 for arrays this thread copies; null when no array is reached so. Inputs
 *  that the prepare step reads here are copied here. */
function sharedIds(exec: Executor, io: ChunkIO): number[] | null {
  if (!exec.shared) return null;
  const id = (a: FloatArray | null) => (a ? exec.shared!(a) : 0);
  const ids = [...io.ins.map((a) => (io.prepare ? 0 : id(a))), id(io.elemOut), id(io.rowOut)];
  return ids.some((x) => x !== 0) ? ids : null;
}

/** runChunks for a contiguous call of one chunk: the same steps, without the per-slot
 *  bookkeeping (a small call's fixed cost). */
function runOneChunk(exec: Executor, arena: Arena, plan: ChunkPlan, base: number, io: ChunkIO, call: ChunkCall): void {
  const { L, dt, regionBytes } = plan;
  const { ins, elemOut, rowOut } = io;
  const view = dt.view(arena);
  const shift = dt.shift;
  const n = L.outer * L.C;
  const regions = ins.length === 1 ? [base] : [base, base + regionBytes];
  for (let j = 0; j < ins.length; j++) copyIn(view, regions[j]! >>> shift, ins[j]!, n);
  io.prepare?.(base >>> shift, 0, L.outer);
  const rowPtr = base + ins.length * regionBytes;
  const own = base + plan.slotBytes - plan.ownBytes;
  exec.begin(0, 0);
  call(exec.table, regions, rowOut ? rowPtr : 0, 0, L.outer, exec.tmp(0), own);
  exec.submit(0, 0);
  exec.wait(0, 0);
  exec.end(1, 1);
  io.collect?.(regions, own, 0, L.outer);
  if (elemOut) copyOut(elemOut, 0, arena, view, regions[io.elemFrom]! >>> shift, n);
  if (rowOut) copyOut(rowOut, 0, arena, view, rowPtr >>> shift, L.outer);
}

/** view[p..p+n) = src[0..n), both of one element type. */
export function copyIn(view: FloatArray, p: number, src: FloatArray, n: number): void {
  if (view instanceof Float32Array) copyIn32(view, p, src as Float32Array, n);
  else copyIn64(view, p, src as Float64Array, n);
}

/** dst[d..d+n) = view[p..p+n), both of one element type. */
export function copyOut(dst: FloatArray, d: number, arena: Arena, view: FloatArray, p: number, n: number): void {
  if (view instanceof Float32Array) copyOut32(dst as Float32Array, d, arena, view, p, n);
  else copyOut64(dst as Float64Array, d, arena, view as Float64Array, p, n);
}

// The copies of each element type are functions apart, the same code twice: V8 keeps the type
// feedback of an element access per function, and one loop fed both types made the small calls of
// either type slower for the rest of the process once it had run the other's (docs/ARCHITECTURE.md).
// The small calls' fast paths, which know their type, call these directly.

/** copyIn of Float32Arrays (a loop for a few elements, where set()'s call costs more). */
export function copyIn32(view: Float32Array, p: number, src: Float32Array, n: number): void {
  if (n <= 16) for (let i = 0; i < n; i++) view[p + i] = src[i]!;
  else view.set(src, p);
}

/** copyIn of Float64Arrays. */
export function copyIn64(view: Float64Array, p: number, src: Float64Array, n: number): void {
  if (n <= 16) for (let i = 0; i < n; i++) view[p + i] = src[i]!;
  else view.set(src, p);
}

/** copyOut of Float32Arrays: a plain loop for short runs, where making a subarray view costs
 *  more than the copy. */
export function copyOut32(dst: Float32Array, d: number, arena: Arena, view: Float32Array, p: number, n: number): void {
  if (n <= 64) for (let i = 0; i < n; i++) dst[d + i] = view[p + i]!;
  else copyOutLarge(dst, d, arena, view, p, n);
}

/** copyOut of Float64Arrays. */
export function copyOut64(dst: Float64Array, d: number, arena: Arena, view: Float64Array, p: number, n: number): void {
  if (n <= 64) for (let i = 0; i < n; i++) dst[d + i] = view[p + i]!;
  else copyOutLarge(dst, d, arena, view, p, n);
}

/** copyOut of more than 64 elements: a function apart, so that the small case stays small enough
 *  to be inlined into the small calls' fast paths. */
function copyOutLarge(dst: FloatArray, d: number, arena: Arena, view: FloatArray, p: number, n: number): void {
  if (arena.byteCopy) arena.byteCopy(dst.buffer, dst.byteOffset + d * dst.BYTES_PER_ELEMENT, view.buffer, view.byteOffset + p * view.BYTES_PER_ELEMENT, n * dst.BYTES_PER_ELEMENT);
  else dst.set(outView(arena, view, p, n), d);
}

/** view.subarray(p, p + n) of one of the arena's views, made again only when the view, p or n
 *  change (calls of one shape copy out of the same place in the scratch): a subarray made per
 *  call was garbage on every call. */
function outView(arena: Arena, view: FloatArray, p: number, n: number): FloatArray {
  const c = arena.lastOut;
  if (c.view !== view || c.p !== p || c.n !== n) {
    c.sub = view.subarray(p, p + n);
    c.view = view;
    c.p = p;
    c.n = n;
  }
  return c.sub!;
}
