// The pool's dispatch: a ring of slots in the shared memory that the chunk loop
// (src/chunk-loop.ts) fills while the workers run the chunks. A chunk's kernel calls are recorded
// (export index + arguments) into its slot's command area through a recording stand-in for the
// kernel table, so the loop drives the workers unchanged; a worker, or this thread while it
// waits, replays them. A result the chunk's code keeps (KernelTable.keep) is marked on its
// command, and whoever runs it stores it in the shared memory, where the loop's collect step
// reads it. The protocol is in src/pool-worker.ts.

import type { Executor } from './chunk-loop.js';
import type { ElementType } from './dtype.js';
import { kernelTable, type KernelTable, type Kernels } from './kernels.js';
import type { Layout } from './layout.js';
import { TMP_STRIDE, tmpBlockBytes, type Arena, type ByteCopy } from './memory.js';
import { groupAligned, planChunks, withShortTail, type ChunkPlan, type OwnBytes } from './plan.js';
import { canBlock } from './pool-host.js';
import { CMD_CAP, COPY_IN, COPY_OUT, ERR, LINE, LOADED, MASK, NEXT, POLLS_PER_CLOCK, QUIT, replaySlot, RUN, SIGNAL, SLEEPING, WAKING, type WorkerInit } from './pool-worker.js';
import type { FloatArray } from './dtype.js';

/**
 * Tuning, measured on 2 cores (bench/threads.mjs, and sweeps of [N, C] for C = 10 ... 10000).
 * - A call runs on the calling thread unless its work, `elements + rows * rowWeight` (a row
 *   costs about as much as 64 elements), reaches `cutoff`. The pool breaks even where one thread
 *   takes ~60 us (work ~70000) and is >= 1.15x faster from ~100000 (~90 us); below
 *   `minElements` elements nothing beyond the input's length is looked at.
 * - A chunk holds about `chunkBytes` of each input, and a call has at least `chunksPerThread`
 *   chunks per worker when its rows allow; the slots of one call take at most `slotBudget`. Where
 *   the workers copy every chunk themselves (shared arrays), a call takes two slots per thread
 *   that runs chunks, so that each thread finds a slot it used two chunks before still in its
 *   core's cache: 4 slots against 8 made [4096, 1000] 1.07-1.11x faster on 2 cores. A
 *   pooled Workspace's chunk (nothing copied) holds about `workspaceChunkBytes` of logits, and
 *   its last `tailChunks` chunks' rows go in chunks a quarter of the size (plan.ts
 *   withShortTail), so the threads finish a call close together: 1.02-1.03x the speed at
 *   [4096, 1000] and [64, 128256]. (On copied arrays it measured level or slower: there the
 *   calling thread's copies, not the last chunk, set the end of a call.)
 * - `spinMs`: a worker with no chunk to run polls for one this long before it sleeps, and the
 *   calling thread polls this long for a chunk a worker runs before it blocks: waking a sleeping
 *   thread took 50-140 us on 2 vCPUs (Atomics.notify to the woken thread running), so a wait
 *   shorter than that is cheaper spun, and a longer one costs at most twice the better choice
 *   (the ski-rental bound). A pooled Workspace called back to back then finds its worker awake.
 * - `help`: the calling thread runs chunks itself while it waits for a slot to come free.
 * - `wakeBacklog`: a sleeping worker is woken when this many loaded chunks wait (or when none
 *   is awake), up to cores - 1 workers awake at once (`cores`: 0 = the available cores).
 * - `stallMs`: a chunk this thread has waited for this long ends the call and the pool (a worker
 *   stopped or is stuck). A chunk is at most a few milliseconds of work; where the runtime
 *   tells that a worker's thread has ended (Node), that is found within `PROBE_MS` instead.
 */
export const tuning = {
  minElements: 16384,
  cutoff: 100000,
  rowWeight: 64,
  chunkBytes: 256 * 1024,
  workspaceChunkBytes: 1 << 20,
  chunksPerThread: 4,
  tailChunks: 2,
  slotBudget: 64 << 20,
  spinMs: 0.1,
  help: true,
  wakeBacklog: 2,
  cores: 0,
  stallMs: 10000,
};

/** How long this thread blocks in one Atomics.wait for a chunk before it looks whether a worker
 *  has ended (ChunkRing.stopped). */
const PROBE_MS = 100;

