// The program of a pool worker (src/pool.ts), and the protocol it shares with the calling thread.
//
// The package ships as one bundled file, so there is no worker script for a bundler or server to
// locate: a worker is started from the source text of `poolWorker` below (Node: `eval: true`;
// browsers: a Blob URL). That function therefore refers to nothing outside itself.
//
// Protocol, over an Int32Array control block in the shared wasm memory (all Atomics):
//   Tickets number the chunks of work across calls (wrapping around at 2^32); ticket t uses slot
//   t & MASK. LOADED is the first ticket not yet loaded: the calling thread has copied the inputs
//   of every ticket before it into its slot and written the slot's commands (wasm export index,
//   argument count, result address, arguments; in the slot's Float64Array command area). A
//   command with a result address (not 0) stores its call's result there, as an i32 (the bad row
//   of decoding, which the calling thread reads once the chunk is done). NEXT is the next ticket to claim (by
//   compare-and-swap, only below LOADED). DONE[s] = t once ticket t's commands have run.
//   A worker with nothing to claim polls for `spinMs`, then counts itself in SLEEPING and sleeps
//   on SIGNAL (a Web Worker with Atomics.waitAsync, so that its event loop can take shared arrays
//   meanwhile; see COPY_IN). The calling thread bumps SIGNAL and wakes one sleeper only when a loaded chunk
//   would otherwise wait (no worker is awake, or tuning.wakeBacklog chunks wait already) and
//   fewer than cores - 1 workers are awake; a worker it woke counts as awake (WAKING) until it
//   has left its wait, so chunks loaded in a burst (a pooled Workspace's) wake no more workers. So no more workers run than the calling thread keeps
//   busy (it copies every chunk in and out), and they do not crowd it out of its core.

import type { ByteCopy } from './memory.js';

/** Int32 indices in the control block (the first 64-byte line). */
export const NEXT = 0;
export const LOADED = 1;
export const QUIT = 2;
export const ERR = 3;
export const MASK = 4;
export const SIGNAL = 5;
export const SLEEPING = 6;
/** Workers woken (a notify that found a sleeper) that have not yet left their wait: awake, though
 *  still counted in SLEEPING. */
export const WAKING = 7;
/** Int32 index of the first of 8 counters of chunks run, by workers 0 to 7 (for tests). */
export const RUN = 8;
/** Int32s per slot line (64 bytes; line s + 1 is slot s's): DONE at the line's start. */
export const LINE = 16;
/** Float64s of command area per slot: a count, then (export index, argument count, result
 *  address or 0, arguments...). */
export const CMD_CAP = 128;
/** Polls between two reads of the clock while a thread polls for tuning.spinMs (a power of 2). */
export const POLLS_PER_CLOCK = 64;
/** The pseudo export indices of the copies between a caller's SharedArrayBuffer and the wasm
 *  memory, run by whoever runs the chunk: arguments (array id, byte offset in the array, wasm
 *  address, bytes). The arrays reach the workers by message ({ id, buffer }, or { drop: id }). A
 *  Node worker receives them synchronously (receiveMessageOnPort) when it meets an unknown id; a
 *  Web Worker, which cannot, takes them from its event loop while it sleeps (Atomics.waitAsync)
 *  and answers { type: 'array', id }: the calling thread uses an id only once every worker has. */
export const COPY_IN = -1;
export const COPY_OUT = -2;

/** What the calling thread sends a worker when it starts. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block; its command area follows at cmd. */
  ctrl: number;
  cmd: number;
  slots: number;
  /** Export names, indexed by the commands. */
  names: string[];
  /** Polls for a chunk this long (ms) before sleeping (tuning.spinMs). */
  spinMs: number;
  /** The worker's index in its pool. */
  id: number;
  /** Node: the port the calling thread sends shared arrays on. */
  port?: unknown;
  /** Copy shared arrays with Node's Buffer.prototype.copy (src/pool-host.ts nodeByteCopy). */
  fastCopy?: boolean;
}

/** The protocol's constants, as the worker's source text receives them (it runs from its text,
 *  so it can refer to nothing outside itself). */
const PROTOCOL = { NEXT, LOADED, QUIT, ERR, MASK, SIGNAL, SLEEPING, WAKING, RUN, LINE, CMD_CAP, POLLS_PER_CLOCK };

/** The worker's whole program. Self-contained: it runs from its source text, with the
 *  protocol's constants passed in as `P`, and `arraysOf` making its shared arrays (workerArrays,
 *  as the runtime receives them). */
