// The input matrix: every compute function x every bad input gets the
// contract's error class and a message naming the argument, writes nothing to its outputs, and
// the next correct call returns the right answer (checked against the float64 reference). The
// inputs that must WORK (SharedArrayBuffer-backed arrays, empty batches, in-place outputs,
// ignoreIndex collisions, odd weights, Workspace views) are checked for their values.
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { getRuntime } from '../../src/load.js';
import { BACKENDS, use } from '../helpers/backends.js';
import {
  crossEntropy64, logSoftmax64, logSoftmaxBackward64, logSumExp64, softmax64, softmaxBackward64, type Dims,
} from '../helpers/reference.js';
import { detached, expectClose, expectError, notFloatArrays, notTargets, shared, type F } from './common.js';
import { uniform } from '../helpers/random.js';

const N = 4;
const C = 5;
const dims: Dims = { outer: N, C, inner: 1 };
const X = uniform(N * C, 1);
const G = uniform(N * C, 2, 1);
const LABELS = [0, 3, 4, 1];
const Q = (() => {
  const r = uniform(N * C, 3, 1).map((v) => Math.abs(v) + 0.01);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += r[n * C + c]!;
    for (let c = 0; c < C; c++) r[n * C + c]! /= s;
  }
  return r;
})();
const Y = Array.from(softmax64(X, dims));
const LY = Array.from(logSoftmax64(X, dims));
const f32 = (v: ArrayLike<number>) => Float32Array.from(v);
const f64 = (v: ArrayLike<number>) => Float64Array.from(v);
const sentinel = (n: number, Ctor: typeof Float32Array | typeof Float64Array = Float32Array) => new Ctor(n).fill(42);
const untouched = (a: F) => expect(a.every((v) => v === 42), 'outputs untouched by a failed call').toBe(true);

/** Reference values of the correct calls, in float64. The inputs are the f32-rounded ones. */
const ref = {
  softmax: () => softmax64(f32(X), dims),
  logSoftmax: () => logSoftmax64(f32(X), dims),
  logSumExp: () => logSumExp64(f32(X), dims),
  softmaxBackward: () => softmaxBackward64(f32(Y), f32(G), dims),
  logSoftmaxBackward: () => logSoftmaxBackward64(f32(LY), f32(G), dims),
  ce: (o = {}) => crossEntropy64(f32(X), LABELS, dims, false, o),
};

/** A correct call of each function, with its value checked (f32 and f64). */
const good: Record<string, () => void> = {
  softmax: () => {
    expectClose(api.softmax(f32(X), { classes: C }), ref.softmax(), true, 'softmax f32');
    expectClose(api.softmax(f64(X), { classes: C }), softmax64(X, dims), false, 'softmax f64');
  },
  logSoftmax: () => {
    expectClose(api.logSoftmax(f32(X), { classes: C }), ref.logSoftmax(), true, 'logSoftmax f32');
    expectClose(api.logSoftmax(f64(X), { shape: [N, C] }), logSoftmax64(X, dims), false, 'logSoftmax f64');
  },
  logSumExp: () => {
    expectClose(api.logSumExp(f32(X), { classes: C }), ref.logSumExp(), true, 'logSumExp f32');
    expectClose(api.logSumExp(f64(X), { shape: [N, C], axis: 1 }), logSumExp64(X, dims), false, 'logSumExp f64');
  },
  softmaxBackward: () => {
    expectClose(api.softmaxBackward(f32(Y), f32(G), { classes: C }), ref.softmaxBackward(), true, 'softmaxBackward f32');
    expectClose(api.softmaxBackward(f64(Y), f64(G), { classes: C }), softmaxBackward64(Y, G, dims), false, 'softmaxBackward f64');
  },
  logSoftmaxBackward: () => {
    expectClose(api.logSoftmaxBackward(f32(LY), f32(G), { classes: C }), ref.logSoftmaxBackward(), true, 'logSoftmaxBackward f32');
    expectClose(api.logSoftmaxBackward(f64(LY), f64(G), { classes: C }), logSoftmaxBackward64(LY, G, dims), false, 'logSoftmaxBackward f64');
  },
  crossEntropy: () => {
    expectClose(api.crossEntropy(f32(X), LABELS, { classes: C }), ref.ce().loss, true, 'crossEntropy f32');
    const o = { reduction: 'none' as const, weight: [1, 2, 0.5, 1, 3], labelSmoothing: 0.1 };
    expectClose(api.crossEntropy(f64(X), new Int32Array(LABELS), { classes: C, ...o }), crossEntropy64(X, LABELS, dims, false, o).loss, false, 'crossEntropy f64');
  },
  crossEntropyWithGrad: () => {
    const r = api.crossEntropyWithGrad(f32(X), LABELS, { classes: C, reduction: 'sum' });
    const e = ref.ce({ reduction: 'sum' });
    expectClose(r.loss, e.loss, true, 'crossEntropyWithGrad loss');
    expectClose(r.grad, e.grad, true, 'crossEntropyWithGrad grad');
    const p = api.crossEntropyWithGrad(f64(X), f64(Q), { classes: C, zLoss: 1e-3 });
    const ep = crossEntropy64(X, Q, dims, true, { zLoss: 1e-3 });
    expectClose(p.loss, ep.loss, false, 'crossEntropyWithGrad probabilities loss');
    expectClose(p.grad, ep.grad, false, 'crossEntropyWithGrad probabilities grad');
  },
  workspace: () => {
    const ws = api.createWorkspace({ classes: C, rows: N });
    try {
      ws.logits.set(X);
      ws.target.set(LABELS);
      expectClose(ws.softmax(), ref.softmax(), true, 'ws.softmax');
      expectClose(ws.logSoftmax(), ref.logSoftmax(), true, 'ws.logSoftmax');
      expectClose(ws.crossEntropy(), ref.ce().loss, true, 'ws.crossEntropy');
      const e = ref.ce({ reduction: 'sum', labelSmoothing: 0.2 });
      expectClose(ws.crossEntropyWithGrad({ reduction: 'sum', labelSmoothing: 0.2 }) as number, e.loss, true, 'ws.crossEntropyWithGrad');
      expectClose(ws.grad, e.grad, true, 'ws.grad');
    } finally {
      ws.dispose();
    }
  },
};

interface Case {
  name: string;
  call: () => unknown;
  Kind: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;
  fn: string;
  says: string[];
  /** Output arrays the failed call must leave untouched (filled with 42). */
  outputs?: F[];
  /** The function whose correct call follows. */
  after: string;
}

const T = TypeError;
const R = RangeError;

