// The wasm exports each build actually has, against the contract src/kernels.ts declares
// (KERNEL_ARITY, which the type system ties to the Kernels interface): the same names, the same
// parameter counts, nothing extra, and no exported global (the kernels keep no module state).
import { describe, expect, it } from 'vitest';
import { KERNEL_ARITY } from '../src/kernels.js';
import { wasmBytes } from '../src/load.js';
import { sharedMemoryBuild } from '../src/shared-build.js';
import { BACKENDS } from './helpers/backends.js';

function exportsOf(bytes: Uint8Array, memory?: WebAssembly.Memory): Record<string, unknown> {
  const env = { abort: () => {}, ...(memory ? { memory } : {}) };
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env }).exports;
}

describe.each(BACKENDS)('%s build', (b) => {
  const builds: [string, () => Record<string, unknown>][] = [
    ['single-threaded', () => exportsOf(wasmBytes(b))],
    ['threaded (pool)', () => exportsOf(sharedMemoryBuild(wasmBytes(b)), new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true }))],
  ];
  it.each(builds)('%s: its exported functions and their arity are those src/kernels.ts declares', (_name, make) => {
    const exports = make();
    const functions = Object.fromEntries(Object.entries(exports).filter(([, v]) => typeof v === 'function').map(([k, v]) => [k, (v as () => void).length]));
    expect(functions).toEqual(KERNEL_ARITY);
    const others = Object.entries(exports).filter(([, v]) => typeof v !== 'function').map(([k]) => k);
    expect(others, 'besides functions, only the memory (single-threaded builds) is exported').toEqual(others.length ? ['memory'] : []);
  });
});
