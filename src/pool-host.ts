// The pool's workers as the host sees them: the threaded build, the shared memory, starting and
// ending workers in Node (worker_threads) and browsers (Web Workers), and the cores available.
// Nothing here knows about chunks or operations (src/pool-ring.ts, src/pool.ts).

import type { Backend } from './load.js';
import type { ByteCopy } from './memory.js';
import { wasmBytes } from './load.js';
import { SHARED_INITIAL_PAGES, sharedMemoryBuild } from './shared-build.js';
import { bufferByteCopy, nodeWorkerSource, webWorkerSource, type NodeBufferClass, type WorkerInit } from './pool-worker.js';

const moduleCache = new Map<Backend, Promise<WebAssembly.Module>>();

/** The shared-memory variant of a build (src/shared-build.ts), compiled once. */
export function threadedModule(b: Backend): Promise<WebAssembly.Module> {
  let m = moduleCache.get(b);
  if (!m) {
    m = WebAssembly.compile(sharedMemoryBuild(wasmBytes(b)) as BufferSource);
    m.catch(() => moduleCache.delete(b));
    moduleCache.set(b, m);
  }
  return m;
}

/** A shared memory for the pool: 4 GiB maximum (65536 pages) where the runtime reserves that,
 *  else the largest power-of-two maximum it accepts. */
export function sharedMemory(): WebAssembly.Memory {
  for (let max = 65536; max >= 256; max >>= 1) {
    try {
      return new WebAssembly.Memory({ initial: SHARED_INITIAL_PAGES, maximum: max, shared: true });
    } catch {
      // try a smaller reservation
    }
  }
  throw new Error('createPool: this runtime cannot create a shared WebAssembly.Memory');
}

interface NodeProcess {
  versions?: { node?: string; bun?: string };
  getBuiltinModule?: (name: string) => unknown;
}
export const nodeProcess = (): NodeProcess | undefined => {
  const p = (globalThis as { process?: NodeProcess }).process;
  return typeof p?.versions?.node === 'string' ? p : undefined;
};

/** A Node built-in module, without an import the bundle would carry: process.getBuiltinModule
 *  (Node >= 20.16). */
export function nodeBuiltin<T>(name: string): T {
  const p = nodeProcess()!;
  if (typeof p.getBuiltinModule !== 'function') {
    throw new Error(`createPool: worker pools need Node >= 20.16 (process.getBuiltinModule); this is Node ${p.versions!.node}`);
  }
  return p.getBuiltinModule(name) as T;
}

/**
 * Node's copy between two buffers (Buffer.prototype.copy: bufferByteCopy), for the copies into and
 * out of a pool's shared memory: V8's TypedArray.prototype.set copies a SharedArrayBuffer's bytes
 * word by word (relaxed atomics). 16 MB in 256 KiB pieces into a shared wasm memory, Node 24:
 * 0.51 ms against 0.72 ms (Node 20: 0.7 ms either way). null outside Node, or where a trial copy
 * does not give the bytes back.
 */
export function nodeByteCopy(): ByteCopy | null {
  if (!nodeProcess()) return null;
  try {
    const copy: ByteCopy = bufferByteCopy(nodeBuiltin<{ Buffer: NodeBufferClass }>('node:buffer').Buffer);
    const a = new Uint8Array(new SharedArrayBuffer(16)), b = new Uint8Array(24);
    for (let i = 0; i < 16; i++) a[i] = i + 1;
    copy(b.buffer, 8, a.buffer, 4, 12);
    return b[7] === 0 && b[8] === 5 && b[19] === 16 && b[20] === 0 ? copy : null;
  } catch {
    return null;
  }
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
let blockable: boolean | undefined;
export function canBlock(): boolean {
  if (blockable === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockable = true;
    } catch {
      blockable = false;
    }
  }
  return blockable;
}

/** For tests: canBlock() answers `v` from now on (undefined: it finds out again), so that Node
 *  can run the calling thread's waits as a browser's main thread does (spinning). */
export function forceCanBlock(v: boolean | undefined): void {
  blockable = v;
}

/** A started worker, Node or Web. */
export interface WorkerHandle {
  terminate(): Promise<void>;
  unref(): void;
  /** Calls `listener` once if the worker stops on its own (an exit, an uncaught error, out of
   *  memory), with what happened; not after terminate(). */
  onDeath(listener: (what: string) => void): void;
  /** Stops the worker as a crash would (onDeath's listener is called): for tests. */
  kill(): void;
  /** Whether the worker's thread has ended, read synchronously: Node's Worker reports its event
   *  loop's idle time as -1 once the thread is gone (an exit, an uncaught error, out of memory, a
   *  kill). Absent where the runtime cannot tell (Web Workers, Deno, Bun). */
  stopped?: () => boolean;
  /** Sends the worker a shared array (src/pool-worker.ts ArrayMessage): Node's worker receives it
   *  synchronously when it needs it; a Web Worker takes it while it sleeps, and `taken` says when.
   *  Absent where the worker can do neither (a runtime without Atomics.waitAsync in workers). */
  send?: (message: unknown) => void;
  /** Web Workers: calls `listener` with the id of each array the worker has taken. */
  taken?: (listener: (id: number) => void) => void;
}

