// The worker pool in a browser (npm run test:pool-browser): Chromium loads dist/index.js from a
// page served with COOP/COEP headers (so crossOriginIsolated is true), starts a pool of Web
// Workers from the bundle's inlined source, and checks the pool's results are bit-identical to
// the single-threaded functions on the page's main thread (which may not block in Atomics.wait:
// the path browsers take), also for a pooled workspace and for arrays in SharedArrayBuffers. A
// page served without the headers must get createPool's Error.
//
//   node scripts/test/test-pool-browser.mjs      (after npm run build; exits 1 on failure)
//   CHROMIUM=/path/to/chromium overrides the browser (default /usr/bin/chromium).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bundle = readFileSync(resolve(root, 'dist/index.js'));
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const server = createServer((req, res) => {
  const isolated = !req.url.startsWith('/plain/');
  const path = req.url.replace(/^\/plain/, '');
  const headers = { 'Cache-Control': 'no-store', ...(isolated ? isolation : {}) };
  if (path === '/' || path === '/index.html') {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/html' });
    res.end('<!doctype html><meta charset="utf-8"><title>softmax-wasm pool</title><p>pool test</p>');
  } else if (path === '/dist/index.js') {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' });
    res.end(bundle);
  } else {
    res.writeHead(404, headers);
    res.end();
  }
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});

let failed = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failed++;
};

