// Timing with tinybench. A task is measured in several short rounds (the caller interleaves the
// rounds of all implementations of one (shape, op), so a burst of noise on this shared machine
// hits them all alike); the samples of all rounds are pooled and summarised by their median.
//
// Calls shorter than the batch target are batched: each tinybench iteration runs K calls back to
// back, reports the per-call mean as its sample (overriddenDuration) and the whole batch as its
// cost against the time budget (overriddenIterationCost). That keeps the timer's own cost
// (~50 ns per performance.now()) out of a ~100 ns [1, 10] call.

import { Bench } from 'tinybench';

const now = () => performance.now();

async function timeLoop(run, isAsync, ms) {
  let n = 0;
  const t0 = now();
  let t = t0;
  do {
    if (isAsync) await run();
    else run();
    n++;
    t = now();
  } while (t - t0 < ms && n < 1e6);
  return (t - t0) / n;
}

/**
 * Calls per sample for `run`: warms it up (a loop of ~calibMs, at least one call), then estimates
 * the time per call as the fastest of five short loops (robust to a GC pause or a preemption in
 * one of them) and fits as many calls as take batchMs.
 */
export async function calibrateBatch(run, isAsync, { calibMs, batchMs }) {
  await timeLoop(run, isAsync, calibMs);
  let perCall = Infinity;
  for (let i = 0; i < 5; i++) perCall = Math.min(perCall, await timeLoop(run, isAsync, calibMs / 5));
  return Math.max(1, Math.min(1e6, Math.floor(batchMs / perCall)));
}

/**
 * One round of one task. Returns the per-call samples (ms) of the round.
 * @param {{ run: () => unknown, isAsync: boolean, name: string, batch: number }} task
 * @param {{ time: number, iterations: number, warmupTime: number, warmupIterations: number }} round
 */
export async function measureRound({ run, isAsync, name, batch }, round) {
  const bench = new Bench({
    time: round.time,
    iterations: round.iterations,
    warmupTime: round.warmupTime,
    warmupIterations: round.warmupIterations,
    retainSamples: true,
    throws: true,
  });
  let fn;
  if (batch === 1) {
    fn = isAsync ? async () => { await run(); } : () => { run(); };
  } else if (isAsync) {
    fn = async () => {
      const t0 = now();
      for (let i = 0; i < batch; i++) await run();
      const dt = now() - t0;
      return { overriddenDuration: dt / batch, overriddenIterationCost: dt };
    };
  } else {
    fn = () => {
      const t0 = now();
      for (let i = 0; i < batch; i++) run();
      const dt = now() - t0;
      return { overriddenDuration: dt / batch, overriddenIterationCost: dt };
    };
  }
  bench.add(name, fn, { async: isAsync });
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed') {
    throw new Error(`${name}: timing ${r.state}${r.error ? ': ' + (r.error.message ?? r.error) : ''}`);
  }
  const samples = r.latency.samples;
  if (!samples || samples.length === 0) throw new Error(`${name}: tinybench returned no samples`);
  return Array.from(samples);
}

/** Median, mean, min and the relative 95% margin of error (%) of pooled samples (ms). */
export function summarize(samples) {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  let sum = 0;
  for (const v of s) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of s) ss += (v - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const rme = n > 1 ? (100 * 1.96 * sd) / Math.sqrt(n) / mean : 0;
  return { medianMs: median, meanMs: mean, minMs: s[0], rme, samples: n };
}
