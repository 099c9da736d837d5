// npm run soak: 10 million mixed calls, spread over the three builds: every
// function and the Workspace with random shapes and options (test/reliability/cases.ts), 1% bad
// calls, results spot-checked against float64, wasm memory required flat after each warm-up
// and process RSS reported. Runs test/reliability/soak.test.ts through vitest (which gives
// Node 20 the relaxed-SIMD flag) with the long settings.
//
//   npm run soak [-- --calls 10000000] [-- --build simd] [-- --seed 7]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const env = { ...process.env, SOAK_CALLS: arg('calls', '10000000') };
if (arg('build')) env.SOAK_BUILD = arg('build');
if (arg('seed')) env.SOAK_SEED = arg('seed');
const root = fileURLToPath(new URL('../..', import.meta.url));
console.log(`soak: ${Number(env.SOAK_CALLS).toLocaleString('en')} calls${env.SOAK_BUILD ? ` on the ${env.SOAK_BUILD} build` : ' over the three builds'}`);
const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/reliability/soak.test.ts', '--silent=false'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
