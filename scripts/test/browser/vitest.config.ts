// The library's own unit suite in headless Chromium (vitest browser mode, playwright provider,
// Debian's /usr/bin/chromium), so that browser-only failures surface: `npm run test:browser`
// runs it after the example apps. The suites are the Node ones, unchanged: every
// test/**/*.test.ts that does not itself import a Node built-in. Their helpers read the fixture
// JSON with node:fs; here a virtual node:fs serves the same files, inlined at bundle time.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixturesDir = process.env.SOFTMAX_WASM_FIXTURES || resolve(root, 'test/fixtures/torch');
const decodingDir = resolve(root, 'test/fixtures/decoding');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The test files that can run in a browser: no direct Node built-in imports, and no line
 *  `// test:browser skip` (for a suite that is about Node itself). */
function browserSuites(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.test.ts')) {
        const text = readFileSync(p, 'utf8');
        if (/from\s+['"](node:|worker_threads|child_process|fs['"]|path['"])/.test(text) || /^\/\/ test:browser skip\b/m.test(text)) continue;
        out.push(relative(root, p));
      }
    }
  };
  walk(join(root, 'test'));
  return out.sort();
}

/** node:fs / node:path / node:url for the test helpers, in the browser. */
function nodeShims(): Plugin {
  const ids: Record<string, string> = { 'node:fs': '\0shim:fs', 'node:path': '\0shim:path', 'node:url': '\0shim:url' };
  return {
    name: 'softmax-wasm:node-shims',
    enforce: 'pre',
    resolveId(id) {
      return ids[id] ?? null;
    },
    load(id) {
      if (id === '\0shim:fs') {
        // { op: { file: text } } of every fixture, keyed by the last path segments, which is
        // how the helpers address them (join(FIXTURES_DIR, op, file), join(DECODING_DIR, group,
        // file)); the PyTorch ops and the decoding groups have distinct folder names.
        const files: Record<string, Record<string, string>> = {};
        for (const dir of [fixturesDir, decodingDir]) {
          for (const op of readdirSync(dir, { withFileTypes: true })) {
            if (!op.isDirectory()) continue;
            if (op.name in files) throw new Error(`fixture folder ${op.name} appears twice`);
            files[op.name] = {};
            for (const f of readdirSync(join(dir, op.name))) {
              if (f.endsWith('.json')) files[op.name]![f] = readFileSync(join(dir, op.name, f), 'utf8');
            }
          }
        }
        return `const files = ${JSON.stringify(files)};
const parts = (p) => String(p).split('/').filter(Boolean);
export function existsSync(p) { const s = parts(p); return s[s.length - 1] in files || (s[s.length - 2] in files && s[s.length - 1] in files[s[s.length - 2]]); }
export function readdirSync(p) { const s = parts(p); const d = files[s[s.length - 1]]; if (!d) throw new Error('ENOENT: ' + p); return Object.keys(d); }
export function readFileSync(p) { const s = parts(p); const d = files[s[s.length - 2]]; const t = d && d[s[s.length - 1]]; if (t === undefined) throw new Error('ENOENT: ' + p); return t; }
export default { existsSync, readdirSync, readFileSync };`;
      }
      if (id === '\0shim:path') {
        return `function norm(p) { const out = []; for (const s of p.split('/')) { if (s === '..') out.pop(); else if (s && s !== '.') out.push(s); } return '/' + out.join('/'); }
export function resolve(...ps) { let p = ''; for (const q of ps) p = q.startsWith('/') ? q : p + '/' + q; return norm(p); }
export function join(...ps) { return norm(ps.join('/')); }
export function dirname(p) { return norm(p + '/..'); }
export function basename(p) { const s = p.split('/').filter(Boolean); return s[s.length - 1] ?? ''; }
export default { resolve, join, dirname, basename };`;
      }
      if (id === '\0shim:url') {
        return `export function fileURLToPath(u) { return new URL(String(u)).pathname; }
export function pathToFileURL(p) { return new URL('file://' + p); }
export default { fileURLToPath, pathToFileURL };`;
      }
      return null;
    },
  };
}

if (!existsSync(fixturesDir)) throw new Error(`fixtures not found at ${fixturesDir} (set SOFTMAX_WASM_FIXTURES)`);

export default defineConfig({
  root,
  plugins: [nodeShims()],
  define: { 'process.env.SOFTMAX_WASM_FIXTURES': 'undefined' },
  // Cross-origin isolation, as an app that uses SharedArrayBuffer (or createPool) must have.
  server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
  test: {
    include: browserSuites(),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    browser: {
      enabled: true,
      provider: 'playwright',
      headless: true,
      screenshotFailures: false,
      instances: [
        {
          browser: 'chromium',
          launch: {
            executablePath: chromiumPath,
            args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
          },
        },
      ],
    },
  },
});
