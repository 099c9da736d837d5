// The machine line printed first and stored in results.json: CPU model, cores, Node, V8, date.

import os from 'node:os';
import fs from 'node:fs';

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
