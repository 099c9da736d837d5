// The checked build: the simd kernels with AssemblyScript assertions on, each export
// asserting on entry that its pointer ranges lie in the heap. Instantiated through
// @assemblyscript/loader, whose default env.abort reads the assertion's message and file from
// the module's static strings, a bad range throws an Error naming the file and line of the
// failed assert, before the kernel has touched memory; in-range calls compute what the simd
// build computes. The property and fuzz suites run the public API on this build (BUILDS).
import { describe, expect, it } from 'vitest';
import indexSource from '../assembly/index.ts?raw';
import crossEntropySource from '../assembly/cross_entropy.ts?raw';
import { backend, softmax } from '../src/index.js';
import { currentRuntime, wasmBytes } from '../src/load.js';
import type { Kernels } from '../src/kernels.js';
import { checkedModule, instantiateChecked, use } from './helpers/backends.js';
import { crossEntropy64, logSumExp64, maxErrRatio, softmax64 } from './helpers/reference.js';

/** "<file>:<line>:<column>" of the assert whose message is `message` in `source`. */
function site(file: string, source: string, message: string): string {
  const lines = source.split('\n');
  const i = lines.findIndex((l) => l.includes(`'${message}'`));
  if (i < 0) throw new Error(`no assert '${message}' in ${file}`);
  return `${file}:${i + 1}:${lines[i]!.indexOf('assert(') + 1}`;
}

/** The error a failed assertion gives through the loader's abort. */
const abortText = (message: string, file: string, source: string) => `abort: ${message} at ${site(file, source, message)}`;

function checked() {
  const { instance } = instantiateChecked();
  const k = instance.exports as unknown as Kernels;
  const heap = (k.heap_base() + 63) & -64;
  return { k, heap, end: () => k.memory.buffer.byteLength };
}

