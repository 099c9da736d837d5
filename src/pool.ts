// Multi-core: a pool of workers that share one wasm memory (API.md, "Multi-core (worker pool)").
//
// The workers run the *-threads builds: the same kernels as the single-threaded builds (the build
// checks the code is identical) over an imported shared memory. The calling thread checks the
// arguments with the single-threaded code, copies the input chunk by chunk into a ring of slots
// in the shared memory and copies each chunk's result out, while the workers run the kernels on
// the chunks (claimed in order, one at a time). Every row goes through the same kernel with the
// same arguments as in the single-threaded functions, and per-row losses are reduced on the
// calling thread in row order by the same ce_reduce, so results are bit-identical for any number
// of workers. Inputs below a measured size run on the calling thread.
//
// The calling thread records each chunk's kernel calls (export index + arguments) into the slot's
// command area through a recording stand-in for the wasm exports, so the existing per-chunk code
// (runRows, the transposes) drives the workers unchanged; a worker only replays the calls.

import { fail, newResult, oneOf, optionsObject, type DType, type FloatArray } from './check.js';
import {
  callBytes, crossEntropy, crossEntropyArgs, crossEntropyWithGrad, reducedLoss, runRows, startCall,
  type CrossEntropyOptions, type LossAndGrad, type Target,
} from './cross-entropy.js';
import type { Kernels } from './kernels.js';
import type { Layout } from './layout.js';
import { getRuntime, init, onSwitch, wasmBytes, type Backend, type Runtime } from './load.js';
import { Arena, Scratch, regionSize } from './memory.js';
import { sharedMemoryBuild } from './shared-build.js';
import { CMD_CAP, ERR, LINE, LOADED, MASK, NEXT, QUIT, RUN, SIGNAL, SLEEPING, nodeWorkerSource, webWorkerSource, type WorkerInit } from './pool-worker.js';
import {
  backwardArgs, forwardArgs, logSoftmax, logSoftmaxBackward, logSumExp, logSumExpArgs, softmax, softmaxBackward,
  type BackwardOptions, type LogSumExpOptions, type SoftmaxOptions,
} from './softmax.js';

/** Options of {@link createPool}. */
export interface PoolOptions {
  /** Workers to start: a positive integer, or 'auto' (default): the available cores. */
  threads?: number | 'auto';
  /** The build to use (as `init({ backend })`: it becomes the build of the whole module). */
  backend?: Backend;
}

/**
 * A pool of workers sharing one wasm memory. Its functions take the same arguments as the
 * module's and resolve to the same results, bit for bit, for any number of threads.
 */
export interface Pool {
  /** How many workers run. */
  readonly threads: number;
  softmax<A extends FloatArray>(x: A, options: SoftmaxOptions<A>): Promise<A>;
  logSoftmax<A extends FloatArray>(x: A, options: SoftmaxOptions<A>): Promise<A>;
  logSumExp<A extends FloatArray>(x: A, options: LogSumExpOptions<A>): Promise<A>;
  softmaxBackward<A extends FloatArray>(y: A, gradOutput: A, options: BackwardOptions<A>): Promise<A>;
  logSoftmaxBackward<A extends FloatArray>(y: A, gradOutput: A, options: BackwardOptions<A>): Promise<A>;
  crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A> & { reduction: 'none' }): Promise<A>;
  crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A> & { reduction?: 'mean' | 'sum' }): Promise<number>;
  crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): Promise<number | A>;
  crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A> & { reduction: 'none' }): Promise<LossAndGrad<A, A>>;
  crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A> & { reduction?: 'mean' | 'sum' }): Promise<LossAndGrad<number, A>>;
  crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): Promise<LossAndGrad<number | A, A>>;
  /** Ends the workers; every later call rejects. */
  dispose(): Promise<void>;
}

