// The numbers the kernels and this wrapper must agree on, defined once. This file is valid
// AssemblyScript as well as TypeScript: assembly/ imports it too (AssemblyScript inlines the
// constants), so the two sides cannot drift apart.

/** Bytes of the `tmp` block every row kernel takes (8-aligned): where one pass over a row leaves
 *  its second result for the next (assembly/reduce.ts, TMP_MIN and after). */
export const KERNEL_TMP_BYTES = 1024;

/** The cross-entropy reductions as kernel arguments number them. */
export const REDUCTION_NONE = 0;
export const REDUCTION_MEAN = 1;
export const REDUCTION_SUM = 2;

/** The most classes of a float32 row that the SIMD kernels take as a short row, four rows at a
 *  time (assembly/short_rows.ts: four vectors of four lanes); the plans keep such rows' chunks to
 *  multiples of four rows (src/plan.ts groupAligned). */
export const SHORT_ROW_MAX_C = 16;

/** Bits of the class-index cross-entropy kernels' `flags` argument: some label may equal
 *  `ignore` (CE_HAS_IGNORE); the call's chunks hold the rows in spans of LOG_SPAN_ROWS from
 *  row 0, so a reduced call may sum a span's log(s) as one log (CE_GROUP_LOGS). */
export const CE_HAS_IGNORE = 1;
export const CE_GROUP_LOGS = 2;

/** The rows of such a reduced call whose groups of four without weights or z-loss share one log
 *  (sixteen groups, from a multiple of it; also general rows of up to LOG_SPAN_MAX_C classes); the plans keep such rows'
 *  chunks to multiples of it (src/plan.ts groupAligned), so the spans, and the bits of the result,
 *  do not depend on the chunking. At 10 classes, two groups took 0.86-0.92x the time of one log a group; 8 rows, 0.94-0.97x that of
 *  two groups; 64 rows, 0.95-0.97x that of 8 (the simd build's crossEntropyWithGrad kernel at 64
 *  and 256 rows). The product of 64 rows' r stays below 2^322 (assembly/short_rows.ts
 *  short_group4_ratio_product), far from overflow; a chunk of short rows holds at least 64 rows
 *  (4 KiB at 16 classes). */
export const LOG_SPAN_ROWS = 64;

/** The most classes of a float32 row outside the short rows whose reduced cross-entropy takes
 *  the spans too, with or without label smoothing (assembly/cross_entropy.ts ce_index_rows: one
 *  log per span of LOG_SPAN_ROWS rows). Its r <= C, so a span's product stays below 2^512. At 32
 *  to 256 classes the spans made crossEntropyWithGrad 0.87-0.97x the time (0.87-0.94x with
 *  smoothing) and crossEntropy 0.75-0.91x (Node 24, relaxed-simd); at 1000 the per-row log is
 *  below 1% of the call, and 64 longer rows pass a chunk's 256 KiB. */
export const LOG_SPAN_MAX_C = 256;
