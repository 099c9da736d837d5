// docs/ARCHITECTURE.md is the map a newcomer reads first: it must name every source file of src/
// and assembly/ (and no file that is gone), so it cannot fall behind the code unnoticed.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');

it('docs/ARCHITECTURE.md names every file of src/ and assembly/, and only files that exist', () => {
  const files = ['src', 'assembly'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.ts')).map((f) => `${d}/${f}`));
  expect(files.filter((f) => !doc.includes('`' + f + '`'))).toEqual([]);
  const named = [...doc.matchAll(/`((?:src|assembly)\/[\w./-]+\.ts)`/g)].map((m) => m[1]!);
  const gone = named.filter((f) => !f.startsWith('src/wasm/') && !files.includes(f));
  expect(gone).toEqual([]);
});
