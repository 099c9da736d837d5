// Multi-core: a pool of workers that share one wasm memory (API.md, "Multi-core (worker pool)").
//
// The workers run the threaded builds: the same kernels as the single-threaded builds (the build
// checks the code is identical) over an imported shared memory. A pool call checks its arguments
// and runs its operation exactly as the module's functions do (src/pipeline.ts,
// src/cross-entropy.ts), with the pool's plan and executor (src/pool-ring.ts): the calling
// thread copies the input chunk by chunk into a ring of slots in the shared memory and copies
// each chunk's result out, while the workers run the kernels on the chunks. Every row goes
// through the same kernel with the same arguments as in the single-threaded functions (chunks
// of short rows hold multiples of four, as theirs: src/plan.ts groupAligned), and the per-row
// losses are reduced on the calling thread, once over all rows, by the same ce_reduce, so
// results are bit-identical for any number of workers. Inputs below a measured size run on the
// calling thread. This file is the API surface; src/pool-host.ts starts and ends the workers.

import { fail, oneOf, optionsObject, type FloatArray } from './check.js';
import {
  crossEntropy, crossEntropyArgs, crossEntropyWithGrad, runLoss,
  type CrossEntropyOptions, type LossAndGrad, type Target,
} from './cross-entropy.js';
import {
  ARGMAX, argmax, decodeCall, SAMPLE, SAMPLING_DISTRIBUTION, TOP_K, type DecodeOp, type Pooled,
  type ArgmaxOptions, type SampleOptions, type SamplingDistributionOptions, type TopK, type TopKOptions,
} from './decoding.js';
import type { Kernels } from './kernels.js';
import { BACKENDS, currentRuntime, getRuntime, init, newRuntime, onSwitch, type Backend, type Runtime } from './load.js';
import { rowOpArgs, runRowOp, type RowOp } from './pipeline.js';
import { availableCores, nodeBuiltin, nodeByteCopy, nodeProcess, sharedMemory, startWorker, threadedModule, type WorkerHandle } from './pool-host.js';
import { ChunkRing, inPlacePlan, tuning } from './pool-ring.js';
import { PoolWorkspaceImpl, type PoolWorkspace, type WorkspacePool } from './pool-workspace.js';
import { workspaceOptions, WorkspaceImpl, type WorkspaceOptions } from './workspace.js';
import {
  LOG_SOFTMAX, LOG_SOFTMAX_BACKWARD, LOG_SUM_EXP, logSoftmax, logSoftmaxBackward, logSumExp, SOFTMAX, SOFTMAX_BACKWARD, softmax, softmaxBackward,
  type BackwardOptions, type LogSumExpOptions, type SoftmaxOptions,
} from './softmax.js';

export { stats, tuning } from './pool-ring.js';

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
  /** {@link samplingDistribution}: rows split across the workers when large enough. */
  samplingDistribution<A extends FloatArray>(logits: A, options: SamplingDistributionOptions<A>): Promise<A>;
  /** {@link sample}: rows split across the workers when large enough; the uniforms are drawn on
   *  the calling thread in row order first, so the tokens do not depend on the split. */
  sample(logits: FloatArray, options: SampleOptions): Promise<Int32Array>;
  /** {@link topK}: rows split across the workers when large enough. */
  topK<A extends FloatArray>(logits: A, k: number, options: TopKOptions): Promise<TopK<A>>;
  /** {@link argmax}: on the workers when large enough, as the softmax family. */
  argmax(logits: FloatArray, options: ArgmaxOptions): Promise<Int32Array>;
  /** A workspace in the pool's shared memory (the options of {@link createWorkspace}): the same
   *  properties and views, and compute methods that split the active rows across the workers with
   *  no copy, resolving to bit-identical results. `dispose()` of the pool disposes it. */
  createWorkspace<D extends 'float32' | 'float64' = 'float32', T extends 'indices' | 'probabilities' = 'indices'>(
    options: WorkspaceOptions & { dtype?: D; target?: T },
  ): PoolWorkspace<D extends 'float64' ? Float64Array : Float32Array, T extends 'probabilities' ? (D extends 'float64' ? Float64Array : Float32Array) : Int32Array>;
  /** Ends the workers; every later call rejects. */
  dispose(): Promise<void>;
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
    () => (currentRuntime() === rt ? null : new Error(`${fn}: the module switched builds (init) while the pool was starting`)),
    (e: unknown) => e,
  );
  if (error !== null) return pool.dispose().then(() => Promise.reject(error));
  return pool;
}