try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => check(false, `page error: ${e.message}`));
  await page.goto(`${origin}/`);
  check(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated (COOP/COEP)');

  const started = await page.evaluate(async () => {
    const m = await import('/dist/index.js');
    await m.init();
    globalThis.pool = await m.createPool({ threads: 2 });
    globalThis.m = m;
    return { threads: globalThis.pool.threads, backend: m.backend() };
  });
  check(started.threads === 2, `createPool({ threads: 2 }) started ${started.threads} workers (${started.backend} build)`);
  check(page.workers().length === 2, `the page runs ${page.workers().length} Web Workers`);

  const results = await page.evaluate(async () => {
    const { m, pool } = globalThis;
    const same = (a, b) => {
      if (typeof a === 'number') return Object.is(a, b);
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
      return true;
    };
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 8;
    const out = [];
    const err = async (f) => { try { await f(); return 'no error'; } catch (e) { return `${e.constructor.name}: ${e.message}`; } };
    for (const [T, N, C] of [[Float32Array, 512, 1000], [Float64Array, 64, 10000], [Float32Array, 16, 128256]]) {
      const x = T.from({ length: N * C }, rand);
      x[4 * C + 5] = NaN; // an ignored row (label -100): NaN softmax, loss 0
      x[C] = x[2 * C - 1] = -Infinity; // masked logits: probability 0 (row 1's label is 7919 % C)
      const labels = Int32Array.from({ length: N }, (_, i) => (i % 9 === 4 ? -100 : (i * 7919) % C));
      const name = `${T.name} [${N}, ${C}]`;
      const t0 = performance.now();
      const sm = await pool.softmax(x, { classes: C });
      const t1 = performance.now();
      out.push([`softmax ${name}`, same(m.softmax(x, { classes: C }), sm), t1 - t0]);
      out.push([`logSoftmax ${name} temperature 0.5`, same(m.logSoftmax(x, { classes: C, temperature: 0.5 }), await pool.logSoftmax(x, { classes: C, temperature: 0.5 }))]);
      out.push([`logSumExp ${name}`, same(m.logSumExp(x, { classes: C }), await pool.logSumExp(x, { classes: C }))]);
      const g = T.from({ length: N * C }, rand);
      out.push([`softmaxBackward ${name}`, same(m.softmaxBackward(sm, g, { classes: C }), await pool.softmaxBackward(sm, g, { classes: C }))]);
      const a = m.crossEntropyWithGrad(x, labels, { classes: C, zLoss: 1e-4 });
      const b = await pool.crossEntropyWithGrad(x, labels, { classes: C, zLoss: 1e-4 });
      out.push([`crossEntropyWithGrad ${name} loss ${b.loss}`, same(a.loss, b.loss) && same(a.grad, b.grad)]);
      const n1 = m.crossEntropy(x, labels, { classes: C, reduction: 'none' });
      out.push([`crossEntropy ${name} reduction none`, same(n1, await pool.crossEntropy(x, labels, { classes: C, reduction: 'none' }))]);
      // Decoding, on the workers too: without row 4's NaN, then with it (the same error).
      const d = x.slice();
      d[4 * C + 5] = 0;
      const so = { classes: C, temperature: 0.8, topK: 50, topP: 0.9, repetitionPenalty: 1.2, previousTokens: [1, 2, 2] };
      const u = Float64Array.from({ length: N }, (_, i) => (i * 0.618) % 1);
      out.push([`sample ${name} topK 50 topP 0.9`, same(m.sample(d, { ...so, uniforms: u }), await pool.sample(d, { ...so, uniforms: u }))]);
      out.push([`samplingDistribution ${name}`, same(m.samplingDistribution(d, so), await pool.samplingDistribution(d, so))]);
      const tk = m.topK(d, 20, { classes: C, logProbs: true });
      const tp = await pool.topK(d, 20, { classes: C, logProbs: true });
      out.push([`topK ${name} k 20 logProbs`, same(tk.indices, tp.indices) && same(tk.values, tp.values)]);
      const se = await err(() => m.sample(x, { classes: C, uniforms: u }));
      out.push([`sample ${name}: the same error (${se})`, se !== 'no error' && se === await err(() => pool.sample(x, { classes: C, uniforms: u }))]);
    }
    // A strided layout: softmax along axis 1 of [32, 500, 9].
    const s = Float32Array.from({ length: 32 * 500 * 9 }, rand);
    out.push(['softmax [32, 500, 9] axis 1', same(m.softmax(s, { shape: [32, 500, 9], axis: 1 }), await pool.softmax(s, { shape: [32, 500, 9], axis: 1 }))]);
    // A pooled workspace: its views in the shared memory, its rows split across the workers.
    for (const [dtype, T] of [['float32', Float32Array], ['float64', Float64Array]]) {
      const [N, C] = [512, 1000];
      const x = T.from({ length: N * C }, rand);
      const labels = Int32Array.from({ length: N }, (_, i) => (i * 7919) % C);
      const ws = m.createWorkspace({ classes: C, rows: N, dtype });
      const pws = pool.createWorkspace({ classes: C, rows: N, dtype });
      for (const w of [ws, pws]) {
        w.logits.set(x);
        w.target.set(labels);
      }
      const l1 = ws.crossEntropyWithGrad({ labelSmoothing: 0.1 });
      const l2 = await pws.crossEntropyWithGrad({ labelSmoothing: 0.1 });
      out.push([`pooled workspace ${dtype} [${N}, ${C}] crossEntropyWithGrad, loss ${l2}`, same(l1, l2) && same(ws.grad, pws.grad) && same(ws.loss, pws.loss)]);
      out.push([`pooled workspace ${dtype} [${N}, ${C}] softmax`, same(ws.softmax(), await pws.softmax())]);
      const first = pws.logSoftmax();
      const second = await err(() => pws.softmax());
      await first;
      out.push([`pooled workspace: a second call while one is pending rejects (${second})`, /^Error: .*pending/.test(second)]);
      ws.dispose();
      pws.dispose();
    }
    // Arrays in SharedArrayBuffers: the first call with a new one copies it on the calling thread
    // (a Web Worker takes the array while it sleeps), later calls leave the copies to the workers.
    const sx = new Float32Array(new SharedArrayBuffer(512 * 1000 * 4));
    sx.set(Float32Array.from({ length: 512 * 1000 }, rand));
    const sout = new Float32Array(new SharedArrayBuffer(512 * 1000 * 4));
    await pool.softmax(sx, { classes: 1000, into: sout });
    out.push(['softmax of a SharedArrayBuffer-backed input into a SharedArrayBuffer-backed output', same(m.softmax(sx.slice(), { classes: 1000 }), sout)]);
    const sg = new Float32Array(new SharedArrayBuffer(512 * 1000 * 4));
    const sl = Int32Array.from({ length: 512 }, (_, i) => i % 1000);
    const ce = await pool.crossEntropyWithGrad(sx, sl, { classes: 1000, gradInto: sg });
    const ce1 = m.crossEntropyWithGrad(sx.slice(), sl, { classes: 1000 });
    out.push(['crossEntropyWithGrad on shared logits into a shared gradient', same(ce1.loss, ce.loss) && same(ce1.grad, sg)]);
    await new Promise((r) => setTimeout(r, 50)); // (the workers take the arrays meanwhile)
    sg.fill(0);
    const ce2 = await pool.crossEntropyWithGrad(sx, sl, { classes: 1000, gradInto: sg });
    out.push(['the same shared arrays again, copied by the workers', same(ce1.loss, ce2.loss) && same(ce1.grad, sg)]);
    // The same errors.
    const big = new Float32Array(1 << 16);
    const e1 = await err(() => m.crossEntropy(big, Int32Array.from({ length: 64 }, (_, i) => i === 5 ? 1024 : 0), { classes: 1024 }));
    const e2 = await err(() => pool.crossEntropy(big, Int32Array.from({ length: 64 }, (_, i) => i === 5 ? 1024 : 0), { classes: 1024 }));
    out.push([`the same error (${e2})`, e1 === e2 && e1 !== 'no error']);
    return out;
  });
  for (const [what, ok, ms] of results) check(ok, `pool = single-threaded, bit for bit: ${what}${ms ? ` (${ms.toFixed(1)} ms)` : ''}`);

  const disposed = await page.evaluate(async () => {
    await globalThis.pool.dispose();
    try {
      await globalThis.pool.softmax(new Float32Array(4), { classes: 2 });
      return 'resolved';
    } catch (e) {
      return `${e.constructor.name}: ${e.message}`;
    }
  });
  check(/^Error: .*disposed/.test(disposed), `a disposed pool rejects (${disposed})`);
  for (let i = 0; i < 50 && page.workers().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  check(page.workers().length === 0, `dispose ended the Web Workers (${page.workers().length} left)`);

  // Without COOP/COEP there is no SharedArrayBuffer: createPool rejects with a clear Error.
  const plain = await browser.newPage();
  await plain.goto(`${origin}/plain/`);
  const rejected = await plain.evaluate(async () => {
    const m = await import('/plain/dist/index.js');
    try {
      await m.createPool();
      return 'resolved';
    } catch (e) {
      return `${e.constructor.name}: ${e.message}`;
    }
  });
  check(/^Error: createPool: .*crossOriginIsolated/.test(rejected), `not cross-origin isolated: ${rejected}`);
} catch (e) {
  check(false, `${e.stack || e}`);
} finally {
  await browser.close();
  server.close();
}
console.log(failed ? `${failed} check(s) failed` : 'all checks passed');
process.exit(failed ? 1 : 0);
