// Picks, compiles and instantiates a wasm build. Nothing here runs at import time: the embedded
// bytes are decoded (base64, then inflated) and compiled on the first init()/initSync() call, once
// per build.

import { inflateRaw } from './inflate.js';
import {
  RELAXED_SIMD_WASM_DEFLATE,
  RELAXED_SIMD_WASM_SIZE,
  SCALAR_WASM_DEFLATE,
  SCALAR_WASM_SIZE,
  SIMD_WASM_DEFLATE,
  SIMD_WASM_SIZE,
} from './wasm/builds.js';
import { directExecutor, type Executor } from './chunk-loop.js';
import { kernelTable, type KernelTable, type Kernels } from './kernels.js';
import { Arena, Scratch, tmpBlockBytes } from './memory.js';

/** A wasm build of the kernels: 128-bit SIMD with fused multiply-add (relaxed SIMD), 128-bit
 *  SIMD, or plain scalar wasm for runtimes without SIMD. */
export type Backend = 'relaxed-simd' | 'simd' | 'scalar';

/** Options of {@link init} and {@link initSync}. */
export interface InitOptions {
  /** Force a build instead of the fastest one this runtime validates. */
  backend?: Backend;
  /** The wasm to use instead of the embedded bytes: the bytes of one of this package's builds
   *  (shipped as `softmax-wasm/wasm/softmax.<backend>.wasm`) or a compiled `WebAssembly.Module`
   *  of them, for environments whose content security policy forbids compiling from bytes the
   *  page did not supply. */
  wasm?: ArrayBuffer | ArrayBufferView | WebAssembly.Module;
}

/** The builds, fastest first (the order init() tries them in). */
export const BACKENDS: readonly Backend[] = ['relaxed-simd', 'simd', 'scalar'];
const KIND_TO_BACKEND: readonly Backend[] = ['scalar', 'simd', 'relaxed-simd'];

/** Each build as embedded: its raw DEFLATE stream (base64) and its length inflated. */
const embedded: Record<Backend, [string, number]> = {
  'relaxed-simd': [RELAXED_SIMD_WASM_DEFLATE, RELAXED_SIMD_WASM_SIZE],
  simd: [SIMD_WASM_DEFLATE, SIMD_WASM_SIZE],
  scalar: [SCALAR_WASM_DEFLATE, SCALAR_WASM_SIZE],
};

/** The running instance: its build, exports and memory arena. */
export interface Runtime {
  readonly backend: Backend;
  readonly kernels: Kernels;
  /** The kernels by operation and element type. */
  readonly table: KernelTable;
  /** Runs chunks on this thread (src/chunk-loop.ts). */
  readonly exec: Executor;
  readonly arena: Arena;
  /** Scratch space of the one-call functions (reused by every call). */
  readonly scratch: Scratch;
  /** The kernels' `tmp` block (KERNEL_TMP_BYTES) for calls made on this thread. */
  readonly tmp: number;
  readonly module: WebAssembly.Module;
}

let runtime: Runtime | null = null;
const bytesCache = new Map<Backend, Uint8Array>();
const validCache = new Map<Backend, boolean>();
const moduleCache = new Map<Backend, WebAssembly.Module>();
const switchListeners = new Set<() => void>();

