// The benchmark harness behind `npm run bench` (bench/index.mjs launches it with the flags).
//
// 1. Prints the machine line.
// 2. Verifies, before timing anything, every (shape, op, implementation) result against the
//    float64 reference (bench/baselines/reference64.mjs); any mismatch aborts the run.
// 3. Times each (shape, op, implementation) with tinybench: softmax-wasm on every build the
//    runtime runs (scalar, simd, relaxed-simd), through the API with into/gradInto and through a
//    Workspace, and the baselines (naive JS, tfjs-wasm, onnxruntime-web, onnxruntime-node, plus the
//    ORT scatter loss+grad graph). Each timed object is checked again before and after timing.
// 4. Prints elements/s tables, ns per call at [1,10], the ratios of ours to every baseline and the
//    issue's target ratios, and writes bench/results.json, bench/results.md and bench/chart.svg.

import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeInputs } from '../baselines/reference64.mjs';
import { machineInfo } from './machine.mjs';
import { reference, checkResult } from './verify.mjs';
import { calibrateBatch, measureRound, summarize, cpuClockOverhead } from './measure.mjs';
import { OPS, ours, runnableBackends, loadBaselines } from './impls.mjs';
import { shapeKey, shapeLabel, fmtRate, fmtRatio, fmtNs, table } from './format.mjs';
import { evaluateTargets } from './targets.mjs';
import { renderChart } from './chart.mjs';

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const ALL_SHAPES = [
  [1, 10],
  [64, 10],
  [128, 1000],
  [32, 32000],
  [4096, 1000],
  [8, 128256],
];
// --quick keeps the shapes the issue's targets are stated at.
const QUICK_SHAPES = [
  [1, 10],
  [32, 32000],
  [4096, 1000],
  [8, 128256],
];

// Time budget per task (ms). `iterations` is tinybench's minimum sample count, which bounds the
// slow peers at big shapes (a tfjs [4096,1000] loss+grad call takes ~0.1 s).
// `time` is the total over `rounds`; `iterations` / `warmup*` apply to each round.
const BUDGETS = {
  full: { rounds: 3, time: 600, iterations: 2, warmupTime: 30, warmupIterations: 1, batchMs: 2, calibMs: 20 },
  quick: { rounds: 2, time: 100, iterations: 1, warmupTime: 10, warmupIterations: 1, batchMs: 2, calibMs: 8 },
};

function parseArgs(argv) {
  const args = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`bench: unknown argument ${a} (see bench/index.mjs for the options)`);
    args[m[1]] = m[2] ?? true;
  }
  const known = new Set(['quick', 'shapes', 'ops', 'time', 'clock', 'runs', 'no-write', 'no-threads']); // (no-threads: bench/index.mjs)
  for (const k of Object.keys(args)) if (!known.has(k)) throw new Error(`bench: unknown option --${k}`);
  const mode = args.quick ? 'quick' : 'full';
  const budget = { ...BUDGETS[mode] };
  if (args.time) budget.time = Number(args.time);
  const shapes =
    typeof args.shapes === 'string'
      ? args.shapes.split(',').map((s) => s.split('x').map(Number))
      : mode === 'quick'
        ? QUICK_SHAPES
        : ALL_SHAPES;
  const ops = typeof args.ops === 'string' ? args.ops.split(',') : OPS;
  for (const op of ops) if (!OPS.includes(op)) throw new Error(`bench: unknown op ${op} (ops: ${OPS.join(', ')})`);
  const clock = typeof args.clock === 'string' ? args.clock : 'cpu';
  if (clock !== 'cpu' && clock !== 'wall') throw new Error(`bench: --clock must be cpu or wall, got ${args.clock}`);
  const runs = args.runs === undefined ? 1 : Number(args.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 9) throw new Error(`bench: --runs must be an integer from 1 to 9, got ${args.runs}`);
  return { mode, budget, shapes, ops, clock, runs, write: !args['no-write'] };
}

const gc = () => globalThis.gc?.();

const CLOCK_TEXT = {
  cpu: 'process CPU time (excludes waiting for a core; see bench/lib/measure.mjs)',
  wall: 'wall clock',
};