/** Layout options that are wrong: [name, options replacing { classes: C }, class, words]. */
function badLayouts(defaultAxisCE: boolean): [string, object, typeof T | typeof R, string[]][] {
  const rank = 2;
  const axisWords = [`options.axis`];
  return [
    ['classes 0', { classes: 0 }, R, ['options.classes', '(got 0)']],
    ['classes negative', { classes: -5 }, R, ['options.classes', '-5']],
    ['classes fractional', { classes: 2.5 }, R, ['options.classes', '2.5']],
    ['classes NaN', { classes: NaN }, R, ['options.classes', 'NaN']],
    ['classes Infinity', { classes: Infinity }, R, ['options.classes', 'Infinity']],
    ['classes huge (2^53)', { classes: 2 ** 53 }, R, ['options.classes']],
    ['classes not dividing the length', { classes: 3 }, R, ['options.classes', '(3)']],
    ['classes a string', { classes: '5' }, T, ['options.classes', "'5'"]],
    ['classes null', { classes: null }, T, ['options.classes']],
    ['classes a BigInt', { classes: 5n }, T, ['options.classes']],
    ['classes and shape', { classes: C, shape: [N, C] }, T, ['`classes` or `shape`', 'both']],
    ['neither classes nor shape', {}, T, ['`classes` or `shape`', 'neither']],
    ['classes with an axis', { classes: C, axis: 0 }, T, ['options.axis']],
    ['shape a string', { shape: 'abc' }, T, ['options.shape']],
    ['shape a typed array', { shape: new Int32Array([N, C]) }, T, ['options.shape']],
    ['shape with a string dimension', { shape: [N, '5'] }, T, ['options.shape[1]']],
    ['shape empty', { shape: [] }, R, ['options.shape']],
    ['shape with a negative dimension', { shape: [-N, -C] }, R, ['options.shape[0]']],
    ['shape with a fractional dimension', { shape: [N, 2.5, 2] }, R, ['options.shape[1]', '2.5']],
    ['shape with a NaN dimension', { shape: [NaN, C] }, R, ['options.shape[0]', 'NaN']],
    ['shape with an infinite dimension', { shape: [N, Infinity] }, R, ['options.shape[1]']],
    ['shape not matching the length', { shape: [C, C] }, R, ['options.shape', '[5, 5]', `${N * C}`]],
    ['shape whose product overflows', { shape: [2 ** 40, 2 ** 40, 2 ** 40] }, R, ['options.shape']],
    ['shape whose product exceeds 2^53', { shape: [2 ** 30, 2 ** 30, 3, 7] }, R, ['options.shape']],
    ['shape with a 0 dimension and a huge one', { shape: [2 ** 53, 0] }, R, ['options.shape']],
    ['axis = rank', { shape: [N, C], axis: rank }, R, [...axisWords, `[-${rank}, ${rank})`]],
    ['axis < -rank', { shape: [N, C], axis: -rank - 1 }, R, [...axisWords, '-3']],
    ['axis fractional', { shape: [N, C], axis: 0.5 }, R, [...axisWords, '0.5']],
    ['axis NaN', { shape: [N, C], axis: NaN }, R, [...axisWords, 'NaN']],
    ['axis Infinity', { shape: [N, C], axis: Infinity }, R, axisWords],
    ['axis a string', { shape: [N, C], axis: '1' }, T, axisWords],
    ...(defaultAxisCE ? [['1-D shape [C] with more than one row', { shape: [N * C] }, R, ['target.length']] as [string, object, typeof R, string[]]] : []),
  ];
}

const badOptions: [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a string', 'classes=5'],
  ['a number', 5],
  ['an array', [C]],
];

/** The matrix of one softmax-family forward function. */
function forwardCases(name: 'softmax' | 'logSoftmax' | 'logSumExp'): Case[] {
  const f = api[name] as (x: unknown, o: unknown) => unknown;
  const outLen = name === 'logSumExp' ? N : N * C;
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'fn' | 'after'>) => cases.push({ ...c, fn: name, after: name });
  for (const [what, v] of notFloatArrays(N * C)) add({ name: `x ${what}`, call: () => f(v, { classes: C }), Kind: T, says: ['x must be a Float32Array or Float64Array'] });
  add({ name: 'x undefined', call: () => f(undefined, { classes: C }), Kind: T, says: ['x must be'] });
  for (const [what, o] of badOptions) add({ name: `options ${what}`, call: () => f(f32(X), o), Kind: T, says: ['options'] });
  for (const [what, layout, Kind, says] of badLayouts(false)) {
    const into = sentinel(outLen);
    add({ name: what, call: () => f(f32(X), { ...layout, into }), Kind, says, outputs: [into] });
  }
  if (name !== 'logSumExp') {
    for (const t of [0, -1, -0, NaN, Infinity, -Infinity]) {
      const into = sentinel(outLen);
      add({ name: `temperature ${t}`, call: () => f(f32(X), { classes: C, temperature: t, into }), Kind: R, says: ['options.temperature', `(got ${t})`], outputs: [into] });
    }
    for (const t of ['1', null, 1n, [1]]) add({ name: `temperature ${typeof t}`, call: () => f(f32(X), { classes: C, temperature: t }), Kind: T, says: ['options.temperature'] });
  }
  for (const [what, v] of notFloatArrays(outLen)) add({ name: `into ${what}`, call: () => f(f32(X), { classes: C, into: v }), Kind: T, says: ['options.into'] });
  add({ name: 'into of the other float type', call: () => f(f32(X), { classes: C, into: new Float64Array(outLen) }), Kind: T, says: ['options.into must be a Float32Array'] });
  add({ name: 'into too short', call: () => f(f32(X), { classes: C, into: new Float32Array(outLen - 1) }), Kind: R, says: ['options.into.length', `${outLen}`] });
  add({ name: 'into too long', call: () => f(f32(X), { classes: C, into: new Float32Array(outLen + 1) }), Kind: R, says: ['options.into.length'] });
  {
    const buf = new Float32Array(N * C + outLen + 8);
    buf.set(X);
    add({ name: 'into partly overlapping x', call: () => f(buf.subarray(0, N * C), { classes: C, into: buf.subarray(3, 3 + outLen) }), Kind: R, says: ['options.into', 'overlap x'] });
    const buf2 = new Float32Array(N * C + outLen);
    add({ name: 'into overlapping the start of x', call: () => f(buf2.subarray(outLen - 1, outLen - 1 + N * C), { classes: C, into: buf2.subarray(0, outLen) }), Kind: R, says: ['options.into', 'overlap x'] });
  }
  return cases;
}

