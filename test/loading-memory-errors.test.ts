// Loading and build choice, SIMD really present, memory
// that does not grow with the number of calls, the contract's errors and a working next call.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { wasmBytes } from '../src/load.js';
import { getRuntime } from '../src/load.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nodeMajor = Number(process.versions.node.split('.')[0]);

describe('loading', () => {
  it('before init, backend() is null and compute functions say to await init()', () => {
    expect(api.backend()).toBeNull();
    expect(() => api.softmax(new Float32Array(3), { classes: 3 })).toThrowError(/await init\(\)/);
    expect(() => api.crossEntropy(new Float32Array(3), [0], { classes: 3 })).toThrowError(Error);
    expect(() => api.createWorkspace({ classes: 3, rows: 1 })).toThrowError(/await init\(\)/);
  });

  it('init() picks the fastest build, is idempotent, and switches when a backend is forced', async () => {
    await api.init();
    const first = api.backend();
    expect(first).toBe('relaxed-simd'); // vitest.config.ts gives Node 20 the relaxed-SIMD flag
    await api.init();
    expect(api.backend()).toBe(first);
    await api.init({ backend: 'scalar' });
    expect(api.backend()).toBe('scalar');
    api.initSync({ backend: 'simd' });
    expect(api.backend()).toBe('simd');
  });

  it('rejects unknown backends and bad options with the contract error classes', async () => {
    await expect(api.init({ backend: 'gpu' as never })).rejects.toThrowError(RangeError);
    await expect(api.init(5 as never)).rejects.toThrowError(TypeError);
    expect(() => api.initSync({ wasm: 'bytes' as never })).toThrowError(TypeError);
    expect(api.backend()).toBe('simd'); // the failed calls changed nothing
  });

  it('init({ wasm }) takes user-supplied bytes or a compiled module, and names its build', async () => {
    await api.init({ wasm: wasmBytes('scalar') });
    expect(api.backend()).toBe('scalar');
    await api.init({ wasm: new WebAssembly.Module(wasmBytes('simd') as BufferSource) });
    expect(api.backend()).toBe('simd');
    expect(() => api.initSync({ wasm: wasmBytes('scalar'), backend: 'simd' })).toThrowError(/'scalar' build/);
    expect(Array.from(api.softmax(new Float32Array([0, 0]), { classes: 2 }))).toEqual([0.5, 0.5]);
  });

  it('the simd build holds v128 instructions, relaxed-simd fused multiply-adds, scalar none', () => {
    const wat = (b: string) => readFileSync(resolve(root, `build/softmax.${b}.wat`), 'utf8');
    expect(wat('simd')).toMatch(/f32x4\.mul/);
    expect(wat('simd')).toMatch(/v128\.load/);
    expect(wat('simd')).not.toMatch(/relaxed_madd/);
    expect(wat('relaxed-simd')).toMatch(/f32x4\.relaxed_madd/);
    expect(wat('scalar')).not.toMatch(/v128/);
  });

  it('the built package, imported by plain node, computes softmax with the simd build on Node 20', () => {
    const script = `
      import { init, backend, softmax } from ${JSON.stringify(resolve(root, 'dist/index.js'))};
      await init();
      const y = softmax(new Float32Array([1, 2, 3]), { classes: 3 });
      console.log(JSON.stringify({ backend: backend(), y: Array.from(y) }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(out.backend).toBe(nodeMajor < 22 ? 'simd' : 'relaxed-simd');
    const e = [1, 2, 3].map((v) => Math.exp(v - 3));
    const s = e.reduce((a, b) => a + b);
    out.y.forEach((v: number, i: number) => expect(Math.abs(v - e[i]! / s)).toBeLessThan(1e-7));
  });

  it('forcing a build the runtime cannot run rejects with a clear Error', () => {
    if (nodeMajor >= 22) return expect(nodeMajor).toBeGreaterThanOrEqual(22); // relaxed SIMD runs there
    const script = `
      import { init } from ${JSON.stringify(resolve(root, 'dist/index.js'))};
      init({ backend: 'relaxed-simd' }).then(() => console.log('resolved'), (e) => console.log(e.constructor.name + ': ' + e.message));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out).toMatch(/^Error: .*'relaxed-simd' build cannot run/);
  });
});

