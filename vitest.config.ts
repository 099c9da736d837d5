import { defineConfig } from 'vitest/config';

// Node 20 runs relaxed SIMD only behind a flag; pass it to the test workers so the
// relaxed-simd build is tested too (newer Node versions have it on by default).
const nodeMajor = Number(process.versions.node.split('.')[0]);
// --expose-gc: the soak suite collects garbage before it samples memory.
const execArgv = [...(nodeMajor < 22 ? ['--experimental-wasm-relaxed-simd'] : []), '--expose-gc'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { execArgv } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
