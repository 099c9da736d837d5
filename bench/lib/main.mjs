// The Node runner of the benchmark behind `npm run bench` (bench/index.mjs launches it with the
// flags). The benchmark itself (shapes, checks, timing rounds, tables) is bench/lib/suite.mjs,
// which the browser runner (bench/browser.mjs) runs in a page too; this adds Node's CPU clock, the
// peers only Node runs (onnxruntime-node), issue 4's targets and the results files.
//
// 1. Prints the machine line.
// 2. Verifies, before timing anything, every (shape, op, implementation) result against the
//    float64 reference (bench/baselines/reference64.mjs); any mismatch aborts the run.
// 3. Times each (shape, op, implementation) with tinybench: softmax-wasm on every build the
//    runtime runs (scalar, simd, relaxed-simd), through the API with into/gradInto and through a
//    Workspace, and the baselines (naive JS, tfjs-wasm, onnxruntime-web, onnxruntime-node, plus the
//    ORT scatter loss+grad graph). Each timed object is checked again before and after timing.
// 4. Prints elements/s tables, ns per call at [1,10], the ratios of ours to every baseline and the
//    issue's target ratios, and writes bench/results.json, bench/results.md and bench/chart.svg (on
//    Node 24; on another Node, bench/results-node<major>.{json,md} and bench/chart-node<major>.svg).

import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, cpuSpeeds } from './machine.mjs';
import { cpuClockOverhead } from './measure.mjs';
import { ours, runnableBackends, loadBaselines } from './impls.mjs';
import { isolated } from './isolated.mjs';
import { shapeLabel } from './format.mjs';
import { parseArgs, verifyAll, timeAll, medianOfRuns, describeRun, reportTables, entryOf } from './suite.mjs';
import { evaluateTargets } from './targets.mjs';
import { renderChart } from './chart.mjs';

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Node major whose run writes bench/results.{json,md} and bench/chart.svg, the README's
 *  primary figures (the Node people run; relaxed SIMD on by default). A run on another Node
 *  writes the same files with its major in the name (results-node20.md, ...). */
export const PRIMARY_NODE_MAJOR = 24;

/** The results files' suffix for the running Node: '' on PRIMARY_NODE_MAJOR, else '-node<major>'. */
export function resultsSuffix() {
  const major = Number(process.versions.node.split('.')[0]);
  return major === PRIMARY_NODE_MAJOR ? '' : `-node${major}`;
}

const gc = () => globalThis.gc?.();

/** The git commit the library was built from, and whether its sources had uncommitted changes. */
export function sourceInfo() {
  const root = path.resolve(BENCH_DIR, '..');
  const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    const dirty = git('status', '--porcelain', '--', 'src', 'assembly', 'scripts/build/build-wasm.mjs', 'scripts/build/build-js.mjs')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    const built = fs.statSync(path.join(root, 'dist', 'index.js')).mtime.toISOString();
    return { commit, dirty, distBuilt: built, line: `library: dist/index.js built ${built} from ${commit}${dirty.length ? ` + uncommitted changes in ${dirty.join(', ')}` : ''}` };
  } catch {
    return { commit: null, dirty: [], distBuilt: null, line: 'library: dist/index.js (git state unknown)' };
  }
}

/** results.json text: indented, but one line per entry and per target (small diffs between runs). */
export function formatResults(results) {
  const { entries, targets, ...rest } = results;
  const head = JSON.stringify(rest, null, 1).replace(/\n}$/, '');
  const list = (a) => `[\n  ${a.map((x) => JSON.stringify(x)).join(',\n  ')}\n ]`;
  return `${head},\n "entries": ${list(entries)},\n "targets": ${list(targets)}\n}\n`;
}

