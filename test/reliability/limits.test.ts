// Size limits: inputs wasm32 memory cannot hold are a RangeError before any
// work; a runtime refusing to grow memory is a RangeError that leaves everything working; views
// of a Workspace stay live across growth; memory beyond 2 GiB (pointers with the top bit set)
// works. The big arrays here are allocated lazily by the OS and never touched, so they cost
// address space, not RAM; the ~1 GiB run that touches everything is `npm run stress`.
import { afterEach, describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { getRuntime } from '../../src/load.js';
import { BACKENDS, use } from '../helpers/backends.js';
import { crossEntropy64, logSoftmax64, softmax64, type Dims } from '../helpers/reference.js';
import { expectClose, expectError } from './common.js';
import { uniform } from '../helpers/random.js';

const GiB = 2 ** 30;
const memory = () => getRuntime('test').arena.byteLength;
const originalGrow = WebAssembly.Memory.prototype.grow;
afterEach(() => {
  WebAssembly.Memory.prototype.grow = originalGrow;
});

/** Correct small calls of every function, checked against the reference. */
function allWork(seed = 1): void {
  const N = 3;
  const C = 7;
  const d: Dims = { outer: N, C, inner: 1 };
  const x = Float32Array.from(uniform(N * C, seed));
  expectClose(api.softmax(x, { classes: C }), softmax64(x, d), true, 'softmax');
  expectClose(api.logSoftmax(x, { classes: C, temperature: 2 }), logSoftmax64(x, d, 2), true, 'logSoftmax');
  const labels = [0, 6, 3];
  const o = { reduction: 'none' as const, weight: [1, 2, 3, 4, 5, 6, 7], gradOutput: [1, -1, 2] };
  const r = api.crossEntropyWithGrad(x, labels, { classes: C, ...o });
  const e = crossEntropy64(x, labels, d, false, o);
  expectClose(r.loss, e.loss, true, 'crossEntropy loss');
  expectClose(r.grad, e.grad, true, 'crossEntropy grad');
  const ws = api.createWorkspace({ classes: C, rows: N });
  ws.logits.set(x);
  ws.target.set(labels);
  expectClose(ws.softmax(), softmax64(x, d), true, 'ws.softmax');
  expectClose(ws.crossEntropyWithGrad(o) as Float32Array, e.loss, true, 'ws.crossEntropyWithGrad');
  expectClose(ws.grad, e.grad, true, 'ws.grad');
  ws.dispose();
}

/** make(): arrays of GiBs (address space, untouched); null where the runtime itself refuses an
 *  array that large (a browser may: Chromium 150 refuses 2 GiB with "Array buffer allocation
 *  failed"), where no such input can reach the library. Node always makes them. */
function huge<T>(make: () => T): T | null {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof RangeError) || typeof window === 'undefined') throw e;
    return null;
  }
}

