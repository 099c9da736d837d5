// Decoding benchmark (npm run bench:decoding; also the last part of npm run bench): sample and
// topK at LLM vocabulary sizes, side by side in one process against
//   - the naive baseline: the way apps decode today in plain JavaScript: a Math.exp softmax into
//     a Float64Array, a sort of an index array by probability, a cumulative sum (top-k = the
//     first k of the sort, top-p = the first tokens whose cumulative sum reaches p, min-p = a
//     cut of the sorted list);
//   - for topK, transformers.js's own `topk` op (@huggingface/transformers, a bench peer), on
//     each of its two backends: in Node it runs the op on native onnxruntime-node; in a browser
//     (and in Node here, through a second instance of the module) on onnxruntime-web's wasm
//     backend, the one its own dependency ships, on 1 thread (a browser page that is not
//     cross-origin isolated has no other; more threads cost more than they give at [1, V]).
// The logits are a real language model's next-token logits (the stored-LM decoding fixture,
// 128256 tokens); the 262144 row is that row, a shuffle of it, and its first 5632 values.
// Every entry is timed in --runs rounds (default 5), interleaved; per target the median ratio
// over the rounds and its range are printed, with microseconds per call.
//
//   node bench/decoding.mjs [--runs=5] [--time=300 (ms per entry per round)] [--backend=simd]

import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from './baselines/reference64.mjs';

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const major = Number(process.versions.node.split('.')[0]);
if (major < 22 && !process.execArgv.includes(RELAXED_FLAG)) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [RELAXED_FLAG, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const arg = (name, dflt) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const RUNS = Number(arg('runs', 5));
const TIME = Number(arg('time', 300));
const BACKEND = arg('backend', 'simd');

const lib = await import('../dist/index.js');
lib.initSync({ backend: BACKEND });

// The logits.
const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/decoding/decode/decode-big-stored-lm-32-1x128256.json', import.meta.url), 'utf8'));
const bytes = Buffer.from(fixture.logits.b64, 'base64');
const lm = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
const shuffled = lm.slice();
const r = mulberry32(1);
for (let i = shuffled.length - 1; i > 0; i--) {
  const j = Math.floor(r() * (i + 1));
  [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
}
const big = new Float32Array(262144);
big.set(lm, 0);
big.set(shuffled, lm.length);
big.set(lm.subarray(0, 262144 - 2 * lm.length), 2 * lm.length);
const ROWS = { 128256: lm, 262144: big };

// The naive baseline.
function naiveSample(x, o, u) {
  const V = x.length;
  const T = o.temperature ?? 1;
  let m = -Infinity;
  for (let i = 0; i < V; i++) if (x[i] > m) m = x[i];
  const p = new Float64Array(V);
  let s = 0;
  for (let i = 0; i < V; i++) s += p[i] = Math.exp((x[i] - m) / T);
  for (let i = 0; i < V; i++) p[i] /= s;
  const idx = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a]);
  let n = V;
  if (o.topK) n = Math.min(n, o.topK);
  if (o.topP !== undefined && o.topP < 1) {
    // Over what top-k left (renormalized): the most probable tokens until their sum reaches p.
    let tot = 0;
    for (let j = 0; j < n; j++) tot += p[idx[j]];
    let c = 0, kept = 0;
    while (kept < n && c < o.topP * tot) c += p[idx[kept++]];
    n = kept;
  }
  if (o.minP) {
    const t = o.minP * p[idx[0]];
    let j = 0;
    while (j < n && p[idx[j]] >= t) j++;
    n = Math.max(1, j);
  }
  let tot = 0;
  for (let j = 0; j < n; j++) tot += p[idx[j]];
  let c = 0;
  for (let j = 0; j < n; j++) if ((c += p[idx[j]]) > u * tot) return idx[j];
  return idx[n - 1];
}
function naiveTopKLogProbs(x, k) {
  const V = x.length;
  let m = -Infinity;
  for (let i = 0; i < V; i++) if (x[i] > m) m = x[i];
  const lp = new Float64Array(V);
  let s = 0;
  for (let i = 0; i < V; i++) s += Math.exp(x[i] - m);
  const lse = m + Math.log(s);
  for (let i = 0; i < V; i++) lp[i] = x[i] - lse;
  const idx = Array.from({ length: V }, (_, i) => i).sort((a, b) => lp[b] - lp[a]);
  return idx.slice(0, k).map((i) => [i, lp[i]]);
}