/**
 * Tuning, measured on 2 cores (bench/threads.mjs, and sweeps of [N, C] for C = 10 ... 10000).
 * - A call runs on the calling thread unless its work, `elements + rows * rowWeight` (a row
 *   costs about as much as 64 elements), reaches `cutoff`. The pool breaks even where one thread
 *   takes ~60 us (work ~70000) and is >= 1.15x faster from ~100000 (~90 us); below
 *   `minElements` elements nothing beyond the input's length is looked at.
 * - A chunk holds about `chunkBytes` of each input, and a call has at least `chunksPerThread`
 *   chunks per worker when its rows allow; the slots of one call take at most `slotBudget`.
 * - `spin`: a worker polls this many times for a chunk before sleeping.
 * - `help`: the calling thread runs chunks itself while it waits for a slot to come free.
 * - `wakeBacklog`: a sleeping worker is woken when this many loaded chunks wait (or when none
 *   is awake), up to cores - 1 workers awake at once (`cores`: 0 = the available cores).
 */
export const tuning = {
  minElements: 16384,
  cutoff: 100000,
  rowWeight: 64,
  chunkBytes: 256 * 1024,
  chunksPerThread: 4,
  slotBudget: 64 << 20,
  spin: 200,
  help: true,
  wakeBacklog: 2,
  cores: 0,
};

/** Counts of the calls and chunks that went through pools, the chunks the calling thread ran
 *  itself, the times it slept waiting for one and the times it woke a worker (for tests and tuning). */
export const stats = { calls: 0, chunks: 0, helped: 0, waits: 0, wakes: 0 };

const BACKENDS: readonly Backend[] = ['relaxed-simd', 'simd', 'scalar'];
const moduleCache = new Map<Backend, Promise<WebAssembly.Module>>();

/** The shared-memory variant of a build (src/shared-build.ts), compiled once. */
function threadedModule(b: Backend): Promise<WebAssembly.Module> {
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
function sharedMemory(): WebAssembly.Memory {
  for (let max = 65536; max >= 256; max >>= 1) {
    try {
      return new WebAssembly.Memory({ initial: 2, maximum: max, shared: true });
    } catch {
      // try a smaller reservation
    }
  }
  throw new Error('createPool: this runtime cannot create a shared WebAssembly.Memory');
}

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (name: string) => unknown;
}
const nodeProcess = (): NodeProcess | undefined => {
  const p = (globalThis as { process?: NodeProcess }).process;
  return typeof p?.versions?.node === 'string' ? p : undefined;
};

/** A Node built-in module, without an import the bundle would carry: process.getBuiltinModule
 *  (Node >= 20.16). */
