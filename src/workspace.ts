// The zero-copy path: a Workspace owns one block of wasm memory holding the logits, targets,
// outputs, gradient and losses of up to `capacity` rows. Users write inputs straight into its
// typed-array views and read results from them, so a call copies and allocates nothing.

import { fail, integer, oneOf, optionsObject, positiveFinite, type FloatArray } from './check.js';
import { DEFAULT_LOSS_PARAMS, lossParams, newCall, prepare, reducedLoss, runRows, runWholeCall, setIgnoreRule, zeroClassLosses, type CeCall, type LossOptions, type LossParams } from './cross-entropy.js';
import { F32, F64, type ElementType } from './dtype.js';
import type { KernelTable } from './kernels.js';
import { currentRuntime, getRuntime, onSwitch, type Runtime } from './load.js';
import { regionSize } from './memory.js';
import { beta } from './pipeline.js';

/** Options of {@link createWorkspace}. */
export interface WorkspaceOptions {
  /** Classes per row (C). */
  classes: number;
  /** Capacity: the most rows the workspace holds. */
  rows: number;
  /** Element type of logits, outputs, gradient and losses (default 'float32'). */
  dtype?: 'float32' | 'float64';
  /** Class indices (an Int32Array of one label per row; default) or probabilities (C per row). */
  target?: 'indices' | 'probabilities';
}

type ArrayOf<D> = D extends 'float64' ? Float64Array : Float32Array;
type TargetOf<D, T> = T extends 'probabilities' ? ArrayOf<D> : Int32Array;

/** Options of {@link Workspace.softmax} and {@link Workspace.logSoftmax}. */
export interface WorkspaceSoftmaxOptions {
  /** Divides the logits by this first (finite, > 0; default 1). */
  temperature?: number;
}

/** The sizes and live views of a workspace, single-threaded ({@link Workspace}) or a pool's. */
export interface WorkspaceViews<A extends FloatArray = Float32Array, T extends Int32Array | FloatArray = Int32Array> {
  readonly classes: number;
  readonly capacity: number;
  /** Active rows (initially the capacity). */
  readonly rows: number;
  /** Sets the active rows, 0 <= n <= capacity. */
  setRows(n: number): void;
  /** rows * classes logits: write your inputs here. */
  readonly logits: A;
  /** Targets: rows class indices, or rows * classes probabilities. */
  readonly target: T;
  /** rows * classes: where softmax() and logSoftmax() write. */
  readonly output: A;
  /** rows * classes: where crossEntropyWithGrad() writes d loss / d logits. */
  readonly grad: A;
  /** rows per-row losses, filled by every cross-entropy call. */
  readonly loss: A;
}

/**
 * Memory for up to `capacity` rows of `classes` logits inside wasm memory, with live views.
 * Every view covers the active rows (`rows`, set by setRows) and is re-derived when wasm memory
 * grows, so read the properties again rather than keeping a view across other calls.
 */
export interface Workspace<A extends FloatArray = Float32Array, T extends Int32Array | FloatArray = Int32Array> extends WorkspaceViews<A, T> {
  /** softmax of `logits` into `output`; returns `output`. */
  softmax(options?: WorkspaceSoftmaxOptions): A;
  /** logSoftmax of `logits` into `output`; returns `output`. */
  logSoftmax(options?: WorkspaceSoftmaxOptions): A;
  /** Cross-entropy of `logits` against `target`: fills `loss`; returns the reduced loss
   *  ('mean'/'sum') or `loss` ('none'). */
  crossEntropy(options: LossOptions & { reduction: 'none' }): A;
  crossEntropy(options?: LossOptions & { reduction?: 'mean' | 'sum' }): number;
  crossEntropy(options?: LossOptions): number | A;
  /** The same, and the gradient into `grad`, from one fused kernel call. */
  crossEntropyWithGrad(options: LossOptions & { reduction: 'none' }): A;
  crossEntropyWithGrad(options?: LossOptions & { reduction?: 'mean' | 'sum' }): number;
  crossEntropyWithGrad(options?: LossOptions): number | A;
  /** Releases the memory; any later use throws. */
  dispose(): void;
}

