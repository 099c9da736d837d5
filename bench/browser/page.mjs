// The page side of `npm run bench:browser` (bench/browser.mjs bundles this file with esbuild, as a
// user's bundler would bundle the package, and runs it in headless Chromium). The same benchmark
// as `npm run bench` (bench/lib/suite.mjs: shapes, verification, interleaved rounds, tables), on
// the page's wall clock, with the baselines a page can run: plain JS, tfjs-wasm and
// onnxruntime-web, their wasm served by the runner (/tfjs/, /ort/).

import * as ort from 'onnxruntime-web';
import naive from '../baselines/naive.mjs';
import { createTfjsBaseline } from '../baselines/tfjs-common.mjs';
import { createOrtWebBaseline } from '../baselines/ort-common.mjs';
import { ours, runnableBackends, loadBaselines, setLibraryLoader, libraryFor } from '../lib/impls.mjs';
import { parseArgs, verifyAll, timeAll, medianOfRuns, describeRun, reportTables, entryOf } from '../lib/suite.mjs';
import { shapeLabel, fmtRatio, fmtNs } from '../lib/format.mjs';
import { setCpuClock, cpuClockOverhead } from '../lib/measure.mjs';

const BASELINES = ['naive', 'tfjs-wasm', 'ort-web', 'ort-web+scatter'];
const CLOCK = {
  cpu: "the CPU time of the page's main thread (read by bench/browser.mjs from /proc; excludes waiting for a core)",
  wall: 'the wall clock (performance.now() in the cross-origin isolated page)',
};
const here = (p) => new URL(p, location.href).href;
const FACTORIES = {
  naive,
  'tfjs-wasm': () => createTfjsBaseline({ simdBinary: here('/tfjs/tfjs-backend-wasm-simd.wasm'), missing: here('/tfjs/not-the-simd-build.wasm') }),
  'ort-web': (o) => createOrtWebBaseline(ort, { ...o, wasmPaths: here('/ort/') }),
};
const load = async (file) => ({ default: FACTORIES[file] });

// Issue 18's Chromium targets: the API's crossEntropyWithGrad (gradInto) on the default build
// against plain JS in the same page.
const TARGETS = [
  [[1, 10], 1.2],
  [[64, 10], 4],
  [[1024, 10], 6],
  [[32, 32000], 8],
];

const gc = () => globalThis.gc?.();

/** Runs the benchmark with `npm run bench`'s options; returns the report's lines and the entries. */
export async function run(argv) {
  const opts = parseArgs(argv);
  // The CPU clock: the page's main thread's CPU time, read by the runner (bench/browser.mjs).
  setCpuClock(() => globalThis.__benchCpuMs(), true);
  // (Each read is a round trip to the runner costing ~0.4 ms of the page's CPU, measured and
  // subtracted: batches of >= 20 ms keep its noise small.)
  opts.budget.batchMs = Math.max(opts.budget.batchMs, 20);
  const md = [];
  const out = (s = '') => {
    console.log(s);
    md.push(s);
  };
  // The library as a user's bundler emits it (bench/browser.mjs bundles dist/index.js, minified, as
  // /lib.js), one copy per build (bench/lib/impls.mjs): the same file under another URL.
  setLibraryLoader((key) => import(`/lib.js?build=${key}`));
  const { ok: backends, skipped } = await runnableBackends(opts.builds ?? undefined);
  const defaultBuild = (await libraryFor('default')).backend();
  console.log(`softmax-wasm builds: ${backends.join(', ')} (default: ${defaultBuild})`);
  for (const s of skipped) console.log(`  skipped ${s.backend}: ${s.reason}`);
  const oursImpls = backends.flatMap((b) => [ours(b, 'api'), ours(b, 'ws')]);
  console.log(describeRun(opts, CLOCK[opts.clock]));

  const tv = performance.now();
  let baselines = await loadBaselines(BASELINES, load);
  for (const b of baselines) console.log(`baseline ${b.id}: ${b.label}`);
  const n = await verifyAll(opts, [...oursImpls, ...baselines], gc);
  for (const b of baselines) await b.dispose();
  console.log(`verified ${n} results against the float64 reference in ${((performance.now() - tv) / 1000).toFixed(1)} s`);

  const tt = performance.now();
  const cpuOverhead = await cpuClockOverhead();
  console.log(`CPU clock: one pair of reads costs ${(cpuOverhead * 1000).toFixed(1)} µs of the page's CPU time (subtracted)`);
  baselines = await loadBaselines(BASELINES, load);
  const impls = [...oursImpls, ...baselines];
  const passes = [];
  for (let r = 0; r < opts.runs; r++) {
    if (opts.runs > 1) console.log(`\n== timing run ${r + 1} of ${opts.runs}`);
    passes.push(await timeAll(opts, impls, { gc, cpuOverhead }));
  }
  const entries = medianOfRuns(passes);
  for (const b of baselines) await b.dispose();
  const timingSecs = (performance.now() - tt) / 1000;

  out(describeRun(opts, CLOCK[opts.clock]));
  out(`\nCPU time: the page's main thread's (the renderer's, from /proc/<pid>/schedstat, read by the runner around each batch ` +
    `of >= ${opts.budget.batchMs} ms). Each row names its build; the page's default build (init() with no backend) is ${defaultBuild}.`);
  reportTables(opts, { impls, oursImpls, baselines, entries, out, clockText: CLOCK[opts.clock] });

  const id = `${defaultBuild}:api`;
  const targets = [];
  out(`\n### Targets (issue 18; Chromium; crossEntropyWithGrad through the API with gradInto, ${defaultBuild} build, against plain JS in the same page)\n`);
  out('```');
  for (const [shape, min] of TARGETS) {
    const a = entryOf(entries, 'crossEntropyWithGrad', shape, id);
    const b = entryOf(entries, 'crossEntropyWithGrad', shape, 'naive');
    const ratio = a && b ? a.elementsPerSec / b.elementsPerSec : null;
    const what = `crossEntropyWithGrad API ${shapeLabel(shape)} ${defaultBuild} vs naive`;
    targets.push({ what, shape, value: ratio, threshold: min, met: ratio === null ? null : ratio >= min });
    out(ratio === null
      ? `${what}: not measured in this run (target >= ${min}x)`
      : `${what}: ${fmtRatio(ratio)} (${fmtNs(a.medianNs)} vs ${fmtNs(b.medianNs)} per call; target >= ${min}x) ${ratio >= min ? '✓' : '✗'}`);
  }
  const counted = targets.filter((t) => t.met !== null);
  out(`${counted.filter((t) => t.met).length} of ${counted.length} targets met${counted.length < targets.length ? ' (some not measured in this run)' : ''}`);
  out('```');
  return { md, entries, targets, opts, builds: backends, defaultBuild, timingSecs, userAgent: navigator.userAgent, crossOriginIsolated };
}