function poolWorker(data: WorkerInit, post: (message: unknown) => void, close: () => void, P: typeof PROTOCOL,
  replay: typeof replaySlot, arraysOf: (memory: WebAssembly.Memory) => WorkerArrays): void {
  const { module, memory, ctrl, cmd, slots, names, spinMs, id } = data;
  const { NEXT, LOADED, QUIT, ERR, MASK, SIGNAL, SLEEPING, WAKING, RUN, LINE, CMD_CAP, POLLS_PER_CLOCK } = P;
  let exports: Record<string, unknown>;
  try {
    exports = new WebAssembly.Instance(module, {
      env: {
        memory,
        abort() {
          throw new Error('softmax-wasm: internal error (wasm abort)');
        },
      },
    }).exports;
  } catch (e) {
    post({ type: 'error', message: String((e as Error)?.message ?? e) });
    close();
    return;
  }
  const fns = names.map((n) => exports[n] as (...args: number[]) => unknown);
  const i32 = new Int32Array(memory.buffer, ctrl, LINE * (1 + slots));
  const f64 = new Float64Array(memory.buffer, cmd, slots * CMD_CAP);
  const { copy, shared, waitAsync } = arraysOf(memory);
  post({ type: 'ready', shared });
  loop();

  /** Claims and runs chunks until told to quit; returns early to sleep without blocking (it is
   *  called again on waking) where the worker takes arrays from its event loop. */
  function loop(): void {
    let spins = 0;
    let idleSince = -1;
    while (Atomics.load(i32, QUIT) === 0) {
      const v = Atomics.load(i32, NEXT);
      if (((Atomics.load(i32, LOADED) - v) | 0) > 0) {
        if (Atomics.compareExchange(i32, NEXT, v, (v + 1) | 0) !== v) continue;
        const s = v & Atomics.load(i32, MASK);
        try {
          replay(f64, s, CMD_CAP, fns, copy, memory);
        } catch {
          Atomics.store(i32, ERR, 1);
        }
        Atomics.store(i32, LINE * (1 + s), v);
        Atomics.notify(i32, LINE * (1 + s));
        if (id < 8) Atomics.add(i32, RUN + id, 1);
        spins = 0;
        idleSince = -1;
        continue;
      }
      if ((++spins & (POLLS_PER_CLOCK - 1)) !== 0) continue;
      const now = performance.now();
      if (idleSince < 0) idleSince = now;
      if (now - idleSince < spinMs) continue;
      // Count in SLEEPING first, then look again: the calling thread stores LOADED before it
      // reads SLEEPING, so either it sees this worker asleep (and bumps SIGNAL) or this sees the chunk.
      const signal = Atomics.load(i32, SIGNAL);
      Atomics.add(i32, SLEEPING, 1);
      if (((Atomics.load(i32, LOADED) - Atomics.load(i32, NEXT)) | 0) <= 0 && Atomics.load(i32, QUIT) === 0) {
        // Woken by the calling thread's notify: it counted this worker in WAKING until now.
        if (waitAsync) {
          const w = waitAsync(i32, SIGNAL, signal);
          if (w.async) {
            void (w.value as Promise<string>).then((r) => {
              if (r === 'ok') Atomics.sub(i32, WAKING, 1);
              Atomics.sub(i32, SLEEPING, 1);
              loop();
            });
            return;
          }
        } else if (Atomics.wait(i32, SIGNAL, signal) === 'ok') Atomics.sub(i32, WAKING, 1);
      }
      Atomics.sub(i32, SLEEPING, 1);
      spins = 0;
      idleSince = -1;
    }
    close();
  }
}

/** A shared array sent to a worker, or the id of one it may let go. */
export interface ArrayMessage {
  id?: number;
  buffer?: SharedArrayBuffer;
  drop?: number;
}

/** A worker's side of the callers' shared arrays (workerArrays). */
export interface WorkerArrays {
  /** Runs a recorded copy (COPY_IN or COPY_OUT): args (array id, byte offset in the array, wasm
   *  address, bytes). */
  copy: (f: number, args: number[]) => unknown;
  /** Whether the worker can take shared arrays (the calling thread sends them only then). */
  shared: boolean;
  /** Web Workers: sleep with this (Atomics.waitAsync), so that the event loop takes the arrays. */
  waitAsync?: (a: Int32Array, i: number, v: number) => { async: boolean; value: unknown };
}

/** The shared arrays a worker has been sent, by id: `receive` takes the next message synchronously
 *  (Node), or `listen` hands each to a handler from the event loop (Web Workers, where
 *  Atomics.waitAsync exists: each one taken is answered with { type: 'array', id }); `byteCopy`
 *  (Node's Buffer copy) or TypedArray.prototype.set copies. Self-contained, as poolWorker. */
export function workerArrays(memory: WebAssembly.Memory, post: (message: unknown) => void, COPY_IN: number,
  receive: (() => ArrayMessage | undefined) | null, listen: ((onMessage: (m: ArrayMessage) => void) => void) | null,
  byteCopy: ByteCopy | null): WorkerArrays {
  const arrays = new Map<number, SharedArrayBuffer>();
  /** The shared array `id` (sent before the first chunk that copies it: read the queue to it). */
  const array = (id: number): SharedArrayBuffer => {
    while (!arrays.has(id)) {
      const m = receive ? receive() : undefined;
      if (!m) throw new Error('softmax-wasm: internal error (a shared array never reached the worker)');
      if (m.drop !== undefined) arrays.delete(m.drop);
      else arrays.set(m.id!, m.buffer!);
    }
    return arrays.get(id)!;
  };
  const bc = byteCopy ?? ((d: ArrayBufferLike, dAt: number, s: ArrayBufferLike, sAt: number, n: number) => new Uint8Array(d, dAt, n).set(new Uint8Array(s, sAt, n)));
  const waitAsync = listen ? (Atomics as Pick<WorkerArrays, 'waitAsync'>).waitAsync : undefined;
  if (listen && waitAsync) {
    listen((m) => {
      if (m.drop !== undefined) arrays.delete(m.drop);
      else {
        arrays.set(m.id!, m.buffer!);
        post({ type: 'array', id: m.id });
      }
    });
  }
  return {
    copy: (f, [id, offset, ptr, n]) =>
      f === COPY_IN ? bc(memory.buffer, ptr!, array(id!), offset!, n!) : bc(array(id!), offset!, memory.buffer, ptr!, n!),
    shared: receive !== null || waitAsync !== undefined,
    waitAsync,
  };
}

