// `npm run bench:browser`: `npm run bench`'s tables measured inside a page in headless Chromium.
//
// 1. Bundles bench/browser/page.mjs with esbuild, and the package's dist/index.js apart, as a
//    user's bundler would (minified), in memory: the page loads a copy of the library per build.
// 2. Serves the page, the bundles and the baselines' wasm (tfjs-backend-wasm's and
//    onnxruntime-web's dist/ folders) from a local http server, cross-origin isolated (COOP/COEP),
//    which gives performance.now() 5 µs resolution instead of 100 µs.
// 3. Launches Debian's Chromium through playwright-core (--js-flags=--expose-gc, so the harness
//    can collect garbage between tasks, as `npm run bench` does with node --expose-gc) and runs
//    the benchmark in the page: verification, interleaved rounds, medians, tables.
// 4. Writes bench/results-browser.md and bench/results-browser.json.
//
//   npm run bench:browser                   full run (~5-8 min)
//   npm run bench:browser -- --quick        < 2 min
//   npm run bench:browser -- --percall      the per-call micro-harness (bench/browser/percall.mjs): a
//                                         [1,10] call taken apart, in the page and in this Node
//                                         (--detached: after a buffer was detached; --mixed: after
//                                         the other functions ran, as in the benchmark's page)
//   options as `npm run bench` (--shapes, --ops, --time, --runs, --builds, --no-write); the clock
//   is the CPU time of the page's main thread (see below), the wall clock beside it.
//   CHROMIUM=/path/to/chromium overrides the browser (default /usr/bin/chromium); JS_FLAGS='--no-liftoff ...'
//   adds V8 flags to --js-flags; BENCH_KEEP_NAMES=1 bundles without minifying (function names in
//   V8's traces, e.g. JS_FLAGS=--trace-deopt with CHROMIUM a script that logs its stdout).

import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { ensurePeers } from './install.mjs';
import { machineInfo } from './lib/machine.mjs';
import { sourceInfo, formatResults } from './lib/main.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const argv = process.argv.slice(2);
const write = !argv.includes('--no-write');
const percall = argv.includes('--percall');

ensurePeers();
if (!existsSync(path.join(ROOT, 'dist/index.js'))) {
  console.error('bench:browser: dist/index.js is missing: npm run build first');
  process.exit(1);
}

// ---- the page's CPU clock ----------------------------------------------------------------------
// A page has no CPU clock, and on a loaded machine the wall clock also counts the time a call
// waits for a core. The page's JavaScript runs on its renderer process's main thread (tid = pid),
// whose CPU time Linux keeps in ns in /proc/<pid>/schedstat (the first field). The renderer is
// found among this process's descendants (Chromium forks them through its zygote) as the one that
// spends CPU while the page spins.
const procStat = (pid) => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { ppid: Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]), cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8') };
  } catch {
    return null;
  }
};
function renderers() {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map(all.map((pid) => [pid, procStat(pid)]));
  const mine = (pid) => {
    for (let p = pid, i = 0; p > 1 && i < 64; p = parent.get(p)?.ppid ?? 0, i++) if (p === process.pid) return true;
    return false;
  };
  return all.filter((pid) => parent.get(pid)?.cmd.includes('--type=renderer') && mine(pid));
}
const threadNs = (pid) => {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
};

/** `entry` bundled for a page as a user's bundler would (ESM, minified), in memory. */
const bundleOf = async (entry) => (await build({
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: process.env.BENCH_KEEP_NAMES !== '1',
  write: false,
  logLevel: 'error',
  define: { 'process.env.NODE_ENV': '"production"' },
})).outputFiles[0].contents;
const bundle = await bundleOf(path.join(BENCH, percall ? 'browser/percall.mjs' : 'browser/page.mjs'));
// The scripts served: the page's bundle and, for the benchmark's page, the library alone as
// /lib.js, which the page imports once per build (/lib.js?build=...; bench/lib/impls.mjs says
// why). (percall.mjs bundles the library's sources itself.)
const SCRIPTS = new Map([['/bench.js', bundle]]);
if (!percall) SCRIPTS.set('/lib.js', await bundleOf(path.join(ROOT, 'dist/index.js')));

