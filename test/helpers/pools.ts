// Pools for a test file: created before its tests, disposed after them, with the pool's tuning
// (which the tests force to send every call through the workers) restored.
import { afterAll, beforeAll } from 'vitest';
import * as api from '../../src/index.js';
import type { Pool } from '../../src/index.js';
import { tuning } from '../../src/pool.js';

/** One pool per entry of `threads`, filled in before the file's tests run. */
export function usePools(threads: readonly number[]): Pool[] {
  const saved = { ...tuning };
  const pools: Pool[] = [];
  beforeAll(async () => {
    for (const n of threads) pools.push(await api.createPool({ threads: n }));
  });
  afterAll(async () => {
    Object.assign(tuning, saved);
    for (const p of pools) await p.dispose();
  });
  return pools;
}
