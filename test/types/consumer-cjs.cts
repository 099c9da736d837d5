// The same package through its "require" condition (CommonJS types, dist/index.d.cts), as a
// CommonJS TypeScript file compiled with moduleResolution node16 sees it.
import sm = require('softmax-wasm');

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
function expectTrue<T extends true>(): void {}

declare const f64: Float64Array<ArrayBuffer>;
sm.initSync();
const y = sm.softmax(f64, { classes: 3 });
expectTrue<Equal<typeof y, Float64Array<ArrayBuffer>>>();
const mean = sm.crossEntropy(f64, [0, 1], { classes: 3 });
expectTrue<Equal<typeof mean, number>>();
const none = sm.crossEntropy(f64, [0, 1], { classes: 3, reduction: 'none' });
expectTrue<Equal<typeof none, Float64Array<ArrayBuffer>>>();
const { loss, grad } = sm.crossEntropyWithGrad(f64, new Int32Array([0, 1]), { classes: 3 });
expectTrue<Equal<typeof loss, number>>();
expectTrue<Equal<typeof grad, Float64Array<ArrayBuffer>>>();
const b: sm.Backend | null = sm.backend();
// @ts-expect-error: a Float64Array in gives a Float64Array out
const wrong: Float32Array = sm.softmax(f64, { classes: 3 });

export = { b, wrong };
