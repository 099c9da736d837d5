// The arena: the only code that knows where things live in wasm memory. Blocks are handed out
// first-fit from a free list and returned by free(); memory grows only when no free block fits,
// so a steady workload reaches a fixed size and stays there. Views are re-derived lazily, only
// when memory.grow has replaced the buffer (the one place that knows about growth).

import { KERNEL_TMP_BYTES } from './kernel-constants.js';
import type { Kernels } from './kernels.js';

const PAGE = 65536;
/** wasm32 memories stop at 65536 pages (4 GiB); engines may refuse to grow earlier. */
const MAX_BYTES = 65536 * PAGE;
/** Every block starts on a 64-byte boundary (a cache line; v128 loads need 16). */
const ALIGN = 64;
/** The stride of the `tmp` blocks (KERNEL_TMP_BYTES each) in a block of them: a cache line each,
 *  so that two workers' blocks never share one. */
export const TMP_STRIDE = Math.max(ALIGN, KERNEL_TMP_BYTES);
/** What a block of tmp blocks takes in the arena: whole 4 KiB pages, so that the blocks after it
 *  (the scratch space) keep their offset within a page. Measured: a 64-byte block shifting the
 *  scratch made the streamed [4096, 1000] cross-entropy with gradient ~3% slower (simd build). */
export function tmpBlockBytes(count: number): number {
  return Math.ceil((count * TMP_STRIDE) / 4096) * 4096;
}

interface Block {
  ptr: number;
  size: number;
}

/** A copy of `bytes` bytes from `src` at byte `srcAt` to `dst` at byte `dstAt`. */
export type ByteCopy = (dst: ArrayBufferLike, dstAt: number, src: ArrayBufferLike, srcAt: number, bytes: number) => void;

export class Arena {
  private readonly memory: WebAssembly.Memory;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  private top: number;
  private readonly free: Block[] = [];
  private readonly used = new Map<number, number>();
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
  u8: Uint8Array;
  /** The subarray of f32 or f64 the last large copy out of this memory read (chunk-loop.ts
   *  outView): kept here, it lives as long as the memory does. */
  readonly lastOut: { view: Float32Array | Float64Array | null; p: number; n: number; sub: Float32Array | Float64Array | null } = { view: null, p: -1, n: -1, sub: null };
  /** A faster copy into and out of this memory than TypedArray.prototype.set, where the runtime
   *  has one (a pool's shared memory in Node: src/pool-host.ts nodeByteCopy), else null. */
  byteCopy: ByteCopy | null = null;

  constructor(kernels: Kernels) {
    this.memory = kernels.memory;
    this.top = alignUp(kernels.heap_base());
    this.buffer = this.memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
  }

  /** Current size of wasm memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** The current views. Only alloc() grows this memory (the kernels never do), and it re-derives
   *  the views right after growing, so they are always current: no per-call check is needed. */
  views(): this {
    return this;
  }