describe('inputs larger than wasm32 memory: RangeError before any work', () => {
  it('a single row of 2^30 float32 (4 GiB) or 2^29 float64', () => {
    use('simd');
    allWork();
    const before = memory();
    const arrays = huge(() => [new Float32Array(GiB), new Float32Array(GiB), new Float64Array(GiB / 2), new Float32Array(GiB / 2)] as const);
    if (!arrays) return allWork(2);
    const [big32, into, big64, half] = arrays;
    const t0 = performance.now();
    expectError(() => api.softmax(big32, { classes: GiB, into }), RangeError, 'softmax', ['x', `${4 * GiB}`, 'wasm32']);
    expectError(() => api.logSoftmax(big32, { shape: [1, GiB] }), RangeError, 'logSoftmax', ['x', 'wasm32']);
    expectError(() => api.logSumExp(big32, { classes: GiB }), RangeError, 'logSumExp', ['x', 'wasm32']);
    expectError(() => api.crossEntropyWithGrad(big32, [0], { classes: GiB }), RangeError, 'crossEntropyWithGrad', ['logits', 'wasm32']);
    // Strided: the whole [C, inner] block is transposed in wasm, so it must fit twice.
    expectError(() => api.softmax(big32, { shape: [2, GiB / 2], axis: 0 }), RangeError, 'softmax', ['x', 'wasm32']);
    expectError(() => api.logSumExp(big64, { classes: GiB / 2 }), RangeError, 'logSumExp', ['x', 'wasm32']);
    // Two inputs of 2 GiB each: together beyond 4 GiB.
    expectError(() => api.softmaxBackward(half, half, { classes: GiB / 2 }), RangeError, 'softmaxBackward', ['y and gradOutput', 'wasm32']);
    expect(performance.now() - t0, 'refused before copying anything').toBeLessThan(2000);
    for (const i of [0, GiB / 2, GiB - 1]) expect(into[i]).toBe(0); // nothing was written
    expect(memory(), 'memory did not grow for a refused call').toBe(before);
    allWork(2);
  });

  it('a refused call allocates no result (a browser may refuse a multi-GiB array with its own error)', () => {
    use('simd');
    // Results are made with the input's constructor: count what a refused call allocates.
    let made = 0;
    class Counting extends Float32Array {
      constructor(...args: [number]) {
        super(...args);
        made++;
      }
    }
    const big = huge(() => new Counting(GiB));
    if (big) {
      const half = big.subarray(0, GiB / 2);
      made = 0;
      expectError(() => api.softmax(big, { classes: GiB }), RangeError, 'softmax', ['x', 'wasm32']);
      expectError(() => api.logSumExp(big, { shape: [2, GiB / 2], axis: 0 }), RangeError, 'logSumExp', ['x', 'wasm32']);
      expectError(() => api.softmaxBackward(half, half, { classes: GiB / 2 }), RangeError, 'softmaxBackward', ['wasm32']);
      expectError(() => api.logSoftmaxBackward(half, half, { classes: GiB / 2 }), RangeError, 'logSoftmaxBackward', ['wasm32']);
      expectError(() => api.crossEntropyWithGrad(big, [0], { classes: GiB, reduction: 'none' }), RangeError, 'crossEntropyWithGrad', ['logits', 'wasm32']);
      expect(made, 'results allocated by refused calls').toBe(0);
    }
    const small = new Counting(6);
    made = 0;
    expectClose(api.softmax(small, { classes: 3 }), [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3], true, 'softmax of a subclass');
    expect(made).toBe(1);
  });

  it('a Workspace beyond 4 GiB, and beyond 2^53 bytes', () => {
    use('simd');
    const before = memory();
    expectError(() => api.createWorkspace({ classes: 1024, rows: 2 ** 20 }), RangeError, 'createWorkspace', ['1048576 rows of 1024 classes', 'wasm32']);
    expectError(() => api.createWorkspace({ classes: 2 ** 29, rows: 1, dtype: 'float64' }), RangeError, 'createWorkspace', ['wasm32']);
    expectError(() => api.createWorkspace({ classes: 2 ** 31, rows: 2 ** 31 }), RangeError, 'createWorkspace', ['wasm32']);
    expectError(() => api.createWorkspace({ classes: 1, rows: Number.MAX_SAFE_INTEGER }), RangeError, 'createWorkspace', ['wasm32']);
    expect(memory()).toBe(before);
    allWork(3);
  });
});

describe('growth refused by the runtime', () => {
  it('is a RangeError naming what needed the memory; the state is untouched and the next call works', () => {
    use('simd');
    allWork();
    const before = memory();
    let refused = 0;
    WebAssembly.Memory.prototype.grow = function () {
      refused++;
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    };
    const C = (before >> 2) + 3; // a row of more bytes than wasm memory holds
    const x = new Float32Array(C).fill(1);
    const into = new Float32Array(C).fill(42);
    expectError(() => api.softmax(x, { classes: C, into }), RangeError, 'softmax', ['x', 'refused to grow']);
    expect(into.every((v) => v === 42)).toBe(true);
    expectError(() => api.crossEntropyWithGrad(x, [5], { classes: C }), RangeError, 'crossEntropyWithGrad', ['logits', 'refused to grow']);
    expectError(() => api.createWorkspace({ classes: C, rows: 4 }), RangeError, 'createWorkspace', [`4 rows of ${C} classes`, 'refused to grow']);
    expect(refused).toBe(3);
    expect(memory()).toBe(before);
    // Calls that fit in the memory already there still work while growth is refused.
    allWork(4);
    WebAssembly.Memory.prototype.grow = originalGrow;
    // And once growth works again, the same large call succeeds with the right answer.
    expectClose(api.softmax(x, { classes: C, into }).subarray(0, 3), [1 / C, 1 / C, 1 / C], true, 'softmax after growth is allowed again');
    const ws = api.createWorkspace({ classes: C, rows: 1 });
    ws.logits.fill(0);
    ws.target[0] = 5;
    expect(ws.crossEntropy()).toBeCloseTo(Math.log(C), 5);
    ws.dispose();
    allWork(5);
  });
});

