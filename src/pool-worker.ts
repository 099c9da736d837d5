// The program of a pool worker (src/pool.ts), and the protocol it shares with the calling thread.
//
// The package ships as one bundled file, so there is no worker script for a bundler or server to
// locate: a worker is started from the source text of `poolWorker` below (Node: `eval: true`;
// browsers: a Blob URL). That function therefore refers to nothing outside itself.
//
// Protocol, over an Int32Array control block in the shared wasm memory (all Atomics):
//   NEXT  the next ticket to claim; END the first ticket not yet issued. Tickets number chunks of
//         work across calls and wrap around at 2^32; ticket t uses slot t & (slots - 1).
//   READY[s] = t once the calling thread has copied ticket t's inputs into slot s and written its
//         commands (wasm export index + arguments) into the slot's command area (Float64Array).
//   DONE[s] = t once a worker has run them.
// A worker with nothing to claim sleeps on END; one that claimed ticket t sleeps on READY[t's slot].

/** Int32 index of NEXT, END, QUIT (set by dispose), ERR (set when a command trapped) and MASK
 *  (slots of the current call - 1). */
export const NEXT = 0;
export const END = 1;
export const QUIT = 2;
export const ERR = 3;
export const MASK = 4;
/** Int32s per slot line (64 bytes): READY at the line's start, DONE 8 further. */
export const LINE = 16;
/** Float64s of command area per slot: a count, then (export index, argument count, arguments...). */
export const CMD_CAP = 128;

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
  /** Spins on READY before sleeping. */
  spin: number;
}

/** The worker's whole program. Self-contained: it runs from its source text, so it spells the
 *  protocol's constants as literals (NEXT 0, END 1, QUIT 2, ERR 3, MASK 4,
 *  LINE 16, CMD_CAP 128). */
function poolWorker(data: WorkerInit, post: (message: unknown) => void, close: () => void): void {
  const { module, memory, ctrl, cmd, slots, names, spin } = data;
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
  const i32 = new Int32Array(memory.buffer, ctrl, 16 * (1 + slots));
  const f64 = new Float64Array(memory.buffer, cmd, slots * 128);
  post({ type: 'ready' });
  for (;;) {
    const v = Atomics.load(i32, 0);
    const e = Atomics.load(i32, 1);
    if (Atomics.load(i32, 2) !== 0) break;
    if (((e - v) | 0) <= 0) {
      Atomics.wait(i32, 1, e);
      continue;
    }
    if (Atomics.compareExchange(i32, 0, v, (v + 1) | 0) !== v) continue;
    const s = v & Atomics.load(i32, 4);
    const ready = 16 * (1 + s);
    let spins = 0;
    for (;;) {
      const r = Atomics.load(i32, ready);
      if (r === v) break;
      if (++spins > spin) Atomics.wait(i32, ready, r);
    }
    try {
      let p = s * 128;
      const count = f64[p++]!;
      for (let k = 0; k < count; k++) {
        const f = f64[p]!;
        const n = f64[p + 1]!;
        const args: number[] = [];
        for (let j = 0; j < n; j++) args.push(f64[p + 2 + j]!);
        fns[f]!(...args);
        p += 2 + n;
      }
    } catch {
      Atomics.store(i32, 3, 1);
    }
    Atomics.store(i32, ready + 8, v);
    Atomics.notify(i32, ready + 8);
  }
  close();
}

/** The worker source for Node's worker_threads (`new Worker(source, { eval: true, workerData })`;
 *  process.getBuiltinModule exists from Node 20.16, which createPool requires). */
export function nodeWorkerSource(): string {
  return `const wt = process.getBuiltinModule('node:worker_threads');\n` +
    `(${poolWorker.toString()})(wt.workerData, (m) => wt.parentPort.postMessage(m), () => wt.parentPort.close());\n`;
}

/** The worker source for Web Workers (from a Blob URL): the first message is the WorkerInit. */
export function webWorkerSource(): string {
  return `self.onmessage = (e) => { self.onmessage = null; (${poolWorker.toString()})(e.data, (m) => self.postMessage(m), () => self.close()); };\n`;
}
