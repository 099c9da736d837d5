// Range checks of the checked build (asconfig.json target "checked": noAssert false), for the
// test suites. Each export of index.ts asserts, on entry, that every memory range it is given
// lies in the heap: at or above __heap_base (below it is the module's static data) and ending
// within memory. The kernels themselves use raw load/store, which wasm only stops at the end of
// memory, so a wrapper bug that passes a wrong pointer or length would otherwise corrupt the
// arena silently. The assert()s are written at the call sites, so a failure names the export's
// line in assembly/index.ts; in the shipping builds (noAssert true) they compile to nothing.
//
// Only entry checks, plus one inside: every loop and tail loop of the kernels is bounded by its
// row length C (i <= C - L for vectors, i < C for the tail; the short-row passes load their last
// vector at C - LANES, and run only for C >= LANES), so once the entry ranges hold, per-access
// asserts would restate the loop conditions and only slow the checked suites. The exception is
// an index that comes from data: a label (ce_index_rows asserts it).

/** Bytes of n * m * k elements of T, in f64: exact up to 2^53, so a product of i32 counts cannot
 *  wrap as it would in usize or u64 (a rounded value is still far past 4 GiB). Counts are read
 *  as u32, so a negative one is huge and fails the range check. */
// @ts-ignore: decorator
@inline export function bytes_of<T>(n: i32, m: i32 = 1, k: i32 = 1): f64 {
  return <f64><u32>n * <f64><u32>m * <f64><u32>k * <f64>sizeof<T>();
}

/** Whether [ptr, ptr + bytes) lies in the heap: ptr >= __heap_base and ptr + bytes within
 *  memory (its size in f64: 65536 pages << 16 is 2^32, which wraps in usize). Constant true
 *  without assertions: assert() still compiles its condition then, and the optimizer cannot drop
 *  a memory.size of the -threads builds' shared memory, so the check must not be there at all. */
// @ts-ignore: decorator
@inline export function in_heap(ptr: usize, bytes: f64): bool {
  return ASC_NO_ASSERT || ptr >= __heap_base && <f64>ptr + bytes <= <f64>memory.size() * 65536;
}

/** in_heap for an optional argument, where 0 means absent (class weights, a gradient, ...). */
// @ts-ignore: decorator
@inline export function in_heap_or_null(ptr: usize, bytes: f64): bool {
  return ptr == 0 || in_heap(ptr, bytes);
}