/** The git commit the library was built from, and whether its sources had uncommitted changes. */
function sourceInfo() {
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
  const source = sourceInfo();
  console.log(source.line);

  const { ok: backends, skipped } = await runnableBackends();
  console.log(`softmax-wasm builds: ${backends.join(', ')}`);
  for (const s of skipped) console.log(`  skipped ${s.backend}: ${s.reason}`);
  const oursImpls = backends.flatMap((b) => [ours(b, 'api'), ours(b, 'ws')]);
  console.log(
    `mode: ${opts.mode} (${opts.runs > 1 ? `${opts.runs} timing runs, each entry the run with the median rate; ` : ''}` +
      `per task: ${opts.budget.rounds} interleaved rounds, ${opts.budget.time} ms in all, ` +
      `>= ${opts.budget.iterations} samples per round); clock: ${CLOCK_TEXT[opts.clock]}; ` +
      `shapes: ${opts.shapes.map(shapeLabel).join(' ')}`,
  );

  // ---- 1. verify everything before timing anything -------------------------------------------
  {
    const tv = performance.now();
    const baselines = await loadBaselines();
    for (const b of baselines) console.log(`baseline ${b.id}: ${b.label}`);
    let n = 0;
    for (const shape of opts.shapes) {
      const [rows, classes] = shape;
      const { logits, labels } = makeInputs(rows, classes);
      const ref = reference(logits, labels, rows, classes);
      for (const op of opts.ops) {
        for (const impl of [...oursImpls, ...baselines]) {
          if (!impl.ops.includes(op)) continue;
          const label = `${impl.label} ${op} ${shapeLabel(shape)}`;
          try {
            const p = await impl.prepare(op, logits, labels, rows, classes);
            await p.run();
            checkResult(op, p.result(), ref, rows, label);
            await p.run(); // a second call must give the same (right) answer
            checkResult(op, p.result(), ref, rows, `${label} (second call)`);
            p.dispose?.();
            n++;
          } catch (err) {
            console.error(`\nbench: ABORTED, a result is off before timing:\n  ${err?.stack ?? err}`);
            process.exit(1);
          }
        }
      }
      gc();
    }
    for (const b of baselines) await b.dispose();
    gc();
    console.log(`verified ${n} results against the float64 reference in ${((performance.now() - tv) / 1000).toFixed(1)} s`);
  }

  // ---- 2. time -------------------------------------------------------------------------------
  // With --runs=N the whole timing pass runs N times and each (shape, op, implementation) keeps
  // the run with the median rate: what the issue's targets are stated for ("median of the runs"),
  // and robust to a neighbour that loads the machine's memory or cores for a minute of one run.
  const tt = performance.now();
  const cpuOverhead = cpuClockOverhead();
  const baselines = await loadBaselines();
  const impls = [...oursImpls, ...baselines];
  const passes = [];
  for (let run = 0; run < opts.runs; run++) {
    if (opts.runs > 1) console.log(`\n== timing run ${run + 1} of ${opts.runs}`);
    passes.push(await timeAll(opts, impls, cpuOverhead));
  }
  const entries = medianOfRuns(passes);
  for (const b of baselines) await b.dispose();
  const timingSecs = (performance.now() - tt) / 1000;

  // ---- 3. report -----------------------------------------------------------------------------
  const get = (op, shape, id) =>
    entries.find((e) => e.op === op && e.rows === shape[0] && e.classes === shape[1] && e.impl === id);
  const rateOf = (op, shape, id) => get(op, shape, id)?.elementsPerSec;
  const md = [];
  const out = (s = '') => {
    console.log(s);
    md.push(s);
  };

  out(`\n## softmax-wasm benchmark (${opts.mode})\n`);
  out(machine.line);
  out(source.line);
  out(`\nelements/s = rows*classes / median time per call (M = 1e6, G = 1e9), time = ${CLOCK_TEXT[opts.clock]}; f32, 1 thread. ` +
    `API = the normal functions with into/gradInto (copies in and out included); ` +
    `WS = a Workspace (zero-copy, inputs written once).`);

  for (const op of opts.ops) {
    out(`\n### ${op}: elements/s\n`);
    const rowsT = impls
      .filter((i) => i.ops.includes(op))
      .map((i) => [i.label, ...opts.shapes.map((s) => fmtRate(rateOf(op, s, i.id)))]);
    out(table(['implementation', ...opts.shapes.map(shapeLabel)], rowsT));
  }

  const tiny = opts.shapes.find(([r, c]) => r === 1 && c === 10);
  if (tiny) {
    out(`\n### ns per call at [1,10] (median, ${opts.clock === 'cpu' ? 'CPU time' : 'wall clock'})\n`);
    const rowsT = impls.map((i) => [
      i.label,
      ...opts.ops.map((op) => (i.ops.includes(op) ? fmtNs(get(op, tiny, i.id)?.medianNs) : '')),
    ]);
    out(table(['implementation', ...opts.ops], rowsT));
    if (opts.clock === 'cpu') {
      out(`\nthe same by wall clock:\n`);
      const rowsW = impls.map((i) => [
        i.label,
        ...opts.ops.map((op) => (i.ops.includes(op) ? fmtNs(get(op, tiny, i.id)?.wall.medianNs) : '')),
      ]);
      out(table(['implementation', ...opts.ops], rowsW));
    }
  }
  if (opts.clock === 'cpu' && opts.ops.includes('crossEntropyWithGrad')) {
    out(`\n### crossEntropyWithGrad: elements/s by wall clock (for comparison; inflated by waiting for a core on a loaded machine)\n`);
    const rowsW = impls
      .filter((i) => i.ops.includes('crossEntropyWithGrad'))
      .map((i) => [i.label, ...opts.shapes.map((s) => fmtRate(get('crossEntropyWithGrad', s, i.id)?.wall.elementsPerSec))]);
    out(table(['implementation', ...opts.shapes.map(shapeLabel)], rowsW));
  }

  // Ratios of ours (simd and relaxed-simd, API and Workspace) to each baseline.
  const ratioOurs = oursImpls.filter((i) => i.backend !== 'scalar');
  for (const op of opts.ops) {
    const bls = baselines.filter((b) => b.ops.includes(op));
    out(`\n### ${op}: speed-up of softmax-wasm over each baseline (elements/s ratio)\n`);
    const rowsT = [];
    for (const s of opts.shapes) {
      for (const o of ratioOurs) {
        const mine = rateOf(op, s, o.id);
        rowsT.push([`${shapeLabel(s)} ${o.short}`, ...bls.map((b) => fmtRatio(mine / rateOf(op, s, b.id)))]);
      }
    }
    out(table(['shape, ours', ...bls.map((b) => `vs ${b.short}`)], rowsT));
  }
  out(`\n(ort-web[s] / ort-node[s]: the ORT loss+grad graph with ScatterElements instead of OneHot-Sub.)`);

  const targets = evaluateTargets(rateOf, get);
  out(`\n### Targets (issue 4; simd build unless stated; ${opts.clock === 'cpu' ? 'CPU time' : 'wall clock'}; against the default ORT graph, scatter graph for information)\n`);
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
    fs.writeFileSync(path.join(BENCH_DIR, 'results.json'), formatResults(results));
    fs.writeFileSync(path.join(BENCH_DIR, 'results.md'), md.join('\n') + '\n');
    fs.writeFileSync(path.join(BENCH_DIR, 'chart.svg'), renderChart(results));
    console.log(`wrote bench/results.json, bench/results.md, bench/chart.svg`);
  }
}

