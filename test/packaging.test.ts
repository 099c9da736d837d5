// The published package as its users get it: `npm pack` of the built dist/, installed into a
// fresh consumer project in a temporary folder (npm install of the .tgz, offline), then used from
// Node ESM, from CommonJS on a Node without require(esm), from a worker_thread, with
// init({ wasm }), and type-checked by strict TypeScript consumers (moduleResolution bundler and
// node16). The browser side of the same promises is `npm run test:browser`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
// @ts-expect-error: plain .mjs helpers without declarations
import { compareValues, expectedResults } from '../scripts/test/browser/expected.mjs';
// @ts-expect-error: plain .mjs helpers without declarations
import { BUDGET_KB, measure } from '../scripts/test/size.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const run = promisify(execFile);

/** Exactly what the tarball holds (npm adds package.json; README.md and LICENSE are listed). */
const SHIPPED = [
  'LICENSE',
  'README.md',
  'dist/index.cjs',
  'dist/index.d.cts',
  'dist/index.d.ts',
  'dist/index.js',
  'dist/wasm/softmax.relaxed-simd.wasm',
  'dist/wasm/softmax.scalar.wasm',
  'dist/wasm/softmax.simd.wasm',
  'docs/API.md',
  'package.json',
];

let tmp = '';
let consumer = '';
let installed = '';
let packed: { filename: string; files: { path: string }[]; size: number } = { filename: '', files: [], size: 0 };

