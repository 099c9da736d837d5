// `npm run size`: what the package costs an app, and the check against the budget in README.md.
//
// The number held to the budget is the whole package as an app ships it: everything dist/index.js
// exports (the JS and the three wasm builds embedded in it as base64 of raw DEFLATE), bundled and
// minified with esbuild, then gzipped (zlib's default level, as most servers compress). Also reported: the
// published files as they are, brotli, and how much of it is the embedded wasm.
//
//   node scripts/test/size.mjs           prints the table; exits 1 over budget or without dist/
//   node scripts/test/size.mjs --json    prints the figures as JSON
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The budget, in kB (1000 bytes) of min+gzip; README.md states the same number. */
export const BUDGET_KB = 96;

const gzip = (b) => gzipSync(b).length;
const brotli = (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const kB = (n) => `${(n / 1000).toFixed(1)} kB`;

/** Bundles and minifies `code` (an app's entry) against dist/index.js. */
async function bundle(code) {
  const out = await build({
    stdin: { contents: code, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return Buffer.from(out.outputFiles[0].contents);
}

/** The figures (bytes). */
export async function measure() {
  const dist = join(ROOT, 'dist/index.js');
  if (!existsSync(dist)) throw new Error('dist/index.js is missing: npm run build first');
  const esm = readFileSync(dist);
  const cjs = readFileSync(join(ROOT, 'dist/index.cjs'));
  const all = await bundle("export * from './dist/index.js';");
  // The embedded wasm: the long base64 literals (each a build's raw DEFLATE stream). The JS alone
  // is the bundle without them.
  const text = all.toString('utf8');
  const base64 = text.match(/["'`][A-Za-z0-9+/=]{1000,}["'`]/g) ?? [];
  const jsOnly = Buffer.from(base64.reduce((t, s) => t.replace(s, '""'), text));
  const wasmBytes = ['scalar', 'simd', 'relaxed-simd'].map((b) => {
    const f = join(ROOT, `dist/wasm/softmax.${b}.wasm`);
    return existsSync(f) ? readFileSync(f).length : 0;
  });
  return {
    budgetGzip: BUDGET_KB * 1000,
    minGzip: gzip(all),
    minBrotli: brotli(all),
    min: all.length,
    jsOnlyMinGzip: gzip(jsOnly),
    embeddedBase64: base64.reduce((n, s) => n + s.length - 2, 0),
    embeddedDeflate: base64.reduce((n, s) => n + Buffer.from(s.slice(1, -1), 'base64').length, 0),
    wasmRaw: wasmBytes.reduce((a, b) => a + b, 0),
    esmRaw: esm.length,
    esmGzip: gzip(esm),
    cjsRaw: cjs.length,
    cjsGzip: gzip(cjs),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const m = await measure();
  if (process.argv.includes('--json')) console.log(JSON.stringify(m, null, 2));
  else {
    const rows = [
      ['whole package, bundled + minified (esbuild)', kB(m.min), kB(m.minGzip), kB(m.minBrotli)],
      ['  of which the JS alone (no embedded wasm)', '', kB(m.jsOnlyMinGzip), ''],
      ['dist/index.js as published', kB(m.esmRaw), kB(m.esmGzip), ''],
      ['dist/index.cjs as published', kB(m.cjsRaw), kB(m.cjsGzip), ''],
    ];
    console.log(`${'file'.padEnd(46)}${'raw'.padStart(10)}${'gzip'.padStart(10)}${'brotli'.padStart(10)}`);
    for (const [a, b, c, d] of rows) console.log(`${a.padEnd(46)}${b.padStart(10)}${c.padStart(10)}${d.padStart(10)}`);
    console.log(`embedded wasm: ${kB(m.wasmRaw)} in three builds (scalar, simd, relaxed-simd), compressed to ${kB(m.embeddedDeflate)} (raw DEFLATE), ${kB(m.embeddedBase64)} as base64`);
    const ok = m.minGzip <= m.budgetGzip;
    console.log(`budget: ${kB(m.minGzip)} min+gzip of ${BUDGET_KB} kB allowed: ${ok ? 'within budget' : 'OVER BUDGET'}`);
    if (!ok) process.exitCode = 1;
  }
}
