// The shape the code keeps (issue 14's "done when"): no class in src/ longer than 200 lines and no
// function longer than 80, so each concern stays small enough to read in one sitting; and no
// module-level mutable state in assembly/ (kernels hand results out through caller's pointers).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sources = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`);

/** Every class and function of a file with its length in lines. */
function spans(file: string): { kind: 'class' | 'function'; name: string; lines: number }[] {
  const sf = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { kind: 'class' | 'function'; name: string; lines: number }[] = [];
  const line = (p: number) => sf.getLineAndCharacterOfPosition(p).line;
  const visit = (n: ts.Node): void => {
    const lines = line(n.getEnd()) - line(n.getStart(sf)) + 1;
    const name = (n as { name?: ts.Node }).name?.getText(sf) ?? `<anonymous at line ${line(n.getStart(sf)) + 1}>`;
    if (ts.isClassLike(n)) out.push({ kind: 'class', name: `${file}: ${name}`, lines });
    else if (ts.isFunctionLike(n) && (n as ts.FunctionLikeDeclaration).body) out.push({ kind: 'function', name: `${file}: ${name}`, lines });
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

it('no class in src/ is longer than 200 lines, and no function longer than 80', () => {
  const all = sources('src').flatMap(spans);
  expect(all.length).toBeGreaterThan(100); // the parser found the code
  expect(all.filter((s) => s.kind === 'class' && s.lines > 200).map((s) => `${s.name} (${s.lines})`)).toEqual([]);
  expect(all.filter((s) => s.kind === 'function' && s.lines > 80).map((s) => `${s.name} (${s.lines})`)).toEqual([]);
});

it('assembly/ has no module-level let or var', () => {
  const found = sources('assembly').flatMap((f) =>
    readFileSync(join(ROOT, f), 'utf8').split('\n').flatMap((l, i) => (/^(export\s+)?(let|var)\s/.test(l) ? [`${f}:${i + 1}: ${l}`] : [])));
  expect(found).toEqual([]);
});