/** Runs node in the consumer project; returns stdout (rejects with stderr on failure). */
async function node(args: string[], cwd = consumer): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, args, { cwd, env: { ...process.env, NODE_OPTIONS: '' } });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`node ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

async function tsc(project: string): Promise<void> {
  try {
    await run(process.execPath, [TSC, '-p', project], { cwd: join(consumer, 'types') });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`tsc -p ${project} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: `npm run build` first (npm test does)');
  tmp = mkdtempSync(join(tmpdir(), 'softmax-wasm-packaging-'));
  // --ignore-scripts: pack the dist/ just built rather than rebuilding it through "prepare".
  const out = execFileSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  packed = JSON.parse(out.slice(out.indexOf('[')))[0];
  consumer = join(tmp, 'consumer');
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'softmax-wasm': `file:../${packed.filename}` } }, null, 2),
  );
  execFileSync(NPM, ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: consumer, stdio: 'pipe' });
  installed = join(consumer, 'node_modules/softmax-wasm');
  // The node16 type consumer is a Node project: it has @types/node (the repository's).
  mkdirSync(join(consumer, 'node_modules/@types'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/@types/node'), join(consumer, 'node_modules/@types/node'), 'dir');
  // The examples' Node programs and the type consumers, as files of the consumer project.
  cpSync(join(ROOT, 'examples/node-esm/index.mjs'), join(consumer, 'esm.mjs'));
  cpSync(join(ROOT, 'examples/node-cjs/index.cjs'), join(consumer, 'cjs.cjs'));
  cpSync(join(ROOT, 'examples/worker-app/node-worker.mjs'), join(consumer, 'node-worker.mjs'));
  cpSync(join(ROOT, 'test/types'), join(consumer, 'types'), { recursive: true });
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships exactly the listed files', () => {
    expect(packed.files.map((f) => f.path).sort()).toEqual(SHIPPED);
  });

  it("the README's API reference link resolves in the installed package", () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const api = [...readme.matchAll(/\]\(([^)#\s]*API\.md)\)/g)].map((m) => m[1]!);
    expect(api).toContain('docs/API.md');
    for (const link of api) expect(existsSync(join(installed, link)), link).toBe(true);
  });

  it('package.json: exports with types first per condition, a real CJS entry, no side effects', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    const root = pkg.exports['.'];
    expect(Object.keys(root)).toEqual(['import', 'require', 'default']);
    for (const cond of ['import', 'require', 'default']) {
      expect(Object.keys(root[cond])[0], `exports["."].${cond}`).toBe('types');
      expect(existsSync(join(installed, root[cond].types))).toBe(true);
      expect(existsSync(join(installed, root[cond].default))).toBe(true);
    }
    expect(root.import).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(root.require).toEqual({ types: './dist/index.d.cts', default: './dist/index.cjs' });
    for (const field of ['main', 'module', 'types']) expect(existsSync(join(installed, pkg[field])), field).toBe(true);
    expect(pkg.main).toBe('./dist/index.cjs');
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it('dist is self-contained: wasm embedded, no import.meta / new URL / top-level await / other modules', () => {
    for (const file of ['dist/index.js', 'dist/index.cjs']) {
      const code = readFileSync(join(installed, file), 'utf8');
      const forbidden: [RegExp, string][] = [
        [/\bimport\.meta\b/, 'import.meta'],
        [/\bnew URL\(/, 'new URL('],
        [/^\s*await\b/m, 'top-level await'],
        [/\brequire\(|\bimport\(/, 'require() / import() of another module'],
        [/^\s*import\s/m, 'an import statement'],
        [/\.wasm['"`]/, 'a .wasm file name'],
      ];
      for (const [re, what] of forbidden) expect(re.test(code), `${file} contains ${what}`).toBe(false);
      // The three builds inside the JS: raw DEFLATE streams, base64, that inflate to the shipped
      // .wasm files (scalar, simd, relaxed-simd: the order build-wasm.mjs writes them in).
      const embedded = code.match(/['"][A-Za-z0-9+/=]{1000,}['"]/g) ?? [];
      expect(embedded.length, `${file}: embedded wasm builds`).toBe(3);
      embedded.forEach((s, i) => {
        const wasm = inflateRawSync(Buffer.from(s.slice(1, -1), 'base64'));
        const name = `dist/wasm/softmax.${['scalar', 'simd', 'relaxed-simd'][i]}.wasm`;
        expect(wasm.equals(readFileSync(join(installed, name))), `${file}: embedded build ${i} is ${name}`).toBe(true);
      });
    }
    const cjs = readFileSync(join(installed, 'dist/index.cjs'), 'utf8');
    expect(/module\.exports\s*=/.test(cjs), 'dist/index.cjs assigns module.exports').toBe(true);
    expect(/^export\s/m.test(cjs), 'dist/index.cjs has ESM export statements').toBe(false);
    const dts = readFileSync(join(installed, 'dist/index.d.ts'), 'utf8');
    expect(/from ['"]\.\.?\//.test(dts), 'dist/index.d.ts imports relative modules').toBe(false);
    expect(readFileSync(join(installed, 'dist/index.d.cts'), 'utf8') === dts, 'index.d.cts matches index.d.ts').toBe(true);
  });

  it('importing runs nothing: no WebAssembly, no decoding, no init until init() is called', async () => {
    const trap = `const trap = (what) => new Proxy(function () {}, { get(_, k) { throw new Error(what + '.' + String(k) + ' used at import'); }, apply() { throw new Error(what + '() called at import'); } });
globalThis.WebAssembly = trap('WebAssembly'); globalThis.atob = trap('atob');`;
    const esm = await node(['--input-type=module', '-e', `${trap}\nconst m = await import('softmax-wasm');\nconsole.log(JSON.stringify({ backend: m.backend(), exports: Object.keys(m).sort() }));`]);
    const cjs = await node(['--no-experimental-require-module', '-e', `${trap}\nconst m = require('softmax-wasm');\nconsole.log(JSON.stringify({ backend: m.backend(), exports: Object.keys(m).sort() }));`]);
    const a = lastJson(esm);
    const b = lastJson(cjs);
    expect(a.backend).toBeNull();
    expect(b).toEqual(a);
    expect(a.exports).toEqual(expect.arrayContaining(['init', 'initSync', 'backend', 'softmax', 'logSoftmax', 'logSumExp', 'softmaxBackward', 'logSoftmaxBackward', 'crossEntropy', 'crossEntropyWithGrad', 'createWorkspace']));
  });
});

describe('Node consumers of the installed tarball (the examples/ programs)', () => {
  const expected = expectedResults();
  const verify = (out: string, app: string, backends: string[]) => {
    const got = lastJson(out);
    expect(got.app).toBe(app);
    expect(backends).toContain(got.backend);
    expect(compareValues(got, expected)).toEqual([]);
  };

  it('ESM: import + await init() (examples/node-esm)', async () => {
    verify(await node(['esm.mjs']), 'node-esm', ['simd', 'relaxed-simd']);
    verify(await node(['esm.mjs', 'scalar']), 'node-esm', ['scalar']);
  });

  it('CommonJS on a Node without require(esm): node --no-experimental-require-module (examples/node-cjs)', async () => {
    verify(await node(['--no-experimental-require-module', 'cjs.cjs']), 'node-cjs', ['simd', 'relaxed-simd']);
    verify(await node(['--no-experimental-require-module', 'cjs.cjs', 'scalar']), 'node-cjs', ['scalar']);
    const resolved = (await node(['--no-experimental-require-module', '-e', "console.log(require.resolve('softmax-wasm'))"])).trim();
    expect(resolved).toBe(join(installed, 'dist/index.cjs'));
  });

  it('a worker_thread with initSync() (examples/worker-app/node-worker.mjs)', async () => {
    verify(await node(['node-worker.mjs']), 'node-worker', ['simd', 'relaxed-simd']);
  });

  it('init({ wasm }) with the shipped .wasm bytes and with a compiled WebAssembly.Module', async () => {
    const script = `import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { init, initSync, backend, softmax } from 'softmax-wasm';
const file = (b) => createRequire(import.meta.url).resolve('softmax-wasm/wasm/softmax.' + b + '.wasm');
const out = {};
await init({ wasm: readFileSync(file('scalar')) });
out.bytes = backend();
await init({ wasm: await WebAssembly.compile(readFileSync(file('simd'))) });
out.module = backend();
initSync({ wasm: new WebAssembly.Module(readFileSync(file('scalar'))) });
out.syncModule = backend();
out.softmax = Array.from(softmax(new Float64Array([1, 2, 3]), { classes: 3 }));
try { await init({ wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }); out.foreign = 'accepted'; } catch (e) { out.foreign = e.constructor.name; }
out.after = backend();
console.log(JSON.stringify(out));`;
    const got = lastJson(await node(['--input-type=module', '-e', script]));
    expect(got).toMatchObject({ bytes: 'scalar', module: 'simd', syncModule: 'scalar', foreign: 'TypeError', after: 'scalar' });
    const e = [1, 2, 3].map((v) => Math.exp(v - 3));
    const s = e.reduce((x, y) => x + y);
    (got.softmax as number[]).forEach((v, i) => expect(v).toBeCloseTo(e[i]! / s, 15));
  });
});

describe('strict TypeScript consumers of the installed tarball (test/types)', () => {
  it('moduleResolution "bundler": tsc --noEmit --strict', async () => {
    await tsc('tsconfig.bundler.json');
  });
  it('moduleResolution "node16", ESM and CommonJS (.d.cts), Node-only lib: tsc --noEmit --strict', async () => {
    await tsc('tsconfig.node16.json');
  });
});

describe('size', () => {
  it(`the whole package, minified and gzipped, is within the README budget (${BUDGET_KB} kB)`, async () => {
    const m = await measure();
    console.log(`size: ${(m.minGzip / 1000).toFixed(1)} kB min+gzip (budget ${BUDGET_KB} kB), ${(m.minBrotli / 1000).toFixed(1)} kB brotli; tarball ${(packed.size / 1000).toFixed(1)} kB`);
    expect(m.minGzip).toBeLessThanOrEqual(BUDGET_KB * 1000);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => /size budget/i.test(l));
    expect(line, 'README.md has a "size budget" line').toBeDefined();
    expect(line).toMatch(new RegExp(`\\b${BUDGET_KB} kB`));
  });
});