function backwardCases(name: 'softmaxBackward' | 'logSoftmaxBackward'): Case[] {
  const f = api[name] as (y: unknown, g: unknown, o: unknown) => unknown;
  const y0 = name === 'softmaxBackward' ? Y : LY;
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'fn' | 'after'>) => cases.push({ ...c, fn: name, after: name });
  for (const [what, v] of notFloatArrays(N * C)) {
    add({ name: `y ${what}`, call: () => f(v, f32(G), { classes: C }), Kind: T, says: ['y must be a Float32Array or Float64Array'] });
    add({ name: `gradOutput ${what}`, call: () => f(f32(y0), v, { classes: C }), Kind: T, says: ['gradOutput must be a Float32Array'] });
    add({ name: `into ${what}`, call: () => f(f32(y0), f32(G), { classes: C, into: v }), Kind: T, says: ['options.into'] });
  }
  add({ name: 'gradOutput of the other float type', call: () => f(f32(y0), f64(G), { classes: C }), Kind: T, says: ['gradOutput must be a Float32Array'] });
  add({ name: 'gradOutput too short', call: () => f(f32(y0), f32(G).subarray(1), { classes: C }), Kind: R, says: ['gradOutput.length', `${N * C}`] });
  add({ name: 'gradOutput undefined', call: () => f(f32(y0), undefined, { classes: C }), Kind: T, says: ['gradOutput'] });
  for (const [what, o] of badOptions) add({ name: `options ${what}`, call: () => f(f32(y0), f32(G), o), Kind: T, says: ['options'] });
  for (const [what, layout, Kind, says] of badLayouts(false)) {
    const into = sentinel(N * C);
    add({ name: what, call: () => f(f32(y0), f32(G), { ...layout, into }), Kind, says, outputs: [into] });
  }
  add({ name: 'into too short', call: () => f(f32(y0), f32(G), { classes: C, into: new Float32Array(N * C - 1) }), Kind: R, says: ['options.into.length'] });
  add({ name: 'into of the other float type', call: () => f(f32(y0), f32(G), { classes: C, into: new Float64Array(N * C) }), Kind: T, says: ['options.into'] });
  {
    const buf = new Float32Array(3 * N * C);
    const y = buf.subarray(0, N * C);
    y.set(y0);
    const g = buf.subarray(N * C, 2 * N * C);
    g.set(G);
    add({ name: 'into partly overlapping y', call: () => f(y, g, { classes: C, into: buf.subarray(2, 2 + N * C) }), Kind: R, says: ['options.into', 'overlap y'] });
    add({ name: 'into partly overlapping gradOutput', call: () => f(y, g, { classes: C, into: buf.subarray(N * C + 1, 2 * N * C + 1) }), Kind: R, says: ['options.into', 'overlap gradOutput'] });
  }
  return cases;
}

