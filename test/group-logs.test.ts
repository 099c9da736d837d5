// A reduced cross-entropy over float32 rows of up to LOG_SPAN_MAX_C (256) classes sums the
// log-sums of each span of 64 rows (of short rows, C <= 16: sixteen groups of four) as one log
// (assembly/cross_entropy.ts ce_index_rows, LOG_SPAN_ROWS), so its result depends on which rows
// form the spans. The spans are rows 64j..64j+63 of the call in
// every path: the chunks of a streamed or pooled call hold multiples of 64 rows (src/plan.ts
// groupAligned). Checked here: the streamed call in chunks of 1, 65, 130 and 200 rows (each
// rounded down to a multiple of 64, and at least 64: chunks of 64, 64, 128 and 192 rows)
// gives the bits of the one-chunk call; both are within tolerance of the float64 reference; and
// a Workspace (which sums its per-row losses) agrees to a few ulp of float64.

import { afterEach, describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { setChunkBytes } from '../src/plan.js';
import { BACKENDS, use } from './helpers/backends.js';
import { bitDiff } from './helpers/compare.js';
import { rng } from './helpers/random.js';
import { crossEntropy64, maxErrRatio } from './helpers/reference.js';

afterEach(() => setChunkBytes());

type Options = { reduction: 'mean' | 'sum'; ignoreIndex?: number; labelSmoothing?: number };

describe.each(BACKENDS)('reduced cross-entropy: the same spans of rows in every chunking, %s build', (b) => {
  // short rows, general rows with spans (17 ... 256) and without (257)
  for (const C of [4, 7, 10, 16, 17, 32, 100, 256, 257]) {
    it(`C = ${C}`, () => {
      use(b);
      const rand = rng(C);
      for (const rows of [1, 2, 3, 4, 5, 7, 8, 9, 26, 130, 1027]) {
        const x = Float32Array.from({ length: rows * C }, () => (rand() - 0.5) * 12);
        const labels = Int32Array.from({ length: rows }, () => Math.floor(rand() * C));
        const cases: Options[] = [{ reduction: 'mean' }, { reduction: 'sum' }, { reduction: 'mean', ignoreIndex: labels[rows >> 1]! }, { reduction: 'mean', labelSmoothing: 0.1 }];
        for (const o of cases) {
          const at = `[${rows}, ${C}] ${JSON.stringify(o)}`;
          const opts = { classes: C, ...o };
          setChunkBytes();
          const whole = api.crossEntropyWithGrad(x, labels, opts);
          const lossOnly = api.crossEntropy(x, labels, opts);
          const ref = crossEntropy64(x, labels, { outer: rows, C, inner: 1 }, false, o);
          if (Number.isNaN(ref.loss as number)) expect(whole.loss, `${at}: every row ignored`).toBeNaN();
          else expect(maxErrRatio([whole.loss], [ref.loss as number], 1e-7, 1e-6), `${at}: loss vs float64`).toBeLessThanOrEqual(1);
          expect(lossOnly, `${at}: crossEntropy vs crossEntropyWithGrad`).toBe(whole.loss);
          for (const k of [1, 65, 130, 200]) {
            setChunkBytes(k * C * 4); // k rows per chunk before rounding
            expect(bitDiff(api.crossEntropyWithGrad(x, labels, opts), whole), `${at}: chunks of ${k} rows`).toBe('');
            expect(api.crossEntropy(x, labels, opts), `${at}: crossEntropy, chunks of ${k} rows`).toBe(lossOnly);
          }
          setChunkBytes();
          const ws = api.createWorkspace({ classes: C, rows });
          try {
            ws.logits.set(x);
            ws.target.set(labels);
            const wsLoss = ws.crossEntropyWithGrad(o);
            if (Number.isNaN(whole.loss)) expect(wsLoss, `${at}: Workspace (every row ignored: 0 / 0)`).toBeNaN();
            else expect(Math.abs(wsLoss - whole.loss), `${at}: Workspace`).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(whole.loss));
            expect(bitDiff(ws.grad, whole.grad), `${at}: Workspace grad`).toBe('');
          } finally {
            ws.dispose();
          }
        }
      }
    });
  }
});