const live = new Set<PoolImpl>();
let listening = false;

class PoolImpl implements Pool {
  readonly threads: number;
  private disposed = false;
  private closing: Promise<void> | null = null;
  /** The pool's own runtime: an instance of the threaded build on this thread, over the shared memory. */
  private readonly prt: Runtime;
  readonly ring: ChunkRing;
  private readonly memory: WebAssembly.Memory;
  private readonly module: WebAssembly.Module;
  /** The available cores (when the pool started). */
  private readonly cores: number;
  private workers: WorkerHandle[] = [];
  /** Set when a worker stopped on its own (died()). */
  private broken: Error | null = null;
  private readonly workspaces = new Set<WorkspaceImpl>();

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
    }).exports as unknown as Kernels;
    this.prt = newRuntime(rt.backend, exports, module);
    this.prt.arena.byteCopy = nodeByteCopy();
    this.ring = new ChunkRing(exports, this.prt.arena, threads, cores);
    this.ring.arrays.byteCopy = this.prt.arena.byteCopy; // (the workers' too: workerInit's fastCopy)
  }

  async start(): Promise<void> {
    live.add(this);
    if (!listening) {
      listening = true;
      onSwitch(() => {
        for (const p of [...live]) void p.dispose();
      });
    }
    const joining = { module: this.module, memory: this.memory, ...this.ring.workerInit() };
    const started = await Promise.allSettled(Array.from({ length: this.threads }, (_, id) => startWorker({ ...joining, id })));
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
    this.workers.forEach((w, k) => w.onDeath((what) => this.died(k, what)));
    // A call waiting for a chunk blocks this thread, so no exit event reaches it: it asks.
    this.ring.stopped = () => this.workers.findIndex((w) => w.stopped?.() === true);
    this.ring.onLost = (k, what) => (this.died(k, what), new Error(`softmax-wasm: ${this.broken?.message ?? what}`));
    this.ring.arrays.connect(this.workers.map((w) => w.send), this.workers.map((w) => w.taken));
  }

  /** Worker k stopped on its own (k = -1: a worker, not known which, stopped or is stuck): every
   *  later call (and a pooled workspace's pending one) rejects with this error; dispose() still
   *  ends the others. */
  private died(k: number, what: string): void {
    if (this.disposed || this.broken) return;
    this.broken = new Error(`${k >= 0 ? `worker ${k} stopped (${what})` : what}; this pool can run no more calls: dispose it`);
    this.ring.quit();
  }

  dispose(): Promise<void> {
    if (this.closing) return this.closing;
    this.disposed = true;
    live.delete(this);
    for (const ws of this.workspaces) ws.dispose();
    this.workspaces.clear();
    this.ring.quit();
    const workers = this.workers;
    this.workers = [];
    this.closing = Promise.all(workers.map((w) => w.terminate())).then(() => undefined);
    return this.closing;
  }

  private use(fn: string): void {
    if (this.disposed) throw new Error(`Pool.${fn}: this pool has been disposed`);
    if (this.broken) throw new Error(`Pool.${fn}: ${this.broken.message}`);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createWorkspace(options: WorkspaceOptions): any {
    const fn = 'Pool.createWorkspace';
    this.use('createWorkspace');
    const o = workspaceOptions(fn, options);
    const ws = new WorkspaceImpl(this.prt, o.classes, o.rows, o.dt, o.probabilities, true);
    this.workspaces.add(ws);
    return new PoolWorkspaceImpl(ws, this.forWorkspaces());
  }

  /** What the pool's workspaces use: its runtime, its state, its plan and executor. */
  private forWorkspaces(): WorkspacePool {
    return {
      rt: this.prt,
      check: (fn) => {
        if (this.disposed) throw new Error(`${fn}: the pool of this workspace has been disposed`);
        if (this.broken) throw new Error(`${fn}: ${this.broken.message}`);
      },
      plan: (rows, C, dt) => ((tuning.cores || this.cores) < 2 ? null : inPlacePlan(this.ring, rows, C, dt)),
      executor: (plan) => this.ring.executor(plan),
    };
  }

  /** Whether a call may be worth the workers (worthWorkers). */
  private large(x: unknown, options: unknown, defaultAxis: -1 | 1): boolean {
    return worthWorkers(x, options, defaultAxis, this.cores);
  }

  async softmax<A extends FloatArray>(x: A, options: SoftmaxOptions<A>): Promise<A> {
    return this.rowOp(SOFTMAX, x, undefined, options) ?? softmax(x, options);
  }

  async logSoftmax<A extends FloatArray>(x: A, options: SoftmaxOptions<A>): Promise<A> {
    return this.rowOp(LOG_SOFTMAX, x, undefined, options) ?? logSoftmax(x, options);
  }

  async logSumExp<A extends FloatArray>(x: A, options: LogSumExpOptions<A>): Promise<A> {
    return this.rowOp(LOG_SUM_EXP, x, undefined, options) ?? logSumExp(x, options);
  }

  async softmaxBackward<A extends FloatArray>(y: A, gradOutput: A, options: BackwardOptions<A>): Promise<A> {
    return this.rowOp(SOFTMAX_BACKWARD, y, gradOutput, options) ?? softmaxBackward(y, gradOutput, options);
  }

  async logSoftmaxBackward<A extends FloatArray>(y: A, gradOutput: A, options: BackwardOptions<A>): Promise<A> {
    return this.rowOp(LOG_SOFTMAX_BACKWARD, y, gradOutput, options) ?? logSoftmaxBackward(y, gradOutput, options);
  }

  /** A softmax-family call on the workers when large enough, else null: the module's function's. */
  private rowOp<A extends FloatArray>(op: RowOp, x: A, g: A | undefined, options: SoftmaxOptions<A>): A | null {
    this.use(op.fn);
    if (!this.large(x, options, -1)) return null;
    const a = rowOpArgs(op, x, g, options);
    const plan = this.ring.plan(a.L, a.dt, a.ins.length, op.output === 'rows', undefined, this.ring.arrays.reach([...a.ins, a.out ?? null]));
    if (!plan) return null;
    return runRowOp(op, a, plan, this.ring.executor(plan), this.prt.arena, this.prt.scratch);
  }

  async samplingDistribution<A extends FloatArray>(logits: A, options: SamplingDistributionOptions<A>): Promise<A> {
    return this.decode(SAMPLING_DISTRIBUTION, logits, options) as A;
  }

  async sample(logits: FloatArray, options: SampleOptions): Promise<Int32Array> {
    return this.decode(SAMPLE, logits, options) as Int32Array;
  }

  async topK<A extends FloatArray>(logits: A, k: number, options: TopKOptions): Promise<TopK<A>> {
    return this.decode(TOP_K, logits, options, k) as TopK<A>;
  }

  async argmax(logits: FloatArray, options: ArgmaxOptions): Promise<Int32Array> {
    this.use('argmax');
    if (!this.large(logits, options, -1)) return argmax(logits, options);
    const o = optionsObject<Record<string, unknown>>('argmax', options, true);
    const opts = { ...o, into: undefined, temperature: undefined } as SoftmaxOptions<FloatArray>;
    return Int32Array.from(this.rowOp(ARGMAX, logits, undefined, opts) ?? argmax(logits, options));
  }

  /** A decoding call (samplingDistribution, sample, topK): checked once by the module's driver,
   *  which then runs it on the workers when large enough (and the ring plans 2+ chunks). */
  private decode(op: DecodeOp, logits: FloatArray, options: unknown, k?: number): unknown {
    this.use(op.fn);
    return decodeCall(op, logits, options, k, this.large(logits, options, -1) ? this.pooled : undefined);
  }

  private readonly pooled: Pooled = (L, dt, rowOut, own) => {
    const plan = this.ring.plan(L, dt, 1, rowOut, own);
    return plan && { plan, exec: this.ring.executor(plan), rt: this.prt };
  };

  async crossEntropy<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): Promise<number | A> {
    const r = this.loss('crossEntropy', logits, target, options, false);
    return r ? r.loss : crossEntropy(logits, target, options);
  }

  async crossEntropyWithGrad<A extends FloatArray>(logits: A, target: Target<A>, options: CrossEntropyOptions<A>): Promise<LossAndGrad<number | A, A>> {
    const r = this.loss('crossEntropyWithGrad', logits, target, options, true);
    return r ? { loss: r.loss, grad: r.grad! } : crossEntropyWithGrad(logits, target, options);
  }

  /** A cross-entropy call on the workers when large enough for 2+ chunks (planned before anything is allocated), else null. */
  private loss<A extends FloatArray>(fn: string, logits: A, target: Target<A>, options: CrossEntropyOptions<A>, withGrad: boolean): { loss: number | A; grad: A | null } | null {
    this.use(fn);
    if (!this.large(logits, options, 1)) return null;
    const a = crossEntropyArgs(fn, logits, target, options, withGrad);
    const chunked = [logits, ...(a.probabilities ? [target as A] : []), ...(withGrad ? [a.grad] : [])];
    const plan = this.ring.plan(a.L, a.dt, a.probabilities ? 2 : 1, false, undefined, this.ring.arrays.reach(chunked));
    if (!plan) return null;
    return runLoss(fn, a, logits, target, withGrad, plan, this.ring.executor(plan), this.prt);
  }
}

