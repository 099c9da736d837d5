// The decoding functions on a pool: the same results as the module's, bit for bit, for 1 and 2
// workers, every build; argmax of a large input through the workers; the same errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import type { Pool } from '../src/index.js';
import { stats, tuning } from '../src/pool.js';
import { BACKENDS } from './helpers/backends.js';
import { rng } from './helpers/random.js';

function logits<T extends Float32ArrayConstructor | Float64ArrayConstructor>(T: T, n: number, seed: number): InstanceType<T> {
  const r = rng(seed);
  return new T(n).map(() => (r() + r() + r() - 1.5) * 4) as InstanceType<T>;
}

for (const b of BACKENDS) {
  describe(`decoding on a pool, ${b} build`, () => {
    const pools: Pool[] = [];
    beforeAll(async () => {
      for (const threads of [1, 2]) pools.push(await api.createPool({ threads, backend: b }));
    });
    afterAll(async () => {
      await Promise.all(pools.map((p) => p.dispose()));
    });

    it('samplingDistribution, sample, topK and argmax give the module\'s results', async () => {
      for (const T of [Float32Array, Float64Array]) {
        const x = logits(T, 2 * 50257, 11);
        const o = { classes: 50257, temperature: 0.7, topK: 40, topP: 0.9, minP: 0.02, previousTokens: [3, 3, 17] };
        for (const p of pools) {
          expect(await p.samplingDistribution(x, o)).toEqual(api.samplingDistribution(x, o));
          const u = [0.1, 0.999];
          expect(await p.sample(x, { ...o, uniforms: u })).toEqual(api.sample(x, { ...o, uniforms: u }));
          expect(await p.topK(x, 20, { classes: 50257, logProbs: true })).toEqual(api.topK(x, 20, { classes: 50257, logProbs: true }));
          expect(await p.argmax(x, { shape: [2, 50257] })).toEqual(api.argmax(x, { shape: [2, 50257] }));
        }
      }
    });

    it('a large argmax goes through the workers', async () => {
      const saved = { ...tuning };
      tuning.cores = Math.max(2, saved.cores);
      const x = logits(Float32Array, 256 * 1000, 5);
      for (const p of pools) {
        const before = stats.calls;
        expect(await p.argmax(x, { classes: 1000 })).toEqual(api.argmax(x, { classes: 1000 }));
        expect(stats.calls).toBe(before + 1);
      }
      Object.assign(tuning, saved);
    });

    it('the same errors', async () => {
      const x = Float32Array.from([1, 2, NaN, 0, 1, 2]);
      const p = pools[1]!;
      const want = (() => { try { api.sample(x, { classes: 3 }); } catch (e) { return e as Error; } })()!;
      await expect(p.sample(x, { classes: 3 })).rejects.toThrow(want.message);
      await expect(p.samplingDistribution(x, { classes: 3, topP: 0 })).rejects.toThrowError(RangeError);
      await expect(p.topK(x, 4, { classes: 3 })).rejects.toThrowError(RangeError);
      await expect(p.argmax([1, 2] as never, { classes: 2 })).rejects.toThrowError(TypeError);
    });
  });
}
