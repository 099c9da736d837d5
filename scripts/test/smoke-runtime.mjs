// A smoke test of the built package (dist/) under any JavaScript runtime: Node, Deno, Bun.
//
//   node scripts/test/smoke-runtime.mjs
//   deno run --allow-run scripts/test/smoke-runtime.mjs
//   bun scripts/test/smoke-runtime.mjs
//
// It initializes the module, prints the build chosen, checks softmax, logSoftmax and
// crossEntropyWithGrad (float32 and float64) against a float64 reference computed here, starts a
// pool, checks that its results equal the synchronous ones bit for bit, disposes it, then waits a
// moment for errors that surface late. Any mismatch, any uncaught error or unhandled rejection,
// and a process that does not exit by itself after the pool is disposed make the exit code
// non-zero. Plain JS: only the globals every runtime has, and the runtime's own hooks where they
// exist (feature-detected).
//
// The checks run in a child process of the same runtime (`--child` runs them in this one), and
// anything the child writes to stderr fails the test: a worker that throws after the pool has
// terminated it is reported by Deno on stderr only, to no listener and with exit code 0. Deno
// needs --allow-run for that child (the child itself needs no permission: dist/ is imported
// statically).

import { init, backend, softmax, logSoftmax, crossEntropyWithGrad, createPool } from '../../dist/index.js';

const g = globalThis;
const proc = typeof g.process?.on === 'function' ? g.process : null;
const deno = g.Deno;
const runtime = deno?.version?.deno ? `Deno ${deno.version.deno}` :
  g.Bun?.version ? `Bun ${g.Bun.version}` :
  g.process?.versions?.node ? `Node ${g.process.versions.node}` : 'unknown runtime';

const failures = [];
const fail = (what) => {
  failures.push(what);
  console.error(`FAIL ${what}`);
};

// -- late and uncaught errors -----------------------------------------------------------------
const uncaught = [];
const describe = (e) => (e && typeof e === 'object' && 'stack' in e && e.stack ? String(e.stack) : String(e?.message ?? e));
const onUncaught = (kind) => (e) => {
  uncaught.push(`${kind}: ${describe(e)}`);
  console.error(`FAIL ${kind}: ${describe(e)}`);
};
if (proc) {
  proc.on('uncaughtException', onUncaught('uncaughtException'));
  proc.on('unhandledRejection', onUncaught('unhandledRejection'));
}
if (typeof g.addEventListener === 'function') {
  g.addEventListener('error', (ev) => {
    ev.preventDefault?.();
    onUncaught('error event')(ev.error ?? ev.message);
  });
  g.addEventListener('unhandledrejection', (ev) => {
    ev.preventDefault?.();
    onUncaught('unhandledrejection event')(ev.reason);
  });
}

// A worker's uncaught error is an 'error' event on its Worker object in this thread, which the
// pool stops listening to once the worker is up: Node then throws it here (uncaughtException
// above), but Deno only prints it and goes on. So listen on every worker the pool starts,
// through the Worker classes it can reach: node:worker_threads (Node, Deno, Bun) and the Web
// Worker global. (An error after the worker was terminated reaches no listener in Deno: only its
// stderr, which the parent process checks.)
function watchWorkers(holder, name) {
  const Orig = holder?.[name];
  if (typeof Orig !== 'function') return;
  const report = onUncaught(`worker error (${name === 'Worker' && holder === g ? 'Web Worker' : 'worker_threads'})`);
  holder[name] = class extends Orig {
    constructor(...args) {
      super(...args);
      if (typeof this.on === 'function') this.on('error', report);
      else if (typeof this.addEventListener === 'function') this.addEventListener('error', (ev) => report(ev.error ?? ev.message));
    }
  };
}
if (typeof g.process?.getBuiltinModule === 'function') watchWorkers(g.process.getBuiltinModule('node:worker_threads'), 'Worker');
watchWorkers(g, 'Worker');

function exit(code) {
  if (typeof g.process?.exit === 'function') g.process.exit(code);
  if (typeof deno?.exit === 'function') deno.exit(code);
  throw new Error(`exit ${code}`);
}