/** Counts of the calls and chunks that went through pools, the chunks the calling thread ran
 *  itself, the times it slept waiting for one, the times it woke a worker, and the chunk copies
 *  left to the workers (shared arrays) (for tests and tuning). */
export const stats = { calls: 0, chunks: 0, helped: 0, waits: 0, wakes: 0, sharedCopies: 0 };

/** The ring of one pool. */
export class ChunkRing {
  /** The recording kernel table: calls made through it are written to the current slot. */
  readonly table: KernelTable;
  /** The callers' SharedArrayBuffers the workers reach directly. */
  readonly arrays = new SharedArrays();
  private readonly names: string[];
  private readonly fns: ((...args: number[]) => unknown)[];
  /** A recorded copy run on this thread (replaySlot's `copy`). */
  private readonly copy = (f: number, args: number[]) => this.arrays.copy(f === COPY_IN, this.memory, args);
  private readonly memory: WebAssembly.Memory;
  readonly maxSlots: number;
  private readonly ctrl: number;
  private readonly cmdPtr: number;
  /** The kernels' tmp block of each slot (chunks of different slots run at once). */
  private readonly tmpPtr: number;
  private readonly i32: Int32Array;
  private readonly cmd: Float64Array;
  private cmdPos = 0;
  /** Where the last recorded command starts (KernelTable.keep marks it). */
  private cmdLast = 0;
  private cmdEnd = 0;
  private cmdCount = 0;
  private ticket = 0;
  /** The pool's: the index of a worker whose thread has ended, as far as the runtime tells
   *  synchronously (src/pool-host.ts WorkerHandle.stopped), else -1. */
  stopped: () => number = () => -1;
  /** The pool's: marks the pool broken because of worker k (-1: not known) and returns the error
   *  the waiting call throws. */
  onLost: (k: number, what: string) => Error = (_k, what) => new Error(what);

  constructor(exports: Kernels, arena: Arena, readonly threads: number, private readonly cores: number) {
    const all = exports as unknown as Record<string, unknown>;
    this.names = Object.keys(all).filter((k) => typeof all[k] === 'function');
    this.fns = this.names.map((k) => all[k] as (...args: number[]) => unknown);
    this.table = kernelTable(Object.fromEntries(this.names.map((k, i) => [k, (...args: number[]) => this.record(i, args)])) as unknown as Kernels,
      (ptr) => void (this.cmd[this.cmdLast + 2] = ptr));
    this.memory = exports.memory;
    let s = 4;
    while (s < 2 * threads + 2) s *= 2;
    this.maxSlots = s;
    this.ctrl = arena.alloc(4 * LINE * (1 + s), 'createPool: the control block');
    this.cmdPtr = arena.alloc(8 * CMD_CAP * s, 'createPool: the command area');
    this.tmpPtr = arena.alloc(tmpBlockBytes(s), 'createPool: the kernels\' tmp blocks');
    const buffer = arena.views().u8.buffer;
    this.i32 = new Int32Array(buffer, this.ctrl, LINE * (1 + s));
    this.cmd = new Float64Array(buffer, this.cmdPtr, CMD_CAP * s);
    for (let k = 0; k < s; k++) this.i32[LINE * (1 + k)] = -1; // DONE: no ticket yet
    this.i32[MASK] = s - 1;
  }

  /** What a worker needs to join the ring (besides its module, memory and id). */
  workerInit(): Pick<WorkerInit, 'ctrl' | 'cmd' | 'slots' | 'names' | 'spinMs' | 'fastCopy'> {
    return { ctrl: this.ctrl, cmd: this.cmdPtr, slots: this.maxSlots, names: this.names, spinMs: tuning.spinMs, fastCopy: this.arrays.byteCopy !== null };
  }

  /** Tells the workers to end (QUIT, then a change of SIGNAL: one about to sleep wakes at once). */
  quit(): void {
    Atomics.store(this.i32, QUIT, 1);
    Atomics.add(this.i32, SIGNAL, 1);
    Atomics.notify(this.i32, SIGNAL);
  }

  /** Chunks run so far by each of the first 8 workers. */
  chunksRun(): number[] {
    return Array.from({ length: Math.min(8, this.threads) }, (_, k) => Atomics.load(this.i32, RUN + k));
  }