/** The compute methods of a workspace. */
export type WorkspaceFn = 'softmax' | 'logSoftmax' | 'crossEntropy' | 'crossEntropyWithGrad';

/** A compute method's name in messages, 'Workspace.' + the method, as constants: built per call (a
 *  template string the option checks receive), it was garbage on every cross-entropy call. */
export function workspaceName(fn: WorkspaceFn): string {
  return fn === 'crossEntropyWithGrad' ? 'Workspace.crossEntropyWithGrad' : fn === 'crossEntropy' ? 'Workspace.crossEntropy'
    : fn === 'softmax' ? 'Workspace.softmax' : 'Workspace.logSoftmax';
}

const live = new Set<WorkspaceImpl>();
let listening = false;

/** The workspace of this thread; src/pool-workspace.ts runs the same one (made over the pool's
 *  runtime, in the shared memory) through the pool's chunk loop. */
export class WorkspaceImpl {
  readonly classes: number;
  readonly capacity: number;
  private active: number;
  private disposed = false;
  readonly rt: Runtime;
  readonly dt: ElementType;
  /** This element type's kernels, chosen once (a [1, 10] call feels each lookup). */
  private readonly softmaxKernel: KernelTable['softmax'][0];
  private readonly logSoftmaxKernel: KernelTable['log_softmax'][0];
  readonly probabilities: boolean;
  private readonly block: number;
  readonly ptr: { logits: number; target: number; output: number; grad: number; loss: number; losses: number; weights: number; scales: number };
  /** The record of this workspace's cross-entropy calls (lossCall resets it for each). */
  private readonly record: CeCall;
  /** The loss parameters of its calls with options (lossCall fills them for each). */
  private readonly params: LossParams = { ...DEFAULT_LOSS_PARAMS };
  private cache: { view: Float32Array | null; rows: number; logits?: FloatArray; target?: Int32Array | FloatArray; output?: FloatArray; grad?: FloatArray; loss?: FloatArray } = { view: null, rows: -1 };

  /** `pooled`: a pool's workspace (in its shared memory, over its runtime). */
  constructor(rt: Runtime, classes: number, capacity: number, dt: ElementType, probabilities: boolean, private readonly pooled = false) {
    this.rt = rt;
    this.classes = classes;
    this.capacity = capacity;
    this.active = capacity;
    this.dt = dt;
    this.softmaxKernel = rt.table.softmax[dt.index];
    this.logSoftmaxKernel = rt.table.log_softmax[dt.index];
    this.probabilities = probabilities;
    const shift = dt.shift;
    const matrix = regionSize(capacity * classes * (1 << shift));
    const sizes = {
      logits: matrix,
      target: probabilities ? matrix : regionSize(capacity * 4),
      output: matrix,
      grad: matrix,
      loss: regionSize(capacity * (1 << shift)),
      losses: regionSize(capacity * 8),
      weights: regionSize(classes * (1 << shift)),
      scales: regionSize(capacity * 8),
    };
    let total = 0;
    for (const v of Object.values(sizes)) total += v;
    // Zeroed, as a new typed array is: a block may reuse a disposed workspace's memory.
    this.block = rt.arena.allocZeroed(total, `createWorkspace: ${capacity} rows of ${classes} classes`);
    let p = this.block;
    const ptr = {} as typeof this.ptr;
    for (const [k, v] of Object.entries(sizes)) {
      ptr[k as keyof typeof ptr] = p;
      p += v;
    }
    this.ptr = ptr;
    this.record = newCall(dt, classes, capacity, probabilities, DEFAULT_LOSS_PARAMS, probabilities ? 0 : ptr.target, 0, 0, ptr.losses, ptr.loss, rt.tmp);
  }

  use(fn: string): void {
    if (this.disposed) throw new Error(`Workspace.${fn}: this workspace has been disposed`);
  }

