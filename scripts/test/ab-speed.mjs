// Side-by-side speed of two builds of the package in one process: A (a baseline's dist, e.g. a
// clone of main built in a temp folder), A2 (a second copy of A's dist folder: the A/A control,
// which shows the noise) and B (this checkout's dist/). Every call of all three uses the SAME
// input and output arrays (separate arrays cost 3-5% false differences through 4K aliasing), in
// interleaved rounds (order alternating); each figure is the median over the rounds.
//
//   node --experimental-wasm-relaxed-simd scripts/test/ab-speed.mjs --a=/tmp/base/dist/index.js \
//     --a2=/tmp/base-copy/dist/index.js [--rounds=15] [--ms=3] [--shapes=1x10,64x10]
//     [--ops=softmax,logSoftmax,crossEntropyWithGrad] [--backends=simd,relaxed-simd] [--json=out.json]
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
if (!args.a || !args.a2) throw new Error('ab-speed: --a=<baseline dist/index.js> and --a2=<a copy of it> are required');
const [A, A2, B] = await Promise.all([import(args.a), import(args.a2), import(new URL('../../dist/index.js', import.meta.url).href)]);
const libs = { A, A2, B };
const ROUNDS = Number(args.rounds ?? 15);
const SLICE_MS = Number(args.ms ?? 8);
const shapes = (args.shapes ?? '1x10,64x10,1024x10,128x100,32x32000,4096x1000').split(',').map((s) => s.split('x').map(Number));
const ops = (args.ops ?? 'softmax,logSoftmax,crossEntropyWithGrad').split(',');
const backends = (args.backends ?? 'simd,relaxed-simd').split(',');
function rng(seed) { let a = seed >>> 0; return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const out = [];
for (const backend of backends) {
  for (const L of Object.values(libs)) await L.init({ backend });
  for (const [rows, C] of shapes) {
    const r = rng(rows * 31 + C);
    const x = new Float32Array(rows * C);
    for (let i = 0; i < x.length; i++) x[i] = 2 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const labels = Int32Array.from({ length: rows }, () => Math.floor(r() * C));
    const y = new Float32Array(rows * C);
    for (const op of ops) {
      const call = {};
      for (const [k, L] of Object.entries(libs)) {
        if (op === 'softmax') { const o = { classes: C, into: y }; call[k] = () => L.softmax(x, o); }
        else if (op === 'logSoftmax') { const o = { classes: C, into: y }; call[k] = () => L.logSoftmax(x, o); }
        else { const o = { classes: C, gradInto: y }; call[k] = () => L.crossEntropyWithGrad(x, labels, o); }
      }
      // calls per slice, from A
      let n = 1;
      for (;;) { const t0 = performance.now(); for (let i = 0; i < n; i++) call.A(); if (performance.now() - t0 > SLICE_MS / 4) break; n *= 2; }
      n *= 4;
      const ns = { A: [], A2: [], B: [] };
      for (const k of Object.keys(call)) for (let i = 0; i < n; i++) call[k](); // warm up
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 ? ['B', 'A2', 'A'] : ['A', 'A2', 'B'];
        for (const k of order) {
          const f = call[k];
          const t0 = performance.now();
          for (let i = 0; i < n; i++) f();
          ns[k].push(((performance.now() - t0) * 1e6) / n);
        }
      }
      const mA = median(ns.A), mA2 = median(ns.A2), mB = median(ns.B);
      const line = { backend, shape: `${rows}x${C}`, op, nsA: mA, aa: mA2 / mA, ba: mB / mA };
      out.push(line);
      console.log(`${backend.padEnd(12)} ${op.padEnd(22)} ${`${rows}x${C}`.padEnd(10)} A ${mA.toFixed(0).padStart(9)} ns  A2/A ${line.aa.toFixed(3)}  B/A ${line.ba.toFixed(3)}`);
    }
  }
}
if (args.json) (await import('node:fs')).writeFileSync(args.json, JSON.stringify(out, null, 1));
