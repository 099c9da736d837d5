// test:browser skip (reads README.md and runs scripts/test/accuracy.mjs on the built package)
// The README's accuracy table is what `npm run accuracy -- --readme` printed for the build it
// documents: its scalar and simd columns must be what this build gives now, cell for cell. (A
// kernel change that moves an error must regenerate the table; it once went stale for a session.
// The relaxed-simd column is left out: whether relaxed_madd fuses depends on the CPU. The peers'
// columns need the bench's packages.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs helpers without declarations
import { FAMILIES, cell, makeFamily, ourErrors, references } from '../scripts/test/accuracy.mjs';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const TABLE = README.slice(README.indexOf('<!-- accuracy:start -->'), README.indexOf('float64: worst / mean error'));
const HEAD = TABLE.split('\n').find((l) => l.startsWith('| family |'))!.split('|').map((c) => c.trim());

/** The README's cells of one family's rows: operation -> column name -> cell. */
function readmeCells(label: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const line of TABLE.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells[1] !== label) continue;
    out.set(cells[2]!, new Map(HEAD.map((h, i) => [h, cells[i]!] as [string, string])));
  }
  return out;
}

describe('README accuracy table', () => {
  it.each(Object.keys(FAMILIES))('%s: the scalar and simd columns are this build\'s', async (name) => {
    const fam = makeFamily(name);
    const ref = references(fam);
    const rows = readmeCells(`${name} [${fam.rows},${fam.C}]`);
    expect(rows.size, 'the family has rows in the README table').toBeGreaterThan(0);
    for (const backend of ['scalar', 'simd']) {
      const errs = await ourErrors(fam, ref, backend);
      for (const [op, stat] of Object.entries(errs)) {
        expect(rows.get(op)?.get(backend), `${backend} ${op} (run npm run accuracy -- --readme)`).toBe(cell(op, stat));
      }
    }
  });
});
