// Property-based fuzzing: random calls of every function (the one-call API and
// the Workspace) with random shapes, axes, layouts, options, outputs and adversarial value
// distributions, on every build and the checked build (whose assertions throw on a pointer range
// outside the heap), against the float64 reference within the error model of cases.ts; and
// differential runs: the same call on scalar, simd and relaxed-simd agrees.
//
// Bounded for `npm test` (fixed seed, a few hundred calls per build). `npm run fuzz` runs the same
// properties for minutes with a fresh seed (FUZZ_SECONDS, FUZZ_SEED, FUZZ_MAX_ELEMS).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, BUILDS, use } from '../helpers/backends.js';
import { build, check, firstMismatch, paramsArb, FNS, type Params } from './cases.js';

const env: Record<string, string | undefined> = (globalThis as { process?: { env: Record<string, string> } }).process?.env ?? {};
const SECONDS = Number(env.FUZZ_SECONDS ?? 0);
const LONG = SECONDS > 0;
const SEED = env.FUZZ_SEED !== undefined ? Number(env.FUZZ_SEED) : LONG ? Date.now() % 2 ** 31 : 20261128;
const MAX_ELEMS = Number(env.FUZZ_MAX_ELEMS ?? (LONG ? 120_000 : 40_000));
/** Properties share the time budget of a long run. */
const PROPERTIES = BUILDS.length + 1;
const budgetMs = (SECONDS * 1000) / PROPERTIES;
const options = (numRuns: number): fc.Parameters<[Params]> =>
  LONG
    ? { seed: SEED, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false, endOnFailure: true }
    : { seed: SEED, numRuns, endOnFailure: true };
if (LONG) console.log(`fuzz: seed ${SEED}, ${SECONDS} s, inputs up to ${MAX_ELEMS} elements (replay with FUZZ_SEED=${SEED})`);

/** Lets the event loop run every few calls: vitest's worker must answer its parent's heartbeats
 *  during a long run. */
let sinceBreath = 0;
const breathe = async () => {
  if (++sinceBreath % 20 === 0) await new Promise<void>((r) => setTimeout(r, 0));
};

const counts = new Map<string, number>();
const tally = (p: Params) => counts.set(p.fn, (counts.get(p.fn) ?? 0) + 1);
afterAll(() => {
  if (!LONG) return;
  let total = 0;
  for (const v of counts.values()) total += v;
  console.log(`fuzz: ${total} calls checked (seed ${SEED}): ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
});

for (const b of BUILDS) {
  describe(`fuzz, ${b} build`, () => {
    it('every function, random shapes, options and adversarial values, against the float64 reference', { timeout: LONG ? budgetMs + 120_000 : 60_000 }, async () => {
      use(b);
      const before = counts.size;
      await fc.assert(
        fc.asyncProperty(paramsArb(MAX_ELEMS), async (p) => {
          use(b); // (another test's build may have run during a pause)
          tally(p);
          check(build(p), undefined, `${b}: `);
          await breathe();
        }),
        // (the checked build runs the simd kernels again, plus its range checks: fewer calls)
        options(b === 'checked' ? 200 : 500),
      );
      expect(counts.size).toBeGreaterThanOrEqual(before);
    });
  });
}

describe('differential: the three builds agree', () => {
  it('the same call on scalar, simd and relaxed-simd: each within its bound of the reference, and of each other', { timeout: LONG ? budgetMs + 120_000 : 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(paramsArb(MAX_ELEMS), async (p) => {
        tally(p);
        const built = build(p);
        const results = BACKENDS.map((b) => {
          use(b);
          const r = built.run();
          check(built, r, `${b}: `);
          return r;
        });
        const ex = built.expected;
        const f32Array = p.f32 && !(p.fn.includes('crossEntropy') && p.reduction !== 'none');
        for (let i = 1; i < results.length; i++) {
          const a = results[0]!;
          const c = results[i]!;
          const twice = (bd: ArrayLike<number>) => Array.from(bd, (v) => 2 * v);
          const m = firstMismatch(c.main, Array.from(a.main), twice(ex.mainBound), f32Array);
          if (m !== -1) throw new Error(`${BACKENDS[0]} and ${BACKENDS[i]} differ at [${m}]: ${a.main[m]} vs ${c.main[m]}\nparams: ${JSON.stringify(p)}`);
          if (ex.grad) {
            const g = firstMismatch(c.grad!, Array.from(a.grad!), twice(ex.gradBound!), p.f32);
            if (g !== -1) throw new Error(`${BACKENDS[0]} and ${BACKENDS[i]} gradients differ at [${g}]: ${a.grad![g]} vs ${c.grad![g]}\nparams: ${JSON.stringify(p)}`);
          }
        }
        await breathe();
      }),
      options(250),
    );
  });

  it('covered every function', () => {
    for (const fn of FNS) expect(counts.get(fn) ?? 0, fn).toBeGreaterThan(LONG ? 10 : 5);
  });
});