describe('memory', () => {
  it('a 1,000,000-call loop of softmax on [64, 10] leaves wasm memory the same size', () => {
    api.initSync({ backend: 'simd' });
    const x = Float32Array.from({ length: 640 }, (_, i) => Math.sin(i));
    const into = new Float32Array(640);
    api.softmax(x, { classes: 10 });
    const rt = getRuntime('test');
    const before = rt.arena.byteLength;
    for (let i = 0; i < 1_000_000; i++) api.softmax(x, { classes: 10, into });
    for (let i = 0; i < 10_000; i++) api.softmax(x, { classes: 10 }); // and with a fresh output each call
    expect(rt.arena.byteLength).toBe(before);
    let s = 0;
    for (let c = 0; c < 10; c++) s += into[c]!;
    expect(Math.abs(s - 1)).toBeLessThan(1e-6);
  });

  it('small calls with `into` leave no garbage on the JS heap, also alternating two shapes: no young-generation collection over 100k rounds', () => {
    // A child process with --trace-gc counts the collections (the built package, as users load
    // it). A new subarray per copy out of a [64, 10] result, and a call that fell off the fast
    // path because the `into` check remembered one shape only, made 107 of them here.
    const script = `
      import { init, softmax, logSoftmax } from ${JSON.stringify(resolve(root, 'dist/index.js'))};
      await init({ backend: 'simd' });
      const x = Float32Array.from({ length: 640 }, (_, i) => Math.sin(i)), y = new Float32Array(640), y1 = new Float32Array(10);
      const big = { classes: 10, into: y }, one = { classes: 10, into: y1 }, x1 = x.subarray(0, 10);
      const round = () => { softmax(x, big); logSoftmax(x, big); softmax(x1, one); logSoftmax(x1, one); };
      for (let i = 0; i < 20000; i++) round();
      console.log('start');
      for (let i = 0; i < 100000; i++) round();
      console.log('end', y[0] + y1[0]);`;
    const out = execFileSync(process.execPath, ['--trace-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out).toContain('end');
    const timed = out.slice(out.indexOf('start'), out.indexOf('end'));
    expect(timed.match(/Scavenge/g)?.length ?? 0).toBeLessThanOrEqual(2);
  });

  it("a Workspace's calls with options leave (almost) no garbage either: at most 10 young-generation collections over 100k rounds, where there were 91-113", () => {
    // The cross-entropy calls take reduction 'none' (they return ws.loss, not a number to box).
    // Before: the option check built its message on every call, and the loss options were a new
    // object per call. Left: 3 collections on Node 20 and 24, a number the engine boxes where one
    // call site sees both options objects (0 with one of them only).
    const script = `
      import { init, createWorkspace } from ${JSON.stringify(resolve(root, 'dist/index.js'))};
      await init({ backend: 'simd' });
      const one = createWorkspace({ rows: 1, classes: 10 }), many = createWorkspace({ rows: 64, classes: 10 });
      one.logits.set(Float32Array.from({ length: 10 }, (_, i) => Math.sin(i)));
      many.logits.set(Float32Array.from({ length: 640 }, (_, i) => Math.sin(i)));
      one.target.fill(3);
      many.target.fill(7);
      const none = { reduction: 'none' }, smooth = { reduction: 'none', labelSmoothing: 0.1, ignoreIndex: 1 };
      const round = () => {
        one.softmax(); one.logSoftmax(); one.crossEntropyWithGrad(none);
        many.softmax(); many.logSoftmax(); many.crossEntropyWithGrad(smooth);
      };
      for (let i = 0; i < 20000; i++) round();
      console.log('start');
      for (let i = 0; i < 100000; i++) round();
      console.log('end', one.loss[0] + many.loss[0]);`;
    const out = execFileSync(process.execPath, ['--trace-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out).toContain('end');
    const timed = out.slice(out.indexOf('start'), out.indexOf('end'));
    expect(timed.match(/Scavenge/g)?.length ?? 0).toBeLessThanOrEqual(10);
  });

  it('memory starts at 16 MiB and the one-call functions at the large bench shapes never grow it (growing detaches its buffer: README, Size limits)', () => {
    api.initSync({ wasm: wasmBytes('simd') }); // a fresh instance
    const rt = getRuntime('test');
    expect(rt.arena.byteLength).toBe(16 * 2 ** 20);
    const grow = WebAssembly.Memory.prototype.grow;
    let grew = 0;
    WebAssembly.Memory.prototype.grow = function (pages: number) {
      grew++;
      return grow.call(this, pages);
    };
    try {
      const shapes: [number, number][] = [[4096, 1000], [64, 128256], [8, 128256]];
      for (const [rows, C] of shapes) {
        const x = Float32Array.from({ length: rows * C }, (_, i) => (i % 97) / 16);
        const y = new Float32Array(rows * C);
        const labels = Int32Array.from({ length: rows }, (_, r) => (r * 31) % C);
        api.softmax(x, { classes: C, into: y });
        expect(Math.abs(y.subarray(0, C).reduce((a, v) => a + v, 0) - 1)).toBeLessThan(1e-5);
        api.logSoftmax(x, { classes: C, into: y });
        api.logSumExp(x, { classes: C });
        api.crossEntropyWithGrad(x, labels, { classes: C, gradInto: y });
        api.crossEntropy(x, labels, { classes: C, reduction: 'none' });
        api.softmaxBackward(y, x, { classes: C });
        api.topK(x, 50, { classes: C });
        api.sample(x, { classes: C, topK: 50, topP: 0.9, temperature: 0.7 });
      }
    } finally {
      WebAssembly.Memory.prototype.grow = grow;
    }
    expect(grew, 'calls that grew wasm memory').toBe(0);
    expect(rt.arena.byteLength).toBe(16 * 2 ** 20);
  });

  it('memory grows for a larger call, then stays the same for repeated calls of any size', () => {
    api.initSync({ backend: 'simd' });
    const rt = getRuntime('test');
    const big = new Float64Array(300_000).fill(1);
    api.logSoftmax(big, { classes: 300_000 }); // one row larger than a chunk: scratch grows to it
    const after = rt.arena.byteLength;
    for (let i = 0; i < 20; i++) {
      api.logSoftmax(big, { classes: 300_000 });
      api.softmax(new Float32Array(5000), { classes: 50 });
      api.crossEntropyWithGrad(new Float32Array(5000), new Int32Array(100), { classes: 50 });
    }
    expect(rt.arena.byteLength).toBe(after);
  });
});

describe('errors (the contract) and the call after them', () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]);
  const good = () => expect(Array.from(api.logSumExp(x, { classes: 3 })).map((v) => +v.toFixed(5))).toEqual([3.40761, 6.40761]);
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['x not a float array', () => api.softmax([1, 2, 3] as never, { classes: 3 }), TypeError, /softmax: x must be a Float32Array or Float64Array \(got an Array/],
    ['Int32Array input', () => api.logSoftmax(new Int32Array(3) as never, { classes: 3 }), TypeError, /x must be a Float32Array or Float64Array/],
    ['no options', () => api.softmax(x, undefined as never), TypeError, /options/],
    ['both classes and shape', () => api.softmax(x, { classes: 3, shape: [2, 3] } as never), TypeError, /exactly one of `classes` or `shape`/],
    ['neither classes nor shape', () => api.softmax(x, {} as never), TypeError, /exactly one/],
    ['length not divisible', () => api.softmax(x, { classes: 4 }), RangeError, /length 6 is not a multiple of options.classes \(4\)/],
    ['classes 0', () => api.softmax(x, { classes: 0 }), RangeError, /options.classes must be a positive integer \(got 0\)/],
    ['classes fractional', () => api.softmax(x, { classes: 1.5 }), RangeError, /positive integer/],
    ['classes a string', () => api.softmax(x, { classes: '3' as never }), TypeError, /options.classes/],
    ['shape mismatch', () => api.softmax(x, { shape: [4, 2] }), RangeError, /\[4, 2\] holds 8 elements but the input has 6/],
    ['axis out of range', () => api.softmax(x, { shape: [2, 3], axis: 2 }), RangeError, /options.axis must be an integer in \[-2, 2\)/],
    ['negative temperature', () => api.softmax(x, { classes: 3, temperature: -1 }), RangeError, /options.temperature must be a finite number > 0 \(got -1\)/],
    ['infinite temperature', () => api.softmax(x, { classes: 3, temperature: Infinity }), RangeError, /temperature/],
    ['into of the wrong type', () => api.softmax(x, { classes: 3, into: new Float64Array(6) as never }), TypeError, /options.into must be a Float32Array/],
    ['into of the wrong length', () => api.softmax(x, { classes: 3, into: new Float32Array(5) }), RangeError, /options.into.length must be 6 \(got 5\)/],
    ['gradOutput of another type', () => api.softmaxBackward(x, new Float64Array(6) as never, { classes: 3 }), TypeError, /gradOutput must be a Float32Array/],
    ['label out of range', () => api.crossEntropy(x, [0, 3], { classes: 3 }), RangeError, /target\[1\] must be an integer class index in \[0, 3\) or ignoreIndex \(-100\) \(got 3\)/],
    ['typed label out of range', () => api.crossEntropy(x, new Int32Array([-1, 0]), { classes: 3 }), RangeError, /target\[0\].*got -1/],
    ['fractional label', () => api.crossEntropy(x, [0.5, 1], { classes: 3 }), RangeError, /target\[0\].*got 0.5/],
    ['NaN label', () => api.crossEntropy(x, [0, NaN], { classes: 3 }), RangeError, /target\[1\].*got NaN/],
    ['target of the wrong length', () => api.crossEntropy(x, [0], { classes: 3 }), RangeError, /target.length must be 2/],
    ['Float64 probabilities for Float32 logits', () => api.crossEntropy(x, new Float64Array(6) as never, { classes: 3 }), TypeError, /target must be a Float32Array/],
    ['weight of the wrong length', () => api.crossEntropy(x, [0, 1], { classes: 3, weight: [1, 2] }), RangeError, /options.weight.length must be 3/],
    ['smoothing outside [0, 1]', () => api.crossEntropy(x, [0, 1], { classes: 3, labelSmoothing: 1.5 }), RangeError, /options.labelSmoothing must be a number in \[0, 1\] \(got 1.5\)/],
    ['ignoreIndex with probabilities', () => api.crossEntropy(x, new Float32Array(6), { classes: 3, ignoreIndex: 0 }), RangeError, /ignoreIndex must be negative/],
    ['unknown reduction', () => api.crossEntropy(x, [0, 1], { classes: 3, reduction: 'avg' as never }), RangeError, /options.reduction must be one of 'mean', 'sum', 'none' \(got 'avg'\)/],
    ['negative zLoss', () => api.crossEntropy(x, [0, 1], { classes: 3, zLoss: -1 }), RangeError, /options.zLoss/],
    ["gradOutput array with 'mean'", () => api.crossEntropyWithGrad(x, [0, 1], { classes: 3, gradOutput: [1, 1] as never }), TypeError, /options.gradOutput must be a number/],
    ['into with mean', () => api.crossEntropy(x, [0, 1], { classes: 3, into: new Float32Array(2) } as never), TypeError, /options.into/],
  ];
  for (const [name, call, Kind, message] of cases) {
    it(`${name}: ${Kind.name}`, () => {
      api.initSync({ backend: 'simd' });
      expect(call).toThrowError(Kind);
      expect(call).toThrowError(message);
      good();
    });
  }

  it('a bad label leaves into and gradInto untouched (nothing partly written)', () => {
    api.initSync({ backend: 'simd' });
    const logits = new Float32Array(3 * 100_000).fill(1);
    const labels = new Int32Array(100_000);
    labels[99_999] = 7;
    const gradInto = new Float32Array(logits.length).fill(42);
    const into = new Float32Array(100_000).fill(42);
    expect(() => api.crossEntropyWithGrad(logits, labels, { classes: 3, reduction: 'none', into, gradInto })).toThrowError(/target\[99999\].*got 7/);
    expect(gradInto.every((v) => v === 42)).toBe(true);
    expect(into.every((v) => v === 42)).toBe(true);
    good();
  });
});
