// The README's API examples run as written and print what their comments say: every
// `console.log(...); // → expected` line is checked (numbers to the printed precision).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const api = readme.slice(readme.indexOf('\n## API'), readme.indexOf('\n## ', readme.indexOf('\n## API') + 5));
const blocks = [...api.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);

// Each console.log call prints one JSON line, typed arrays as plain arrays.
const prelude = `console.log = (...a) => process.stdout.write(JSON.stringify(a.map((v) => ArrayBuffer.isView(v) ? Array.from(v) : v)) + '\\n');\n`;
const tokens = (s: string) => s.trim().split(/[\s,]+/).filter(Boolean);

describe('README API examples', () => {
  it('has the examples', () => expect(blocks.length).toBeGreaterThanOrEqual(6));
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what it says`, () => {
      // Inside the package folder, so 'softmax-wasm' resolves to this package (dist/) by name.
      const dir = join(root, 'test', '.readme');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `example-${i + 1}.mjs`);
      writeFileSync(file, prelude + code);
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      const expected = [...code.matchAll(/console\.log\(.*\);\s*\/\/ → (.*)$/gm)].map((m) => m[1]!);
      expect(out.length).toBe(expected.length);
      out.forEach((line, k) => {
        const got = (JSON.parse(line) as unknown[]).flat().map(String);
        const want = tokens(expected[k]!);
        expect(got.length, `line ${k + 1}: ${line}`).toBe(want.length);
        want.forEach((w, j) => {
          const g = got[j]!;
          if (Number.isNaN(Number(w))) return expect(g).toBe(w);
          const digits = (w.split('.')[1] ?? '').length;
          expect(Math.abs(Number(g) - Number(w)), `line ${k + 1} value ${j + 1}: ${g} vs ${w}`).toBeLessThanOrEqual(0.5 * 10 ** -digits + 1e-12);
        });
      });
    });
  });
});

describe('README links and the API reference', () => {
  // Markdown links and images whose target is a path (no scheme): each must name a file or
  // folder of this repository, so that a clone (and the package page) has no dead link.
  const targets = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split('#')[0]!)
    .filter((t) => t !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(t));

  it('has relative links', () => expect(targets.length).toBeGreaterThan(3));
  it.each(targets)('%s resolves inside the repository', (t) => {
    const path = resolve(root, t);
    expect(path.startsWith(root + '/'), `${t} leaves the repository`).toBe(true);
    expect(existsSync(path), `${t} does not exist`).toBe(true);
  });

  it('docs/API.md documents every public export', () => {
    const reference = readFileSync(join(root, 'docs/API.md'), 'utf8');
    const index = readFileSync(join(root, 'src/index.ts'), 'utf8');
    const names = [...index.matchAll(/^export \{([^}]*)\}/gm)].flatMap((m) => m[1]!.split(',').map((n) => n.trim()).filter(Boolean));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(reference, name).toContain(name);
  });
});