// transformers.js's topk (a bench peer; absent, its entries are left out), once per backend.
// transformers.js picks its onnxruntime when its module loads: the one at
// globalThis[Symbol.for('onnxruntime')] if set, else onnxruntime-node in Node. So the wasm
// backend's instance is the same file imported under another URL with that symbol set to
// transformers.js's own onnxruntime-web (its wasm files served from disk, not its CDN default).
let hf = null;
let hfWasm = null;
try {
  const { createRequire } = await import('node:module');
  const main = import.meta.resolve('@huggingface/transformers');
  hf = await import(main);
  const req = createRequire(main);
  const ort = req('onnxruntime-web'); // its Node entry, the wasm backend
  ort.env.wasm.wasmPaths = new URL('.', pathToFileURL(req.resolve('onnxruntime-web'))).href;
  ort.env.wasm.numThreads = 1;
  const key = Symbol.for('onnxruntime');
  globalThis[key] = ort;
  hfWasm = await import(`${main}?onnxruntime=web`);
  delete globalThis[key];
} catch (e) {
  console.log(hf ? `(transformers.js on onnxruntime-web could not load: ${e.message})` : '(@huggingface/transformers is not installed in bench/node_modules: npm run bench:install)');
}

const CONFIGS = [
  ['temperature 0.8 + topP 0.95', { temperature: 0.8, topP: 0.95 }],
  ['topK 50 + topP 0.9 + temperature 0.7', { topK: 50, topP: 0.9, temperature: 0.7 }],
  ['minP 0.05', { minP: 0.05 }],
];

/** Targets: [name, V, ours, baselines: [[name, fn, goal]]]. */
const targets = [];
for (const V of [128256, 262144]) {
  const x = ROWS[V];
  for (const [name, o] of CONFIGS) {
    const opts = { classes: V, ...o, uniforms: [0.5] };
    targets.push([`sample, ${name}`, V, () => lib.sample(x, opts), [['naive JS', () => naiveSample(x, o, 0.5), 100]]]);
  }
}
{
  const V = 128256, x = ROWS[V];
  const base = [['naive JS', () => naiveTopKLogProbs(x, 20), 100]];
  for (const [h, backend] of [[hf, 'onnxruntime-node, native'], [hfWasm, `onnxruntime-web ${hfWasm?.env.backends.onnx.versions.web} wasm, 1 thread`]]) {
    if (!h) continue;
    const t = new h.Tensor('float32', x, [1, V]);
    base.push([`transformers.js topk (${backend})`, () => h.topk(t, 20), 10]);
  }
  targets.push(['topK(k = 20, logProbs)', V, () => lib.topK(x, 20, { classes: V, logProbs: true }), base]);
}

// Correctness before timing: the library's draws are tokens the naive sort keeps.
for (const [name, V, ours] of targets) {
  const got = ours();
  if (got instanceof Int32Array ? !(got[0] >= 0 && got[0] < V) : got.indices.length !== 20) throw new Error(`${name}: bad result`);
}

/** Microseconds per call of f over about TIME ms (async functions awaited). */
async function measure(f) {
  const first = f();
  const isAsync = first instanceof Promise;
  if (isAsync) await first;
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < TIME || n < 3) {
    if (isAsync) await f();
    else f();
    n++;
    t = performance.now();
  }
  return ((t - t0) * 1000) / n;
}

const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const results = targets.map(() => ({ ours: [], base: [] }));
for (let run = 0; run < RUNS; run++) {
  for (let i = 0; i < targets.length; i++) {
    const [, , ours, base] = targets[i];
    results[i].ours.push(await measure(ours));
    for (let j = 0; j < base.length; j++) (results[i].base[j] ??= []).push(await measure(base[j][1]));
  }
}

console.log(`\n## decoding (${BACKEND} build, Node ${process.versions.node}, ${RUNS} runs of ~${TIME} ms per entry, interleaved)\n`);
console.log('| target | [1, V] | softmax-wasm µs/call | baseline | baseline µs/call | ratio (median, range) | goal |');
console.log('|---|---:|---:|---|---:|---:|---:|');
let met = 0, total = 0;
targets.forEach(([name, V, , base], i) => {
  const ours = results[i].ours;
  base.forEach(([bname, , goal], j) => {
    const b = results[i].base[j];
    const ratios = b.map((v, run) => v / ours[run]);
    const med = median(ratios);
    total++;
    if (med >= goal) met++;
    const f = (r) => r.toFixed(r < 10 ? 2 : 0);
    console.log(`| ${name} | ${V} | ${median(ours).toFixed(0)} | ${bname} | ${median(b).toFixed(0)} | ${f(med)}x (${f(Math.min(...ratios))}-${f(Math.max(...ratios))}) | >= ${goal}x ${med >= goal ? 'met' : 'NOT met'} |`);
  });
});
console.log(`\n${met} of ${total} decoding targets met (median ratio over ${RUNS} runs).`);
