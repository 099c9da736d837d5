// Smoke test and quick timing of every baseline: `node bench/baselines/check.mjs`.
//
// For each shape, prepares every baseline's four ops, runs each once and checks it against the
// f64 reference, times it with tinybench (~300 ms per task), checks the result again (run() must
// stay correct when repeated), then prints elements/s tables. Exits non-zero on any failure.
// Optional filters: --baselines=naive,ort-node+scatter  --shapes=1x10,128x1000  --time=300

import { Bench } from 'tinybench';
import { ensurePeers } from '../install.mjs';
import {
  makeInputs,
  softmax64,
  logSoftmax64,
  crossEntropyMean64,
  crossEntropyGrad64,
  assertClose,
} from './reference64.mjs';

// `module+scatter` is that ORT baseline with its faster loss+grad graph (gradGraph: 'scatter');
// only its crossEntropyWithGrad differs, so only that op is run for it.
const ALL_BASELINES = ['naive', 'tfjs-wasm', 'ort-web', 'ort-node', 'ort-web+scatter', 'ort-node+scatter'];
const ALL_SHAPES = [
  [1, 10],
  [64, 10],
  [128, 1000],
  [32, 32000],
];
const OPS = ['softmax', 'logSoftmax', 'crossEntropy', 'crossEntropyWithGrad'];

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v = ''] = a.replace(/^--/, '').split('=');
    return [k, v];
  }),
);
const baselineIds = args.baselines ? args.baselines.split(',') : ALL_BASELINES;
// The peers are bench/package.json's: installed into bench/node_modules if missing.
if (baselineIds.some((id) => id !== 'naive')) ensurePeers();
const shapes = args.shapes
  ? args.shapes.split(',').map((s) => s.split('x').map(Number))
  : ALL_SHAPES;
const timeMs = args.time ? Number(args.time) : 300;

// f32 results vs the f64 reference. Probabilities are in [0, 1]; log-probabilities carry an
// absolute error of about ulp(lse) (lse ~ 10 at 32k classes), hence their larger atol; the
// gradient is scaled by 1/rows, and so is its atol.
const tolerances = (rows) => ({
  softmax: { rtol: 1e-4, atol: 1e-6 },
  logSoftmax: { rtol: 1e-4, atol: 1e-5 },
  loss: { rtol: 1e-5, atol: 1e-6 },
  grad: { rtol: 1e-4, atol: 1e-6 / rows },
});

/** Checks one op's last result against the reference; throws with a clear label. */
function check(op, res, ref, tol, label) {
  switch (op) {
    case 'softmax':
      assertClose(res, ref.softmax, tol.softmax, `${label} probabilities`);
      break;
    case 'logSoftmax':
      assertClose(res, ref.logSoftmax, tol.logSoftmax, `${label} log-probabilities`);
      break;
    case 'crossEntropy':
      if (typeof res !== 'number') throw new Error(`${label}: loss is ${typeof res}, expected number`);
      assertClose(res, ref.loss, tol.loss, `${label} loss`);
      break;
    case 'crossEntropyWithGrad':
      assertClose(res.loss, ref.loss, tol.loss, `${label} loss`);
      assertClose(res.grad, ref.grad, tol.grad, `${label} grad`);
      break;
  }
}

function prepare(b, op, logits, labels, rows, classes) {
  switch (op) {
    case 'softmax':
      return b.prepareSoftmax(logits, rows, classes);
    case 'logSoftmax':
      return b.prepareLogSoftmax(logits, rows, classes);
    case 'crossEntropy':
      return b.prepareCrossEntropy(logits, labels, rows, classes);
    case 'crossEntropyWithGrad':
      return b.prepareCrossEntropyWithGrad(logits, labels, rows, classes);
  }
}

const fmtRate = (r) =>
  !Number.isFinite(r) ? 'n/a' : r >= 1e9 ? `${(r / 1e9).toFixed(2)}G` : r >= 1e6 ? `${(r / 1e6).toFixed(1)}M` : `${(r / 1e3).toFixed(1)}k`;

