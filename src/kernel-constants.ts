// The numbers the kernels and this wrapper must agree on, defined once. This file is valid
// AssemblyScript as well as TypeScript: assembly/ imports it too (AssemblyScript inlines the
// constants), so the two sides cannot drift apart.

/** Bytes of the `tmp` block every row kernel takes (8-aligned): where one pass over a row leaves
 *  its second result for the next (assembly/reduce.ts, TMP_MIN and after). */
export const KERNEL_TMP_BYTES = 128;

/** The cross-entropy reductions as kernel arguments number them. */
export const REDUCTION_NONE = 0;
export const REDUCTION_MEAN = 1;
export const REDUCTION_SUM = 2;