function decodeBase64(text: string): Uint8Array {
  // atob exists in every browser and in Node >= 16; decoding is done once per build.
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A build as build-wasm.mjs embeds it (base64 of raw DEFLATE) to its bytes. The test suites
 *  decode their checked build with it too. */
export function decodeEmbedded(deflated: string, size: number): Uint8Array {
  return inflateRaw(decodeBase64(deflated), size);
}

/** The embedded bytes of a build (decoded once). */
export function wasmBytes(b: Backend): Uint8Array {
  let bytes = bytesCache.get(b);
  if (!bytes) {
    bytes = decodeEmbedded(...embedded[b]);
    bytesCache.set(b, bytes);
  }
  return bytes;
}

/** Modules of one function that use a SIMD instruction (i8x16.splat, i8x16.popcnt) and a relaxed
 *  SIMD one (i8x16.relaxed_swizzle), as wasm-feature-detect's: a runtime that rejects them cannot
 *  run the build, which is then never inflated. */
export const FEATURE_PROBE: Record<Backend, readonly number[] | null> = {
  'relaxed-simd': [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11],
  simd: [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11],
  scalar: null,
};

/** Whether the runtime passes a build's feature probe (WebAssembly at all, for the scalar build). */
function hasFeatures(b: Backend): boolean {
  const probe = FEATURE_PROBE[b];
  return typeof WebAssembly === 'object' && (!probe || WebAssembly.validate(new Uint8Array(probe)));
}

/** Whether this runtime can run a build (answered once per build): its features probed first,
 *  then the build itself validated (WebAssembly.validate). */
export function canRun(b: Backend): boolean {
  let ok = validCache.get(b);
  if (ok === undefined) {
    ok = hasFeatures(b) && WebAssembly.validate(wasmBytes(b) as BufferSource);
    validCache.set(b, ok);
  }
  return ok;
}

function checkOptions(options: InitOptions | undefined, fn: string): InitOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') {
    throw new TypeError(`${fn}: options must be an object or undefined (got ${typeof options})`);
  }
  const { backend: b, wasm } = options;
  if (b !== undefined) {
    if (typeof b !== 'string') {
      throw new TypeError(`${fn}: options.backend must be one of ${BACKENDS.map((s) => `'${s}'`).join(', ')} (got ${typeof b})`);
    }
    if (!BACKENDS.includes(b)) {
      throw new RangeError(`${fn}: options.backend must be one of ${BACKENDS.map((s) => `'${s}'`).join(', ')} (got '${b}')`);
    }
  }
  if (wasm !== undefined && !(wasm instanceof WebAssembly.Module) && !ArrayBuffer.isView(wasm) && !(wasm instanceof ArrayBuffer)) {
    throw new TypeError(`${fn}: options.wasm must be a BufferSource (ArrayBuffer or typed array) or a WebAssembly.Module`);
  }
  return options;
}

function pickBackend(forced: Backend | undefined, fn: string): Backend {
  if (forced) {
    if (!canRun(forced)) {
      throw new Error(`${fn}: the '${forced}' build cannot run in this runtime (WebAssembly.validate rejected it)` +
        (forced === 'relaxed-simd' ? '; on Node 20 start node with --experimental-wasm-relaxed-simd' : ''));
    }
    return forced;
  }
  for (const b of BACKENDS) if (canRun(b)) return b;
  throw new Error(`${fn}: this runtime cannot run WebAssembly`);
}

function compiledModule(b: Backend): WebAssembly.Module {
  let m = moduleCache.get(b);
  if (!m) {
    m = new WebAssembly.Module(wasmBytes(b) as BufferSource);
    moduleCache.set(b, m);
  }
  return m;
}

function activate(module: WebAssembly.Module, expected: Backend | undefined, fn: string): void {
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort() {
        throw new Error('softmax-wasm: internal error (wasm abort)');
      },
    },
  });
  activateInstance(instance, module, expected, fn);
}

/**
 * Makes an instance of a build the running one: the second half of init(), after instantiation.
 * Not part of the public API (src/index.ts does not export it): the test suites call it to run
 * the API on the checked build (test/helpers/backends.ts), which they instantiate themselves,
 * through @assemblyscript/loader, so that a failed assertion throws with its file and line.
 * The backend is the one build_kind() names; for the checked build that is 'simd', whose kernels
 * it is (plus assertions): Backend names the code paths, and a test-only build is not one.
 */
export function activateInstance(instance: WebAssembly.Instance, module: WebAssembly.Module, expected?: Backend, fn = 'activateInstance'): void {
  const kernels = instance.exports as unknown as Kernels;
  if (typeof kernels.build_kind !== 'function' || typeof kernels.softmax_f32 !== 'function') {
    throw new TypeError(`${fn}: options.wasm is not a softmax-wasm build (its exports do not match)`);
  }
  const b = KIND_TO_BACKEND[kernels.build_kind()]!;
  if (expected && b !== expected) {
    throw new Error(`${fn}: options.wasm is the '${b}' build, but options.backend asks for '${expected}'`);
  }
  if (runtime) for (const listener of switchListeners) listener();
  runtime = newRuntime(b, kernels, module);
}

