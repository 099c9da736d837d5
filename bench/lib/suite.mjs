// The benchmark itself, runtime-agnostic: shared by `npm run bench` (Node: bench/lib/main.mjs) and
// `npm run bench:browser` (a page in headless Chromium: bench/browser/page.mjs). One definition of
// the shapes, the budgets, the verification, the interleaved timing rounds and the tables; the
// runners add what their runtime has (Node: the CPU clock, gc, the files; the page: the baselines'
// wasm served over http).

import { makeInputs } from '../baselines/reference64.mjs';
import { reference, checkResult } from './verify.mjs';
import { calibrateBatch, measureRound, summarize } from './measure.mjs';
import { shapeLabel, fmtRate, fmtRatio, fmtNs, table } from './format.mjs';
import { OPS } from './impls.mjs';

export const ALL_SHAPES = [
  [1, 10],
  [64, 10],
  [256, 10],
  [1024, 10],
  [128, 100],
  [128, 1000],
  [32, 32000],
  [4096, 1000],
  [8, 128256],
];
// --quick keeps the shapes the issue's targets are stated at.
export const QUICK_SHAPES = [
  [1, 10],
  [32, 32000],
  [4096, 1000],
  [8, 128256],
];

// Time budget per task (ms). `iterations` is tinybench's minimum sample count, which bounds the
// slow peers at big shapes (a tfjs [4096,1000] loss+grad call takes ~0.1 s).
// `time` is the total over `rounds`; `iterations` / `warmup*` apply to each round.
export const BUDGETS = {
  full: { rounds: 3, time: 600, iterations: 2, warmupTime: 30, warmupIterations: 1, batchMs: 2, calibMs: 20 },
  quick: { rounds: 2, time: 100, iterations: 1, warmupTime: 10, warmupIterations: 1, batchMs: 2, calibMs: 8 },
};

export function parseArgs(argv, { shapes: fullShapes = ALL_SHAPES, clocks = ['cpu', 'wall'] } = {}) {
  const args = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`bench: unknown argument ${a} (see bench/index.mjs for the options)`);
    args[m[1]] = m[2] ?? true;
  }
  const known = new Set(['quick', 'shapes', 'ops', 'time', 'clock', 'runs', 'builds', 'no-write', 'no-threads', 'no-decoding']); // (no-threads, no-decoding: bench/index.mjs)
  for (const k of Object.keys(args)) if (!known.has(k)) throw new Error(`bench: unknown option --${k}`);
  const mode = args.quick ? 'quick' : 'full';
  const budget = { ...BUDGETS[mode] };
  if (args.time) budget.time = Number(args.time);
  const shapes =
    typeof args.shapes === 'string'
      ? args.shapes.split(',').map((s) => s.split('x').map(Number))
      : mode === 'quick'
        ? QUICK_SHAPES
        : fullShapes;
  const ops = typeof args.ops === 'string' ? args.ops.split(',') : OPS;
  for (const op of ops) if (!OPS.includes(op)) throw new Error(`bench: unknown op ${op} (ops: ${OPS.join(', ')})`);
  const clock = typeof args.clock === 'string' ? args.clock : clocks[0];
  if (!clocks.includes(clock)) throw new Error(`bench: --clock must be ${clocks.join(' or ')}, got ${args.clock}`);
  const runs = args.runs === undefined ? 1 : Number(args.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 9) throw new Error(`bench: --runs must be an integer from 1 to 9, got ${args.runs}`);
  const builds = typeof args.builds === 'string' ? args.builds.split(',') : null;
  return { mode, budget, shapes, ops, clock, runs, builds, write: !args['no-write'] };
}


/**
 * Verifies every (shape, op, implementation) result against the float64 reference before anything
 * is timed (twice: a second call must give the same right answer). Throws at the first mismatch.
 * Returns the number of results checked.
 */
export async function verifyAll(opts, impls, gc = () => {}) {
  let n = 0;
  for (const shape of opts.shapes) {
    const [rows, classes] = shape;
    const { logits, labels } = makeInputs(rows, classes);
    const ref = reference(logits, labels, rows, classes);
    for (const op of opts.ops) {
      for (const impl of impls) {
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
          throw new Error(`ABORTED, a result is off before timing:\n  ${err?.stack ?? err}`);
        }
      }
    }
    gc();
  }
  return n;
}

