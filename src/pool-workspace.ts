// A pool's Workspace (API.md, "Multi-core (worker pool)"): the single-threaded Workspace
// (src/workspace.ts) made over the pool's runtime, so that its views live in the pool's shared
// wasm memory, with compute methods that run the one chunk loop in its in-place mode (IN_PLACE,
// src/chunk-loop.ts): each chunk of rows is a kernel call over the workspace's own pointers,
// recorded into a slot of the pool's ring and run by a worker (or the calling thread while it
// waits). Nothing is copied. Every row goes through the same kernel with the same arguments as in
// the single-threaded Workspace, and the per-row losses are reduced once over all rows by the
// same ce_reduce, so the results are bit-identical for any number of workers. A call too small
// for the workers (the pool's plan is null) is the single-threaded Workspace's own call, made
// after the caller's turn like every call here.

import type { FloatArray } from './check.js';
import { IN_PLACE, runChunks, type Executor } from './chunk-loop.js';
import { prepare, reducedLoss, runRows, type LossOptions } from './cross-entropy.js';
import type { ElementType } from './dtype.js';
import type { Runtime } from './load.js';
import type { ChunkPlan } from './plan.js';
import { workspaceName, type WorkspaceFn, type WorkspaceImpl, type WorkspaceSoftmaxOptions, type WorkspaceViews } from './workspace.js';

/**
 * A workspace in a pool's shared memory ({@link Pool.createWorkspace}): the properties and views
 * of a {@link Workspace}, and compute methods that split the active rows across the pool's
 * workers, with no copy, and resolve to what the single-threaded workspace's methods return.
 * One call at a time: a call started before the previous one has settled rejects with `Error`.
 */
export interface PoolWorkspace<A extends FloatArray = Float32Array, T extends Int32Array | FloatArray = Int32Array> extends WorkspaceViews<A, T> {
  /** softmax of `logits` into `output`; resolves to `output`. */
  softmax(options?: WorkspaceSoftmaxOptions): Promise<A>;
  /** logSoftmax of `logits` into `output`; resolves to `output`. */
  logSoftmax(options?: WorkspaceSoftmaxOptions): Promise<A>;
  /** Cross-entropy of `logits` against `target`: fills `loss`; resolves to the reduced loss
   *  ('mean'/'sum') or `loss` ('none'). */
  crossEntropy(options: LossOptions & { reduction: 'none' }): Promise<A>;
  crossEntropy(options?: LossOptions & { reduction?: 'mean' | 'sum' }): Promise<number>;
  crossEntropy(options?: LossOptions): Promise<number | A>;
  /** The same, and the gradient into `grad`. */
  crossEntropyWithGrad(options: LossOptions & { reduction: 'none' }): Promise<A>;
  crossEntropyWithGrad(options?: LossOptions & { reduction?: 'mean' | 'sum' }): Promise<number>;
  crossEntropyWithGrad(options?: LossOptions): Promise<number | A>;
  /** Releases the memory; any later use throws (a pending call rejects). */
  dispose(): void;
}

/** What a pooled workspace needs of its pool: its runtime, whether it is still open, the plan of
 *  a call over `rows` rows (null: too small for the workers) and the executor that runs it. */
export interface WorkspacePool {
  readonly rt: Runtime;
  check(fn: string): void;
  plan(rows: number, C: number, dt: ElementType): ChunkPlan | null;
  executor(plan: ChunkPlan): Executor;
}

export class PoolWorkspaceImpl {
  private busy = false;

  constructor(private readonly ws: WorkspaceImpl, private readonly pool: WorkspacePool) {}

  get classes(): number {
    return this.ws.classes;
  }
  get capacity(): number {
    return this.ws.capacity;
  }
  get rows(): number {
    return this.ws.rows;
  }
  setRows(n: number): void {
    this.ws.setRows(n);
  }
  get logits(): FloatArray {
    return this.ws.logits;
  }
  get target(): Int32Array | FloatArray {
    return this.ws.target;
  }
  get output(): FloatArray {
    return this.ws.output;
  }
  get grad(): FloatArray {
    return this.ws.grad;
  }
  get loss(): FloatArray {
    return this.ws.loss;
  }