function crossEntropyCases(name: 'crossEntropy' | 'crossEntropyWithGrad'): Case[] {
  const f = api[name] as (x: unknown, t: unknown, o: unknown) => unknown;
  const grad = name === 'crossEntropyWithGrad';
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'fn' | 'after'>) => cases.push({ ...c, fn: name, after: name });
  /** A call whose outputs (per-sample losses and, with grad, the gradient) are sentinels. */
  const withOutputs = (what: string, x: unknown, t: unknown, o: object, Kind: typeof T | typeof R, says: string[]) => {
    const into = sentinel(N);
    const gradInto = sentinel(N * C);
    const outs: object = grad ? { into, gradInto } : { into };
    add({ name: what, call: () => f(x, t, { classes: C, reduction: 'none', ...outs, ...o }), Kind, says, outputs: grad ? [into, gradInto] : [into] });
  };
  for (const [what, v] of notFloatArrays(N * C)) add({ name: `logits ${what}`, call: () => f(v, LABELS, { classes: C }), Kind: T, says: ['logits must be a Float32Array or Float64Array'] });
  for (const [what, v] of notTargets(N)) add({ name: `target ${what}`, call: () => f(f32(X), v, { classes: C }), Kind: T, says: [what.includes('detached') ? 'target must be an array whose buffer is not detached' : 'target must be class indices'] });
  add({ name: 'probabilities of the other float type', call: () => f(f32(X), f64(Q), { classes: C }), Kind: T, says: ['target must be a Float32Array'] });
  add({ name: 'detached probabilities', call: () => f(f32(X), detached(f32(Q)), { classes: C }), Kind: T, says: ['target', 'detached'] });
  add({ name: 'probabilities of the wrong length', call: () => f(f32(X), f32(Q).subarray(C), { classes: C }), Kind: R, says: ['target.length', `${N * C}`] });
  add({ name: 'labels too few', call: () => f(f32(X), [0, 1, 2], { classes: C }), Kind: R, says: ['target.length', `${N}`] });
  add({ name: 'typed labels too many', call: () => f(f32(X), new Uint8Array(N + 1), { classes: C }), Kind: R, says: ['target.length'] });
  const labelCases: [string, unknown, typeof T | typeof R, string[]][] = [
    ['label = C', [0, C, 1, 2], R, ['target[1]', `[0, ${C})`, `(got ${C})`]],
    ['label huge', [0, 1, 2 ** 40, 2], R, ['target[2]', `${2 ** 40}`]],
    ['label negative', [0, 1, 2, -1], R, ['target[3]', '(got -1)']],
    ['label -0.5', [-0.5, 1, 2, 3], R, ['target[0]', '-0.5']],
    ['label fractional', [0, 1.5, 2, 3], R, ['target[1]', '1.5']],
    ['label NaN', [0, 1, NaN, 3], R, ['target[2]', 'NaN']],
    ['label Infinity', [Infinity, 1, 2, 3], R, ['target[0]', 'Infinity']],
    ['label a string', [0, '1', 2, 3], T, ['target[1]']],
    ['label null', [0, 1, null, 3], T, ['target[2]']],
    ['label undefined (a hole)', [0, 1, 2, , ], T, ['target']],
    ['label a BigInt', [0n, 1, 2, 3], T, ['target[0]']],
    ['Int32Array label = C', new Int32Array([0, 1, 2, C]), R, ['target[3]', `(got ${C})`]],
    ['Int32Array label = int32 min', new Int32Array([0, -(2 ** 31), 2, 3]), R, ['target[1]', `${-(2 ** 31)}`]],
    ['Int8Array label -1', new Int8Array([0, 1, -1, 3]), R, ['target[2]', '(got -1)']],
    ['Uint8Array label 255', new Uint8Array([255, 1, 2, 3]), R, ['target[0]', '255']],
    ['Int16Array label -32768', new Int16Array([0, 1, 2, -32768]), R, ['target[3]', '-32768']],
    ['Uint16Array label 65535', new Uint16Array([0, 65535, 2, 3]), R, ['target[1]', '65535']],
    ['Uint32Array label 2^32-1 (not ignoreIndex -1)', new Uint32Array([0, 1, 2 ** 32 - 1, 3]), R, ['target[2]', '4294967295']],
    ['Uint32Array label 2^31', new Uint32Array([2 ** 31, 1, 2, 3]), R, ['target[0]', '2147483648']],
    ['label -100 is ignored but -101 is not', [-100, -101, 2, 3], R, ['target[1]', '-101']],
  ];
  for (const [what, t, Kind, says] of labelCases) withOutputs(what, f32(X), t, {}, Kind, says);
  withOutputs('label out of range with another ignoreIndex', f32(X), [0, -100, 2, 3], { ignoreIndex: 2 }, R, ['target[1]', 'ignoreIndex (2)', '-100']);
  withOutputs('Uint32 label 2^32-1 with ignoreIndex -1', f32(X), new Uint32Array([0, 2 ** 32 - 1, 2, 3]), { ignoreIndex: -1 }, R, ['target[1]', '4294967295']);
  for (const [what, o] of badOptions) add({ name: `options ${what}`, call: () => f(f32(X), LABELS, o), Kind: T, says: ['options'] });
  for (const [what, layout, Kind, says] of badLayouts(true)) {
    const into = sentinel(N);
    add({ name: what, call: () => f(f32(X), LABELS, { reduction: 'none', into, ...layout }), Kind, says, outputs: [into] });
  }
  const optionCases: [string, object, typeof T | typeof R, string[]][] = [
    ['reduction unknown', { reduction: 'avg' }, R, ['options.reduction', "'avg'"]],
    ['reduction empty', { reduction: '' }, R, ['options.reduction']],
    ['reduction a number', { reduction: 1 }, T, ['options.reduction']],
    ['reduction null', { reduction: null }, T, ['options.reduction']],
    ['weight a plain object', { weight: { length: C } }, T, ['options.weight']],
    ['weight a string', { weight: '11111' }, T, ['options.weight']],
    ['weight null', { weight: null }, T, ['options.weight']],
    ['weight a number', { weight: 1 }, T, ['options.weight']],
    ['weight a BigInt64Array', { weight: new BigInt64Array(C) }, T, ['options.weight']],
    ['weight a DataView', { weight: new DataView(new ArrayBuffer(C * 4)) }, T, ['options.weight']],
    ['weight detached', { weight: detached(new Float32Array(C)) }, T, ['options.weight', 'detached']],
    ['weight with a string', { weight: [1, 1, '1', 1, 1] }, T, ['options.weight[2]']],
    ['weight too short', { weight: [1, 1, 1, 1] }, R, ['options.weight.length', `${C}`]],
    ['weight too long', { weight: new Float64Array(C + 1) }, R, ['options.weight.length']],
    ['ignoreIndex fractional', { ignoreIndex: 0.5 }, R, ['options.ignoreIndex', '0.5']],
    ['ignoreIndex NaN', { ignoreIndex: NaN }, R, ['options.ignoreIndex', 'NaN']],
    ['ignoreIndex Infinity', { ignoreIndex: -Infinity }, R, ['options.ignoreIndex']],
    ['ignoreIndex a string', { ignoreIndex: '-100' }, T, ['options.ignoreIndex']],
    ['labelSmoothing negative', { labelSmoothing: -0.1 }, R, ['options.labelSmoothing', '-0.1']],
    ['labelSmoothing above 1', { labelSmoothing: 1.0000001 }, R, ['options.labelSmoothing']],
    ['labelSmoothing NaN', { labelSmoothing: NaN }, R, ['options.labelSmoothing', 'NaN']],
    ['labelSmoothing a string', { labelSmoothing: '0.1' }, T, ['options.labelSmoothing']],
    ['zLoss negative', { zLoss: -1e-4 }, R, ['options.zLoss']],
    ['zLoss NaN', { zLoss: NaN }, R, ['options.zLoss', 'NaN']],
    ['zLoss Infinity', { zLoss: Infinity }, R, ['options.zLoss', 'Infinity']],
    ['zLoss a BigInt', { zLoss: 1n }, T, ['options.zLoss']],
  ];
  for (const [what, o, Kind, says] of optionCases) withOutputs(what, f32(X), LABELS, o, Kind, says);
  withOutputs('ignoreIndex 0 with probabilities', f32(X), f32(Q), { ignoreIndex: 0 }, R, ['options.ignoreIndex', 'probability']);
  const gradOutputCases: [string, object, typeof T | typeof R, string[]][] = [
    ["gradOutput an array with 'mean'", { reduction: 'mean', gradOutput: [1, 1, 1, 1] }, T, ['options.gradOutput', "'mean'"]],
    ["gradOutput a string with 'sum'", { reduction: 'sum', gradOutput: '1' }, T, ['options.gradOutput']],
    ["gradOutput a number with 'none'", { reduction: 'none', gradOutput: 1 }, T, ['options.gradOutput']],
    ["gradOutput an Int32Array with 'none'", { reduction: 'none', gradOutput: new Int32Array(N) }, T, ['options.gradOutput']],
    ["gradOutput detached with 'none'", { reduction: 'none', gradOutput: detached(new Float32Array(N)) }, T, ['options.gradOutput', 'detached']],
    ["gradOutput too short with 'none'", { reduction: 'none', gradOutput: [1, 1, 1] }, R, ['options.gradOutput.length', `${N}`]],
    ["gradOutput with a string with 'none'", { reduction: 'none', gradOutput: [1, '1', 1, 1] }, T, ['options.gradOutput[1]']],
  ];
  for (const [what, o, Kind, says] of gradOutputCases) add({ name: what, call: () => f(f32(X), LABELS, { classes: C, ...o }), Kind, says });
  for (const [what, v] of notFloatArrays(N)) add({ name: `into ${what}`, call: () => f(f32(X), LABELS, { classes: C, reduction: 'none', into: v }), Kind: T, says: ['options.into'] });
  add({ name: "into with 'mean'", call: () => f(f32(X), LABELS, { classes: C, into: new Float32Array(N) }), Kind: T, says: ['options.into', "'none'"] });
  add({ name: 'into too long', call: () => f(f32(X), LABELS, { classes: C, reduction: 'none', into: new Float32Array(N * C) }), Kind: R, says: ['options.into.length', `${N}`] });
  add({ name: 'into of the other float type', call: () => f(f32(X), LABELS, { classes: C, reduction: 'none', into: new Float64Array(N) }), Kind: T, says: ['options.into'] });
  {
    const buf = new Float32Array(N * C + 2);
    buf.set(X);
    add({ name: 'into partly overlapping logits', call: () => f(buf.subarray(0, N * C), LABELS, { classes: C, reduction: 'none', into: buf.subarray(N * C - 2, N * C + 2) }), Kind: R, says: ['options.into', 'overlap logits'] });
  }
  if (grad) {
    for (const [what, v] of notFloatArrays(N * C)) add({ name: `gradInto ${what}`, call: () => f(f32(X), LABELS, { classes: C, gradInto: v }), Kind: T, says: ['options.gradInto'] });
    add({ name: 'gradInto too short', call: () => f(f32(X), LABELS, { classes: C, gradInto: new Float32Array(N * C - 1) }), Kind: R, says: ['options.gradInto.length', `${N * C}`] });
    const buf = new Float32Array(2 * N * C + 1);
    buf.set(X);
    const logits = buf.subarray(0, N * C);
    add({ name: 'gradInto partly overlapping logits', call: () => f(logits, LABELS, { classes: C, gradInto: buf.subarray(1, 1 + N * C) }), Kind: R, says: ['options.gradInto', 'overlap logits'] });
    const pbuf = new Float32Array(2 * N * C);
    pbuf.set(Q);
    add({ name: 'gradInto partly overlapping probabilities', call: () => f(f32(X), pbuf.subarray(0, N * C), { classes: C, gradInto: pbuf.subarray(C, C + N * C) }), Kind: R, says: ['options.gradInto', 'overlap target'] });
    const obuf = new Float32Array(N * C + N);
    add({ name: 'into overlapping gradInto', call: () => f(f32(X), LABELS, { classes: C, reduction: 'none', gradInto: obuf.subarray(0, N * C), into: obuf.subarray(N * C - 1, N * C - 1 + N) }), Kind: R, says: ['options.into', 'overlap options.gradInto'] });
  } else {
    add({ name: 'gradInto with crossEntropy', call: () => f(f32(X), LABELS, { classes: C, gradInto: new Float32Array(N * C) }), Kind: T, says: ['options.gradInto', 'crossEntropyWithGrad'] });
  }
  return cases;
}

