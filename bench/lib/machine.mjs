// The machine line printed first and stored in results.json: CPU model, cores, Node, V8, date.

import os from 'node:os';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function cpuModel() {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info);
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall back to os.cpus()
  }
  return os.cpus()[0]?.model?.trim() || 'unknown CPU';
}

/** The CPUs this process may run on when that is fewer than the machine's (Linux: `taskset -c 1
 *  npm run bench` pins both sides of every ratio, and the worker thread that times plain JS, to
 *  one CPU), else null. */
function pinnedCpus(cores) {
  try {
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m && typeof os.availableParallelism === 'function' && os.availableParallelism() < cores) return m[1].trim();
  } catch {
    // not Linux
  }
  return null;
}

export function machineInfo() {
  const cores = os.cpus().length;
  const info = {
    cpu: cpuModel(),
    cores,
    availableParallelism: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cores,
    arch: process.arch,
    platform: `${os.type()} ${os.release()}`,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    execArgv: process.execArgv,
    date: new Date().toISOString(),
    // Other work on this machine at the start (1-minute load average vs cores): a loaded machine
    // makes every number noisier; ratios measured side by side suffer least.
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
    pinnedCpus: pinnedCpus(cores),
  };
  info.line =
    `machine: ${info.cpu}, ${info.cores} cores (${info.arch}), ${info.totalMemGiB} GiB, ` +
    `Node ${info.node}, V8 ${info.v8}, ${info.date}, load ${info.loadAverage1m}` +
    (info.pinnedCpus ? `, pinned to CPU ${info.pinnedCpus}` : '') +
    (info.execArgv.length ? `, flags: ${info.execArgv.join(' ')}` : '');
  return info;
}

/** The probe cpuSpeeds runs on each CPU: softmax over [64, 10] (the SIMD build), ns per call. */
const PROBE = `const { init, softmax } = await import(process.argv[1]);
await init({ backend: 'simd' });
const x = new Float32Array(640).map((_, i) => Math.sin(i) * 4), y = new Float32Array(640), o = { classes: 10, into: y };
const run = (ms) => { let n = 0; const t = performance.now(); while (performance.now() - t < ms) { for (let i = 0; i < 200; i++) softmax(x, o); n += 200; } return (performance.now() - t) * 1e6 / n; };
run(150);
const r = [run(60), run(60), run(60)].sort((a, b) => a - b);
console.log(r[1].toFixed(0));`;

/**
 * How fast each CPU runs the same small kernel call now, one process pinned to each (Linux with
 * `taskset`, 2-16 CPUs; else null). On a shared virtual machine one virtual CPU can run 20-60%
 * slower than another for minutes (another guest on its physical core), and the SIMD kernels
 * slow more than plain JavaScript there, so a ratio measured on it is low; and a pool's speed-up
 * is bounded by its slowest core.
 */
export function cpuSpeeds(cores = os.cpus().length) {
  if (process.platform !== 'linux' || cores < 2 || cores > 16) return null;
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const ns = [];
  for (let c = 0; c < cores; c++) {
    const r = spawnSync('taskset', ['-c', String(c), process.execPath, '--input-type=module', '-e', PROBE, dist], { encoding: 'utf8', timeout: 20000 });
    const v = Number(r.stdout?.trim());
    if (r.status !== 0 || !(v > 0)) return null;
    ns.push(v);
  }
  const fastest = ns.indexOf(Math.min(...ns));
  const spread = Math.max(...ns) / ns[fastest] - 1;
  const line = `CPU speed probe (softmax [64,10], simd, ns per call, one process pinned to each CPU): ${ns.map((v, c) => `CPU ${c} ${v}`).join(', ')}` +
    (spread > 0.1 ? ` (CPU ${fastest} is ${(spread * 100).toFixed(0)}% faster than the slowest)` : '');
  return { ns, fastest, spread, line };
}