  /** Views over the active rows, re-made only when memory grew or the rows changed. */
  private views() {
    const a = this.rt.arena.views();
    const c = this.cache;
    // The arena's views are replaced exactly when memory grows, so comparing them is enough
    // (and cheaper than reading .buffer).
    if (c.view !== a.f32 || c.rows !== this.active) {
      const buffer = a.f32.buffer;
      const n = this.active * this.classes;
      const V = this.dt.Array;
      const at = (ptr: number, len: number) => new V(buffer, ptr, len);
      c.view = a.f32;
      c.rows = this.active;
      c.logits = at(this.ptr.logits, n);
      c.target = this.probabilities ? at(this.ptr.target, n) : new Int32Array(buffer as ArrayBuffer, this.ptr.target, this.active);
      c.output = at(this.ptr.output, n);
      c.grad = at(this.ptr.grad, n);
      c.loss = at(this.ptr.loss, this.active);
    }
    return c;
  }

  get rows(): number {
    this.use('rows');
    return this.active;
  }

  setRows(n: number): void {
    this.use('setRows');
    integer('Workspace.setRows', 'n', n);
    if (n < 0 || n > this.capacity) fail('Workspace.setRows', 'n', `an integer in [0, ${this.capacity}] (the capacity)`, n, RangeError);
    this.active = n;
  }

  get logits(): FloatArray {
    this.use('logits');
    return this.views().logits!;
  }
  get target(): Int32Array | FloatArray {
    this.use('target');
    return this.views().target!;
  }
  get output(): FloatArray {
    this.use('output');
    return this.views().output!;
  }
  get grad(): FloatArray {
    this.use('grad');
    return this.views().grad!;
  }
  get loss(): FloatArray {
    this.use('loss');
    return this.views().loss!;
  }

  /** Checks a softmax call's options: 1/temperature as the kernels take it. */
  forwardBeta(fn: WorkspaceFn, options: WorkspaceSoftmaxOptions | undefined): number {
    this.use(fn);
    const name = workspaceName(fn);
    const opts = optionsObject<WorkspaceSoftmaxOptions>(name, options, false);
    return opts.temperature === undefined ? 1 : beta(positiveFinite(name, 'options.temperature', opts.temperature), this.dt);
  }

  private forward(fn: WorkspaceFn, log: boolean, options: WorkspaceSoftmaxOptions | undefined): FloatArray {
    const b = this.forwardBeta(fn, options);
    const ptr = this.ptr;
    (log ? this.logSoftmaxKernel : this.softmaxKernel)(ptr.logits, ptr.output, this.active, this.classes, b, this.rt.tmp);
    return this.views().output!;
  }

  softmax(options?: WorkspaceSoftmaxOptions): FloatArray {
    return this.forward('softmax', false, options);
  }

  logSoftmax(options?: WorkspaceSoftmaxOptions): FloatArray {
    return this.forward('logSoftmax', true, options);
  }

  /**
   * A cross-entropy call over this workspace: checks the options once, builds the call record over
   * its pointers (tmp: the runtime's) with the ignore rule of class-index targets, and runs it on
   * this thread, or hands it to `onPool` (src/pool-workspace.ts: the same record, run on a pool's
   * workers; `labels` is the view of ws.target, null for probability targets).
   */
  lossCall<R>(fn: WorkspaceFn, options: LossOptions | undefined, withGrad: boolean, onPool: ((call: CeCall, labels: Int32Array | null) => R) | null): R | number | FloatArray {
    this.use(fn);
    const name = workspaceName(fn);
    const opts = optionsObject<LossOptions>(name, options, false);
    const C = this.classes;
    const rows = this.active;
    const p = lossParams(name, opts, C, rows, this.probabilities, this.params);
    // This workspace's one record, reset for the call: a call allocates nothing (a record made
    // per call cost a [1, 10] call 5-9% on Node 20 and 11-17% on Node 24). Calls cannot overlap:
    // a pooled workspace rejects a second call until the first settles.
    const ptr = this.ptr;
    const call = this.record;
    call.rows = rows;
    call.p = p;
    call.weights = p.weight ? ptr.weights : 0;
    call.scales = withGrad && p.gradArray ? ptr.scales : 0;
    // (the ignore rule, sumW, the denominator and the scale: set below by setIgnoreRule, and by
    // writeParams and prepare, which every path runs)
    // The labels are int32 already: an ignore index outside int32 matches none of them.
    const labels = this.probabilities ? null : (this.views().target as Int32Array);
    if (labels) setIgnoreRule(call, labels, p.ignoreIndex);
    if (onPool) return onPool(call, labels);
    if (labels) {
      const loss = runWholeCall(name, this.rt, call, ptr.logits, withGrad ? ptr.grad : 0, labels);
      return p.reduction === 'none' ? this.views().loss! : loss;
    }
    prepare(name, this.rt, call, null);
    if (rows > 0 && C > 0) runRows(this.rt.table, call, ptr.logits, ptr.target, withGrad ? ptr.grad : 0, 0, rows, this.rt.tmp);
    else if (rows > 0) zeroClassLosses(this.rt, call);
    return p.reduction === 'none' ? this.views().loss! : reducedLoss(this.rt, call);
  }