const STATIC = {
  '/tfjs/': path.join(BENCH, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/'),
  '/ort/': path.join(BENCH, 'node_modules/onnxruntime-web/dist/'),
};
const TYPES = { '.wasm': 'application/wasm', '.mjs': 'text/javascript', '.js': 'text/javascript' };
const server = createServer((req, res) => {
  const headers = {
    'Cache-Control': 'no-store',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
  const url = new URL(req.url, 'http://x').pathname;
  if (url === '/') {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/html' });
    res.end('<!doctype html><meta charset="utf-8"><title>softmax-wasm bench</title><script type="module" src="/bench.js"></script>');
    return;
  }
  if (SCRIPTS.has(url)) {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' });
    res.end(SCRIPTS.get(url));
    return;
  }
  const prefix = Object.keys(STATIC).find((p) => url.startsWith(p));
  const file = prefix && path.join(STATIC[prefix], path.basename(url));
  if (file && existsSync(file)) {
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
    return;
  }
  res.writeHead(404, headers);
  res.end();
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));

const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', `--js-flags=--expose-gc${process.env.JS_FLAGS ? ` ${process.env.JS_FLAGS}` : ''}`];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: flags });
let code = 0;
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(m.text()));
  page.on('pageerror', (e) => console.error(`page error: ${e.stack ?? e}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.readyState === 'complete');
  // The page's renderer: the one whose main thread spends CPU while the page spins and not while
  // it idles (three times each; another renderer may be busy on its own).
  const candidates = renderers();
  const score = candidates.map(() => 0);
  for (let i = 0; i < 3; i++) {
    for (const [spin, sign] of [[true, 1], [false, -1]]) {
      const before = candidates.map(threadNs);
      await page.evaluate((busy) => {
        const t = performance.now();
        if (busy) while (performance.now() - t < 150);
        else return new Promise((done) => setTimeout(done, 150));
      }, spin);
      candidates.forEach((pid, k) => (score[k] += sign * (threadNs(pid) - before[k])));
    }
  }
  const best = Math.max(...score);
  const renderer = candidates[score.indexOf(best)];
  if (process.env.BENCH_DEBUG) console.log('renderers', candidates, score);
  if (renderer === undefined || !(best > 0)) throw new Error(`no renderer process of this page found (candidates ${candidates.join(', ') || 'none'})`);
  await page.exposeFunction('__benchCpuMs', () => threadNs(renderer) / 1e6);
  const machine = machineInfo();
  const chromiumVersion = browser.version();
  const source = sourceInfo();
  const runtimeLine = `runtime: Chromium ${chromiumVersion} (headless, ${flags.join(' ')})`;
  console.log(machine.line.replace(/, Node v[^,]+, V8 [^,]+/, ''));
  console.log(runtimeLine);
  console.log(source.line);
  if (percall) await perCall(page, chromiumVersion);
  else await benchmark(page, { machine, runtimeLine, source, chromiumVersion });
} catch (e) {
  console.error(`\nbench:browser: ${e?.stack ?? e}`);
  code = 1;
} finally {
  await browser.close();
  server.close();
}
process.exit(code);

/** --percall: the micro-harness's figures in the page and in this Node, side by side. */
async function perCall(page, chromiumVersion) {
  const o = { detached: argv.includes('--detached'), mixed: argv.includes('--mixed') };
  const inPage = await page.evaluate(async (o) => (await import('/bench.js')).run(o), o);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'softmax-wasm-percall-'));
  let inNode;
  try {
    writeFileSync(path.join(dir, 'percall.mjs'), bundle);
    inNode = await (await import(path.join(dir, 'percall.mjs'))).run(o);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const after = [o.detached && 'after a buffer was detached', o.mixed && 'after the other functions ran'].filter(Boolean);
  console.log(`\n[1,10] crossEntropyWithGrad taken apart${after.map((a) => `, ${a}`).join('')}, ns per call (CPU time; median of 5 interleaved rounds, each round's median in brackets)\n`);
  console.log(`| task | Chromium ${chromiumVersion}, ${inPage.build} | Node ${process.version}, ${inNode.build} |`);
  console.log('| --- | ---: | ---: |');
  const f = (r) => `${r.median.toFixed(0)} (${r.rounds.map((x) => x.toFixed(0)).join(' ')})`;
  for (const name of Object.keys(inPage.tasks)) console.log(`| ${name} | ${f(inPage.tasks[name])} | ${f(inNode.tasks[name])} |`);
}

/** The benchmark in the page; writes bench/results-browser.{md,json}. */
async function benchmark(page, { machine, runtimeLine, source, chromiumVersion }) {
  const t0 = performance.now();
  const r = await page.evaluate(async (args) => (await import('/bench.js')).run(args), argv);
  const secs = (performance.now() - t0) / 1000;
  const md = [
    `## softmax-wasm benchmark in the browser (${r.opts.mode})`,
    '',
    machine.line.replace(/, Node v[^,]+, V8 [^,]+/, ''),
    `${runtimeLine}; ${r.userAgent}; crossOriginIsolated ${r.crossOriginIsolated}`,
    source.line,
    '',
    ...r.md,
    '',
    `total ${secs.toFixed(0)} s (timing ${r.timingSecs.toFixed(0)} s); written by \`npm run bench:browser${argv.length ? ` -- ${argv.join(' ')}` : ''}\``,
  ];
  console.log(md.slice(-1)[0]);
  if (write && r.opts.write) {
    const { opts } = r;
    const results = {
      machine: { ...machine, node: undefined, v8: undefined, execArgv: undefined },
      runtime: { browser: `Chromium ${chromiumVersion}`, userAgent: r.userAgent, flags },
      source,
      mode: opts.mode,
      runs: opts.runs,
      clock: opts.clock,
      budget: opts.budget,
      shapes: opts.shapes,
      ops: opts.ops,
      builds: r.builds,
      defaultBuild: r.defaultBuild,
      entries: r.entries,
      targets: r.targets,
      seconds: { total: secs, timing: r.timingSecs },
    };
    writeFileSync(path.join(BENCH, 'results-browser.md'), md.join('\n') + '\n');
    writeFileSync(path.join(BENCH, 'results-browser.json'), formatResults(results));
    console.log('wrote bench/results-browser.md, bench/results-browser.json');
  }
}