export async function main(argv) {
  const t0 = performance.now();
  const opts = parseArgs(argv);
  const machine = machineInfo();
  console.log(machine.line);
  machine.cpuSpeeds = cpuSpeeds(machine.cores);
  if (machine.cpuSpeeds) {
    const { line, fastest, spread } = machine.cpuSpeeds;
    machine.cpuSpeeds.line = line + (spread > 0.1 && !machine.pinnedCpus ? `: pin the run to it (taskset -c ${fastest} npm run bench) to time the code rather than the machine` : '');
    console.log(machine.cpuSpeeds.line);
  }
  const source = sourceInfo();
  console.log(source.line);

  const { ok: backends, skipped } = await runnableBackends(opts.builds ?? undefined);
  console.log(`softmax-wasm builds: ${backends.join(', ')}`);
  for (const s of skipped) console.log(`  skipped ${s.backend}: ${s.reason}`);
  // float64 through the API on the SIMD builds (the small-class issue's f64 rows)
  const oursImpls = backends.flatMap((b) => [ours(b, 'api'), ours(b, 'ws'), ...(b === 'scalar' ? [] : [ours(b, 'api', 'float64')])]);
  console.log(describeRun(opts));

  // ---- 1. verify everything before timing anything -------------------------------------------
  {
    const tv = performance.now();
    const baselines = await loadBaselines();
    for (const b of baselines) console.log(`baseline ${b.id}: ${b.label}`);
    const n = await verifyAll(opts, [...oursImpls, ...baselines], gc);
    for (const b of baselines) await b.dispose();
    gc();
    console.log(`verified ${n} results against the float64 reference in ${((performance.now() - tv) / 1000).toFixed(1)} s`);
  }

  // ---- 2. time -------------------------------------------------------------------------------
  // With --runs=N the whole timing pass runs N times and each (shape, op, implementation) keeps
  // the run with the median rate: what the issue's targets are stated for ("median of the runs"),
  // and robust to a neighbour that loads the machine's memory or cores for a minute of one run.
  const tt = performance.now();
  const cpuOverhead = await cpuClockOverhead();
  // The plain-JS baseline is timed in a worker thread of its own, an isolate where no wasm memory
  // has grown (bench/lib/isolated.mjs), as in a plain-JS user's process.
  const baselines = (await loadBaselines()).map((b) => (b.id === 'naive' ? isolated(b) : b));
  console.log('baseline naive: timed in a worker thread of its own (bench/lib/isolated.mjs)');
  const impls = [...oursImpls, ...baselines];
  const passes = [];
  for (let run = 0; run < opts.runs; run++) {
    if (opts.runs > 1) console.log(`\n== timing run ${run + 1} of ${opts.runs}`);
    passes.push(await timeAll(opts, impls, { cpuOverhead, gc }));
  }
  const entries = medianOfRuns(passes);
  for (const b of baselines) await b.dispose();
  const timingSecs = (performance.now() - tt) / 1000;

  // ---- 3. report -----------------------------------------------------------------------------
  const get = (op, shape, id) => entryOf(entries, op, shape, id);
  const rateOf = (op, shape, id) => get(op, shape, id)?.elementsPerSec;
  const md = [];
  const out = (s = '') => {
    console.log(s);
    md.push(s);
  };

  out(`\n## softmax-wasm benchmark (${opts.mode})\n`);
  out(machine.line);
  if (machine.cpuSpeeds) out(machine.cpuSpeeds.line);
  out(source.line);
  reportTables(opts, { impls, oursImpls, baselines, entries, out });

  const targets = evaluateTargets(rateOf, get);
  out(`\n### Targets (issue 4 and the small-class issue; simd build unless stated; ${opts.clock === 'cpu' ? 'CPU time' : 'wall clock'}; against the default ORT graph, scatter graph for information)\n`);
  out('```');
  for (const t of targets) out(t.line);
  const counted = targets.filter((t) => t.target && t.met !== null);
  out(`${counted.filter((t) => t.met).length} of ${counted.length} targets met` +
    (targets.some((t) => t.target && t.met === null) ? ' (some not measured in this run)' : ''));
  out('```');

  const totalSecs = (performance.now() - t0) / 1000;
  const flags = [opts.mode === 'quick' ? '--quick' : '', opts.runs > 1 ? `--runs=${opts.runs}` : ''].filter(Boolean).join(' ');
  out(`\ntotal ${totalSecs.toFixed(0)} s (timing ${timingSecs.toFixed(0)} s); ` +
    `written by \`npm run bench${flags ? ` -- ${flags}` : ''}\`` +
    (opts.runs > 1 ? `; each entry is the median of ${opts.runs} timing runs` : ''));

  if (opts.write) {
    const results = {
      machine,
      source,
      mode: opts.mode,
      runs: opts.runs,
      clock: opts.clock,
      budget: opts.budget,
      builds: backends,
      skippedBuilds: skipped,
      shapes: opts.shapes,
      ops: opts.ops,
      implementations: impls.map((i) => ({
        id: i.id,
        label: i.label,
        kind: i.kind,
        backend: i.backend ?? null,
        path: i.path ?? null,
        ops: i.ops,
        config: i.config ?? null,
      })),
      entries,
      targets: targets.map(({ line, ...t }) => ({ ...t, line })),
      seconds: { total: totalSecs, timing: timingSecs },
    };
    const sfx = resultsSuffix();
    fs.writeFileSync(path.join(BENCH_DIR, `results${sfx}.json`), formatResults(results));
    fs.writeFileSync(path.join(BENCH_DIR, `results${sfx}.md`), md.join('\n') + '\n');
    fs.writeFileSync(path.join(BENCH_DIR, `chart${sfx}.svg`), renderChart(results));
    console.log(`wrote bench/results${sfx}.json, bench/results${sfx}.md, bench/chart${sfx}.svg`);
  }
}