/** A runtime over an instance's exports (also the pool's, over its shared memory). */
export function newRuntime(b: Backend, kernels: Kernels, module: WebAssembly.Module): Runtime {
  const arena = new Arena(kernels);
  const table = kernelTable(kernels);
  const tmp = arena.alloc(tmpBlockBytes(1), 'init');
  return { backend: b, kernels, table, exec: directExecutor(table, tmp), arena, scratch: new Scratch(arena), tmp, module };
}

/**
 * Loads the kernels synchronously: the fastest build this runtime validates (relaxed-simd, then
 * simd, then scalar) unless `backend` forces one. Idempotent: a second call with no options
 * returns at once; a call that forces a different `backend` switches builds and disposes the
 * workspaces and pools made before. Meant for Node, workers and tests; on a browser's main
 * thread prefer {@link init}, since engines may refuse to compile large modules synchronously there.
 *
 * @example
 * ```ts
 * import { initSync, backend } from 'softmax-wasm';
 * initSync();
 * console.log(backend()); // 'simd' on Node 20
 * ```
 */
export function initSync(options?: InitOptions): void {
  const opts = checkOptions(options, 'initSync');
  if (opts.wasm !== undefined) {
    const module = opts.wasm instanceof WebAssembly.Module ? opts.wasm : new WebAssembly.Module(opts.wasm as BufferSource);
    activate(module, opts.backend, 'initSync');
    return;
  }
  if (runtime && (opts.backend === undefined || opts.backend === runtime.backend)) return;
  const b = pickBackend(opts.backend, 'initSync');
  activate(compiledModule(b), b, 'initSync');
}

/**
 * Loads the kernels: the fastest build this runtime validates (relaxed-simd, then simd, then
 * scalar) unless `backend` forces one (a forced build the runtime cannot run rejects with an
 * `Error`). The wasm bytes ship inside this module, so no bundler or server configuration is
 * needed. Idempotent: a second call with no options resolves at once. Every function, option and
 * error of the package is described in its `docs/API.md`.
 *
 * @example
 * ```ts
 * import { init, softmax } from 'softmax-wasm';
 * await init();
 * softmax(new Float32Array([1, 2, 3]), { classes: 3 }); // Float32Array [0.090, 0.245, 0.665]
 * ```
 */
export async function init(options?: InitOptions): Promise<void> {
  const opts = checkOptions(options, 'init');
  if (opts.wasm !== undefined) {
    const module = opts.wasm instanceof WebAssembly.Module ? opts.wasm : await WebAssembly.compile(opts.wasm as BufferSource);
    activate(module, opts.backend, 'init');
    return;
  }
  if (runtime && (opts.backend === undefined || opts.backend === runtime.backend)) return;
  const b = pickBackend(opts.backend, 'init');
  let module = moduleCache.get(b);
  if (!module) {
    module = await WebAssembly.compile(wasmBytes(b) as BufferSource);
    moduleCache.set(b, module);
  }
  activate(module, b, 'init');
}

/** The build in use, or `null` before {@link init}. */
export function backend(): Backend | null {
  return runtime ? runtime.backend : null;
}

/** The running instance, or null before init (for fast paths that leave errors to getRuntime). */
export function currentRuntime(): Runtime | null {
  return runtime;
}

/** The running instance; throws the contract's "call init() first" error before init. */
export function getRuntime(fn: string): Runtime {
  if (runtime === null) {
    throw new Error(`${fn}: softmax-wasm is not initialized: \`await init()\` (or call initSync()) first`);
  }
  return runtime;
}

/** Registers a callback run just before the instance is replaced (a backend switch). */
export function onSwitch(listener: () => void): () => void {
  switchListeners.add(listener);
  return () => switchListeners.delete(listener);
}