interface NodePort {
  postMessage(message: unknown): void;
  unref(): void;
  close(): void;
}

interface NodeWorker {
  performance?: { eventLoopUtilization?: () => { idle: number } };
  on(event: string, listener: (arg: never) => void): void;
  off(event: string, listener: (arg: never) => void): void;
  terminate(): Promise<number>;
  unref(): void;
}

export function startWorker(init: WorkerInit): Promise<WorkerHandle> {
  return new Promise((resolve, reject) => {
    const fail = (message: string) => reject(new Error(`createPool: a worker failed to start: ${message}`));
    if (nodeProcess()) {
      const wt = nodeBuiltin<{ Worker: new (code: string, o: object) => NodeWorker; MessageChannel: new () => { port1: NodePort; port2: unknown } }>('node:worker_threads');
      const { port1, port2 } = new wt.MessageChannel();
      port1.unref();
      const w = new wt.Worker(nodeWorkerSource(), { eval: true, workerData: { ...init, port: port2 }, transferList: [port2] });
      const onError = (e: Error) => fail(e.message);
      const onExit = (code: number) => fail(`it exited with code ${code}`);
      const onMessage = (m: { type: string; message?: string; shared?: boolean }) => {
        w.off('error', onError);
        w.off('exit', onExit);
        w.off('message', onMessage);
        if (m.type !== 'ready') {
          void w.terminate();
          return fail(m.message ?? 'unknown error');
        }
        let ended = false;
        const onDeath = (listener: (what: string) => void) => {
          w.on('error', (e: Error) => !ended && ((ended = true), listener(`it threw ${e?.message ?? e}`)));
          w.on('exit', (code: number) => !ended && ((ended = true), listener(`it exited with code ${code}`)));
        };
        const terminate = () => ((ended = true), port1.close(), w.terminate().then(() => undefined));
        const send = m.shared ? (message: unknown) => port1.postMessage(message) : undefined;
        // Node's only (Bun's warns on stderr that it is not implemented and reads 0 always).
        const elu = nodeProcess()!.versions!.bun === undefined ? w.performance?.eventLoopUtilization?.bind(w.performance) : undefined;
        // Called once now, while the thread runs: Node caches the loop's start time at the first
        // call, and a first call after the thread ended would read zeros from then on.
        elu?.();
        const stopped = elu ? () => elu().idle < 0 : undefined;
        resolve({ terminate, unref: () => w.unref(), onDeath, kill: () => void w.terminate(), send, stopped });
      };
      w.on('error', onError);
      w.on('exit', onExit);
      w.on('message', onMessage);
      return;
    }
    const url = URL.createObjectURL(new Blob([webWorkerSource()], { type: 'text/javascript' }));
    const w = new Worker(url);
    w.onerror = (e) => {
      URL.revokeObjectURL(url);
      w.terminate();
      fail(e.message || 'error event');
    };
    w.onmessage = (e: MessageEvent<{ type: string; message?: string; shared?: boolean }>) => {
      URL.revokeObjectURL(url);
      w.onmessage = null;
      w.onerror = null;
      if (e.data.type !== 'ready') {
        w.terminate();
        return fail(e.data.message ?? 'unknown error');
      }
      const shared = e.data.shared === true;
      const send = shared ? (message: unknown) => w.postMessage(message) : undefined;
      const taken = shared ? (listener: (id: number) => void) => {
        w.onmessage = (m: MessageEvent<{ type: string; id: number }>) => m.data.type === 'array' && listener(m.data.id);
      } : undefined;
      let ended = false;
      const onDeath = (listener: (what: string) => void) => {
        w.onerror = (e) => !ended && ((ended = true), listener(`it threw ${e.message || 'an error'}`));
      };
      const kill = () => {
        w.terminate(); // (a Web Worker reports nothing when terminated)
        w.onerror?.(new ErrorEvent('error', { message: 'terminated' }));
      };
      resolve({ terminate: async () => ((ended = true), w.terminate()), unref: () => {}, onDeath, kill, send, taken });
    };
    w.postMessage(init);
  });
}

export async function availableCores(): Promise<number> {
  if (nodeProcess()) {
    const os = nodeBuiltin<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
    return Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? n : 1;
}