/** A timer that does not keep the process alive, where the runtime can say so. */
function unrefTimeout(f, ms) {
  const t = setTimeout(f, ms);
  if (typeof t?.unref === 'function') t.unref();
  else if (typeof deno?.unrefTimer === 'function') deno.unrefTimer(t);
  else return null;
  return t;
}

// -- the float64 reference --------------------------------------------------------------------
function refRows(x, C, f) {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / C; r++) {
    const row = Array.from(x.subarray(r * C, (r + 1) * C));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    row.forEach((v, j) => (out[r * C + j] = f(v, lse)));
  }
  return out;
}
const refSoftmax = (x, C) => refRows(x, C, (v, lse) => Math.exp(v - lse));
const refLogSoftmax = (x, C) => refRows(x, C, (v, lse) => v - lse);
function refCrossEntropy(x, labels, C) {
  const N = labels.length;
  const p = refSoftmax(x, C);
  const lp = refLogSoftmax(x, C);
  let loss = 0;
  const grad = new Float64Array(x.length);
  for (let r = 0; r < N; r++) {
    loss -= lp[r * C + labels[r]];
    for (let j = 0; j < C; j++) grad[r * C + j] = (p[r * C + j] - (j === labels[r] ? 1 : 0)) / N;
  }
  return { loss: loss / N, grad };
}

function close(what, got, want, tol) {
  const g1 = typeof got === 'number' ? [got] : got;
  const w1 = typeof want === 'number' ? [want] : want;
  if (g1.length !== w1.length) return fail(`${what}: length ${g1.length}, expected ${w1.length}`);
  let worst = 0;
  for (let i = 0; i < w1.length; i++) {
    const err = Math.abs(g1[i] - w1[i]) / (tol * (1 + Math.abs(w1[i])));
    if (!(err <= 1)) return fail(`${what}[${i}] = ${g1[i]}, expected ${w1[i]} (tolerance ${tol})`);
    worst = Math.max(worst, err);
  }
  return worst;
}

function sameBits(what, a, b) {
  const bytes = (v) => new Uint8Array(typeof v === 'number' ? new Float64Array([v]).buffer : v.buffer, v.byteOffset ?? 0, v.byteLength ?? 8);
  if (typeof a !== typeof b || a.constructor !== b.constructor) return fail(`${what}: different types`);
  const x = bytes(a);
  const y = bytes(b);
  if (x.length !== y.length || x.some((v, i) => v !== y[i])) fail(`${what}: pool result differs from the synchronous one`);
}

// A deterministic input (no Math.random): N rows of C classes, spread over about [-8, 8].
function input(Ctor, N, C) {
  let s = 12345;
  return Ctor.from({ length: N * C }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 16;
  });
}
const labelsFor = (N, C) => Int32Array.from({ length: N }, (_, i) => (i * 7) % C);

