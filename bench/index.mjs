// `npm run bench` entry point: a small launcher. On Node < 22 the relaxed-SIMD proposal is behind
// --experimental-wasm-relaxed-simd, so without the flag only the scalar and simd builds could be
// measured. This re-spawns node with the flag and --expose-gc (so the harness can collect garbage
// between tasks instead of inside them; on Node >= 22, where relaxed SIMD is on by default, only
// the latter) and forwards the arguments, so all three builds are measured in one run.
//
//   npm run bench                 full run (~20 min), writes bench/results.{json,md} and bench/chart.svg
//                                 on Node 24 (the README's figures), bench/results-node<major>.* elsewhere
//   npm run bench -- --quick      < 2 min: shorter time budget per task, 4 shapes
//   npm run bench -- --runs=3     three timing runs, each entry the run with the median rate (the
//                                 issue's targets are medians of runs; ~3x the time)
//   options: --shapes=1x10,32x32000  --ops=softmax,crossEntropyWithGrad  --time=<ms per task>
//            --builds=simd,relaxed-simd (the builds to time; default all three)
//            --no-write (do not overwrite the results files)
//
//   the run ends with the decoding benchmark (bench/decoding.mjs; --no-decoding skips it)
//
// The peers (TensorFlow.js, onnxruntime-web, onnxruntime-node, @huggingface/transformers) are bench/package.json's, installed
// into bench/node_modules on the first run (bench/install.mjs; `npm run bench:install` by hand).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensurePeers } from './install.mjs';

ensurePeers();

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const major = Number(process.versions.node.split('.')[0]);

const missing = [...(major < 22 ? [RELAXED_FLAG] : []), '--expose-gc'].filter((f) => !process.execArgv.includes(f));

if (missing.length > 0) {
  const flags = [...process.execArgv, ...missing];
  const child = spawn(process.execPath, [...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Ctrl-C reaches the child through the terminal's process group; just wait for it.
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {});
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
  child.on('error', (err) => {
    console.error(`bench: could not re-spawn node with ${RELAXED_FLAG}: ${err.message}`);
    process.exit(1);
  });
} else {
  const { main } = await import('./lib/main.mjs');
  const args = process.argv.slice(2);
  try {
    await main(args);
  } catch (err) {
    console.error(`\nbench: ${err?.stack ?? err}`);
    process.exit(1);
  }
  // Issue 8: the worker pool, 1 vs 2 workers against the single-threaded call, in the same run
  // (bench/threads.mjs; --no-threads skips it, --quick runs a shorter version).
  if (!args.includes('--no-threads')) {
    const quick = args.includes('--quick');
    const threadArgs = quick ? ['--rounds=3', '--time=80', '--shapes=4096x1000,64x128256,64x10'] : [];
    console.log('\n## worker pool (npm run bench:threads)\n');
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./threads.mjs', import.meta.url)), ...threadArgs], { stdio: 'inherit' });
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) process.exit(code);
  }
  // Decoding (sample, topK) at LLM vocabulary sizes against the naive sort-based
  // decoder and transformers.js's topk (bench/decoding.mjs; --no-decoding skips it).
  if (!args.includes('--no-decoding')) {
    const quick = args.includes('--quick');
    console.log('\n## decoding (npm run bench:decoding)\n');
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./decoding.mjs', import.meta.url)), ...(quick ? ['--runs=2', '--time=150'] : [])], { stdio: 'inherit' });
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) process.exit(code);
  }
}
