// The element types the kernels compute in, described once: every size, shift, constructor and
// view of wasm memory the wrapper needs comes from these two descriptors.

import type { Arena } from './memory.js';

/** The element types' short names (also the suffix of their kernels: softmax_f32). */
export type DType = 'f32' | 'f64';
/** The element types' arrays. */
export type FloatArray = Float32Array | Float64Array;

export interface ElementType<A extends FloatArray = FloatArray> {
  readonly name: DType;
  /** The name createWorkspace's `dtype` option uses. */
  readonly option: 'float32' | 'float64';
  /** Position in the kernel table's [f32, f64] pairs. */
  readonly index: 0 | 1;
  /** log2 of the element size: a byte address >>> shift is the element's index in the view. */
  readonly shift: 2 | 3;
  readonly Array: { new (n: number): A; new (buffer: ArrayBufferLike, byteOffset: number, length: number): A };
  /** The current view of wasm memory as this type. */
  view(arena: Arena): A;
}

export const F32: ElementType<Float32Array> = { name: 'f32', option: 'float32', index: 0, shift: 2, Array: Float32Array, view: (a) => a.f32 };
export const F64: ElementType<Float64Array> = { name: 'f64', option: 'float64', index: 1, shift: 3, Array: Float64Array, view: (a) => a.f64 };

/** The descriptor of a float array's element type (the caller has checked it is one). */
export function elementTypeOf(x: FloatArray): ElementType {
  return x instanceof Float32Array ? F32 : F64;
}