  /** Cuts a call into chunks of whole outer blocks; null (the calling thread runs it) when its
   *  work is below the cutoff or it makes fewer than 2 chunks. `workersCopy`: the workers copy
   *  every array of each chunk themselves (SharedArrays.reach), so this thread copies nothing. */
  plan(L: Layout, dt: ElementType, inputs: number, rowOut: boolean, own?: OwnBytes, workersCopy = false): ChunkPlan | null {
    const unitBytes = L.C * L.inner * (1 << dt.shift);
    if (L.outer < 2 || unitBytes === 0 || L.outer * L.C * L.inner + L.rows * tuning.rowWeight < tuning.cutoff) return null;
    let per = Math.max(1, Math.floor(tuning.chunkBytes / unitBytes));
    per = groupAligned(Math.min(per, Math.max(1, Math.ceil(L.outer / (this.threads * tuning.chunksPerThread)))), L);
    if (Math.ceil(L.outer / per) < 2) return null;
    const one = planChunks(L, dt, inputs, rowOut, per, 1, own);
    // As many slots as the budget allows (at least 2: one being filled while one is run), so that
    // this thread's copies run ahead; where it copies nothing, two per thread running chunks.
    let slots = this.maxSlots;
    if (workersCopy) while (slots > 2 && slots >= 4 * (1 + maxAwake(this.threads, this.cores))) slots >>= 1;
    while (slots > 2 && slots * one.slotBytes > tuning.slotBudget) slots >>= 1;
    return { ...one, slots, bytes: slots * one.slotBytes };
  }

  /**
   * The executor of one call of `plan`: chunk i is ticket first + i in slot ticket & mask. Its
   * kernel calls are recorded, then offered to the workers; collecting it waits until it has
   * run, meanwhile running offered chunks no worker has claimed yet rather than idling.
   */
  executor(plan: ChunkPlan): Executor {
    const i32 = this.i32;
    const mask = plan.slots - 1;
    const first = this.ticket;
    Atomics.store(i32, MASK, mask);
    stats.calls++;
    stats.chunks += plan.chunks;
    const awake = maxAwake(this.threads, this.cores);
    let loaded = 0;
    return {
      table: this.table,
      slot: (i) => ((first + i) | 0) & mask,
      tmp: (s) => this.tmpPtr + s * TMP_STRIDE,
      shared: (a) => this.arrays.id(a),
      copy: (toWasm, id, offset, ptr, bytes) => void (stats.sharedCopies++, this.record(toWasm ? COPY_IN : COPY_OUT, [id, offset, ptr, bytes])),
      begin: (_i, s) => {
        this.cmdPos = s * CMD_CAP + 1;
        this.cmdEnd = (s + 1) * CMD_CAP;
        this.cmdCount = 0;
      },
      submit: (i, s) => {
        const t = (first + i) | 0;
        this.cmd[s * CMD_CAP] = this.cmdCount;
        Atomics.store(i32, LOADED, (t + 1) | 0);
        loaded = i + 1;
        wakeWorker(i32, this.threads, t, awake);
      },
      wait: (i, s) => this.waitDone(s, (first + i) | 0, (first + loaded) | 0),
      end: (n, collected) => {
        // Only after an internal error: let every loaded chunk finish, so the next call starts
        // clean (not once the workers are told to end: no chunk would finish then).
        if (Atomics.load(i32, QUIT) !== 0) return;
        for (let i = collected; i < n; i++) this.waitDone(((first + i) | 0) & mask, (first + i) | 0, (first + n) | 0);
        this.ticket = (first + n) | 0;
        if (Atomics.load(i32, ERR) !== 0) {
          Atomics.store(i32, ERR, 0);
          throw new Error('softmax-wasm: internal error in a pool worker (a wasm trap)');
        }
      },
    };
  }

  /** Records a kernel call of the chunk being loaded. */
  private record(index: number, args: number[]): void {
    const c = this.cmd;
    const p = this.cmdPos;
    if (p + 3 + args.length > this.cmdEnd) throw new Error('softmax-wasm: internal error (pool command area full)');
    c[p] = index;
    c[p + 1] = args.length;
    c[p + 2] = 0;
    for (let j = 0; j < args.length; j++) c[p + 3 + j] = args[j]!;
    this.cmdLast = p;
    this.cmdPos = p + 3 + args.length;
    this.cmdCount++;
  }

