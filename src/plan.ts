// The plan of a call: how its input is cut into chunks that go through wasm memory, and where
// each chunk's regions lie. Every executor (streamed on this thread, pooled on workers) runs a
// plan through the one chunk loop (src/chunk-loop.ts).

import type { ElementType } from './dtype.js';
import { LOG_SPAN_MAX_C, LOG_SPAN_ROWS } from './kernel-constants.js';
import type { Layout } from './layout.js';
import { regionSize } from './memory.js';

/** Bytes per chunk of each input by default: sized so a chunk and its result stay in a 512 KiB L2. */
export const CHUNK_BYTES = 128 * 1024;

let chunkBytes = CHUNK_BYTES;

/**
 * Sets the bytes per chunk of each input of the single-threaded functions (default
 * CHUNK_BYTES), or restores the default with no argument. Internal (not exported by the
 * package): tests force tiny chunks with it, so that small inputs take the streamed path.
 */
export function setChunkBytes(bytes?: number): void {
  chunkBytes = bytes === undefined ? CHUNK_BYTES : Math.max(1, bytes);
}

/** The bytes per chunk of each input of the single-threaded functions. */
export function currentChunkBytes(): number {
  return chunkBytes;
}

/**
 * A call cut into chunks of whole outer blocks (C x inner elements each). A chunk is loaded
 * into a slot: `inputs` regions of the raw input, as many for their transposes to rows when the
 * layout is strided (inner > 1), a per-row output region when `rowOut`, and last the call's
 * own scratch (`ownBytes`; the kernels' tmp block comes from the executor). Chunks of different
 * slots run at once on a pool, so whatever a chunk's kernels use besides tmp lives in its slot.
 * A streamed call has one slot; the pool has a ring of them.
 */
export interface ChunkPlan {
  readonly L: Layout;
  readonly dt: ElementType;
  readonly inputs: number;
  readonly rowOut: boolean;
  /** Outer blocks per chunk, and the chunks of the call. */
  readonly unitsPerChunk: number;
  readonly chunks: number;
  /** Chunks of unitsPerChunk blocks; the rest, the tail, are chunks of tailUnits (<= unitsPerChunk)
   *  blocks (chunkStart). */
  readonly headChunks: number;
  readonly tailUnits: number;
  readonly slots: number;
  /** Bytes of one input region of a slot (64-aligned). */
  readonly regionBytes: number;
  /** Bytes at the end of each slot for the call's own use (decoding: the kernels' work, ...). */
  readonly ownBytes: number;
  readonly slotBytes: number;
  /** Bytes the slots take in all. */
  readonly bytes: number;
}

/** Outer blocks of `unitElems` elements (2^shift bytes each) that `bytes` hold (at least 1). */
export function unitsFitting(bytes: number, unitElems: number, shift: number): number {
  return Math.max(1, Math.floor((bytes >> shift) / Math.max(1, unitElems)));
}

/** Whether a contiguous layout (inner = 1) fits one chunk of rows: what streamPlan would plan as
 *  one chunk, without building the plan (for the one-call fast paths). */
export function fitsOneChunk(L: Layout, dt: ElementType): boolean {
  return L.inner === 1 && L.outer <= unitsFitting(chunkBytes, L.C, dt.shift);
}

/** The bytes of a call's own scratch per slot, for chunks of `rows` rows (ChunkPlan.ownBytes). */
export type OwnBytes = (rows: number) => number;

/** Plans `inputs` same-shaped inputs (and an optional per-row output, and `own` scratch) in
 *  chunks of `unitsPerChunk` outer blocks through `slots` slots. */
export function planChunks(L: Layout, dt: ElementType, inputs: number, rowOut: boolean, unitsPerChunk: number, slots: number, own?: OwnBytes): ChunkPlan {
  const regionBytes = regionSize(unitsPerChunk * L.C * L.inner * (1 << dt.shift));
  const rowBytes = rowOut ? regionSize(unitsPerChunk * L.inner * (1 << dt.shift)) : 0;
  const ownBytes = own ? regionSize(own(unitsPerChunk * L.inner)) : 0;
  const slotBytes = (L.inner > 1 ? 2 : 1) * inputs * regionBytes + rowBytes + ownBytes;
  const chunks = Math.max(1, Math.ceil(L.outer / unitsPerChunk));
  return { L, dt, inputs, rowOut, unitsPerChunk, chunks, headChunks: chunks, tailUnits: unitsPerChunk, slots, regionBytes, ownBytes, slotBytes, bytes: slots * slotBytes };
}

/**
 * `plan` with the blocks of its last `tailChunks` chunks cut into chunks a quarter the size
 * (group-aligned, groupAligned): a pool's threads then end a call within a short chunk of each
 * other, not a whole one apart (guided self-scheduling, Polychronopoulos & Kuck 1987, in two
 * steps). Unchanged when the quarter is not smaller.
 */
export function withShortTail(plan: ChunkPlan, tailChunks: number): ChunkPlan {
  const { L, unitsPerChunk: per, chunks } = plan;
  const tailUnits = groupAligned(Math.max(1, Math.ceil(per / 4)), L);
  if (tailChunks < 1 || tailUnits >= per || chunks <= tailChunks) return plan;
  const headChunks = chunks - tailChunks;
  return { ...plan, headChunks, tailUnits, chunks: headChunks + Math.ceil((L.outer - headChunks * per) / tailUnits) };
}

/** The first outer block of chunk c of `plan` (c = plan.chunks: L.outer). */
export function chunkStart(plan: ChunkPlan, c: number): number {
  const u = c <= plan.headChunks ? c * plan.unitsPerChunk : plan.headChunks * plan.unitsPerChunk + (c - plan.headChunks) * plan.tailUnits;
  return Math.min(u, plan.L.outer);
}

/** The plan of a single-threaded call: chunks of about currentChunkBytes() of each input, one slot. */
export function streamPlan(L: Layout, dt: ElementType, inputs: number, rowOut: boolean, own?: OwnBytes): ChunkPlan {
  const units = groupAligned(Math.max(1, Math.min(L.outer, unitsFitting(chunkBytes, L.C * L.inner, dt.shift))), L);
  return planChunks(L, dt, inputs, rowOut, units, 1, own);
}

/**
 * `units` outer blocks per chunk, rounded so that every chunk but the last holds a multiple of
 * LOG_SPAN_ROWS (64) rows when the rows have up to LOG_SPAN_MAX_C classes and are contiguous: the
 * kernels take short rows (C <= SHORT_ROW_MAX_C) four at a time from a chunk's first row, and a
 * reduced cross-entropy sums the logs of such a span as one, so the groups and spans, and the
 * bits of the result, must not depend on the chunking. (Strided layouts are not aligned: their
 * calls sum every row's log.)
 */
export function groupAligned(units: number, L: Layout): number {
  if (L.C > LOG_SPAN_MAX_C || L.inner !== 1 || units >= L.outer) return units;
  return Math.max(LOG_SPAN_ROWS, units - (units % LOG_SPAN_ROWS));
}
