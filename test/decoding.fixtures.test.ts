// Every public decoding fixture (test/fixtures/decoding/, README there: format, tolerances and
// semantics) on every build: samplingDistribution's kept sets exactly and probabilities within
// the case's tolerance, sample's indices exactly (with each way of giving the uniforms), topK's
// indices exactly and values within tolerance, argmax exactly, and the error class of every
// invalid call (with the row named for rows that cannot be sampled).
import { describe, expect, it } from 'vitest';
import { argmax, sample, samplingDistribution, topK } from '../src/index.js';
import { BACKENDS, use } from './helpers/backends.js';
import { decodingCases, flatIndex, keptOf, keptProbs, logitsOf, num, optionsOf, type DecodingCase } from './helpers/decoding-fixtures.js';

type F = Float32Array | Float64Array;
const decode = decodingCases('decode');
const topk = decodingCases('topk');
const argmaxCases = decodingCases('argmax');
const errors = decodingCases('errors');

/** The weight of the summary rows' weighted sum. */
const w = (i: number) => (Math.imul(i, 2654435761 | 0) >>> 0) / 4294967296;

/** Problems of a distribution against the case's gold (empty when it passes). */
function checkDistribution(c: DecodingCase, got: F): string[] {
  const errs: string[] = [];
  const { rtol, atol } = c.distribution.tolerance;
  c.distribution.rows.forEach((row: DecodingCase, r: number) => {
    const kept = keptOf(row);
    if (kept.length !== row.kept_count) errs.push(`row ${r}: fixture kept_count`);
    const isKept = new Uint8Array(c.classes);
    for (const i of kept) isKept[i] = 1;
    for (let j = 0; j < c.classes; j++) {
      const v = got[flatIndex(c, r, j)]!;
      if (!isKept[j] && v !== 0) {
        errs.push(`row ${r}: removed token ${j} has ${v}`);
        if (errs.length > 5) return;
      }
    }
    const ps = keptProbs(row);
    const checkP = (i: number, p: number) => {
      const v = got[flatIndex(c, r, i)]!;
      if (!(Math.abs(v - p) <= atol + rtol * p)) errs.push(`row ${r}: token ${i}: ${v} vs ${p}`);
    };
    if (ps) kept.forEach((i, j) => checkP(i, ps[j]!));
    else {
      const s = row.summary;
      (s.idx as number[]).forEach((i, j) => checkP(i, num(s.p[j])));
      let sum = 0, ws = 0;
      for (const i of kept) {
        const v = got[flatIndex(c, r, i)]!;
        if (!(Number.isFinite(v) && v >= 0)) errs.push(`row ${r}: token ${i}: ${v}`);
        sum += v;
        ws += v * w(i);
      }
      const n = kept.length;
      if (!(Math.abs(sum - 1) <= rtol + n * atol)) errs.push(`row ${r}: sum ${sum}`);
      if (!(Math.abs(ws - s.wsum) <= rtol * s.wsum + n * atol)) errs.push(`row ${r}: weighted sum ${ws} vs ${s.wsum}`);
    }
  });
  return errs;
}

function uniformsOption(c: DecodingCase): { opts: Record<string, unknown>; calls: () => number } {
  const u = c.sample.uniforms as number[];
  let n = 0;
  switch (c.sample.uniforms_type) {
    case 'Float64Array': return { opts: { uniforms: Float64Array.from(u) }, calls: () => n };
    case 'Float32Array': return { opts: { uniforms: Float32Array.from(u) }, calls: () => n };
    case 'array': return { opts: { uniforms: u.slice() }, calls: () => n };
    default: return { opts: { random: () => u[n++]! }, calls: () => n };
  }
}

for (const b of BACKENDS) {
  describe(`decoding fixtures, ${b} build`, () => {
    for (const c of decode) {
      it(`${c.name}: samplingDistribution`, () => {
        use(b);
        const x = logitsOf(c) as F;
        const opts = optionsOf(c);
        const into = c.distribution.into ? new (x.constructor as new (n: number) => F)(x.length) : undefined;
        const got = samplingDistribution(x, { ...opts, into } as never);
        if (into) expect(got).toBe(into);
        expect(got.constructor).toBe(x.constructor);
        expect(checkDistribution(c, got)).toEqual([]);
      });
      it(`${c.name}: sample`, () => {
        use(b);
        const x = logitsOf(c) as F;
        const { opts: uo, calls } = uniformsOption(c);
        const into = c.sample.into ? new Int32Array(c.rows) : undefined;
        const got = sample(x, { ...optionsOf(c), ...uo, into } as never);
        if (into) expect(got).toBe(into);
        expect(Array.from(got)).toEqual(c.sample.expect);
        if (c.sample.uniforms_type === 'random') expect(calls()).toBe(c.rows);
        if (c.sample.default_random_membership) {
          const again = sample(x, optionsOf(c) as never);
          c.distribution.rows.forEach((row: DecodingCase, r: number) => expect(keptOf(row)).toContain(again[r]));
        }
      });
    }
    for (const c of topk) {
      it(`${c.name}: topK`, () => {
        use(b);
        const x = logitsOf(c) as F;
        const got = topK(x, c.k, optionsOf(c) as never);
        expect(Array.from(got.indices)).toEqual(c.expect.indices);
        expect(got.values.constructor).toBe(x.constructor);
        const { rtol, atol } = c.tolerance;
        const bad = (c.expect.values as unknown[]).map(num).flatMap((v, i) => {
          const g = got.values[i]!;
          return g === v || Math.abs(g - v) <= atol + rtol * Math.abs(v) ? [] : [`${i}: ${g} vs ${v}`];
        });
        expect(bad).toEqual([]);
      });
    }
    for (const c of argmaxCases) {
      it(`${c.name}: argmax`, () => {
        use(b);
        expect(Array.from(argmax(logitsOf(c) as F, optionsOf(c) as never))).toEqual(c.expect);
      });
    }
    for (const c of errors) {
      it(`${c.name}: ${c.expect_error}`, () => {
        use(b);
        const x = logitsOf(c) as F;
        const o = optionsOf(c) as never;
        const call = () => {
          switch (c.fn) {
            case 'samplingDistribution': return samplingDistribution(x, o);
            case 'sample': return sample(x, o);
            case 'topK': return topK(x, c.k, o);
            default: return argmax(x, o);
          }
        };
        let err: unknown;
        try { call(); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(c.expect_error === 'RangeError' ? RangeError : TypeError);
        expect((err as Error).constructor.name).toBe(c.expect_error);
        if (c.row !== undefined) expect((err as Error).message).toMatch(new RegExp(`\\b${c.row}\\b`));
      });
    }
  });
}