function workspaceCases(): Case[] {
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'after'>) => cases.push({ ...c, after: 'workspace' });
  const cw = (o: unknown) => () => api.createWorkspace(o as never);
  const fn = 'createWorkspace';
  for (const [what, o] of badOptions) add({ name: `createWorkspace options ${what}`, call: cw(o), Kind: T, fn, says: ['options'] });
  const createCases: [string, object, typeof T | typeof R, string[]][] = [
    ['classes missing', { rows: 4 }, T, ['options.classes']],
    ['classes 0', { classes: 0, rows: 4 }, R, ['options.classes', '(got 0)']],
    ['classes -1', { classes: -1, rows: 4 }, R, ['options.classes']],
    ['classes fractional', { classes: 2.5, rows: 4 }, R, ['options.classes', '2.5']],
    ['classes NaN', { classes: NaN, rows: 4 }, R, ['options.classes', 'NaN']],
    ['classes a string', { classes: '5', rows: 4 }, T, ['options.classes']],
    ['rows missing', { classes: C }, T, ['options.rows']],
    ['rows -1', { classes: C, rows: -1 }, R, ['options.rows', '-1']],
    ['rows fractional', { classes: C, rows: 1.5 }, R, ['options.rows', '1.5']],
    ['rows Infinity', { classes: C, rows: Infinity }, R, ['options.rows']],
    ['dtype unknown', { classes: C, rows: 4, dtype: 'float16' }, R, ['options.dtype', "'float16'"]],
    ['dtype a constructor', { classes: C, rows: 4, dtype: Float32Array }, T, ['options.dtype']],
    ['target unknown', { classes: C, rows: 4, target: 'labels' }, R, ['options.target', "'labels'"]],
    ['rows x classes beyond 4 GiB', { classes: 2 ** 20, rows: 2 ** 12 }, R, ['4096 rows of 1048576 classes', 'wasm']],
    ['a row beyond 4 GiB of float64', { classes: 2 ** 30, rows: 1, dtype: 'float64' }, R, ['1073741824 classes', 'wasm']],
    ['rows x classes beyond 2^53', { classes: 2 ** 30, rows: 2 ** 30 }, R, ['wasm']],
  ];
  for (const [what, o, Kind, says] of createCases) add({ name: `createWorkspace ${what}`, call: cw(o), Kind, fn, says });

  // Methods: a fresh, correctly filled workspace per case; its outputs must stay untouched.
  const ws = () => {
    const w = api.createWorkspace({ classes: C, rows: N });
    w.logits.set(X);
    w.target.set(LABELS);
    w.output.fill(42);
    w.grad.fill(42);
    w.loss.fill(42);
    return w;
  };
  const method = (m: 'softmax' | 'logSoftmax' | 'crossEntropy' | 'crossEntropyWithGrad', what: string, o: unknown, Kind: typeof T | typeof R, says: string[], prep?: (w: ReturnType<typeof ws>) => void) => {
    let w: ReturnType<typeof ws> | null = null;
    const outputs: F[] = [];
    add({
      name: `ws.${m} ${what}`,
      call: () => {
        w = ws();
        prep?.(w);
        try {
          return (w[m] as (o: unknown) => unknown)(o);
        } finally {
          outputs.push(w.output.slice(), w.grad.slice(), w.loss.slice());
          w.dispose();
        }
      },
      Kind, fn: `Workspace.${m}`, says, outputs,
    });
  };
  for (const m of ['softmax', 'logSoftmax', 'crossEntropy', 'crossEntropyWithGrad'] as const) {
    for (const [what, o] of [['null', null], ['a string', 'mean'], ['a number', 1]] as const) method(m, `options ${what}`, o, T, ['options']);
  }
  for (const m of ['softmax', 'logSoftmax'] as const) {
    for (const t of [0, -2, NaN, Infinity]) method(m, `temperature ${t}`, { temperature: t }, R, ['options.temperature', `${t}`]);
    method(m, 'temperature a string', { temperature: '2' }, T, ['options.temperature']);
  }
  for (const m of ['crossEntropy', 'crossEntropyWithGrad'] as const) {
    method(m, 'reduction unknown', { reduction: 'avg' }, R, ['options.reduction']);
    method(m, 'weight too short', { weight: [1, 2] }, R, ['options.weight.length', `${C}`]);
    method(m, 'weight a string', { weight: 'abc' }, T, ['options.weight']);
    method(m, 'labelSmoothing 2', { labelSmoothing: 2 }, R, ['options.labelSmoothing']);
    method(m, 'zLoss -1', { zLoss: -1 }, R, ['options.zLoss']);
    method(m, 'ignoreIndex 0.5', { ignoreIndex: 0.5 }, R, ['options.ignoreIndex']);
    method(m, "gradOutput too short with 'none'", { reduction: 'none', gradOutput: [1] }, R, ['options.gradOutput.length']);
    method(m, 'a label = C in ws.target', {}, R, ['target[2]', `(got ${C})`], (w) => (w.target[2] = C));
    method(m, 'a negative label in ws.target', {}, R, ['target[0]', '(got -7)'], (w) => (w.target[0] = -7));
    method(m, 'a label = int32 min in ws.target', { ignoreIndex: 2 ** 40 }, R, ['target[3]', `${-(2 ** 31)}`], (w) => (w.target[3] = -(2 ** 31)));
  }
  // setRows
  const setRows = (what: string, n: unknown, Kind: typeof T | typeof R, says: string[]) =>
    add({
      name: `ws.setRows ${what}`,
      call: () => {
        const w = ws();
        try {
          w.setRows(n as number);
        } finally {
          w.dispose();
        }
      },
      Kind, fn: 'Workspace.setRows', says,
    });
  setRows('above the capacity', N + 1, R, ['n', `[0, ${N}]`, `${N + 1}`]);
  setRows('negative', -1, R, ['n', '-1']);
  setRows('fractional', 1.5, R, ['n', '1.5']);
  setRows('NaN', NaN, R, ['n', 'NaN']);
  setRows('a string', '2', T, ['n']);
  // A disposed workspace: every use is an Error.
  for (const [what, use] of [
    ['softmax', (w: api.Workspace) => w.softmax()],
    ['crossEntropyWithGrad', (w: api.Workspace) => w.crossEntropyWithGrad()],
    ['logits', (w: api.Workspace) => w.logits],
    ['rows', (w: api.Workspace) => w.rows],
    ['setRows', (w: api.Workspace) => w.setRows(1)],
  ] as const) {
    add({
      name: `a disposed workspace: ${what}`,
      call: () => {
        const w = ws();
        w.dispose();
        w.dispose(); // twice is harmless
        return use(w);
      },
      Kind: Error, fn: `Workspace.${what}`, says: ['disposed'],
    });
  }
  return cases;
}

