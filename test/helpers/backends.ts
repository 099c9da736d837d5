// The builds every suite runs against: all three must run here (vitest.config.ts passes Node 20
// the relaxed-SIMD flag), and a build that cannot run fails the suite instead of being skipped.
// The property and fuzz suites also run the checked build (BUILDS): the simd kernels with
// AssemblyScript assertions on, each export checking that its pointer ranges lie in the heap
// (assembly/checks.ts). It is not shipped; scripts/build/build-wasm.mjs generates its bytes into
// checked-build.generated.ts, a module, so the browser suite gets it without node:fs.
import { instantiateSync, type ResultObject } from '@assemblyscript/loader';
import { activateInstance, canRun, currentRuntime, decodeEmbedded, wasmBytes, type Backend } from '../../src/load.js';
import { initSync } from '../../src/index.js';
import { CHECKED_WASM_DEFLATE, CHECKED_WASM_SIZE } from './checked-build.generated.js';

export const BACKENDS: readonly Backend[] = ['scalar', 'simd', 'relaxed-simd'];

/** A build a suite can switch to: one of the shipped backends, or the checked build. */
export type Build = Backend | 'checked';

/** The builds of the property and fuzz suites: the three backends and the checked build. */
export const BUILDS: readonly Build[] = [...BACKENDS, 'checked'];

let checked: WebAssembly.Module | null = null;
const shipped = new Map<Backend, WebAssembly.Module>();

/** The compiled checked build (compiled once per test file). */
export function checkedModule(): WebAssembly.Module {
  if (!checked) checked = new WebAssembly.Module(decodeEmbedded(CHECKED_WASM_DEFLATE, CHECKED_WASM_SIZE) as BufferSource);
  return checked;
}

/** A new instance of the checked build, made by @assemblyscript/loader: its default env.abort
 *  turns a failed assertion into `Error('abort: <message> at <file>:<line>:<column>')`, reading
 *  the message and file name from the module's static strings. */
export function instantiateChecked(): ResultObject {
  return instantiateSync(checkedModule(), {});
}

/** Switches to a build; throws if this runtime cannot run it. */
export function use(b: Build): void {
  const onChecked = currentRuntime()?.module === checkedModule();
  if (b === 'checked') {
    if (!onChecked) activateInstance(instantiateChecked().instance, checkedModule(), 'simd', 'use');
    return;
  }
  if (!canRun(b)) throw new Error(`the ${b} build cannot run in this test runtime`);
  if (!onChecked) {
    initSync({ backend: b });
    return;
  }
  // initSync({ backend: 'simd' }) would keep the checked instance, whose backend() is 'simd'
  // too: leave it by handing initSync the shipped bytes, which always instantiates them.
  let m = shipped.get(b);
  if (!m) shipped.set(b, (m = new WebAssembly.Module(wasmBytes(b) as BufferSource)));
  initSync({ backend: b, wasm: m });
}
