// The benchmark's peers (TensorFlow.js, onnxruntime-web, onnxruntime-node: about 740 MB) live in
// bench/package.json, not in the root's devDependencies, so a clone's `npm install` brings only
// the toolchain and the test dependencies. They are installed into bench/node_modules, which
// Node's module resolution finds first from bench/*.mjs (tinybench and the toolchain still come
// from the root's node_modules).
//
//   npm run bench:install     installs them (npm ci from bench/package-lock.json)
//   npm run bench             does the same on its first run, when they are missing
//
// bench/.npmrc has onnxruntime-node-install=skip: onnxruntime-node's postinstall would otherwise
// download the CUDA provider from api.nuget.org on Linux x64 (not needed for its CPU provider,
// which is in the npm package), and fail where that host is out of reach.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = dirname(fileURLToPath(import.meta.url));

/** The peers bench/package.json asks for that bench/node_modules lacks (or has at another version). */
export function missingPeers() {
  const wanted = JSON.parse(readFileSync(join(BENCH, 'package.json'), 'utf8')).dependencies ?? {};
  return Object.entries(wanted)
    .filter(([name, version]) => {
      const file = join(BENCH, 'node_modules', name, 'package.json');
      return !existsSync(file) || JSON.parse(readFileSync(file, 'utf8')).version !== version;
    })
    .map(([name]) => name);
}

/** Runs npm ci (npm install without a lockfile) in bench/; exits the process if npm fails. */
export function installPeers() {
  const command = existsSync(join(BENCH, 'package-lock.json')) ? 'ci' : 'install';
  const args = [command, '--prefix', BENCH, '--no-audit', '--no-fund'];
  // Under `npm run`, npm_execpath is the npm that runs us: use the same one (not another
  // package manager's, which would not take these arguments).
  const npmCli = process.env.npm_execpath;
  const result = npmCli && /npm-cli\.c?js$/.test(npmCli)
    ? spawnSync(process.execPath, [npmCli, ...args], { stdio: 'inherit' })
    : spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error(`bench: \`npm ${command} --prefix bench\` failed${result.error ? `: ${result.error.message}` : ''}`);
    process.exit(result.status || 1);
  }
}

/** Installs the peers if any is missing, with one line saying so. */
export function ensurePeers() {
  const missing = missingPeers();
  if (missing.length === 0) return;
  const command = existsSync(join(BENCH, 'package-lock.json')) ? 'ci' : 'install';
  console.log(`bench: installing the benchmark's peers into bench/node_modules (${missing.join(', ')} missing; about 740 MB, once): npm ${command} --prefix bench`);
  installPeers();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) installPeers();
