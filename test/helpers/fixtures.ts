// Loads the PyTorch float64 golden cases of test/fixtures/torch (format in test/fixtures/README.md) and
// compares results with them under the tolerances the cases carry.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './random.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The fixtures ship in the repository (test/fixtures/torch); SOFTMAX_WASM_FIXTURES points elsewhere, e.g. at a newer set. */
export const FIXTURES_DIR = process.env.SOFTMAX_WASM_FIXTURES || resolve(here, '../fixtures/torch');

type Json = number | string;
export interface Tensor {
  name: string;
  dtype: 'float32' | 'float64' | 'int64';
  shape: number[];
  data?: Json[];
  gen?: Gen;
  summary?: Summary;
}
interface Gen {
  algo: 'mulberry32_int' | 'mulberry32_uniform_f32';
  seed: number;
  n?: number;
  low?: number;
  high?: number;
  normalize_axis?: number;
  overrides?: [number, Json][];
}
export interface Summary {
  numel: number;
  nonfinite_count: number;
  nan_count: number;
  sum: number;
  abs_sum: number;
  row_sums?: number[];
  samples: [number, Json][];
}
export interface Tol {
  atol: number;
  rtol: number;
}
export interface Case {
  name: string;
  op: string;
  edge: boolean;
  edge_reason?: string;
  attrs: Record<string, any>;
  inputs: Tensor[];
  outputs: Tensor[];
  tolerance: Record<string, Tol>;
}

export function loadCases(op: string): Case[] {
  const dir = join(FIXTURES_DIR, op);
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir} (set SOFTMAX_WASM_FIXTURES)`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Case);
}

export function decode(v: Json): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`bad number ${v}`);
}

/** The README's generator, verbatim in behaviour. */
function generate(t: Tensor): number[] | Float32Array {
  const g = t.gen!;
  const n = t.shape.reduce((a, b) => a * b, 1);
  const next = rng(g.seed); // mulberry32, as the README specifies
  let out: number[] | Float32Array;
  if (g.algo === 'mulberry32_int') {
    out = new Array<number>(n);
    for (let k = 0; k < n; k++) out[k] = Math.floor(next() * g.n!);
  } else {
    out = new Float32Array(n);
    const span = g.high! - g.low!;
    for (let k = 0; k < n; k++) out[k] = Math.fround(g.low! + span * next());
    if (g.normalize_axis !== undefined) {
      const ax = g.normalize_axis;
      const C = t.shape[ax]!;
      const inner = t.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
      const outer = n / (C * inner);
      const raw = Float64Array.from(out);
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += raw[(o * C + c) * inner + i]!;
          for (let c = 0; c < C; c++) {
            const k = (o * C + c) * inner + i;
            out[k] = Math.fround(raw[k]! / s);
          }
        }
    }
  }
  for (const [k, v] of g.overrides ?? []) out[k] = decode(v);
  return out;
}

/** An input tensor's values as numbers (data if stored, else regenerated). */
export function values(t: Tensor): number[] {
  if (t.data) return t.data.map(decode);
  return Array.from(generate(t));
}

export function input(c: Case, name: string): Tensor | undefined {
  return c.inputs.find((t) => t.name === name);
}
export function output(c: Case, name: string): Tensor | undefined {
  return c.outputs.find((t) => t.name === name);
}

/** Neumaier-compensated running sum. */
export class CompensatedSum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}

function close(a: number, r: number, tol: Tol): boolean {
  // Non-finite values must match exactly: NaN with NaN, an infinity with the same infinity.
  if (!Number.isFinite(r) || !Number.isFinite(a)) return a === r || (Number.isNaN(a) && Number.isNaN(r));
  return Math.abs(a - r) <= tol.atol + tol.rtol * Math.abs(r);
}

/**
 * Compares `actual` with a gold tensor (full data or summary), returning a list of
 * human-readable mismatches (empty when everything is within tolerance).
 */
export function compare(actual: ArrayLike<number>, gold: Tensor, tol: Tol, classAxis?: number): string[] {
  const errs: string[] = [];
  const push = (m: string) => {
    if (errs.length < 5) errs.push(m);
  };
  if (gold.data) {
    if (actual.length !== gold.data.length) return [`length ${actual.length} != ${gold.data.length}`];
    for (let i = 0; i < actual.length; i++) {
      const r = decode(gold.data[i]!);
      if (!close(actual[i]!, r, tol)) push(`[${i}] got ${actual[i]} want ${r} (atol ${tol.atol}, rtol ${tol.rtol})`);
    }
    return errs;
  }
  const s = gold.summary!;
  if (actual.length !== s.numel) return [`length ${actual.length} != ${s.numel}`];
  for (const [i, v] of s.samples) {
    const r = decode(v);
    if (!close(actual[i]!, r, tol)) push(`sample [${i}] got ${actual[i]} want ${r}`);
  }
  // The gold sums are exact (math.fsum); sum ours with compensation so the test's own
  // rounding does not count against the kernels.
  const sum = new CompensatedSum();
  const abs = new CompensatedSum();
  let nonfinite = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    if (Number.isFinite(a)) {
      sum.add(a);
      abs.add(Math.abs(a));
    } else nonfinite++;
  }
  if (nonfinite !== s.nonfinite_count) push(`nonfinite_count ${nonfinite} != ${s.nonfinite_count}`);
  if (!(Math.abs(sum.value - s.sum) <= s.numel * tol.atol + tol.rtol * s.abs_sum)) push(`sum ${sum.value} != ${s.sum}`);
  if (!(Math.abs(abs.value - s.abs_sum) <= s.numel * tol.atol + tol.rtol * s.abs_sum)) push(`abs_sum ${abs.value} != ${s.abs_sum}`);
  if (s.row_sums && classAxis !== undefined) {
    const shape = gold.shape;
    const C = shape[classAxis]!;
    const inner = shape.slice(classAxis + 1).reduce((a, b) => a * b, 1);
    const outer = s.numel / (C * inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let rs = 0;
        let ra = 0;
        for (let c = 0; c < C; c++) {
          const a = actual[(o * C + c) * inner + i]!;
          if (Number.isFinite(a)) {
            rs += a;
            ra += Math.abs(a);
          }
        }
        const want = s.row_sums[o * inner + i]!;
        if (!(Math.abs(rs - want) <= C * tol.atol + tol.rtol * Math.max(ra, Math.abs(want)))) push(`row_sums[${o * inner + i}] ${rs} != ${want}`);
      }
  }
  return errs;
}