function allCases(): Case[] {
  return [
    ...forwardCases('softmax'),
    ...forwardCases('logSoftmax'),
    ...forwardCases('logSumExp'),
    ...backwardCases('softmaxBackward'),
    ...backwardCases('logSoftmaxBackward'),
    ...crossEntropyCases('crossEntropy'),
    ...crossEntropyCases('crossEntropyWithGrad'),
    ...workspaceCases(),
  ];
}

/** Checks the runtime's memory bookkeeping is intact: the same correct calls, the same size. */
function memoryFlat(f: () => void): void {
  const rt = getRuntime('test');
  f();
  const before = rt.arena.byteLength;
  f();
  expect(rt.arena.byteLength).toBe(before);
}

for (const b of BACKENDS) {
  describe(`input matrix, ${b} build`, () => {
    const cases = allCases();
    it(`has cases for every function (${cases.length})`, () => {
      const fns = new Set(cases.map((c) => c.after));
      expect([...fns].sort()).toEqual(Object.keys(good).sort());
      expect(cases.length).toBeGreaterThan(500);
    });
    for (const c of cases) {
      it(`${c.fn}: ${c.name} -> ${c.Kind.name}`, () => {
        use(b);
        expectError(c.call, c.Kind, c.fn, c.says);
        for (const o of c.outputs ?? []) untouched(o);
        good[c.after]!();
      });
    }
    it('after the whole matrix, every function still computes right and memory stays flat', () => {
      use(b);
      memoryFlat(() => Object.values(good).forEach((g) => g()));
    });
  });
}