/** Chunks run so far by each of the first 8 workers of a pool (for tests and tuning). */
export function workerChunkCounts(pool: Pool): number[] {
  return (pool as PoolImpl).ring.chunksRun();
}

/** A pool's worker handles (for the test helpers below). */
const handles = (pool: Pool): WorkerHandle[] => (pool as unknown as { workers: WorkerHandle[] }).workers;

/** Stops worker k of a pool as a crash would (for tests of a worker that dies). */
export function killWorker(pool: Pool, k: number): void {
  handles(pool)[k]!.kill();
}

/** Ends worker k of a pool without the pool hearing of it (its handle's terminate(), as dispose()
 *  uses: no exit or error event reaches the pool), as a worker that dies while a call waits for it
 *  (for tests of ChunkRing's probe and stall limit). Node resolves once the thread has ended; a
 *  Web Worker's terminate() takes effect a little later. */
export function endWorkerUnnoticed(pool: Pool, k: number): Promise<void> {
  return handles(pool)[k]!.terminate();
}

/** Makes a pool's workers look as those of a runtime that cannot tell a thread has ended
 *  (WorkerHandle.stopped absent), for tests of ChunkRing's stall limit. */
export function noStopProbe(pool: Pool): void {
  for (const w of handles(pool)) delete w.stopped;
}

/**
 * Whether a call may be worth the workers: its work (elements + rowWeight per row) reaches the
 * cutoff, and there is a core for a worker besides the calling thread's. Estimated from the
 * options as given, before they are checked (a call with bad options goes on to the checks,
 * which throw); calls below run on this thread, allocating nothing here.
 */
function worthWorkers(x: unknown, options: unknown, defaultAxis: -1 | 1, cores: number): boolean {
  if (!(x instanceof Float32Array || x instanceof Float64Array) || x.length < tuning.minElements) return false;
  if ((tuning.cores || cores) < 2) return false;
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