/**
 * One timing pass over every (shape, op, implementation): for each (shape, op) all
 * implementations are timed in `rounds` interleaved rounds (order reversed every other round), so
 * ratios are measured side by side. softmax-wasm is re-prepared in every round (init() switching
 * builds disposes workspaces; preparing is cheap and untimed); a baseline is prepared once per
 * (shape, op). Returns one entry per (shape, op, implementation), in a fixed order.
 */
async function timeAll(opts, impls, cpuOverhead) {
  const { rounds } = opts.budget;
  const round = {
    time: opts.budget.time / rounds,
    iterations: opts.budget.iterations,
    warmupTime: opts.budget.warmupTime,
    warmupIterations: opts.budget.warmupIterations,
  };
  /** @type {any[]} */
  const entries = [];
  const widest = Math.max(...impls.map((i) => i.label.length));
  for (const shape of opts.shapes) {
    const [rows, classes] = shape;
    const n = rows * classes;
    const { logits, labels } = makeInputs(rows, classes);
    const ref = reference(logits, labels, rows, classes);
    console.log(`\n${shapeLabel(shape)}  (${n} elements)`);
    for (const op of opts.ops) {
      const group = impls
        .filter((impl) => impl.ops.includes(op))
        .map((impl) => ({ impl, label: `${impl.label} ${op} ${shapeLabel(shape)}`, kept: null, batch: 0, wall: [], cpu: [] }));
      try {
        for (let r = 0; r < rounds; r++) {
          for (const t of r % 2 ? [...group].reverse() : group) {
            const { impl, label } = t;
            const p = t.kept ?? (await impl.prepare(op, logits, labels, rows, classes));
            if (impl.kind === 'baseline') t.kept = p;
            if (r === 0 || impl.kind === 'ours') {
              await p.run();
              checkResult(op, p.result(), ref, rows, label);
            }
            if (t.batch === 0) t.batch = await calibrateBatch(p.run, impl.isAsync, opts.budget);
            gc();
            const { wall, cpu } = await measureRound(
              { run: p.run, isAsync: impl.isAsync, name: label, batch: t.batch, cpuOverhead },
              round,
            );
            t.wall.push(...wall);
            t.cpu.push(...cpu);
            if (impl.kind === 'ours') {
              checkResult(op, p.result(), ref, rows, `${label} (after timing)`);
              p.dispose?.();
            }
          }
        }
        for (const t of group) {
          if (t.kept) checkResult(op, t.kept.result(), ref, rows, `${t.label} (after timing)`);
        }
      } catch (err) {
        console.error(`\nbench: ABORTED while timing:\n  ${err?.stack ?? err}`);
        process.exit(1);
      }
      for (const { impl, batch, wall, cpu } of group) {
        const mw = summarize(wall);
        const mc = summarize(cpu);
        const m = opts.clock === 'cpu' ? mc : mw;
        const rate = n / (m.medianMs / 1000);
        entries.push({
          op,
          shape,
          rows,
          classes,
          impl: impl.id,
          kind: impl.kind,
          backend: impl.backend ?? null,
          path: impl.path ?? null,
          clock: opts.clock,
          elementsPerSec: rate,
          medianNs: m.medianMs * 1e6,
          meanNs: m.meanMs * 1e6,
          minNs: m.minMs * 1e6,
          rmePercent: m.rme,
          cpu: { elementsPerSec: n / (mc.medianMs / 1000), medianNs: mc.medianMs * 1e6, minNs: mc.minMs * 1e6 },
          wall: { elementsPerSec: n / (mw.medianMs / 1000), medianNs: mw.medianMs * 1e6, minNs: mw.minMs * 1e6 },
          samples: m.samples,
          callsPerSample: batch,
        });
        console.log(
          `  ${op.padEnd(20)} ${impl.label.padEnd(widest)} ${fmtRate(rate).padStart(7)} el/s ` +
            `${fmtNs(m.medianMs * 1e6).padStart(9)}/call  (wall ${fmtNs(mw.medianMs * 1e6)}; ${m.samples} samples x ${batch} calls, ±${m.rme.toFixed(1)}%)`,
        );
      }
      gc();
    }
  }
  return entries;
}

/** Per (shape, op, implementation), the entry of the run with the median rate (the lower middle
 *  one for an even count), with every run's rate beside it. */
function medianOfRuns(passes) {
  if (passes.length === 1) return passes[0];
  return passes[0].map((_, k) => {
    const byRate = passes.map((p) => p[k]).sort((x, y) => x.elementsPerSec - y.elementsPerSec);
    const mid = byRate[(byRate.length - 1) >> 1];
    return { ...mid, runs: passes.map((p) => p[k].elementsPerSec) };
  });
}
