// npm run stress: the opt-in size test. About 1 GiB of logits through every
// path (the streaming one-call functions, a strided axis, in-place outputs, a Workspace whose
// buffers take over 3 GiB of wasm memory), the largest Workspace that fits in wasm32 memory next
// to a one-too-large one (RangeError), a row larger than wasm memory (RangeError before any work),
// and small calls still right afterwards. Checks values against float64 computed here; prints
// times, wasm memory and RSS. Needs ~6 GiB of RAM. Runs the built package (npm run build).
//
//   npm run stress [-- --backend simd|scalar|relaxed-simd] [-- --gib 1]
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const backend = arg('backend', undefined);
// Node 20 runs the relaxed-SIMD build only behind a flag: re-run with it when that build is asked for.
const FLAG = '--experimental-wasm-relaxed-simd';
if (backend === 'relaxed-simd' && Number(process.versions.node.split('.')[0]) < 22 && !process.execArgv.includes(FLAG)) {
  const r = spawnSync(process.execPath, [FLAG, ...process.execArgv, process.argv[1], ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const api = await import('../../dist/index.js');
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const gib = Number(arg('gib', 1));

await api.init(backend ? { backend } : undefined);
const t00 = performance.now();
let failures = 0;
const mem = () => {
  const m = process.memoryUsage();
  return `rss ${(m.rss / GiB).toFixed(2)} GiB`;
};
function step(name, f) {
  const t0 = performance.now();
  try {
    const info = f();
    console.log(`ok   ${name} (${((performance.now() - t0) / 1000).toFixed(2)} s; ${mem()})${info ? `: ${info}` : ''}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function close(a, b, tol, what) {
  const ok = Math.abs(a - b) <= tol * (1 + Math.abs(b)) || (Number.isNaN(a) && Number.isNaN(b)) || a === b;
  assert(ok, `${what}: got ${a}, expected ${b}`);
}
/** Deterministic logits, a cheap function of the index. */
const value = (i) => 6 * Math.sin(i * 0.618034) + ((Math.imul(i, 2654435761) >>> 0) % 97) / 50;

console.log(`stress: backend ${api.backend()}, ${gib} GiB of float32 logits, node ${process.version}`);
const C = 1000;
const N = Math.floor((gib * GiB) / 4 / C / 8) * 8;
const n = N * C;
const x0 = new Float32Array(n); // the pristine logits (the reference reads these)
step(`fill ${(n * 4 / GiB).toFixed(2)} GiB of logits (${N} x ${C})`, () => {
  for (let i = 0; i < n; i++) x0[i] = value(i);
});
const x = x0.slice(); // what the library gets (and overwrites in place)
const labels = Int32Array.from({ length: N }, (_, r) => (r * 7919) % C);
/** Float64 reference of one row: [logSumExp, max]. */
const rowLse = (r) => {
  let m = -Infinity;
  for (let c = r * C; c < (r + 1) * C; c++) if (x0[c] > m) m = x0[c];
  let s = 0;
  for (let c = r * C; c < (r + 1) * C; c++) s += Math.exp(x0[c] - m);
  return m + Math.log(s);
};
const sampleRows = [0, 1, 12345, N >> 1, N - 2, N - 1];

step('crossEntropyWithGrad over all rows (streamed), gradient in place over the logits', () => {
  // The reference loss, in float64 over every row.
  let want = 0;
  for (let r = 0; r < N; r++) want += rowLse(r) - x0[r * C + labels[r]];
  want /= N;
  const y = api.crossEntropyWithGrad(x, labels, { classes: C, gradInto: x });
  close(y.loss, want, 1e-6, 'mean loss');
  assert(y.grad === x, 'gradInto returned');
  for (const r of sampleRows) {
    const lse = rowLse(r);
    for (const c of [0, labels[r], C - 1]) {
      const g = (Math.exp(x0[r * C + c] - lse) - (c === labels[r] ? 1 : 0)) / N;
      close(x[r * C + c], g, 1e-4, `grad[${r}, ${c}]`);
    }
  }
  return `loss ${y.loss.toFixed(6)}`;
});

step('softmax in place over all rows, then logSumExp along a strided axis', () => {
  x.set(x0);
  api.softmax(x, { classes: C, into: x });
  for (const r of sampleRows) {
    const lse = rowLse(r);
    for (const c of [0, 17, C - 1]) close(x[r * C + c], Math.exp(x0[r * C + c] - lse), 1e-5, `softmax[${r}, ${c}]`);
  }
  x.set(x0);
  // [N / 8, 8, C] along axis 1: the strided path, transposing 8 x C blocks inside wasm.
  const lse = api.logSumExp(x, { shape: [N / 8, 8, C], axis: 1 });
  assert(lse.length === n / 8, 'logSumExp length');
  for (const o of [0, (N >> 4) - 1]) {
    for (const i of [0, C - 1]) {
      let m = -Infinity;
      for (let k = 0; k < 8; k++) m = Math.max(m, x0[(o * 8 + k) * C + i]);
      let s = 0;
      for (let k = 0; k < 8; k++) s += Math.exp(x0[(o * 8 + k) * C + i] - m);
      close(lse[o * C + i], m + Math.log(s), 1e-6, `strided logSumExp[${o}, ${i}]`);
    }
  }
});

let ws = null;
step(`a Workspace of ${N} x ${C} float32 (logits, output and gradient: over 3 GiB of wasm memory)`, () => {
  ws = api.createWorkspace({ classes: C, rows: N });
  const logits = ws.logits;
  logits.set(x0);
  ws.target.set(labels);
  const loss = ws.crossEntropyWithGrad({ reduction: 'sum' });
  let want = 0;
  for (let r = 0; r < N; r++) want += rowLse(r) - x0[r * C + labels[r]];
  close(loss, want, 1e-6, 'workspace sum loss');
  const out = ws.softmax({ temperature: 2 });
  for (const r of sampleRows) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x0[r * C + c] / 2);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x0[r * C + c] / 2 - m);
    close(out[r * C + 5], Math.exp(x0[r * C + 5] / 2 - m) / s, 1e-5, `ws softmax T=2 [${r}]`);
  }
  // Above 2 GiB: the one-call functions' scratch and the workspace's own small regions.
  const small = api.softmax(new Float32Array([1, 2, 3]), { classes: 3 });
  close(small[2], Math.exp(0) / (Math.exp(-2) + Math.exp(-1) + 1), 1e-6, 'small softmax after');
  return `loss ${loss.toExponential(6)}`;
});
ws?.dispose();
ws = null;

step('the largest Workspace that fits in wasm32 memory works; one row more is a RangeError', () => {
  // Bytes per row of a float32 'indices' Workspace: logits, output, grad, loss, losses, scales, target.
  const perRow = 3 * C * 4 + 4 + 8 + 8 + 4;
  let lo = 1;
  let hi = Math.ceil((4 * GiB) / perRow) + 1;
  let fits = 0;
  // Find the capacity boundary by bisection (creating and disposing; untouched memory costs no RAM).
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    try {
      api.createWorkspace({ classes: C, rows: mid }).dispose();
      fits = mid;
      lo = mid + 1;
    } catch (e) {
      assert(e instanceof RangeError, `not a RangeError: ${e}`);
      hi = mid - 1;
    }
  }
  const big = api.createWorkspace({ classes: C, rows: fits });
  big.setRows(3);
  big.logits.fill(1);
  big.target.set([0, 1, C - 1]);
  close(big.crossEntropy(), Math.log(C), 1e-6, 'largest workspace loss');
  big.setRows(fits);
  const last = big.logits.subarray((fits - 1) * C);
  last.fill(2);
  big.dispose();
  let error = null;
  try {
    api.createWorkspace({ classes: C, rows: fits + 1 });
  } catch (e) {
    error = e;
  }
  assert(error instanceof RangeError, `one row more: ${error}`);
  return `${fits} rows of ${C} classes (${((fits * perRow) / GiB).toFixed(3)} GiB); one more: ${error.message}`;
});

step('a single row larger than wasm memory: RangeError before any work', () => {
  const row = new Float32Array(GiB); // 4 GiB of address space, never touched
  const t0 = performance.now();
  let error = null;
  try {
    api.softmax(row, { classes: GiB });
  } catch (e) {
    error = e;
  }
  assert(error instanceof RangeError && /x/.test(error.message), `got ${error}`);
  assert(performance.now() - t0 < 1000, 'refused at once');
  return error.message;
});

step('small calls of every function are still right', () => {
  const v = new Float64Array([1, 2, 3, 4, 5, 6]);
  const lse = api.logSumExp(v, { classes: 3 });
  close(lse[0], 3 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), 1e-12, 'logSumExp');
  close(api.crossEntropy(v, [2, 0], { classes: 3 }), (lse[0] - 3 + lse[1] - 4) / 2, 1e-12, 'crossEntropy');
  const w = api.createWorkspace({ classes: 3, rows: 2, dtype: 'float64' });
  w.logits.set(v);
  w.target.set([2, 0]);
  close(w.crossEntropy(), (lse[0] - 3 + lse[1] - 4) / 2, 1e-12, 'workspace');
  w.dispose();
});

console.log(`stress: ${failures ? `${failures} FAILED` : 'all passed'} in ${((performance.now() - t00) / 1000).toFixed(1)} s; ${mem()}`);
process.exit(failures ? 1 : 0);