function nodeBuiltin<T>(name: string): T {
  const p = nodeProcess()!;
  if (typeof p.getBuiltinModule !== 'function') {
    throw new Error(`createPool: worker pools need Node >= 20.16 (process.getBuiltinModule); this is Node ${p.versions!.node}`);
  }
  return p.getBuiltinModule(name) as T;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
let blockable: boolean | undefined;
function canBlock(): boolean {
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

/** A started worker, Node or Web. */
interface WorkerHandle {
  terminate(): Promise<void>;
  unref(): void;
}

interface NodeWorker {
  on(event: string, listener: (arg: never) => void): void;
  off(event: string, listener: (arg: never) => void): void;
  terminate(): Promise<number>;
  unref(): void;
}

function startWorker(init: WorkerInit): Promise<WorkerHandle> {
  return new Promise((resolve, reject) => {
    const fail = (message: string) => reject(new Error(`createPool: a worker failed to start: ${message}`));
    if (nodeProcess()) {
      const { Worker } = nodeBuiltin<{ Worker: new (code: string, o: object) => NodeWorker }>('node:worker_threads');
      const w = new Worker(nodeWorkerSource(), { eval: true, workerData: init });
      const onError = (e: Error) => fail(e.message);
      const onExit = (code: number) => fail(`it exited with code ${code}`);
      const onMessage = (m: { type: string; message?: string }) => {
        w.off('error', onError);
        w.off('exit', onExit);
        w.off('message', onMessage);
        if (m.type !== 'ready') {
          void w.terminate();
          return fail(m.message ?? 'unknown error');
        }
        resolve({ terminate: () => w.terminate().then(() => undefined), unref: () => w.unref() });
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
    w.onmessage = (e: MessageEvent<{ type: string; message?: string }>) => {
      URL.revokeObjectURL(url);
      w.onmessage = null;
      w.onerror = null;
      if (e.data.type !== 'ready') {
        w.terminate();
        return fail(e.data.message ?? 'unknown error');
      }
      resolve({ terminate: async () => w.terminate(), unref: () => {} });
    };
    w.postMessage(init);
  });
}

async function availableCores(): Promise<number> {
  if (nodeProcess()) {
    const os = nodeBuiltin<{ availableParallelism?: () => number; cpus: () => unknown[] }>('node:os');
    return Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? n : 1;
}

/**
 * Starts a pool of `threads` workers (`'auto'`: the available cores) sharing one wasm memory, and
 * resolves to a {@link Pool} whose functions take the same arguments as the module's and resolve
 * to bit-identical results. Initializes the module first (as `init({ backend })`). Needs
 * SharedArrayBuffer: in browsers a `crossOriginIsolated` page (COOP/COEP headers).
 *
 * @example
 * ```ts
 * const pool = await createPool({ threads: 'auto' });
 * const { loss, grad } = await pool.crossEntropyWithGrad(logits, labels, { classes: 50257 });
 * await pool.dispose();
 * ```
 */
export async function createPool(options?: PoolOptions): Promise<Pool> {
  const fn = 'createPool';
  const opts = optionsObject<PoolOptions>(fn, options, false);
  let threads: number | 'auto' = 'auto';
  if (opts.threads !== undefined && opts.threads !== 'auto') {
    const t: unknown = opts.threads;
    if (typeof t !== 'number') fail(fn, 'options.threads', "a positive integer or 'auto'", t, typeof t === 'string' ? RangeError : TypeError);
    if (!Number.isInteger(t) || t < 1 || t > 256) fail(fn, 'options.threads', "an integer in [1, 256] or 'auto'", t, RangeError);
    threads = t;
  }
  const b = opts.backend === undefined ? undefined : oneOf(fn, 'options.backend', opts.backend, BACKENDS);
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) {
    throw new Error(`${fn}: worker pools need SharedArrayBuffer; in a browser the page must be cross-origin isolated ` +
      '(crossOriginIsolated is false: serve it with the headers Cross-Origin-Opener-Policy: same-origin and ' +
      'Cross-Origin-Embedder-Policy: require-corp)');
  }
  if (nodeProcess()) nodeBuiltin('node:worker_threads');
  else if (typeof g.Worker !== 'function') throw new Error(`${fn}: this runtime has no Web Workers`);
  // (No line of the bundle may start with `await`: scripts/build/build-js.mjs reads that as top-level.)
  const rt = await init(b === undefined ? undefined : { backend: b }).then(() => getRuntime(fn));
  const module = await threadedModule(rt.backend);
  const cores = await availableCores();
  const pool = new PoolImpl(rt, module, threads === 'auto' ? cores : threads, cores);
  const error = await pool.start().then(
    () => (getRuntimeOrNull() === rt ? null : new Error(`${fn}: the module switched builds (init) while the pool was starting`)),
    (e: unknown) => e,
  );
  if (error !== null) return pool.dispose().then(() => Promise.reject(error));
  return pool;
}

function getRuntimeOrNull(): Runtime | null {
  try {
    return getRuntime('');
  } catch {
    return null;
  }
}

const live = new Set<PoolImpl>();
let listening = false;

/** How a call is cut into chunks of whole outer blocks, and where its slots are. */
interface Plan {
  L: Layout;
  shift: 2 | 3;
  /** Outer blocks per chunk, chunks, slots this call uses (a power of two). */
  per: number;
  chunks: number;
  slots: number;
  inputs: number;
  rowOut: boolean;
  slotBytes: number;
}

type ChunkKernel = (rowPtrs: readonly number[], rowOutPtr: number, firstRow: number, rows: number) => void;

class PoolImpl implements Pool {
  readonly threads: number;
  private disposed = false;
  private closing: Promise<void> | null = null;
  /** The pool's own runtime: an instance of the threaded build on this thread, over the shared memory. */
  private readonly prt: Runtime;
  private readonly memory: WebAssembly.Memory;
  private readonly module: WebAssembly.Module;
  private readonly names: string[];
  private readonly fns: ((...args: number[]) => unknown)[];
  private readonly rec: Kernels;
  private readonly maxSlots: number;
  /** The available cores (when the pool started). */
  private readonly cores: number;
  private readonly ctrl: number;
  private readonly cmdPtr: number;
  private readonly i32: Int32Array;
  private readonly cmd: Float64Array;
  private cmdPos = 0;
  private cmdEnd = 0;
  private cmdCount = 0;
  private ticket = 0;
  private workers: WorkerHandle[] = [];

  constructor(rt: Runtime, module: WebAssembly.Module, threads: number, cores: number) {
    this.module = module;
    this.threads = threads;
    this.cores = cores;
    this.memory = sharedMemory();
    const exports = new WebAssembly.Instance(module, {
      env: {
        memory: this.memory,
        abort() {
          throw new Error('softmax-wasm: internal error (wasm abort)');
        },
      },
    }).exports as unknown as Kernels & Record<string, unknown>;
    const arena = new Arena(exports);
    this.prt = { backend: rt.backend, kernels: exports, arena, scratch: new Scratch(arena), module };
    this.names = Object.keys(exports).filter((k) => typeof exports[k] === 'function');
    this.fns = this.names.map((k) => exports[k] as (...args: number[]) => unknown);
    this.rec = Object.fromEntries(this.names.map((k, i) => [k, (...args: number[]) => this.record(i, args)])) as unknown as Kernels;
    let s = 4;
    while (s < 2 * threads + 2) s *= 2;
    this.maxSlots = s;
    this.ctrl = arena.alloc(4 * LINE * (1 + s), 'createPool: the control block');
    this.cmdPtr = arena.alloc(8 * CMD_CAP * s, 'createPool: the command area');
    const buffer = arena.views().u8.buffer;
    this.i32 = new Int32Array(buffer, this.ctrl, LINE * (1 + s));
    this.cmd = new Float64Array(buffer, this.cmdPtr, CMD_CAP * s);
    for (let k = 0; k < s; k++) this.i32[LINE * (1 + k)] = -1; // DONE: no ticket yet
    this.i32[MASK] = s - 1;
  }

  async start(): Promise<void> {
    live.add(this);
    if (!listening) {
      listening = true;
      onSwitch(() => {
        for (const p of [...live]) void p.dispose();
      });
    }
    const init: WorkerInit = {
      module: this.module, memory: this.memory, ctrl: this.ctrl, cmd: this.cmdPtr, slots: this.maxSlots,
      names: this.names, spin: tuning.spin, id: 0,
    };
    const started = await Promise.allSettled(Array.from({ length: this.threads }, (_, id) => startWorker({ ...init, id })));
    for (const r of started) if (r.status === 'fulfilled') this.workers.push(r.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (this.disposed) {
      // Disposed (a backend switch) while starting: end the workers that came up meanwhile.
      const ended = Promise.all(this.workers.map((w) => w.terminate()));
      return ended.then(() => Promise.reject(new Error('createPool: the module switched builds (init) while the pool was starting')));
    }
    // Idle workers sleep in Atomics.wait; they must not keep a Node process alive.
    for (const w of this.workers) w.unref();
  }

  dispose(): Promise<void> {
    if (this.closing) return this.closing;
    this.disposed = true;
    live.delete(this);
    // QUIT first, then a change of SIGNAL: a worker about to sleep on the old SIGNAL wakes at once.
    Atomics.store(this.i32, QUIT, 1);
    Atomics.add(this.i32, SIGNAL, 1);
    Atomics.notify(this.i32, SIGNAL);
    const workers = this.workers;
    this.workers = [];
    this.closing = Promise.all(workers.map((w) => w.terminate())).then(() => undefined);
    return this.closing;
  }

  /** Chunks run so far by each of the first 8 workers (for tests). */
  workerChunks(): number[] {
    return Array.from({ length: Math.min(8, this.threads) }, (_, k) => Atomics.load(this.i32, RUN + k));
  }

  private use(fn: string): void {
    if (this.disposed) throw new Error(`Pool.${fn}: this pool has been disposed`);
  }

  /**
   * Whether a call may be worth the workers: its work (elements + rowWeight per row) reaches the
   * cutoff, and there is a core for a worker besides the calling thread's. Estimated from the
   * options as given, before they are checked (a call with bad options goes on to the checks,
   * which throw); calls below run on this thread, allocating nothing here.
   */
  private large(x: unknown, options: unknown, defaultAxis: -1 | 1): boolean {
    if (!(x instanceof Float32Array || x instanceof Float64Array) || x.length < tuning.minElements) return false;
    if ((tuning.cores || this.cores) < 2) return false;
    const n = x.length;
    const o = options as { classes?: unknown; shape?: unknown; axis?: unknown } | null | undefined;
    let C: unknown = o?.classes;
    if (C === undefined && Array.isArray(o?.shape)) {
      const rank = o.shape.length;
      let a = typeof o.axis === 'number' ? o.axis : defaultAxis === 1 && rank === 1 ? 0 : defaultAxis;
      if (a < 0) a += rank;
      C = o.shape[a];
    }
    if (typeof C !== 'number' || !(C >= 1)) return true;
    return n + (n / C) * tuning.rowWeight >= tuning.cutoff;
  }

  // -- the compute functions ---------------------------------------------------------------

  async softmax<A extends FloatArray>(x: A, options: SoftmaxOptions<A>): Promise<A> {
    return this.forward('softmax', false, x, options);
  }

  async logSoftmax<A extends FloatArray>(x: A, options: SoftmaxOptions<A>): Promise<A> {
    return this.forward('logSoftmax', true, x, options);
  }

  private forward<A extends FloatArray>(fn: string, log: boolean, x: A, options: SoftmaxOptions<A>): A {
    this.use(fn);
    const single = (o: SoftmaxOptions<A>) => (log ? logSoftmax(x, o) : softmax(x, o));
    if (!this.large(x, options, -1)) return single(options);
    const { dtype, L, b, out } = forwardArgs(fn, x, options);
    const plan = this.plan(L, dtype, 1, false);
    if (!plan) return single(options);
    const k = this.rec;
    const f32 = dtype === 'f32';
    const run = log ? (f32 ? k.log_softmax_f32 : k.log_softmax_f64) : (f32 ? k.softmax_f32 : k.softmax_f64);
    const at = this.prt.scratch;
    at.begin(plan.slots * plan.slotBytes, `${fn}: the scratch space for x`);
    const result = out ?? newResult(fn, x.constructor as new (n: number) => A, x.length, 'x'); // after the size check
    this.stream(plan, at.take(plan.slots * plan.slotBytes), [x], result, 0, null, (p, _o, _r, rows) => run(p[0]!, p[0]!, rows, L.C, b));
    return result;
  }

  async logSumExp<A extends FloatArray>(x: A, options: LogSumExpOptions<A>): Promise<A> {
    const fn = 'logSumExp';
    this.use(fn);
    if (!this.large(x, options, -1)) return logSumExp(x, options);
    const { dtype, L, out } = logSumExpArgs(fn, x, options);
    const plan = this.plan(L, dtype, 1, true);
    if (!plan) return logSumExp(x, options);
    const run = dtype === 'f32' ? this.rec.logsumexp_f32 : this.rec.logsumexp_f64;
    const at = this.prt.scratch;
    at.begin(plan.slots * plan.slotBytes, `${fn}: the scratch space for x`);
    const result = out ?? newResult(fn, x.constructor as new (n: number) => A, L.rows, 'options.shape'); // after the size check
    this.stream(plan, at.take(plan.slots * plan.slotBytes), [x], null, 0, result, (p, o, _r, rows) => run(p[0]!, o, rows, L.C));
    return result;
  }

  async softmaxBackward<A extends FloatArray>(y: A, gradOutput: A, options: BackwardOptions<A>): Promise<A> {
    return this.backward('softmaxBackward', true, y, gradOutput, options);
  }

  async logSoftmaxBackward<A extends FloatArray>(y: A, gradOutput: A, options: BackwardOptions<A>): Promise<A> {
    return this.backward('logSoftmaxBackward', false, y, gradOutput, options);
  }

  private backward<A extends FloatArray>(fn: string, soft: boolean, y: A, gradOutput: A, options: BackwardOptions<A>): A {
    this.use(fn);
    const single = (o: BackwardOptions<A>) => (soft ? softmaxBackward(y, gradOutput, o) : logSoftmaxBackward(y, gradOutput, o));
    if (!this.large(y, options, -1)) return single(options);
    const { dtype, L, out } = backwardArgs(fn, y, gradOutput, options);
    const plan = this.plan(L, dtype, 2, false);
    if (!plan) return single(options);
    const k = this.rec;
    const f32 = dtype === 'f32';
    const run = soft ? (f32 ? k.softmax_backward_f32 : k.softmax_backward_f64) : (f32 ? k.log_softmax_backward_f32 : k.log_softmax_backward_f64);
    const at = this.prt.scratch;
    at.begin(plan.slots * plan.slotBytes, `${fn}: the scratch space for y and gradOutput`);
    const result = out ?? newResult(fn, y.constructor as new (n: number) => A, y.length, 'y'); // after the size check
    this.stream(plan, at.take(plan.slots * plan.slotBytes), [y, gradOutput], result, 1, null, (p, _o, _r, rows) => run(p[0]!, p[1]!, p[1]!, rows, L.C));
    return result;
  }

  async crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): Promise<number | A> {
    const fn = 'crossEntropy';
    this.use(fn);
    if (!this.large(logits, options, 1)) return crossEntropy(logits, target, options);
    return this.crossEntropyImpl(fn, logits, target, options, false).loss;
  }

  async crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): Promise<LossAndGrad<number | A, A>> {
    const fn = 'crossEntropyWithGrad';
    this.use(fn);
    if (!this.large(logits, options, 1)) return crossEntropyWithGrad(logits, target, options);
    const r = this.crossEntropyImpl(fn, logits, target, options, true);
    return { loss: r.loss, grad: r.grad! };
  }

  /** The pool's crossEntropyImpl (src/cross-entropy.ts). */
  private crossEntropyImpl<A extends FloatArray>(fn: string, logits: A, target: Target<A>, options: CrossEntropyOptions<A>, withGrad: boolean): { loss: number | A; grad: A | null } {
    let { dtype, L, probabilities, p, grad, lossOut } = crossEntropyArgs(fn, logits, target, options, withGrad);
    const { C, rows } = L;
    const plan = this.plan(L, dtype, probabilities ? 2 : 1, false);
    if (!plan) {
      // Too few chunks for the workers (nothing is allocated yet): the single-threaded call.
      return withGrad ? crossEntropyWithGrad(logits, target, options) : { loss: crossEntropy(logits, target, options), grad: null };
    }
    const prt = this.prt;
    const shift = plan.shift;
    const size = 1 << shift;
    const slotsBytes = plan.slots * plan.slotBytes;
    const scratch = prt.scratch;
    scratch.begin(callBytes(C, rows, shift, probabilities, withGrad, p) + slotsBytes, `${fn}: the scratch space for logits`);
    // The results are allocated after the size check, as in the single-threaded functions.
    const Ctor = logits.constructor as new (n: number) => A;
    if (withGrad) grad ??= newResult(fn, Ctor, logits.length, 'logits');
    if (p.reduction === 'none') lossOut ??= newResult(fn, Ctor, rows, 'options.shape');
    const call = startCall(fn, prt, scratch, dtype, C, rows, probabilities, withGrad, p, target);
    const lossT = call.lossT;
    const slots = scratch.take(slotsBytes);
    const recRt = { kernels: this.rec } as Runtime;
    const ins: FloatArray[] = probabilities ? [logits, target as A] : [logits];
    this.stream(plan, slots, ins, grad, 0, null, (ptrs, _o, firstRow, n) =>
      runRows(recRt, call, ptrs[0]!, probabilities ? ptrs[1]! : 0, withGrad ? ptrs[0]! : 0, lossT ? lossT + firstRow * size : 0, firstRow, n));
    if (lossOut) {
      const view = dtype === 'f32' ? prt.arena.views().f32 : prt.arena.views().f64;
      lossOut.set(view.subarray(lossT >>> shift, (lossT >>> shift) + rows));
      return { loss: lossOut, grad };
    }
    return { loss: reducedLoss(prt, call), grad };
  }

  // -- the chunk pipeline ------------------------------------------------------------------

  /** Cuts a call into chunks of whole outer blocks; null (the calling thread runs it) when its
   *  work is below the cutoff or it makes fewer than 2 chunks. */
  private plan(L: Layout, dtype: DType, inputs: number, rowOut: boolean): Plan | null {
    const shift = dtype === 'f32' ? 2 : 3;
    const unitBytes = L.C * L.inner * (1 << shift);
    if (L.outer < 2 || unitBytes === 0 || L.outer * L.C * L.inner + L.rows * tuning.rowWeight < tuning.cutoff) return null;
    let per = Math.max(1, Math.floor(tuning.chunkBytes / unitBytes));
    per = Math.min(per, Math.max(1, Math.ceil(L.outer / (this.threads * tuning.chunksPerThread))));
    const chunks = Math.ceil(L.outer / per);
    if (chunks < 2) return null;
    const strided = L.inner > 1;
    const chunkBytes = regionSize(per * unitBytes);
    const slotBytes = (strided ? 2 : 1) * inputs * chunkBytes + (rowOut ? regionSize(per * L.inner * (1 << shift)) : 0);
    // As many slots as the budget allows (at least 2: one being filled while one is run).
    let slots = this.maxSlots;
    while (slots > 2 && slots * slotBytes > tuning.slotBudget) slots >>= 1;
    return { L, shift, per, chunks, slots, inputs, rowOut, slotBytes };
  }

  /** Records a kernel call of the chunk being loaded. */
  private record(index: number, args: number[]): void {
    const c = this.cmd;
    let p = this.cmdPos;
    if (p + 2 + args.length > this.cmdEnd) throw new Error('softmax-wasm: internal error (pool command area full)');
    c[p] = index;
    c[p + 1] = args.length;
    for (let j = 0; j < args.length; j++) c[p + 2 + j] = args[j]!;
    this.cmdPos = p + 2 + args.length;
    this.cmdCount++;
  }

  /** Runs slot s's recorded calls on this thread. */
  private replay(s: number): void {
    const c = this.cmd;
    let p = s * CMD_CAP;
    const count = c[p++]!;
    for (let k = 0; k < count; k++) {
      const f = c[p]!;
      const n = c[p + 1]!;
      const args: number[] = [];
      for (let j = 0; j < n; j++) args.push(c[p + 2 + j]!);
      this.fns[f]!(...args);
      p += 2 + n;
    }
  }

  /**
   * The pool's streamChunks (src/stream.ts): the same chunks' kernel calls on the same row data,
   * but pipelined: this thread copies chunk i into slot i mod slots while workers run the earlier
   * chunks, and copies a chunk's results out before refilling its slot.
   */
  private stream(plan: Plan, base: number, ins: readonly FloatArray[], elemOut: FloatArray | null, elemFrom: number,
    rowOut: FloatArray | null, kernel: ChunkKernel): void {
    const { L, shift, per, chunks, slots, slotBytes } = plan;
    const { outer, C, inner } = L;
    const unitElems = C * inner;
    const strided = inner > 1;
    const chunkBytes = regionSize(per * unitElems * (1 << shift));
    const i32 = this.i32;
    const transpose = shift === 2 ? this.rec.transpose_f32 : this.rec.transpose_f64;
    const a = this.prt.arena.views();
    const view = shift === 2 ? a.f32 : a.f64;
    // Region addresses per slot: raw input regions, transposed ones (strided), the per-row output.
    const raw: number[][] = [];
    const tr: number[][] = [];
    const rowPtr: number[] = [];
    for (let s = 0; s < slots; s++) {
      let p = base + s * slotBytes;
      raw.push([]);
      tr.push([]);
      for (let j = 0; j < ins.length; j++, p += chunkBytes) raw[s]!.push(p);
      if (strided) for (let j = 0; j < ins.length; j++, p += chunkBytes) tr[s]!.push(p);
      rowPtr.push(rowOut ? p : 0);
    }
    stats.calls++;
    stats.chunks += chunks;
    const mask = slots - 1;
    const first = this.ticket;
    Atomics.store(i32, MASK, mask);
    // The calling thread is busy through the whole call (it copies each chunk in and out, and
    // runs chunks itself when the workers fall behind), so it takes a core: more than cores - 1
    // workers running at once would only crowd it out.
    const maxAwake = Math.max(1, Math.min(this.threads, (tuning.cores || this.cores) - 1));
    let loaded = 0; // chunks loaded: tickets first .. first + loaded - 1
    let collected = 0; // chunks whose results have been copied out

    /** Copies chunk i's inputs into its slot, records its kernel calls, and offers it. */
    const load = (i: number) => {
      const t = (first + i) | 0;
      const s = t & mask;
      const u0 = i * per;
      const n = Math.min(per, outer - u0);
      const e0 = u0 * unitElems;
      const r = raw[s]!;
      for (let j = 0; j < ins.length; j++) view.set(ins[j]!.subarray(e0, e0 + n * unitElems), r[j]! >>> shift);
      this.cmdPos = s * CMD_CAP + 1;
      this.cmdEnd = (s + 1) * CMD_CAP;
      this.cmdCount = 0;
      if (strided) {
        const q = tr[s]!;
        for (let j = 0; j < ins.length; j++) transpose(r[j]!, q[j]!, n, C, inner); // [n, C, inner] -> rows of C
        kernel(q, rowPtr[s]!, u0 * inner, n * inner);
        if (elemOut) transpose(q[elemFrom]!, r[elemFrom]!, n, inner, C); // back to [n, C, inner]
      } else {
        kernel(r, rowPtr[s]!, u0, n);
      }
      this.cmd[s * CMD_CAP] = this.cmdCount;
      Atomics.store(i32, LOADED, (t + 1) | 0);
      loaded = i + 1;
      // Wake a sleeping worker if this chunk would otherwise wait (none is awake, or the awake
      // ones are behind already) and fewer than maxAwake run.
      const waiting = (t + 1 - Atomics.load(i32, NEXT)) | 0;
      const awake = this.threads - Atomics.load(i32, SLEEPING);
      if (waiting > 0 && awake < maxAwake && (awake <= 0 || waiting >= tuning.wakeBacklog)) {
        stats.wakes++;
        Atomics.add(i32, SIGNAL, 1);
        Atomics.notify(i32, SIGNAL, 1);
      }
    };

    /** Waits for chunk i and copies its results out. */
    const collect = (i: number) => {
      const t = (first + i) | 0;
      const s = t & mask;
      this.waitDone(s, t, (first + loaded) | 0);
      collected = i + 1;
      const u0 = i * per;
      const n = Math.min(per, outer - u0);
      if (elemOut) {
        const p = raw[s]![elemFrom]! >>> shift;
        elemOut.set(view.subarray(p, p + n * unitElems), u0 * unitElems);
      }
      if (rowOut) {
        const p = rowPtr[s]! >>> shift;
        rowOut.set(view.subarray(p, p + n * inner), u0 * inner);
      }
    };

    try {
      for (let i = 0; i < chunks; i++) {
        if (i >= slots) collect(i - slots);
        load(i);
      }
      for (let i = collected; i < chunks; i++) collect(i);
    } finally {
      // Only after an internal error: let every loaded chunk finish, so the next call starts clean.
      for (let i = collected; i < loaded; i++) this.waitDone(((first + i) | 0) & mask, (first + i) | 0, (first + loaded) | 0);
      this.ticket = (first + loaded) | 0;
    }
    if (Atomics.load(i32, ERR) !== 0) {
      Atomics.store(i32, ERR, 0);
      throw new Error('softmax-wasm: internal error in a pool worker (a wasm trap)');
    }
  }

  /** Waits until ticket t (slot s) is done. Meanwhile this thread runs loaded tickets no worker
   *  has claimed yet (tickets before `loaded`), rather than idling. */
  private waitDone(s: number, t: number, loaded: number): void {
    const i32 = this.i32;
    const done = LINE * (1 + s);
    const block = canBlock();
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
              this.replay(hs);
            } catch {
              Atomics.store(i32, ERR, 1);
            }
            Atomics.store(i32, LINE * (1 + hs), v);
          }
          continue;
        }
      }
      if (block) {
        stats.waits++;
        Atomics.wait(i32, done, d);
      }
    }
  }
}