  crossEntropy(options?: LossOptions): number | FloatArray {
    return this.lossCall('crossEntropy', options, false, null);
  }

  crossEntropyWithGrad(options?: LossOptions): number | FloatArray {
    return this.lossCall('crossEntropyWithGrad', options, true, null);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    live.delete(this);
    // After a backend switch the memory belonged to the old instance: nothing to release (a
    // pool's workspace is released in its pool's memory, whoever's build is current).
    if (currentRuntime() === this.rt || this.pooled) this.rt.arena.release(this.block);
    this.cache = { view: null, rows: -1 };
  }
}

/**
 * Reserves wasm memory for up to `rows` rows of `classes` logits and returns a
 * {@link Workspace}: the zero-copy, zero-allocation path for hot loops. Write logits and targets
 * into its views, call its methods, read the results from its views.
 *
 * Use it when the same shape is computed again and again (a training loop, a server's batch):
 * the functional API copies inputs into wasm memory and results out (streamed through the
 * cache, but still two copies); a Workspace copies nothing. Its views start out as zeros, as a
 * new typed array does.
 *
 * @example
 * ```ts
 * await init();
 * const ws = createWorkspace({ classes: 10, rows: 64 });
 * ws.logits.set(myLogits);            // Float32Array of 640
 * ws.target.set(myLabels);            // Int32Array of 64
 * const loss = ws.crossEntropyWithGrad(); // mean loss; ws.grad holds d loss / d logits
 * ws.dispose();
 * ```
 */
export function createWorkspace<D extends 'float32' | 'float64' = 'float32', T extends 'indices' | 'probabilities' = 'indices'>(
  options: WorkspaceOptions & { dtype?: D; target?: T },
): Workspace<ArrayOf<D>, TargetOf<D, T>> {
  const fn = 'createWorkspace';
  const rt = getRuntime(fn);
  const o = workspaceOptions(fn, options);
  if (!listening) {
    listening = true;
    onSwitch(() => {
      for (const ws of [...live]) ws.dispose();
    });
  }
  const ws = new WorkspaceImpl(rt, o.classes, o.rows, o.dt, o.probabilities);
  live.add(ws);
  return ws as unknown as Workspace<ArrayOf<D>, TargetOf<D, T>>;
}

/** Checks the options of a createWorkspace call (`fn`: the function named in errors). */
export function workspaceOptions(fn: string, options: unknown): { classes: number; rows: number; dt: ElementType; probabilities: boolean } {
  const opts = optionsObject<WorkspaceOptions>(fn, options, true);
  const classes = integer(fn, 'options.classes', opts.classes);
  if (classes < 1) fail(fn, 'options.classes', 'a positive integer', classes, RangeError);
  const rows = integer(fn, 'options.rows', opts.rows);
  if (rows < 0) fail(fn, 'options.rows', 'a non-negative integer', rows, RangeError);
  const dt = opts.dtype === undefined ? F32 : oneOf(fn, 'options.dtype', opts.dtype, [F32.option, F64.option]) === 'float32' ? F32 : F64;
  const target = opts.target === undefined ? 'indices' : oneOf(fn, 'options.target', opts.target, ['indices', 'probabilities'] as const);
  return { classes, rows, dt, probabilities: target === 'probabilities' };
}