describe('inputs that must work, every build', () => {
  for (const b of BACKENDS) {
    describe(`${b} build`, () => {
      it('SharedArrayBuffer-backed inputs and outputs give the right answers', () => {
        use(b);
        const x = shared(Float32Array, X);
        const into = shared(Float32Array, new Float32Array(N * C));
        expect(api.softmax(x, { classes: C, into })).toBe(into);
        expectClose(into, ref.softmax(), true, 'softmax');
        expectClose(api.logSoftmax(shared(Float64Array, X), { shape: [N, C], axis: 0 }), logSoftmax64(X, { outer: 1, C: N, inner: C }), false, 'logSoftmax axis 0');
        expectClose(api.logSumExp(x, { classes: C, into: shared(Float32Array, new Float32Array(N)) }), ref.logSumExp(), true, 'logSumExp');
        expectClose(api.softmaxBackward(shared(Float32Array, Y), shared(Float32Array, G), { classes: C }), ref.softmaxBackward(), true, 'softmaxBackward');
        expectClose(api.logSoftmaxBackward(shared(Float32Array, LY), shared(Float32Array, G), { classes: C }), ref.logSoftmaxBackward(), true, 'logSoftmaxBackward');
        const labels = shared(Int32Array, LABELS);
        const w = shared(Float64Array, [1, 2, 3, 0.5, 1]);
        const o = { reduction: 'none' as const, weight: w, gradOutput: shared(Float32Array, [1, 2, 3, 4]) };
        const r = api.crossEntropyWithGrad(x, labels, { classes: C, ...o, gradInto: shared(Float32Array, new Float32Array(N * C)), into: shared(Float32Array, new Float32Array(N)) });
        const e = crossEntropy64(f32(X), LABELS, dims, false, { reduction: 'none', weight: [1, 2, 3, 0.5, 1], gradOutput: [1, 2, 3, 4] });
        expectClose(r.loss, e.loss, true, 'crossEntropy loss');
        expectClose(r.grad, e.grad, true, 'crossEntropy grad');
        const p = api.crossEntropy(x, shared(Float32Array, Q), { classes: C });
        expectClose(p, crossEntropy64(f32(X), f32(Q), dims, true).loss, true, 'crossEntropy probabilities');
      });

      it('zero-length inputs: an empty batch is not an error', () => {
        use(b);
        for (const Ctor of [Float32Array, Float64Array]) {
          const e = new Ctor(0);
          expect(api.softmax(e, { classes: C }).length).toBe(0);
          expect(api.logSoftmax(e, { shape: [0, C] }).length).toBe(0);
          expect(api.softmax(e, { shape: [3, 0, 2], axis: 1 }).length).toBe(0);
          expect(api.logSumExp(e, { classes: C }).length).toBe(0);
          expect(api.softmaxBackward(e, new Ctor(0), { classes: C }).length).toBe(0);
          expect(api.logSoftmaxBackward(e, new Ctor(0), { shape: [0] }).length).toBe(0);
          // An empty axis: logSumExp of nothing is -Infinity (torch.logsumexp), one per slice.
          expect(Array.from(api.logSumExp(e, { shape: [3, 0] }))).toEqual([-Infinity, -Infinity, -Infinity]);
          expect(Array.from(api.logSumExp(e, { shape: [2, 0, 2], axis: 1 }))).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]);
          for (const t of [new Int32Array(0), [] as number[], new Ctor(0)]) {
            expect(api.crossEntropy(e, t, { classes: C })).toBeNaN(); // 'mean' of nothing: 0 / 0, as PyTorch
            expect(api.crossEntropy(e, t, { classes: C, reduction: 'sum' })).toBe(0);
            const none = api.crossEntropy(e, t, { classes: C, reduction: 'none' });
            expect(none).toBeInstanceOf(Ctor);
            expect((none as F).length).toBe(0);
            const g = api.crossEntropyWithGrad(e, t, { shape: [0, C] });
            expect(g.loss).toBeNaN();
            expect(g.grad.length).toBe(0);
          }
          // Zero classes: every sample must be ignored; then 'mean' is NaN and 'sum' 0.
          expect(api.crossEntropy(e, [-100, -100], { shape: [2, 0] })).toBeNaN();
          expect(api.crossEntropy(e, [-100, -100], { shape: [2, 0], reduction: 'sum' })).toBe(0);
          expectError(() => api.crossEntropy(e, [0, -100], { shape: [2, 0] }), RangeError, 'crossEntropy', ['target[0]', '[0, 0)']);
        }
        const ws = api.createWorkspace({ classes: C, rows: 0 });
        expect(ws.logits.length).toBe(0);
        expect(ws.softmax().length).toBe(0);
        expect(ws.crossEntropy()).toBeNaN();
        expect(ws.crossEntropyWithGrad({ reduction: 'sum' })).toBe(0);
        expect((ws.crossEntropy({ reduction: 'none' }) as F).length).toBe(0);
        ws.dispose();
        const ws2 = api.createWorkspace({ classes: C, rows: N });
        ws2.setRows(0);
        expect(ws2.crossEntropyWithGrad()).toBeNaN();
        ws2.dispose();
        Object.values(good).forEach((g) => g());
      });

      it('outputs: into === input (in place), a disjoint part of the same buffer, and the same bytes through another view', () => {
        use(b);
        const x = f32(X);
        expect(api.softmax(x, { classes: C, into: x })).toBe(x);
        expectClose(x, ref.softmax(), true, 'softmax in place');
        const buf = new Float32Array(2 * N * C);
        buf.set(X);
        const out = buf.subarray(N * C);
        api.logSoftmax(buf.subarray(0, N * C), { classes: C, into: out });
        expectClose(out, ref.logSoftmax(), true, 'logSoftmax into the other half');
        const g = f32(G);
        api.softmaxBackward(f32(Y), g, { classes: C, into: new Float32Array(g.buffer) });
        expectClose(g, ref.softmaxBackward(), true, 'softmaxBackward into gradOutput');
        const y = f32(LY);
        api.logSoftmaxBackward(y, f32(G), { classes: C, into: y });
        expectClose(y, ref.logSoftmaxBackward(), true, 'logSoftmaxBackward into y');
        const logits = f32(X);
        const r = api.crossEntropyWithGrad(logits, LABELS, { classes: C, gradInto: logits });
        expect(r.grad).toBe(logits);
        expectClose(logits, ref.ce().grad, true, 'gradInto === logits');
        const q = f32(Q);
        api.crossEntropyWithGrad(f32(X), q, { classes: C, gradInto: q });
        expectClose(q, crossEntropy64(f32(X), f32(Q), dims, true).grad, true, 'gradInto === probabilities');
        const one = f32([1, 2, 3, 4]);
        api.logSumExp(one, { classes: 1, into: one }); // C = 1: the result has the input's length
        expect(Array.from(one)).toEqual([1, 2, 3, 4]);
      });

      it('ignoreIndex collisions: a valid class, a value outside [0, C), outside int32, and typed label wrap-around', () => {
        use(b);
        const x = f32(X);
        for (const o of [{ ignoreIndex: 3 }, { ignoreIndex: 0, reduction: 'sum' as const }, { ignoreIndex: 4, labelSmoothing: 0.3, weight: [1, 2, 3, 4, 5] }]) {
          const r = api.crossEntropyWithGrad(x, LABELS, { classes: C, ...o });
          const e = crossEntropy64(x, LABELS, dims, false, o);
          expectClose(r.loss, e.loss, true, `loss ${JSON.stringify(o)}`);
          expectClose(r.grad, e.grad, true, `grad ${JSON.stringify(o)}`);
          // The ignored sample's gradient is exactly 0.
          const t = LABELS.indexOf(o.ignoreIndex);
          for (let c = 0; c < C; c++) expect(r.grad[t * C + c]).toBe(0);
        }
        // Every sample ignored: 'mean' is NaN (0 / 0) and the gradient all zeros.
        const all = api.crossEntropyWithGrad(x, [7, 7, 7, 7], { classes: C, ignoreIndex: 7 });
        expect(all.loss).toBeNaN();
        expect(all.grad.every((v) => v === 0)).toBe(true);
        // An ignoreIndex beyond int32 still matches number[] labels, and only them.
        const big = 2 ** 40;
        expectClose(api.crossEntropy(x, [0, big, 4, big], { classes: C, ignoreIndex: big, reduction: 'none' }) as F, [ref.ce({ reduction: 'none' }).perRow[0]!, 0, ref.ce({ reduction: 'none' }).perRow[2]!, 0], true, 'ignoreIndex 2^40');
        expectError(() => api.crossEntropy(x, new Int32Array([0, -(2 ** 31), 4, 1]), { classes: C, ignoreIndex: big }), RangeError, 'crossEntropy', ['target[1]']);
        // Typed labels equal to the ignore index in their own type: Uint32 2^32-1, Uint8 255, Int8 -1.
        const perRow = ref.ce({ reduction: 'none' }).perRow;
        const want = [perRow[0]!, 0, perRow[2]!, perRow[3]!];
        expectClose(api.crossEntropy(x, new Uint32Array([0, 2 ** 32 - 1, 4, 1]), { classes: C, ignoreIndex: 2 ** 32 - 1, reduction: 'none' }) as F, want, true, 'Uint32 ignore');
        expectClose(api.crossEntropy(x, new Uint8Array([0, 255, 4, 1]), { classes: C, ignoreIndex: 255, reduction: 'none' }) as F, want, true, 'Uint8 ignore');
        expectClose(api.crossEntropy(x, new Int8Array([0, -1, 4, 1]), { classes: C, ignoreIndex: -1, reduction: 'none' }) as F, want, true, 'Int8 ignore');
        expectClose(api.crossEntropy(x, new Int16Array([0, -100, 4, 1]), { classes: C, reduction: 'none' }) as F, want, true, 'Int16 default ignore');
        // Negative ignoreIndex with probability targets is allowed (and matches nothing).
        expectClose(api.crossEntropy(x, f32(Q), { classes: C, ignoreIndex: -1 }), crossEntropy64(x, f32(Q), dims, true).loss, true, 'probabilities, ignoreIndex -1');
      });

      it('weights are used as given: negative, zero-sum, NaN and Infinity follow the formulas (as PyTorch)', () => {
        use(b);
        const x = f32(X);
        for (const weight of [[1, -1, 2, -0.5, 1], [-1, -1, -1, -1, -1], [0, 1, 1, 0, 1], [1, 1, 1, 1, 0]]) {
          for (const o of [{ weight }, { weight, reduction: 'sum' as const }, { weight, labelSmoothing: 0.2, reduction: 'none' as const }]) {
            const r = api.crossEntropyWithGrad(x, LABELS, { classes: C, ...o });
            const e = crossEntropy64(x, LABELS, dims, false, o);
            expectClose(r.loss as number, e.loss as number, true, `loss ${JSON.stringify(o)}`);
            expectClose(r.grad, e.grad, true, `grad ${JSON.stringify(o)}`);
          }
        }
        // The targets' weights sum to 0 (labels [0, 3, 4, 1] all weigh 0): 'mean' is 0/0 = NaN,
        // with a NaN gradient at every non-ignored position, as PyTorch.
        const z = api.crossEntropyWithGrad(x, LABELS, { classes: C, weight: [0, 0, 1, 0, 0] });
        expect(z.loss).toBeNaN();
        expect(z.grad.every((v) => Number.isNaN(v))).toBe(true);
        // A NaN or infinite weight of a class no sample targets changes nothing without smoothing
        // (PyTorch reads only w[target]); with smoothing every class's weight enters: NaN.
        for (const bad of [NaN, Infinity]) {
          const weight = [1, 2, bad, 1, 1]; // class 2 is nobody's label
          const r = api.crossEntropyWithGrad(x, LABELS, { classes: C, weight, reduction: 'none' });
          const e = crossEntropy64(x, LABELS, dims, false, { weight: [1, 2, 0, 1, 1], reduction: 'none' });
          expectClose(r.loss, e.loss, true, `loss with weight ${bad} on an untargeted class`);
          expectClose(r.grad, e.grad, true, `grad with weight ${bad} on an untargeted class`);
          expect(api.crossEntropy(x, LABELS, { classes: C, weight })).toBeCloseTo(crossEntropy64(x, LABELS, dims, false, { weight: [1, 2, 0, 1, 1] }).loss as number, 5);
          // With smoothing: NaN, or +Infinity (an infinite weight times a finite -log p).
          const smoothed = api.crossEntropy(x, LABELS, { classes: C, weight, labelSmoothing: 0.1 });
          expect(smoothed).toBe(Number.isNaN(bad) ? NaN : Infinity);
          expectClose(smoothed, crossEntropy64(x, LABELS, dims, false, { weight, labelSmoothing: 0.1 }).loss as number, true, 'smoothed');
          // On a targeted class the sample's loss is NaN (or +-Infinity times a finite loss) and so is 'mean'.
          const t = api.crossEntropy(x, LABELS, { classes: C, weight: [1, 1, 1, bad, 1], reduction: 'none' }) as F;
          expect(Number.isFinite(t[1]!)).toBe(false);
          expect([t[0], t[2], t[3]].every((v) => Number.isFinite(v!))).toBe(true);
        }
        // Probability targets: the weights multiply every class's target mass.
        for (const weight of [[1, -2, 0.5, 0, 3], [NaN, 1, 1, 1, 1]]) {
          const r = api.crossEntropyWithGrad(x, f32(Q), { classes: C, weight, reduction: 'none' });
          const e = crossEntropy64(x, f32(Q), dims, true, { weight, reduction: 'none' });
          expectClose(r.loss, e.loss, true, `probabilities loss ${weight}`);
          expectClose(r.grad, e.grad, true, `probabilities grad ${weight}`);
        }
      });

      it('Workspace views as inputs and outputs of the functional API, also when the call grows memory', () => {
        use(b);
        const rt = getRuntime('test');
        // One row of more bytes than wasm memory holds so far: the call must grow it.
        const Cbig = (rt.arena.byteLength >> 2) + 7;
        const ws = api.createWorkspace({ classes: Cbig, rows: 1 });
        const xs = uniform(Cbig, 9, 30);
        ws.logits.set(xs);
        const before = rt.arena.byteLength;
        const out = api.softmax(ws.logits, { classes: Cbig, into: ws.output });
        // One long row: the reference helpers spread a row into Math.max, so compute it here.
        const x32 = f32(xs);
        let m = -Infinity;
        for (const v of x32) m = Math.max(m, v);
        let s = 0;
        for (const v of x32) s += Math.exp(v - m);
        const want = Array.from(x32, (v) => Math.exp(v - m) / s);
        const lse = m + Math.log(s);
        expectClose(out, want, true, 'softmax of ws.logits into ws.output');
        expectClose(ws.output, want, true, 'ws.output');
        expect(rt.arena.byteLength, 'the call grew wasm memory (detaching the views it was given)').toBeGreaterThan(before);
        ws.target[0] = 17;
        const r = api.crossEntropyWithGrad(ws.logits, ws.target, { classes: Cbig, gradInto: ws.grad });
        expectClose(r.loss, lse - x32[17]!, true, 'crossEntropy of ws views');
        want[17]! -= 1;
        expectClose(ws.grad, want, true, 'ws.grad');
        ws.dispose();
        Object.values(good).forEach((g) => g());
      });
    });
  }
});
