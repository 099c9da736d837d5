// Timing with tinybench as the driver (warmup, time budget, minimum iterations), sampling two
// clocks per iteration:
//  - wall: performance.now();
//  - cpu:  the process's CPU time (process.cpuUsage(): user + system of all its threads, µs); in
//          a browser page (npm run bench:browser) the CPU time of the page's main thread, which
//          the runner reads from /proc for the page (setCpuClock; an async call around each batch).
// On a loaded machine (this one often runs at a load of 5-8 on 2 cores) wall-clock medians are
// biased against long calls: a 30 ms call is nearly always preempted, a 1 ms call rarely, so the
// slow peers would look slower than they are and our ratios better than they are. CPU time does
// not count time spent waiting for a core, so it is the default (`--clock=wall` switches). It is
// the conservative choice for the comparison: the only work it leaves out is waiting, and the only
// implementations that wait are the async ORT ones (onnxruntime-node runs on a worker thread; the
// hand-off latency is waiting), so it can only flatter the peers. Both medians are stored.
//
// A task is measured in several short rounds (the caller interleaves the rounds of all
// implementations of one (shape, op), so a burst of noise hits them all alike); the samples of all
// rounds are pooled and summarised by their median.
//
// Calls shorter than the batch target are batched: each iteration runs K calls back to back and
// records the per-call mean as its sample. That keeps the clocks' own cost (performance.now()
// ~50 ns, process.cpuUsage() ~1-4 µs, a getrusage syscall) out of a ~100 ns [1, 10] call; the
// CPU cost of one pair of cpuUsage() reads is also measured and subtracted.

import { Bench } from 'tinybench';

const wallNow = () => performance.now();
let cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let cpuAsync = false;

/** Replaces the CPU clock (ms): a browser page has no process.cpuUsage(); `npm run bench:browser`
 *  gives it the CPU time of the page's main thread, read by the runner (an async call). */
export function setCpuClock(now, isAsync) {
  cpuNow = now;
  cpuAsync = isAsync;
}

/** Mean CPU ms of one back-to-back pair of cpuNow() reads (what each sample pays for its clock). */
export async function cpuClockOverhead() {
  const n = cpuAsync ? 200 : 20000;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (cpuAsync) {
      const a = await cpuNow();
      sum += (await cpuNow()) - a;
    } else {
      const a = cpuNow();
      sum += cpuNow() - a;
    }
  }
  return sum / n;
}

async function timeLoop(run, isAsync, ms) {
  let n = 0;
  const t0 = wallNow();
  let t = t0;
  do {
    if (isAsync) await run();
    else run();
    n++;
    t = wallNow();
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
 * One round of one task: tinybench runs its warmup, then iterations until the round's time budget
 * and minimum iteration count are both reached. Returns the per-call samples (ms) of the timed
 * iterations on both clocks.
 * @param {{ run: () => unknown, isAsync: boolean, name: string, batch: number, cpuOverhead: number }} task
 * @param {{ time: number, iterations: number, warmupTime: number, warmupIterations: number }} round
 * @returns {Promise<{ wall: number[], cpu: number[] }>}
 */
export async function measureRound({ run, isAsync, name, batch, cpuOverhead }, round) {
  const bench = new Bench({
    time: round.time,
    iterations: round.iterations,
    warmupTime: round.warmupTime,
    warmupIterations: round.warmupIterations,
    throws: true,
  });
  const wall = [];
  const cpu = [];
  let recording = false;
  const record = (w0, c0, c1, w1) => {
    if (recording) {
      wall.push((w1 - w0) / batch);
      cpu.push(Math.max(0, c1 - c0 - cpuOverhead) / batch);
    }
    // The wall time of the whole batch is what the round's time budget is spent on.
    return { overriddenDuration: (w1 - w0) / batch, overriddenIterationCost: w1 - w0 };
  };
  const fn = isAsync || cpuAsync
    ? async () => {
        if (!isAsync) {
          // An async clock: read it around a synchronous batch.
          const c0 = await cpuNow();
          const w0 = wallNow();
          for (let i = 0; i < batch; i++) run();
          const w1 = wallNow();
          return record(w0, c0, await cpuNow(), w1);
        }
        const w0 = wallNow();
        const c0 = await cpuNow();
        for (let i = 0; i < batch; i++) await run();
        const c1 = await cpuNow();
        return record(w0, c0, c1, wallNow());
      }
    : () => {
        const w0 = wallNow();
        const c0 = cpuNow();
        for (let i = 0; i < batch; i++) run();
        const c1 = cpuNow();
        return record(w0, c0, c1, wallNow());
      };
  bench.add(name, fn, {
    async: isAsync || cpuAsync,
    beforeAll(mode) {
      recording = mode === 'run';
    },
  });
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed') {
    throw new Error(`${name}: timing ${r.state}${r.error ? ': ' + (r.error.message ?? r.error) : ''}`);
  }
  if (wall.length === 0) throw new Error(`${name}: no timed iterations were recorded`);
  return { wall, cpu };
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