/** Calls `fn` and returns the message of the Error it throws. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return (e as Error).message;
  }
  throw new Error('expected a throw');
}

describe('checked build: range assertions at the kernels\' entry', () => {
  it('a range running past the end of memory throws, naming assembly/index.ts and the line, before anything is written', () => {
    const { k, heap, end } = checked();
    const f32 = new Float32Array(k.memory.buffer);
    const x = heap;
    const y = end() - 16; // rows * C = 8 float32: 32 bytes, of which only 16 exist
    f32.set([1, 2, 3, 4, 5, 6, 7, 8], x >>> 2);
    f32.fill(-7, y >>> 2);
    const message = thrown(() => k.softmax_f32(x, y, 2, 4, 1, heap + 256));
    expect(message).toBe(abortText('softmax_f32: y outside the heap', 'assembly/index.ts', indexSource));
    expect(message).toMatch(/^abort: softmax_f32: y outside the heap at assembly\/index\.ts:\d+:3$/);
    expect(Array.from(f32.subarray(y >>> 2))).toEqual([-7, -7, -7, -7]);
    expect(Array.from(f32.subarray(x >>> 2, (x >>> 2) + 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a range starting below __heap_base (in the static data) throws', () => {
    const { k, heap } = checked();
    expect(thrown(() => k.logsumexp_f64(0, heap, 1, 4, heap + 256))).toBe(abortText('logsumexp_f64: x outside the heap', 'assembly/index.ts', indexSource));
    // the kernels' tmp block (where a row's passes leave their second results) is checked too
    expect(thrown(() => k.softmax_f32(heap, heap, 1, 4, 1, 0))).toBe(abortText('softmax_f32: tmp outside the heap', 'assembly/index.ts', indexSource));
    expect(thrown(() => k.softmax_backward_f32(heap, k.heap_base() - 4, heap, 1, 1)))
      .toBe(abortText('softmax_backward_f32: g outside the heap', 'assembly/index.ts', indexSource));
  });

  it('lengths that would wrap in 32 bits, and negative counts, fail the check instead of passing it', () => {
    const { k, heap } = checked();
    // 65536 x 65536 float32 is 2^34 bytes, 0 modulo 2^32.
    expect(thrown(() => k.softmax_f32(heap, heap, 65536, 65536, 1, heap + 256))).toBe(abortText('softmax_f32: x outside the heap', 'assembly/index.ts', indexSource));
    expect(thrown(() => k.transpose_f64(heap, heap, 1 << 16, 1 << 16, 1 << 16))).toBe(abortText('transpose_f64: src outside the heap', 'assembly/index.ts', indexSource));
    expect(thrown(() => k.logsumexp_f32(heap, heap, 1, -1, heap + 256))).toBe(abortText('logsumexp_f32: x outside the heap', 'assembly/index.ts', indexSource));
  });

  it('optional pointers may be 0 (absent); a present one is checked', () => {
    const { k, heap, end } = checked();
    const C = 3;
    const x = heap, labels = heap + 64, loss = heap + 128, w = end() - 8; // w: C float32 = 12 bytes
    new Float32Array(k.memory.buffer).set([0.5, -1, 2], x >>> 2);
    new Int32Array(k.memory.buffer)[labels >>> 2] = 2;
    expect(thrown(() => k.ce_index_f32(x, labels, 0, loss, 0, 1, C, w, C, 0, 0, -100, 1, 1, 0, heap + 192)))
      .toBe(abortText('ce_index_f32: w outside the heap', 'assembly/index.ts', indexSource));
    k.ce_index_f32(x, labels, 0, loss, 0, 1, C, 0, C, 0, 0, -100, 1, 1, 0, heap + 192);
    const ref = crossEntropy64([0.5, -1, 2], [2], { outer: 1, C, inner: 1 }, false, { reduction: 'none' });
    expect(maxErrRatio([new Float64Array(k.memory.buffer)[loss >>> 3]!], ref.loss as Float64Array, 1e-7, 1e-6)).toBeLessThanOrEqual(1);
  });

  it('a label the caller did not check (the one index the entry checks cannot bound) throws in assembly/cross_entropy.ts', () => {
    const { k, heap } = checked();
    const x = heap, labels = heap + 64, loss = heap + 128;
    new Int32Array(k.memory.buffer)[labels >>> 2] = 3; // C = 3: out of [0, C)
    expect(thrown(() => k.ce_index_f64(x, labels, 0, loss, 0, 1, 3, 0, 3, 0, 0, -100, 1, 1, 0, heap + 192)))
      .toBe(abortText('ce_index_rows: label outside [0, C) (not checked by ce_check_labels)', 'assembly/cross_entropy.ts', crossEntropySource));
  });

  it('so does one in a group of four short float32 rows (their labels read as one vector)', () => {
    const { k, heap } = checked();
    const x = heap, labels = heap + 256, loss = heap + 320;
    new Int32Array(k.memory.buffer).set([1, 2, 10, 0], labels >>> 2); // C = 10: the third is out of [0, C)
    expect(thrown(() => k.ce_index_f32(x, labels, 0, loss, 0, 4, 10, 0, 10, 0, 0, -100, 1, 1, 0, heap + 384)))
      .toBe(abortText('ce_group4_label_logits: label outside [0, C) (not checked by ce_check_labels)', 'assembly/cross_entropy.ts', crossEntropySource));
  });

  it('in-range calls give the float64 reference within rounding, and the same bits as the simd build', () => {
    const { k } = checked();
    const simd = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes('simd') as BufferSource), { env: { abort() { throw new Error('abort'); } } })
      .exports as unknown as Kernels;
    const rows = 3, C = 37; // 37: the vector loops and their scalar tails
    const xs = Array.from({ length: rows * C }, (_, i) => 6 * Math.sin(i * 0.37));
    const d = { outer: rows, C, inner: 1 };
    const run = (kk: Kernels) => {
      const base = (kk.heap_base() + 63) & -64;
      const x = base, y = base + 4096, out = base + 8192;
      new Float32Array(kk.memory.buffer).set(xs, x >>> 2);
      kk.softmax_f32(x, y, rows, C, 1, base + 12288);
      kk.logsumexp_f32(x, out, rows, C, base + 12288);
      return {
        y: new Float32Array(kk.memory.buffer, y, rows * C).slice(),
        lse: new Float32Array(kk.memory.buffer, out, rows).slice(),
      };
    };
    const got = run(k);
    const xf = xs.map(Math.fround);
    expect(maxErrRatio(got.y, softmax64(xf, d), 64 * 2 ** -23, 1e-6)).toBeLessThanOrEqual(1);
    expect(maxErrRatio(got.lse, logSumExp64(xf, d), 64 * 2 ** -23 * 8, 1e-6)).toBeLessThanOrEqual(1);
    const want = run(simd);
    expect(got.y).toEqual(want.y);
    expect(got.lse).toEqual(want.lse);
  });

  it('the public API runs on it: use("checked") activates the loader-made instance, backend() says simd, use("simd") leaves it', () => {
    use('checked');
    expect(currentRuntime()!.module).toBe(checkedModule());
    expect(backend()).toBe('simd'); // the simd kernels, plus assertions (see src/load.ts activateInstance)
    const x = new Float64Array([1, 2, 3, -4, 0.5, 9]);
    expect(maxErrRatio(softmax(x, { classes: 3 }), softmax64(Array.from(x), { outer: 2, C: 3, inner: 1 }), 1e-16, 1e-14)).toBeLessThanOrEqual(1);
    const k = currentRuntime()!.kernels;
    expect(thrown(() => k.softmax_f64(0, 0, 1, 1, 1, 0))).toBe(abortText('softmax_f64: x outside the heap', 'assembly/index.ts', indexSource));
    use('simd');
    expect(currentRuntime()!.module).not.toBe(checkedModule());
    expect(backend()).toBe('simd');
    use('checked');
    expect(currentRuntime()!.module).toBe(checkedModule());
  });
});