async function main() {
  const t0 = performance.now();
  const baselines = [];
  for (const id of baselineIds) {
    const [file, variant] = id.split('+');
    const mod = await import(`./${file}.mjs`);
    const b = await mod.default(variant ? { gradGraph: variant } : undefined);
    baselines.push({ id, b, ops: variant ? ['crossEntropyWithGrad'] : OPS });
    console.log(`loaded ${id}: ${b.name}${b.config ? ' ' + JSON.stringify(b.config) : ''}`);
  }

  const nameWidth = Math.max(...baselines.map(({ b }) => b.name.length));
  /** rates[op][baselineName][shapeKey] = elements/s (median latency) */
  const rates = Object.fromEntries(OPS.map((op) => [op, {}]));
  const failures = [];

  for (const [rows, classes] of shapes) {
    const shapeKey = `${rows}x${classes}`;
    const n = rows * classes;
    const { logits, labels } = makeInputs(rows, classes);
    const ref = {
      softmax: softmax64(logits, rows, classes),
      logSoftmax: logSoftmax64(logits, rows, classes),
      loss: crossEntropyMean64(logits, labels, rows, classes),
      grad: crossEntropyGrad64(logits, labels, rows, classes),
    };
    const tol = tolerances(rows);

    for (const { b, ops } of baselines) {
      const bench = new Bench({ time: timeMs, iterations: 10, warmupTime: 50, warmupIterations: 5 });
      const prepared = {};
      for (const op of ops) {
        const label = `${b.name} ${op} ${shapeKey}`;
        try {
          const p = await prepare(b, op, logits, labels, rows, classes);
          await p.run();
          check(op, p.result(), ref, tol, label);
          prepared[op] = p;
          // Async peers get an async task so tinybench awaits each call inside the timing.
          bench.add(op, b.isAsync ? async () => { await p.run(); } : () => { p.run(); });
        } catch (err) {
          failures.push(`${label}: ${err?.message ?? err}`);
          console.error(`FAIL ${label}: ${err?.stack ?? err}`);
        }
      }
      await bench.run();
      for (const task of bench.tasks) {
        const label = `${b.name} ${task.name} ${shapeKey}`;
        const r = task.result;
        if (r.state !== 'completed') {
          failures.push(`${label}: timing ${r.state}${'error' in r ? ': ' + r.error?.message : ''}`);
          continue;
        }
        const rate = n / (r.latency.p50 / 1000);
        (rates[task.name][b.name] ??= {})[shapeKey] = rate;
        try {
          check(task.name, prepared[task.name].result(), ref, tol, `${label} (after timing)`);
        } catch (err) {
          failures.push(err.message);
        }
      }
      console.log(
        `  ${shapeKey.padEnd(9)} ${b.name.padEnd(nameWidth)}  ` +
          ops.map((op) => `${op} ${fmtRate(rates[op][b.name]?.[shapeKey])}`).join('  '),
      );
    }
  }

  for (const { b } of baselines) await b.dispose();

  const shapeKeys = shapes.map(([r, c]) => `${r}x${c}`);
  console.log('\nelements/s (rows*classes / median time per call; M = 1e6, G = 1e9), f32, 1 thread');
  for (const op of OPS) {
    console.log(`\n${op}`);
    console.log(`| ${'baseline'.padEnd(nameWidth)} | ${shapeKeys.map((k) => k.padStart(9)).join(' | ')} |`);
    console.log(`| ${'-'.repeat(nameWidth)} | ${shapeKeys.map(() => '-'.repeat(8) + ':').join(' | ')} |`);
    for (const { b, ops } of baselines) {
      if (!ops.includes(op)) continue;
      const row = shapeKeys.map((k) => fmtRate(rates[op][b.name]?.[k]).padStart(9));
      console.log(`| ${b.name.padEnd(nameWidth)} | ${row.join(' | ')} |`);
    }
  }

  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  if (failures.length) {
    console.error(`\n${failures.length} failure(s):\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    const count = baselines.reduce((n, { ops }) => n + ops.length, 0) * shapes.length;
    console.log(`\nall ${count} checks passed in ${secs}s`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