  /** Waits until ticket t (slot s) is done. Meanwhile this thread runs loaded tickets no worker
   *  has claimed yet (tickets before `loaded`), rather than idling. Throws (and the pool is
   *  broken) if a worker has ended meanwhile, or the chunk is not done after tuning.stallMs: the
   *  worker that claimed it may be gone, and no event can reach this thread while it waits. */
  private waitDone(s: number, t: number, loaded: number): void {
    const i32 = this.i32;
    const done = LINE * (1 + s);
    const block = canBlock();
    let last = -1;
    let waited = 0;
    let polls = 0;
    let spinning = block; // (polls for tuning.spinMs before it blocks)
    for (;;) {
      const d = Atomics.load(i32, done);
      if (d === t) return;
      if (tuning.help) {
        const v = Atomics.load(i32, NEXT);
        if (((loaded - v) | 0) > 0) {
          if (Atomics.compareExchange(i32, NEXT, v, (v + 1) | 0) === v) {
            const hs = v & Atomics.load(i32, MASK);
            stats.helped++;
            try {
              replaySlot(this.cmd, hs, CMD_CAP, this.fns, this.copy, this.memory);
            } catch {
              Atomics.store(i32, ERR, 1);
            }
            Atomics.store(i32, LINE * (1 + hs), v);
          }
          continue;
        }
      }
      if (last < 0) last = performance.now();
      if (spinning && ((++polls & (POLLS_PER_CLOCK - 1)) !== 0 || performance.now() - last < tuning.spinMs)) continue;
      spinning = false;
      if (block) {
        stats.waits++;
        if (Atomics.wait(i32, done, d, PROBE_MS) !== 'timed-out') continue;
      } else if ((++polls & 1023) !== 0) continue;
      const now = performance.now();
      // (A clock that jumped, as after the machine slept, counts as one slice, not as a stall.)
      waited += Math.min(now - last, 2 * PROBE_MS);
      last = now;
      const k = this.stopped();
      if (k >= 0) throw this.lose(k, 'it ended while a call waited for it');
      if (waited >= tuning.stallMs) throw this.lose(-1, `a worker did not finish its part of a call in ${tuning.stallMs / 1000} s (it stopped or is stuck)`);
    }
  }

  /** A worker is gone: its workers are told to end, and the pool takes no more calls. */
  private lose(k: number, what: string): Error {
    this.quit();
    return this.onLost(k, what);
  }
}

/** How many of a pool's `threads` workers run chunks at once: the calling thread is busy through
 *  a whole call (it copies each chunk in and out, and runs chunks itself when the workers fall
 *  behind), so it takes a core, and more than cores - 1 workers running would crowd it out. */
function maxAwake(threads: number, cores: number): number {
  return Math.max(1, Math.min(threads, (tuning.cores || cores) - 1));
}

/** Wakes a sleeping worker of `threads` if ticket t would otherwise wait (none is awake, or the
 *  awake ones are behind already) and fewer than `limit` (maxAwake) run. */
function wakeWorker(i32: Int32Array, threads: number, t: number, limit: number): void {
  const waiting = (t + 1 - Atomics.load(i32, NEXT)) | 0;
  const awake = threads - Atomics.load(i32, SLEEPING) + Atomics.load(i32, WAKING);
  if (waiting > 0 && awake < limit && (awake <= 0 || waiting >= tuning.wakeBacklog)) {
    stats.wakes++;
    Atomics.add(i32, SIGNAL, 1);
    // Counted awake from now (only this thread reads WAKING to decide), unless no one slept.
    Atomics.add(i32, WAKING, 1);
    if (Atomics.notify(i32, SIGNAL, 1) !== 1) Atomics.sub(i32, WAKING, 1);
  }
}

/** The plan of a call over a pooled Workspace's own memory (the loop's IN_PLACE mode) on `ring`:
 *  chunks of about tuning.workspaceChunkBytes of rows, at least chunksPerThread per worker when
 *  the rows allow, no slot memory; null (the calling thread runs it) as ChunkRing.plan says. */
