// npm run fuzz: the property tests of test/reliability/fuzz.test.ts (every function, every
// build, adversarial values, against float64; the builds against each other) for minutes instead
// of the bounded run in npm test, with a fresh seed each time (printed, for replay).
//
//   npm run fuzz [-- --seconds 600] [-- --seed 12345] [-- --max-elems 120000]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const env = { ...process.env, FUZZ_SECONDS: arg('seconds', '600') };
if (arg('seed')) env.FUZZ_SEED = arg('seed');
if (arg('max-elems')) env.FUZZ_MAX_ELEMS = arg('max-elems');
const root = fileURLToPath(new URL('../..', import.meta.url));
const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/reliability/fuzz.test.ts', '--silent=false'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