/**
 * One timing pass over every (shape, op, implementation): for each (shape, op) all
 * implementations are timed in `rounds` interleaved rounds (order reversed every other round), so
 * ratios are measured side by side. softmax-wasm is re-prepared in every round (init() switching
 * builds disposes workspaces; preparing is cheap and untimed); a baseline is prepared once per
 * (shape, op). Returns one entry per (shape, op, implementation), in a fixed order.
 */
export async function timeAll(opts, impls, { cpuOverhead = 0, gc = () => {} } = {}) {
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
            // (a baseline in a worker of its own, bench/lib/isolated.mjs, is calibrated and timed there)
            if (t.batch === 0) t.batch = p.calibrate ? await p.calibrate(opts.budget) : await calibrateBatch(p.run, impl.isAsync, opts.budget);
            gc();
            const { wall, cpu } = p.measure
              ? await p.measure({ name: label, batch: t.batch, cpuOverhead }, round)
              : await measureRound({ run: p.run, isAsync: impl.isAsync, name: label, batch: t.batch, cpuOverhead }, round);
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
        throw new Error(`ABORTED while timing:\n  ${err?.stack ?? err}`);
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
export function medianOfRuns(passes) {
  if (passes.length === 1) return passes[0];
  return passes[0].map((_, k) => {
    const byRate = passes.map((p) => p[k]).sort((x, y) => x.elementsPerSec - y.elementsPerSec);
    const mid = byRate[(byRate.length - 1) >> 1];
    return { ...mid, runs: passes.map((p) => p[k].elementsPerSec) };
  });
}

export const CLOCK_TEXT = {
  cpu: 'process CPU time (excludes waiting for a core; see bench/lib/measure.mjs)',
  wall: 'wall clock',
};

/** The line saying how a run times (mode, rounds, budget, clock, shapes). */
export function describeRun(opts, clockText = CLOCK_TEXT[opts.clock]) {
  return `mode: ${opts.mode} (${opts.runs > 1 ? `${opts.runs} timing runs, each entry the run with the median rate; ` : ''}` +
    `per task: ${opts.budget.rounds} interleaved rounds, ${opts.budget.time} ms in all, ` +
    `>= ${opts.budget.iterations} samples per round); clock: ${clockText}; ` +
    `shapes: ${opts.shapes.map(shapeLabel).join(' ')}`;
}

/** The entry of (op, shape, implementation id) in a timing pass's entries. */
export const entryOf = (entries, op, shape, id) =>
  entries.find((e) => e.op === op && e.rows === shape[0] && e.classes === shape[1] && e.impl === id);

/**
 * The tables of a run, through `out` (one markdown line per call): elements/s per op, ns per call
 * at [1,10], (CPU clock) the wall-clock rates of crossEntropyWithGrad, and the ratios of ours
 * (simd and relaxed-simd, API and Workspace) to each baseline.
 */
export function reportTables(opts, { impls, oursImpls, baselines, entries, out, clockText = CLOCK_TEXT[opts.clock] }) {
  const get = (op, shape, id) => entryOf(entries, op, shape, id);
  const rateOf = (op, shape, id) => get(op, shape, id)?.elementsPerSec;
  out(`\nelements/s = rows*classes / median time per call (M = 1e6, G = 1e9), time = ${clockText}; f32 unless marked float64, 1 thread. ` +
    `API = the normal functions with into/gradInto (copies in and out included); ` +
    `WS = a Workspace (zero-copy, inputs written once). float64 rows: the same logits as Float64Array.`);

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

  // float64 against float32 through the API, per build.
  const wide = oursImpls.filter((i) => i.dtype === 'float64');
  if (wide.length) {
    out(`\n### float64 / float32: elements/s ratio through the API\n`);
    const rowsT = [];
    for (const op of opts.ops)
      for (const w of wide) {
        const narrow = oursImpls.find((i) => i.backend === w.backend && i.path === w.path && i.dtype !== 'float64');
        rowsT.push([`${op} ${w.backend}`, ...opts.shapes.map((s) => fmtRatio(rateOf(op, s, w.id) / rateOf(op, s, narrow.id)))]);
      }
    out(table(['op, build', ...opts.shapes.map(shapeLabel)], rowsT));
  }

  // Ratios of ours (simd and relaxed-simd, API and Workspace, float32) to each baseline.
  const ratioOurs = oursImpls.filter((i) => i.backend !== 'scalar' && i.dtype !== 'float64');
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
  if (baselines.some((b) => b.id.endsWith('+scatter'))) out(`\n(ort-web[s] / ort-node[s]: the ORT loss+grad graph with ScatterElements instead of OneHot-Sub.)`);
}