  /** Runs `body` as this workspace's one pending call: after the caller's turn (so a second call
   *  made meanwhile sees this one pending), if neither the workspace nor the pool was disposed. */
  private call<R>(fn: WorkspaceFn, body: () => R): Promise<R> {
    const ready = () => {
      this.pool.check(workspaceName(fn));
      this.ws.use(fn);
    };
    try {
      ready();
      if (this.busy) throw new Error(`${workspaceName(fn)}: a call on this workspace is still pending (await it first)`);
    } catch (e) {
      return Promise.reject(e);
    }
    this.busy = true;
    // (No line of the bundle may start with `await`: scripts/build/build-js.mjs reads that as top-level.)
    return Promise.resolve().then(() => {
      try {
        ready();
        return body();
      } finally {
        this.busy = false;
      }
    });
  }

  /** The plan of a call over the active rows on the workers, or null: a call too small for them
   *  is the single-threaded workspace's own (the same kernels; its one-call paths). */
  private plan(): ChunkPlan | null {
    const ws = this.ws;
    return this.pool.plan(ws.rows, ws.classes, ws.dt);
  }

  private forward(fn: WorkspaceFn, log: boolean, options: WorkspaceSoftmaxOptions | undefined): Promise<FloatArray> {
    return this.call(fn, () => {
      const ws = this.ws;
      const plan = this.plan();
      if (!plan) return log ? ws.logSoftmax(options) : ws.softmax(options);
      const b = ws.forwardBeta(fn, options);
      const { ptr, classes: C, dt } = ws;
      const rowBytes = C << dt.shift;
      runChunks(this.pool.executor(plan), this.pool.rt.arena, plan, 0, IN_PLACE, (k, _r, _o, first, n, tmp) =>
        (log ? k.log_softmax : k.softmax)[dt.index](ptr.logits + first * rowBytes, ptr.output + first * rowBytes, n, C, b, tmp));
      return ws.output;
    });
  }

  softmax(options?: WorkspaceSoftmaxOptions): Promise<FloatArray> {
    return this.forward('softmax', false, options);
  }

  logSoftmax(options?: WorkspaceSoftmaxOptions): Promise<FloatArray> {
    return this.forward('logSoftmax', true, options);
  }

  private loss_(fn: WorkspaceFn, options: LossOptions | undefined, withGrad: boolean): Promise<number | FloatArray> {
    return this.call(fn, () => {
      const ws = this.ws;
      const plan = this.plan();
      if (!plan) return ws.lossCall(fn, options, withGrad, null);
      return ws.lossCall(fn, options, withGrad, (call, labels) => {
        const rt = this.pool.rt;
        prepare(workspaceName(fn), rt, call, labels);
        const { C, dt, probabilities } = call;
        const ptr = ws.ptr;
        const rowBytes = C << dt.shift;
        runChunks(this.pool.executor(plan), rt.arena, plan, 0, IN_PLACE, (k, _r, _o, first, n, tmp) =>
          runRows(k, call, ptr.logits + first * rowBytes, probabilities ? ptr.target + first * rowBytes : 0, withGrad ? ptr.grad + first * rowBytes : 0, first, n, tmp));
        return call.p.reduction === 'none' ? ws.loss : reducedLoss(rt, call);
      });
    });
  }

  crossEntropy(options?: LossOptions): Promise<number | FloatArray> {
    return this.loss_('crossEntropy', options, false);
  }

  crossEntropyWithGrad(options?: LossOptions): Promise<number | FloatArray> {
    return this.loss_('crossEntropyWithGrad', options, true);
  }

  dispose(): void {
    this.ws.dispose();
  }
}