/** The shape of Node's Buffer that bufferByteCopy uses. */
export interface NodeBufferClass {
  from(b: ArrayBufferLike): { copy(target: unknown, targetStart: number, sourceStart: number, sourceEnd: number): number };
}

/** Runs the commands recorded in slot s of the command area `cmd` (`cap` float64s per slot): a
 *  kernel export of `fns`, or (a negative index) `copy(index, args)`; a result with an address
 *  is stored there as an i32. The workers' and the calling thread's (src/pool-ring.ts) replay.
 *  Self-contained, as poolWorker: it runs from its source text too. */
export function replaySlot(cmd: Float64Array, s: number, cap: number, fns: ((...args: number[]) => unknown)[],
  copy: (f: number, args: number[]) => unknown, memory: WebAssembly.Memory): void {
  let p = s * cap;
  const count = cmd[p++]!;
  for (let k = 0; k < count; k++) {
    const n = cmd[p + 1]!;
    const to = cmd[p + 2]!;
    const args: number[] = [];
    for (let j = 0; j < n; j++) args.push(cmd[p + 3 + j]!);
    const f = cmd[p]!;
    const r = f < 0 ? copy(f, args) : fns[f]!(...args);
    if (to) new Int32Array(memory.buffer)[to >>> 2] = r as number;
    p += 3 + n;
  }
}

/** A byte copy over Node's Buffer.prototype.copy, with one Buffer per whole buffer, kept (a Buffer
 *  made per copy costs more than the copy saves): src/pool-host.ts nodeByteCopy, and the workers'.
 *  Self-contained, as poolWorker: it runs from its source text too. */
export function bufferByteCopy(Buffer: NodeBufferClass): ByteCopy {
  const whole = new WeakMap<ArrayBufferLike, ReturnType<NodeBufferClass['from']>>();
  const of = (b: ArrayBufferLike) => {
    let v = whole.get(b);
    if (!v) whole.set(b, (v = Buffer.from(b)));
    return v;
  };
  return (dst, dstAt, src, srcAt, bytes) => void of(src).copy(of(dst), dstAt, srcAt, srcAt + bytes);
}

/**
 * How a worker_threads worker ends once its loop is over: `parentPort.close()` where the port has
 * one (Node, Bun), so nothing keeps the worker alive; else the worker scope's own `close()` (Deno:
 * its worker_threads workers are Web Workers whose parentPort has no close); else nothing (the
 * pool terminates its workers anyway). Self-contained, as poolWorker: it runs from its source text.
 */
export function closeWorkerPort(port: { close?: unknown } | null | undefined, scope: { close?: unknown }): void {
  if (port && typeof port.close === 'function') port.close();
  else if (typeof scope.close === 'function') scope.close();
}

/** The worker source for Node's worker_threads (`new Worker(source, { eval: true, workerData })`;
 *  process.getBuiltinModule exists from Node 20.16, which createPool requires). */
export function nodeWorkerSource(): string {
  return `const wt = process.getBuiltinModule('node:worker_threads');\n` +
    `const port = wt.workerData.port, rx = typeof wt.receiveMessageOnPort === 'function' && port ? () => wt.receiveMessageOnPort(port)?.message : null;\n` +
    `const bc = wt.workerData.fastCopy ? (${bufferByteCopy.toString()})(process.getBuiltinModule('node:buffer').Buffer) : null;\n` +
    `const post = (m) => wt.parentPort.postMessage(m);\n` +
    `(${poolWorker.toString()})(wt.workerData, post, () => (port?.close(), (${closeWorkerPort.toString()})(wt.parentPort, globalThis)), ${JSON.stringify(PROTOCOL)}, ${replaySlot.toString()}, ` +
    `(memory) => (${workerArrays.toString()})(memory, post, ${COPY_IN}, rx, null, bc));\n`;
}

/** The worker source for Web Workers (from a Blob URL): the first message is the WorkerInit. */
export function webWorkerSource(): string {
  return `const post = (m) => self.postMessage(m);\n` +
    `self.onmessage = (e) => { self.onmessage = null; (${poolWorker.toString()})(e.data, post, () => self.close(), ${JSON.stringify(PROTOCOL)}, ${replaySlot.toString()}, ` +
    `(memory) => (${workerArrays.toString()})(memory, post, ${COPY_IN}, null, (f) => { self.onmessage = (e) => f(e.data); }, null)); };\n`;
}
