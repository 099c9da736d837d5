// The builds every suite runs against: all three must run here (vitest.config.ts passes Node 20
// the relaxed-SIMD flag), and a build that cannot run fails the suite instead of being skipped.
import { canRun, type Backend } from '../../src/load.js';
import { initSync } from '../../src/index.js';

export const BACKENDS: readonly Backend[] = ['scalar', 'simd', 'relaxed-simd'];

/** Switches to a build; throws if this runtime cannot run it. */
export function use(b: Backend): void {
  if (!canRun(b)) throw new Error(`the ${b} build cannot run in this test runtime`);
  initSync({ backend: b });
}