  /** Re-derives the views after memory.grow replaced the buffer. */
  private refresh(): void {
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.f32 = new Float32Array(this.buffer);
      this.f64 = new Float64Array(this.buffer);
      this.i32 = new Int32Array(this.buffer);
      this.u8 = new Uint8Array(this.buffer);
    }
  }

  /** Reserves `bytes` (rounded up to 64) and returns the block's address. Throws RangeError,
   *  naming `what`, when wasm memory cannot hold it; nothing is changed then. */
  alloc(bytes: number, what: string): number {
    const size = Math.max(ALIGN, alignUp(bytes));
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size >= size) {
        const ptr = b.ptr;
        if (b.size === size) this.free.splice(i, 1);
        else {
          b.ptr += size;
          b.size -= size;
        }
        this.used.set(ptr, size);
        return ptr;
      }
    }
    // No free block fits: take the space at the top, merging a free block that ends there.
    let ptr = this.top;
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) ptr = last.ptr;
    const end = ptr + size;
    if (!Number.isFinite(bytes) || end > MAX_BYTES) {
      throw new RangeError(`${what} needs ${bytes} bytes of wasm memory, more than wasm32 can address (4 GiB in all)`);
    }
    const have = this.memory.buffer.byteLength;
    // (an ordinary memory starts at 16 MiB so that growing, which detaches its buffer and with it
    // V8's fast typed-array access process-wide, is left to large Workspaces: docs/ARCHITECTURE.md)
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        throw new RangeError(`${what} needs ${bytes} bytes of wasm memory and the runtime refused to grow memory to ${end} bytes`);
      }
      this.refresh();
    }
    if (ptr !== this.top) this.free.pop();
    this.top = end;
    this.used.set(ptr, size);
    return ptr;
  }

  /** alloc() of a block that reads as zeros: the part of it that an earlier block may have used
   *  (below the top before this call) is cleared; memory above it has never been handed out and
   *  is zero as wasm memory starts and grows. */
  allocZeroed(bytes: number, what: string): number {
    const top = this.top;
    const ptr = this.alloc(bytes, what);
    const end = Math.min(ptr + bytes, top);
    if (end > ptr) this.u8.fill(0, ptr, end);
    return ptr;
  }

  /** Returns a block to the free list (merging neighbours). */
  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) return;
    this.used.delete(ptr);
    let i = 0;
    while (i < this.free.length && this.free[i]!.ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, size });
    const next = this.free[i + 1];
    if (next && ptr + size === next.ptr) {
      this.free[i]!.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.free[i]!.size;
      this.free.splice(i, 1);
    }
  }
}

function alignUp(n: number): number {
  // Integer arithmetic while it is exact (below 2^31), floating point above (up to 4 GiB).
  return n <= 0x7fffffc0 ? (n + ALIGN - 1) & -ALIGN : Math.ceil(n / ALIGN) * ALIGN;
}

/**
 * Per-call scratch space: one arena block, reused by every call and grown (never shrunk) when a
 * call needs more. A call lays out its regions with take(), front to back; nothing is freed.
 */
export class Scratch {
  private ptr = 0;
  private size = 0;
  private cursor = 0;

  constructor(private readonly arena: Arena) {}

  /** Whether a call needing `bytes` fits the current block (then begin() cannot grow memory). */
  fits(bytes: number): boolean {
    return bytes <= this.size;
  }

  /** Starts a call's layout needing at most `bytes` in all (the sum of its take()s, each rounded
   *  up to 64). Grows the block if needed; throws RangeError before any work when it cannot. */
  begin(bytes: number, what: string): void {
    if (bytes > this.size) {
      // Release first, so the larger block can start where the old one did.
      if (this.size) this.arena.release(this.ptr);
      this.size = 0;
      this.ptr = this.arena.alloc(bytes, what);
      this.size = alignUp(bytes);
    }
    this.cursor = this.ptr;
  }

  /** The next region of `bytes` bytes (64-aligned). */
  take(bytes: number): number {
    const p = this.cursor;
    this.cursor += alignUp(bytes);
    return p;
  }
}

/**
 * Runs `grow` (a scratch.begin(), which may grow wasm memory) and returns `arrays` with each
 * view of wasm memory among them re-made over the new buffer. Growing memory detaches the old
 * buffer, and a Workspace's views (ws.logits, ws.output, ...) are valid inputs and outputs of
 * every function, so a call must not lose them half-way. Other values pass through unchanged.
 */
export function keepViews<T extends unknown[]>(arena: Arena, arrays: [...T], grow: () => void): T {
  const before = arena.views().u8.buffer;
  const saved = arrays.map((a) => (ArrayBuffer.isView(a) && a.buffer === before ? [a.byteOffset, (a as unknown as Uint8Array).length] : null));
  grow();
  const after = arena.views().u8.buffer;
  if (after === before || saved.every((s) => s === null)) return arrays as T;
  return arrays.map((a, i) => {
    const s = saved[i];
    if (!s) return a;
    const View = (a as ArrayBufferView).constructor as new (b: ArrayBufferLike, offset: number, length: number) => ArrayBufferView;
    return new View(after, s[0]!, s[1]!);
  }) as T;
}

/** Bytes a take(bytes) uses, for sizing begin(). */
export function regionSize(bytes: number): number {
  return alignUp(bytes);
}
