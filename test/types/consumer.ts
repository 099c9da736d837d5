// A strict TypeScript consumer of the published types. test/packaging.test.ts copies this folder
// next to an install of the packed tarball and runs `tsc --noEmit --strict` with
// moduleResolution "bundler" (tsconfig.bundler.json) and "node16" (tsconfig.node16.json, which
// also compiles consumer-cjs.cts through the package's "require" types). Each `@ts-expect-error`
// is a misuse the types must reject (tsc fails if the line compiles); every other line must
// compile, and the Equal<> checks pin the exact types (a Float64Array in gives a Float64Array out;
// the loss is a number for 'mean'/'sum' and an array for 'none').
import {
  init,
  initSync,
  backend,
  softmax,
  logSoftmax,
  logSumExp,
  softmaxBackward,
  logSoftmaxBackward,
  crossEntropy,
  crossEntropyWithGrad,
  createWorkspace,
  type Backend,
  type InitOptions,
  type SoftmaxOptions,
  type CrossEntropyOptions,
  type LayoutOptions,
} from 'softmax-wasm';

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type IsAny<T> = 0 extends 1 & T ? true : false;
function expectTrue<T extends true>(): void {}

declare const f32: Float32Array<ArrayBuffer>;
declare const f64: Float64Array<ArrayBuffer>;
declare const module: WebAssembly.Module;

// Loading
await init();
await init({ backend: 'scalar' });
await init({ wasm: new Uint8Array(8) });
await init({ wasm: new ArrayBuffer(8) });
await init({ wasm: module, backend: 'simd' });
initSync();
initSync({ backend: 'relaxed-simd' });
const b = backend();
expectTrue<Equal<typeof b, Backend | null>>();
expectTrue<Equal<Backend, 'relaxed-simd' | 'simd' | 'scalar'>>();
expectTrue<Equal<ReturnType<typeof init>, Promise<void>>>();
const opts: InitOptions = { backend: 'simd' };
// @ts-expect-error: an unknown backend
await init({ backend: 'gpu' });

// The softmax family keeps the input's element type.
const s32 = softmax(f32, { classes: 3 });
const s64 = softmax(f64, { classes: 3 });
expectTrue<Equal<typeof s32, Float32Array<ArrayBuffer>>>();
expectTrue<Equal<typeof s64, Float64Array<ArrayBuffer>>>();
expectTrue<Equal<IsAny<typeof s64>, false>>();
const plain64: Float64Array = logSoftmax(f64, { shape: [2, 3], axis: 0, temperature: 2 });
const lse: Float64Array = logSumExp(f64, { shape: [2, 3] });
const gs: Float32Array = softmaxBackward(s32, f32, { classes: 3 });
const gl: Float64Array = logSoftmaxBackward(s64, f64, { classes: 3, into: f64 });
softmax(f32, { classes: 3, into: f32 });
const so: SoftmaxOptions<Float32Array> = { shape: [3], temperature: 0.5 };
softmax(f32, so);
const layout: LayoutOptions = { classes: 3 };
softmax(f64, layout);
// @ts-expect-error: a Float64Array in gives a Float64Array out, not a Float32Array
const wrong: Float32Array = softmax(f64, { classes: 3 });
// @ts-expect-error: Int32Array is not a float input
softmax(new Int32Array(3), { classes: 3 });
// @ts-expect-error: a plain array is not a float input
softmax([1, 2, 3], { classes: 3 });
// @ts-expect-error: `classes` and `shape` together
softmax(f32, { classes: 3, shape: [3] });
// @ts-expect-error: options are required (the layout)
softmax(f32);
// @ts-expect-error: `axis` goes with `shape`, not `classes`
softmax(f32, { classes: 3, axis: 0 });
// @ts-expect-error: `into` of the other element type
softmax(f32, { classes: 3, into: f64 });
// @ts-expect-error: gradOutput of the other element type
softmaxBackward(s32, f64, { classes: 3 });

// Cross-entropy: number for 'mean' (the default) and 'sum', an array of the logits' type for 'none'.
const labels = new Int32Array([0, 2]);
const mean = crossEntropy(f32, labels, { classes: 3 });
const sum = crossEntropy(f64, [0, 2], { classes: 3, reduction: 'sum', weight: [1, 2, 1], ignoreIndex: -1 });
const none32 = crossEntropy(f32, new Uint8Array([0, 2]), { classes: 3, reduction: 'none' });
const none64 = crossEntropy(f64, f64, { shape: [2, 3], reduction: 'none', labelSmoothing: 0.1, zLoss: 1e-4 });
expectTrue<Equal<typeof mean, number>>();
expectTrue<Equal<typeof sum, number>>();
expectTrue<Equal<typeof none32, Float32Array<ArrayBuffer>>>();
expectTrue<Equal<typeof none64, Float64Array<ArrayBuffer>>>();
declare const reduction: 'mean' | 'none';
const either = crossEntropy(f32, labels, { classes: 3, reduction });
expectTrue<Equal<typeof either, number | Float32Array<ArrayBuffer>>>();

const withGrad = crossEntropyWithGrad(f64, labels, { classes: 3, gradInto: f64 });
expectTrue<Equal<typeof withGrad.loss, number>>();
expectTrue<Equal<typeof withGrad.grad, Float64Array<ArrayBuffer>>>();
const withGradNone = crossEntropyWithGrad(f32, labels, { classes: 3, reduction: 'none', gradOutput: f32 });
expectTrue<Equal<typeof withGradNone.loss, Float32Array<ArrayBuffer>>>();
expectTrue<Equal<typeof withGradNone.grad, Float32Array<ArrayBuffer>>>();
const ceo: CrossEntropyOptions<Float32Array> = { classes: 3, reduction: 'sum' };
crossEntropy(f32, labels, ceo);
// @ts-expect-error: 'none' gives an array, not a number
const notNumber: number = crossEntropy(f32, labels, { classes: 3, reduction: 'none' });
// @ts-expect-error: 'mean' gives a number, not an array
const notArray: Float32Array = crossEntropy(f32, labels, { classes: 3, reduction: 'mean' });
// @ts-expect-error: an unknown reduction
crossEntropy(f32, labels, { classes: 3, reduction: 'avg' });
// @ts-expect-error: probability targets have the logits' element type
crossEntropy(f32, f64, { classes: 3 });
// @ts-expect-error: a Float64Array gradient buffer for Float32Array logits
crossEntropyWithGrad(f32, labels, { classes: 3, gradInto: f64 });
// @ts-expect-error: string labels
crossEntropy(f32, ['a', 'b'], { classes: 3 });

// Workspace: the views have the requested element types.
const ws = createWorkspace({ classes: 10, rows: 64 });
expectTrue<Equal<typeof ws.logits, Float32Array>>();
expectTrue<Equal<typeof ws.target, Int32Array>>();
const ws64 = createWorkspace({ classes: 10, rows: 64, dtype: 'float64', target: 'probabilities' });
expectTrue<Equal<typeof ws64.logits, Float64Array>>();
expectTrue<Equal<typeof ws64.target, Float64Array>>();
expectTrue<Equal<typeof ws64.softmax, (options?: { temperature?: number }) => Float64Array>>();
ws.setRows(32);
const wsLoss = ws.crossEntropyWithGrad({ reduction: 'mean' });
const wsGrad: Float32Array = ws.grad;
ws.dispose();
// @ts-expect-error: an unknown dtype
createWorkspace({ classes: 10, rows: 64, dtype: 'int8' });

export { opts, plain64, lse, gs, gl, wrong, sum, notNumber, notArray, wsLoss, wsGrad };