// -- the checks ---------------------------------------------------------------------------------
async function main() {
  console.log(`runtime: ${runtime}`);
  await init();
  console.log(`backend: ${backend()}`);

  const N = 5;
  const C = 7;
  for (const [Ctor, tol] of [[Float32Array, 2e-6], [Float64Array, 1e-13]]) {
    const name = Ctor === Float32Array ? 'f32' : 'f64';
    const x = input(Ctor, N, C);
    const labels = labelsFor(N, C);
    const xd = Float64Array.from(x); // the reference sees the same (rounded) inputs
    const ce = crossEntropyWithGrad(x, labels, { classes: C });
    const want = refCrossEntropy(xd, labels, C);
    const worst = Math.max(
      close(`softmax ${name}`, softmax(x, { classes: C }), refSoftmax(xd, C), tol) ?? Infinity,
      close(`logSoftmax ${name}`, logSoftmax(x, { classes: C }), refLogSoftmax(xd, C), tol) ?? Infinity,
      close(`crossEntropyWithGrad ${name} loss`, ce.loss, want.loss, tol) ?? Infinity,
      close(`crossEntropyWithGrad ${name} grad`, ce.grad, want.grad, tol) ?? Infinity,
    );
    if (Number.isFinite(worst)) console.log(`${name} [${N}, ${C}]: softmax, logSoftmax, crossEntropyWithGrad match the float64 reference (worst ${worst.toFixed(3)} of tolerance ${tol})`);
  }

  // Pool: a batch large enough to be split across the workers ([256, 1000]: above the cutoff).
  const pool = await createPool({ threads: 2 });
  console.log(`pool: ${pool.threads} workers`);
  const PN = 256;
  const PC = 1000;
  for (const Ctor of [Float32Array, Float64Array]) {
    const name = Ctor === Float32Array ? 'f32' : 'f64';
    const x = input(Ctor, PN, PC);
    const labels = labelsFor(PN, PC);
    const a = await pool.crossEntropyWithGrad(x, labels, { classes: PC });
    const b = crossEntropyWithGrad(x, labels, { classes: PC });
    sameBits(`pool.crossEntropyWithGrad ${name} loss`, a.loss, b.loss);
    sameBits(`pool.crossEntropyWithGrad ${name} grad`, a.grad, b.grad);
    sameBits(`pool.softmax ${name}`, await pool.softmax(x, { classes: PC }), softmax(x, { classes: PC }));
    sameBits(`pool.logSoftmax ${name}`, await pool.logSoftmax(x, { classes: PC }), logSoftmax(x, { classes: PC }));
  }
  console.log(`pool [${PN}, ${PC}] f32, f64: crossEntropyWithGrad, softmax, logSoftmax equal the synchronous calls bit for bit`);
  await pool.dispose();
  console.log('pool disposed');
}

const isChild = (g.process?.argv ?? []).includes('--child');
if (!isChild) {
  // The parent: runs the checks in a child and judges its exit code and stderr.
  const script = import.meta.filename ?? decodeURIComponent(new URL(import.meta.url).pathname);
  let r;
  try {
    r = await spawn(script);
  } catch (e) {
    console.error(`smoke test could not start its child process (${e?.message ?? e})` +
      (deno ? '; run it with deno run --allow-run' : ''));
    exit(1);
  }
  const err = r.stderr.trim();
  if (r.stdout) g.process?.stdout?.write ? g.process.stdout.write(r.stdout) : console.log(r.stdout.trimEnd());
  if (err) console.error(`child stderr:\n${err}`);
  if (r.code !== 0 || err) {
    console.error(`smoke test FAILED under ${runtime}: the child exited with code ${r.code}${err ? ' and wrote to stderr' : ''}`);
    exit(1);
  }
  console.log(`smoke test passed under ${runtime} (child exit code 0, nothing on stderr)`);
  exit(0);
}

/** Runs this script with `--child` in the same runtime: Deno.Command in Deno (its
 *  node:child_process wants env access too), node:child_process elsewhere. */
async function spawn(script) {
  if (typeof deno?.Command === 'function') {
    const out = await new deno.Command(deno.execPath(), { args: ['run', script, '--child'], stdout: 'piped', stderr: 'piped' }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  }
  const cp = g.process.getBuiltinModule('node:child_process');
  const out = cp.spawnSync(g.process.execPath, [...g.process.execArgv, script, '--child'], { encoding: 'utf8', timeout: 120_000 });
  if (out.error) throw out.error;
  return { code: out.status ?? 1, stdout: out.stdout, stderr: out.stderr };
}

let mainError = null;
try {
  await main();
} catch (e) {
  mainError = e;
  fail(`threw: ${describe(e)}`);
}

// Errors from the workers' ends may arrive after dispose() resolved: give them time to show.
await new Promise((resolve) => setTimeout(resolve, 500));
const problems = failures.length + uncaught.length;
if (problems > 0 || mainError) {
  console.error(`smoke test FAILED under ${runtime}: ${failures.length} failed checks, ${uncaught.length} uncaught errors`);
  exit(1);
}
console.log(`smoke test passed under ${runtime}`);
// The process must now end by itself (no worker or handle keeps it alive).
unrefTimeout(() => {
  console.error(`FAIL the process did not exit within 10 s of the end of the smoke test (${runtime})`);
  exit(1);
}, 10_000);
