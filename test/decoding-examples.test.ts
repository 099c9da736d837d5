// The decoding examples: examples/transformers-js/processors.mjs on synthetic logits, in a
// minimal structural Tensor ({ data, dims, type }: the interface the example uses) and in
// transformers.js's own Tensor class and LogitsProcessorList, loaded from bench/node_modules
// (`npm run bench:install`; .ci/run installs it and sets SOFTMAX_WASM_REAL_TRANSFORMERS=1,
// which makes its absence a failure); and the plain-Node loop of examples/decoding-loop/.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initSync, sample, samplingDistribution } from '../src/index.js';
import { rng } from './helpers/random.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
type TensorLike = { data: Float32Array | Float64Array; dims: number[]; type: string };
type Processors = {
  createSamplingProcessor(o: object): (ids: bigint[][], t: TensorLike) => TensorLike;
  sampleNextTokens(t: TensorLike, o: object): BigInt64Array;
};

let ex: Processors;
beforeAll(async () => {
  // The example imports 'softmax-wasm' (this package's dist/, by name): its module instance is
  // not src/'s, so it is initialized through its own import.
  ex = (await import(pathToFileURL(join(root, 'examples/transformers-js/processors.mjs')).href)) as Processors;
  const lib = (await import('softmax-wasm')) as { init(o?: object): Promise<void> };
  await lib.init({ backend: 'simd' });
  initSync({ backend: 'simd' });
});

/** Synthetic logits: [rows, V] with a few tokens far above the rest. */
function synthetic(rows: number, V: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(rows * V).map(() => (r() + r() + r() - 1.5) * 3);
  for (let i = 0; i < rows * 20; i++) { const j = Math.floor(r() * rows * V); x[j] = x[j]! + 8; }
  return x;
}

function checkProcessor(makeTensor: (data: Float32Array, dims: number[]) => TensorLike, callList: (p: unknown, ids: bigint[][], t: TensorLike) => TensorLike) {
  const V = 5000, rows = 2;
  const x = synthetic(rows, V, 3);
  const opts = { temperature: 0.7, topK: 40, topP: 0.9, minP: 0.01, repetitionPenalty: 1.3 };
  const ids = [[5n, 17n, 5n], [9n]];
  const t = makeTensor(x.slice(), [rows, V]);
  const out = callList(ex.createSamplingProcessor(opts), ids, t);
  expect(out).toBe(t);
  const want = samplingDistribution(x, { classes: V, ...opts, previousTokens: [[5, 17, 5], [9]] });
  const got = Float32Array.from(out.data, Math.exp);
  for (let i = 0; i < want.length; i++) {
    if (want[i] === 0) expect(out.data[i]).toBe(-Infinity);
    else expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(2e-6 * want[i]! + 1e-12);
  }
  // The sampling step: [batch, seq, vocab] uses each sequence's last position.
  const seq = 3;
  const full = synthetic(rows * seq, V, 4);
  const last = new Float32Array(rows * V);
  for (let b = 0; b < rows; b++) last.set(full.subarray(((b + 1) * seq - 1) * V, (b + 1) * seq * V), b * V);
  const u = [0.25, 0.75];
  const next = ex.sampleNextTokens(makeTensor(full, [rows, seq, V]), { topP: 0.8, uniforms: u });
  expect(next).toBeInstanceOf(BigInt64Array);
  expect(Array.from(next, Number)).toEqual(Array.from(sample(last, { classes: V, topP: 0.8, uniforms: u })));
}

describe('examples/transformers-js', () => {
  it('on a minimal structural Tensor ({ data, dims, type }) and a plain processor list', () => {
    checkProcessor((data, dims) => ({ data, dims, type: 'float32' }), (p, ids, t) => (p as (i: bigint[][], t: TensorLike) => TensorLike)(ids, t));
  });

  it('on transformers.js\'s own Tensor and LogitsProcessorList when installed in bench/node_modules', async () => {
    const dir = join(root, 'bench/node_modules/@huggingface/transformers');
    const required = process.env.SOFTMAX_WASM_REAL_TRANSFORMERS === '1';
    if (!existsSync(dir)) {
      // Only the structural test above ran; CI (which installs the bench peers) requires this one.
      expect(required, 'SOFTMAX_WASM_REAL_TRANSFORMERS=1 but bench/node_modules has no @huggingface/transformers').toBe(false);
      return;
    }
    const req = createRequire(join(root, 'bench/package.json'));
    const hf = (await import(pathToFileURL(req.resolve('@huggingface/transformers')).href)) as {
      Tensor: new (type: string, data: Float32Array, dims: number[]) => TensorLike;
      LogitsProcessorList: new () => { push(p: unknown): void; _call(ids: bigint[][], t: TensorLike): TensorLike };
    };
    checkProcessor((data, dims) => new hf.Tensor('float32', data, dims), (p, ids, t) => {
      const list = new hf.LogitsProcessorList();
      list.push(p);
      return list._call(ids, t);
    });
  });

  it('rejects non-float logits with a TypeError', () => {
    expect(() => ex.sampleNextTokens({ data: new Uint16Array(4) as never, dims: [1, 4], type: 'float16' }, {})).toThrow(TypeError);
  });
});

describe('examples/decoding-loop', () => {
  it('runs, draws kept tokens, and gives the same tokens on every run', () => {
    const run = (args: string[]) => {
      const out = execFileSync(process.execPath, [join(root, 'examples/decoding-loop/index.mjs'), ...args], { encoding: 'utf8' });
      return JSON.parse(out.trim().split('\n').pop()!) as { tokens: number[] };
    };
    const a = run(['8', '3']);
    expect(a.tokens).toHaveLength(9);
    expect(a.tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 32000)).toBe(true);
    expect(run(['8', '3'])).toEqual(a);
  });
});