for (const b of BACKENDS) {
  describe(`growth, ${b} build`, () => {
    it("a Workspace's views stay live and correct when a second, larger one grows memory", () => {
      use(b);
      const C = 10;
      const N = 64;
      const d: Dims = { outer: N, C, inner: 1 };
      const ws = api.createWorkspace({ classes: C, rows: N, dtype: 'float64' });
      const x = uniform(N * C, 7, 10);
      ws.logits.set(x);
      ws.target.set(Array.from({ length: N }, (_, i) => i % C));
      ws.softmax();
      const held = ws.output; // a view held across growth
      const before = memory();
      const big = api.createWorkspace({ classes: 1000, rows: 16_384 }); // 4 x 64 MiB: memory grows
      expect(memory()).toBeGreaterThan(before);
      // The old buffer was detached by the growth: a held view reads as empty ...
      expect(held.length).toBe(0);
      // ... and every property read returns a live view of the same, intact data.
      expect(ws.logits.length).toBe(N * C);
      expect(Array.from(ws.logits)).toEqual(x);
      expectClose(ws.output, softmax64(x, d), false, 'ws.output after growth');
      big.logits.fill(3);
      big.setRows(2);
      big.target.set([0, 999]);
      expect(big.crossEntropy()).toBeCloseTo(Math.log(1000), 10);
      const labels = Array.from(ws.target);
      const loss = ws.crossEntropyWithGrad({ labelSmoothing: 0.1 }) as number;
      const e = crossEntropy64(x, labels, d, false, { labelSmoothing: 0.1 });
      expectClose(loss, e.loss, false, 'ws loss after growth');
      expectClose(ws.grad, e.grad, false, 'ws grad after growth');
      big.dispose();
      ws.dispose();
      allWork();
    });

    it('memory beyond 2 GiB: functional calls and Workspace methods with pointers above 2^31', () => {
      use(b);
      // 3 x 768 MiB of untouched workspace: its small regions (losses, weights, scales) and
      // everything allocated later lie above 2 GiB.
      const huge = api.createWorkspace({ classes: 1024, rows: 196_608 });
      expect(memory()).toBeGreaterThan(2.25 * GiB);
      const hugeWs = huge as api.Workspace;
      hugeWs.setRows(3);
      const x3 = Float32Array.from(uniform(3 * 1024, 11));
      hugeWs.logits.set(x3);
      hugeWs.target.set([0, 1023, 512]);
      const d3: Dims = { outer: 3, C: 1024, inner: 1 };
      const o = { reduction: 'none' as const, weight: Float32Array.from({ length: 1024 }, (_, i) => 1 + (i % 3)), gradOutput: [1, 2, 3] };
      const r = hugeWs.crossEntropyWithGrad(o) as Float32Array;
      const e = crossEntropy64(x3, [0, 1023, 512], d3, false, o);
      expectClose(r, e.loss, true, 'huge ws loss');
      expectClose(hugeWs.grad, e.grad, true, 'huge ws grad');
      expectClose(hugeWs.logSoftmax({ temperature: 0.5 }), logSoftmax64(x3, d3, 0.5), true, 'huge ws logSoftmax');
      // A row larger than any scratch so far moves the one-call functions' scratch above 2 GiB.
      const row = new Float32Array(1_500_000).fill(-3);
      expectClose(api.logSumExp(row, { classes: row.length }), [-3 + Math.log(row.length)], true, 'logSumExp of a long row');
      allWork(6);
      const strided = Float64Array.from(uniform(6 * 40 * 5, 12));
      expectClose(api.softmax(strided, { shape: [6, 40, 5], axis: 1 }), softmax64(strided, { outer: 6, C: 40, inner: 5 }), false, 'strided above 2 GiB');
      huge.dispose();
      allWork(7);
    });
  });
}