export function inPlacePlan(ring: ChunkRing, rows: number, C: number, dt: ElementType): ChunkPlan | null {
  const L: Layout = { outer: rows, C, inner: 1, rows };
  if (rows < 2 || rows * C + rows * tuning.rowWeight < tuning.cutoff) return null;
  let per = Math.max(1, Math.floor(tuning.workspaceChunkBytes / (C << dt.shift)));
  per = groupAligned(Math.min(per, Math.max(1, Math.ceil(rows / (ring.threads * tuning.chunksPerThread)))), L);
  if (Math.ceil(rows / per) < 2) return null;
  return { ...withShortTail(planChunks(L, dt, 0, false, per, 1), tuning.tailChunks), slots: ring.maxSlots, bytes: 0 };
}

/** How many shared arrays the workers keep (the oldest is dropped beyond it). */
const KEPT_ARRAYS = 16;

/**
 * The callers' SharedArrayBuffers that the workers reach directly: each is sent to every worker
 * once, under an id, before the first chunk that copies it (src/pool-worker.ts, COPY_IN). Node's
 * workers receive it synchronously when they meet the id, so it is used at once; Web Workers take
 * it while they sleep, so it is used from the first call after every worker has said so (until
 * then, and in a runtime where workers can do neither, id() is 0 and the calling thread copies).
 */
export class SharedArrays {
  private senders: ((message: unknown) => void)[] | null = null;
  /** Web Workers: how many workers have taken each id sent (null: they receive synchronously). */
  private taken: Map<number, number> | null = null;
  /** Known buffers, least recently used first, and by id. */
  private readonly ids = new Map<SharedArrayBuffer, number>();
  private readonly buffers = new Map<number, SharedArrayBuffer>();
  private next = 1;
  /** The pool memory's byteCopy (Arena.byteCopy), or null: TypedArray.prototype.set. */
  byteCopy: ByteCopy | null = null;

  /** Enables the direct path if every worker has a sender; `taken` (Web Workers) reports the ids
   *  each worker has taken. */
  connect(senders: (((message: unknown) => void) | undefined)[], taken: (((listener: (id: number) => void) => void) | undefined)[] = []): void {
    this.senders = senders.length > 0 && senders.every((s) => s !== undefined) ? (senders as ((m: unknown) => void)[]) : null;
    if (this.senders && taken.some((t) => t !== undefined)) {
      if (!taken.every((t) => t !== undefined)) return void (this.senders = null);
      const counts = (this.taken = new Map<number, number>());
      for (const t of taken) t!((id) => counts.has(id) && counts.set(id, counts.get(id)! + 1));
    }
  }

  /** The id of `a`'s buffer (sent to the workers now if new), or 0: not shared, or no direct path. */
  id(a: FloatArray): number {
    const b = a.buffer;
    if (this.senders === null || !(b instanceof SharedArrayBuffer)) return 0;
    let id = this.ids.get(b);
    // (kept in order of last use, so the one dropped below is never an array of this call)
    if (id !== undefined) {
      this.ids.delete(b);
      this.ids.set(b, id);
    } else {
      if (this.ids.size >= KEPT_ARRAYS) {
        const [old, oldId] = this.ids.entries().next().value as [SharedArrayBuffer, number];
        this.ids.delete(old);
        this.buffers.delete(oldId);
        this.taken?.delete(oldId);
        for (const send of this.senders) send({ drop: oldId });
      }
      id = this.next++;
      this.ids.set(b, id);
      this.buffers.set(id, b);
      this.taken?.set(id, 0);
      for (const send of this.senders) send({ id, buffer: b });
    }
    return this.taken && this.taken.get(id) !== this.senders.length ? 0 : id;
  }

  /** Whether the workers reach every one of `arrays` themselves (id() is not 0), so that no
   *  chunk of them is copied on this thread; null (an output the call will allocate) is not. */
  reach(arrays: readonly (FloatArray | null)[]): boolean {
    return arrays.every((a) => a !== null && this.id(a) !== 0);
  }

  /** A recorded copy run on this thread: args (id, offset, ptr, bytes). */
  copy(toWasm: boolean, memory: WebAssembly.Memory, args: number[]): undefined {
    const [id, offset, ptr, n] = args as [number, number, number, number];
    const bc = this.byteCopy;
    if (bc) return void (toWasm ? bc(memory.buffer, ptr, this.buffers.get(id)!, offset, n) : bc(this.buffers.get(id)!, offset, memory.buffer, ptr, n));
    const a = new Uint8Array(this.buffers.get(id)!, offset, n);
    const w = new Uint8Array(memory.buffer, ptr, n);
    if (toWasm) w.set(a);
    else a.set(w);
    return undefined;
  }
}
