// `npm run accuracy`: worst and mean error of every float32 operation against float64 references,
// per input family (issue 19's edges: wide spans, subnormal outputs, confident rows, offsets), for
// our three builds and for the peers installed in the bench's folder (bench/node_modules; skipped
// when absent); then the same for float64 inputs against double-double references
// (bench/baselines/reference-dd.mjs), our builds only. Prints markdown tables (the README's
// accuracy tables are this output).
//
// Errors, each against the float64 value of the same float32 inputs:
//   softmax     ulp of the reference (2^(floor(log2 |ref|) - 23)), outputs >= 2^-126; subnormal
//               outputs separately, as |out - ref| in units of 2^-149 (the smallest subnormal)
//   logSoftmax  ulp where |ref| >= 2^-10; relative error where |ref| < 2^-10 (near 0: the
//               dominant class), reported as "rel"
//   logSumExp   ulp; crossEntropy (mean) relative error; gradient max |g - ref| * N
// The float64 references take log1p of the off-max mass (the max term contributes exactly 1), so
// they are exact to float64 rounding also where the sum is near 1.
//
//   npm run accuracy [-- --families=normal,'wide [-80,20]'] [-- --readme: also rewrite README.md's table]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const isMain = process.argv[1] === fileURLToPath(import.meta.url);
// (only when run itself: what imports it, emulate-softmax.mjs and test/accuracy-table.test.ts, runs as it is)
if (isMain && Number(process.versions.node.split('.')[0]) < 22 && !process.execArgv.includes(RELAXED_FLAG)) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [RELAXED_FLAG, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { ours, libraryFor, loadBaselines, BASELINE_IDS } = await import('../../bench/lib/impls.mjs');
const { mulberry32 } = await import('../../bench/baselines/reference64.mjs');
const DD = await import('../../bench/baselines/reference-dd.mjs');

/** The bench's seeded generator (mulberry32), so every run measures the same inputs. */
const rng = mulberry32;
function normal(r) {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** The families: [rows, C], the logits, the labels. Widths are not multiples of 4 on purpose. */
export const FAMILIES = {
  'normal': { rows: 64, C: 1003, gen: (r) => 2 * normal(r) },
  // Ordinary rows, as the benchmark's (2·N(0, 1)) and twice as spread, with enough rows that the
  // worst of them shows: the softmax misses 4 ulp on these too, with no edge (see the README).
  'normal C=10': { rows: 4096, C: 10, gen: (r) => 2 * normal(r) },
  'normal C=100': { rows: 2048, C: 100, gen: (r) => 2 * normal(r) },
  'normal x2 C=1000': { rows: 256, C: 1000, gen: (r) => 4 * normal(r) },
  'wide [-80,20]': { rows: 64, C: 1003, gen: (r) => -80 + 100 * r() },
  'wide [-200,50]': { rows: 64, C: 1003, gen: (r) => -200 + 250 * r() },
  'subnormal': { rows: 64, C: 1003, gen: (r) => -104 + 16 * r(), lead: 0 },
  'wide [-80,20] C=10': { rows: 256, C: 10, gen: (r) => -80 + 100 * r() },
  'dominant C=10': { rows: 256, C: 10, gen: (r) => normal(r), lead: 8 },
  'confident C=10': { rows: 256, C: 10, gen: (r) => normal(r), lead: 19 },
  'confident C=1001': { rows: 32, C: 1001, gen: (r) => normal(r), lead: 25 },
  'confident C=32003': { rows: 4, C: 32003, gen: (r) => normal(r), lead: 30 },
  'offset +1e4': { rows: 64, C: 1003, gen: (r) => 1e4 + 3 * normal(r) },
  'offset -1e4': { rows: 64, C: 1003, gen: (r) => -1e4 + 3 * normal(r) },
  'offset +1e4 C=13': { rows: 256, C: 13, gen: (r) => 1e4 + 3 * normal(r) },
  'wide [-66,20] C=40': { rows: 256, C: 40, gen: (r) => -66 + 86 * r() },
  'confident wrong C=1003': { rows: 64, C: 1003, gen: (r) => normal(r), lead: 7, wrong: true },
  'confident wrong C=100': { rows: 256, C: 100, gen: (r) => normal(r), lead: 5, wrong: true },
};

/** The float64 table's families (FAMILIES' generators, with float64 logits). */
export const FAMILIES64 = ['normal', 'wide [-80,20]', 'dominant C=10', 'confident C=10', 'confident C=1001', 'offset +1e4', 'offset -1e4', 'offset +1e4 C=13'];

export function makeFamily(name, seed = 19, Type = Float32Array) {
  const f = FAMILIES[name];
  const r = rng(seed + name.length * 7919);
  const x = new Type(f.rows * f.C);
  const labels = new Int32Array(f.rows);
  for (let i = 0; i < f.rows; i++) {
    labels[i] = Math.floor(r() * f.C);
    for (let c = 0; c < f.C; c++) x[i * f.C + c] = f.gen(r);
    // 'lead': the label's logit leads the row's others by `lead` plus up to 1 (a confident
    // prediction); lead 0 puts a 0 at the label (the max of the 'subnormal' rows).
    if (f.lead !== undefined) {
      let m = -Infinity;
      for (let c = 0; c < f.C; c++) if (c !== labels[i]) m = Math.max(m, x[i * f.C + c]);
      x[i * f.C + labels[i]] = f.lead === 0 ? 0 : m + f.lead + r();
      // 'wrong': the label is another class (a confident and wrong prediction)
      if (f.wrong) labels[i] = (labels[i] + 1) % f.C;
    }
  }
  return { rows: f.rows, C: f.C, x, labels };
}

/** Float64 references of one row: max, the off-max mass (sum of exp(x - max) over all but one
 *  max element), lse = max + log1p(mass). */
function rowRef(x, o, C) {
  let m = -Infinity, im = 0;
  for (let c = 0; c < C; c++) if (x[o + c] > m) (m = x[o + c]), (im = c);
  let mass = 0;
  for (let c = 0; c < C; c++) if (c !== im) mass += Math.exp(x[o + c] - m);
  return { m, im, mass, logS: Math.log1p(mass) };
}

export function references({ rows, C, x, labels }) {
  const p = new Float64Array(rows * C), lp = new Float64Array(rows * C), lse = new Float64Array(rows), grad = new Float64Array(rows * C);
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * C;
    const { m, im, mass, logS } = rowRef(x, o, C);
    const S = 1 + mass;
    lse[i] = m + logS;
    for (let c = 0; c < C; c++) {
      p[o + c] = Math.exp(x[o + c] - m) / S;
      lp[o + c] = (x[o + c] - m) - logS;
    }
    const t = labels[i];
    loss += (m - x[o + t]) + logS;
    // p_t - 1 = -(sum of the others' exp) / S, formed without the cancellation
    let others = t === im ? mass : 0;
    if (t !== im) for (let c = 0; c < C; c++) if (c !== t) others += Math.exp(x[o + c] - m);
    for (let c = 0; c < C; c++) grad[o + c] = (c === t ? -others / S : p[o + c]) / rows;
  }
  return { p, lp, lse, loss: loss / rows, grad };
}

/** The ulp of a float32 in the binade of v (v a normal float32 value). */
export const ulpOf = (v) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);

class Stat {
  worst = 0;
  sum = 0;
  n = 0;
  add(e) {
    if (Number.isNaN(e)) e = Infinity;
    this.worst = Math.max(this.worst, e);
    this.sum += e;
    this.n++;
  }
  get mean() {
    return this.n ? this.sum / this.n : NaN;
  }
}

/** The errors of one implementation's results on one family (undefined results: not measured). */
export function errors(ref, got, rows) {
  const out = {};
  if (got.softmax) {
    const ulp = new Stat(), sub = new Stat();
    for (let i = 0; i < ref.p.length; i++) {
      const e = ref.p[i], v = got.softmax[i];
      if (e >= 2 ** -126) ulp.add(Math.abs(v - e) / ulpOf(e));
      else if (e >= 2 ** -150) sub.add(Math.abs(v - e) / 2 ** -149);
    }
    out.softmax = ulp;
    if (sub.n) out['softmax subnormal (2^-149)'] = sub;
  }
  if (got.logSoftmax) {
    const ulp = new Stat(), rel = new Stat();
    for (let i = 0; i < ref.lp.length; i++) {
      const e = ref.lp[i], v = got.logSoftmax[i];
      if (Math.abs(e) >= 2 ** -10) ulp.add(Math.abs(v - e) / ulpOf(e));
      else if (e !== 0) rel.add(Math.abs(v - e) / Math.abs(e));
    }
    out.logSoftmax = ulp;
    if (rel.n) out['logSoftmax near 0 (rel)'] = rel;
  }
  if (got.logSumExp) {
    const s = new Stat();
    for (let i = 0; i < ref.lse.length; i++) s.add(Math.abs(got.logSumExp[i] - ref.lse[i]) / ulpOf(ref.lse[i]));
    out.logSumExp = s;
  }
  if (got.loss !== undefined) {
    const s = new Stat();
    s.add(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss));
    out['crossEntropy (rel)'] = s;
  }
  if (got.grad) {
    const s = new Stat();
    for (let i = 0; i < ref.grad.length; i++) s.add(Math.abs(got.grad[i] - ref.grad[i]) * rows);
    out['gradient (abs x N)'] = s;
  }
  return out;
}

/** The double-double references of a float64 family, rounded to float64 where an error is taken
 *  in ulps, kept double-double where a difference could cancel (the loss, p - 1). */
export function references64({ rows, C, x, labels }) {
  const out = { p: [], lp: [], lse: [], grad: [] };
  let loss = DD.dd(0);
  for (let i = 0; i < rows; i++) {
    const row = DD.softmaxRow(x.subarray(i * C, (i + 1) * C));
    const t = labels[i];
    out.p.push(...row.p);
    out.lp.push(...row.logp);
    out.lse.push(row.lse);
    loss = DD.add(loss, DD.add(row.logS, DD.neg(row.d[t])));
    for (let c = 0; c < C; c++) {
      const g = c === t ? DD.add(row.p[c], DD.dd(-1)) : row.p[c];
      out.grad.push(DD.toNumber(g) / rows);
    }
  }
  out.loss = DD.toNumber(loss) / rows;
  return out;
}

/** errors() for float64 results against references64: ulps of float64. */
export function errors64(ref, got, rows) {
  const out = {};
  const softmax = new Stat(), lsm = new Stat(), lsmNear0 = new Stat(), lse = new Stat();
  for (let i = 0; i < ref.p.length; i++) if (ref.p[i].hi >= 2 ** -1022) softmax.add(DD.ulps64(got.softmax[i], ref.p[i]));
  for (let i = 0; i < ref.lp.length; i++) {
    const e = DD.toNumber(ref.lp[i]);
    if (Math.abs(e) >= 2 ** -10) lsm.add(DD.ulps64(got.logSoftmax[i], ref.lp[i]));
    else if (e !== 0) lsmNear0.add(Math.abs(got.logSoftmax[i] - e) / Math.abs(e));
  }
  for (let i = 0; i < ref.lse.length; i++) lse.add(DD.ulps64(got.logSumExp[i], ref.lse[i]));
  out.softmax = softmax;
  out.logSoftmax = lsm;
  if (lsmNear0.n) out['logSoftmax near 0 (rel)'] = lsmNear0;
  out.logSumExp = lse;
  const loss = new Stat();
  loss.add(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss));
  out['crossEntropy (rel)'] = loss;
  const grad = new Stat();
  for (let i = 0; i < ref.grad.length; i++) grad.add(Math.abs(got.grad[i] - ref.grad[i]) * rows);
  out['gradient (abs x N)'] = grad;
  return out;
}

/** Our float64 results on a family, with the given build. */
async function run64(fam, backend) {
  const lib = await libraryFor(backend);
  const o = { classes: fam.C };
  return {
    softmax: lib.softmax(fam.x, o), logSoftmax: lib.logSoftmax(fam.x, o), logSumExp: lib.logSumExp(fam.x, o),
    loss: Number(lib.crossEntropy(fam.x, fam.labels, o)), grad: lib.crossEntropyWithGrad(fam.x, fam.labels, o).grad,
  };
}

/** The header lines of a markdown table with one column per implementation. */
function tableHead(names) {
  return [`| family | operation | ${names.join(' | ')} |`, `| --- | --- | ${names.map(() => '---:').join(' | ')} |`];
}

/** One table cell: worst / mean of an operation's errors (a Stat; — where an implementation
 *  lacks the operation). */
export function cell(op, s) {
  const rel = op.includes('rel') || op.includes('x N');
  return !s ? '—' : rel ? `${s.worst.toExponential(1)} / ${s.mean.toExponential(1)}` : `${s.worst.toFixed(2)} / ${s.mean.toFixed(2)}`;
}

/** One table line per operation of a family (cols: errors() or errors64() results, one per
 *  column). */
function tableRows(name, fam, cols) {
  const ops = [...new Set(cols.flatMap((c) => Object.keys(c)))];
  return ops.map((op) => `| ${name} [${fam.rows},${fam.C}] | ${op} | ${cols.map((c) => cell(op, c[op])).join(' | ')} |`);
}

/** errors() of one of our builds on a family (the float32 table's column of that build). */
export async function ourErrors(fam, ref, backend) {
  return errors(ref, await runImpl(ours(backend, 'api'), fam, backend), fam.rows);
}

/** Runs one bench implementation (bench/lib/impls.mjs interface) on a family. */
async function runImpl(impl, fam, backend) {
  const got = {};
  const ops = { softmax: 'softmax', logSoftmax: 'logSoftmax', crossEntropy: 'loss', crossEntropyWithGrad: 'grad' };
  for (const [op, key] of Object.entries(ops)) {
    if (!impl.ops.includes(op)) continue;
    const p = await impl.prepare(op, fam.x, fam.labels, fam.rows, fam.C);
    await p.run();
    const r = await p.result();
    if (key === 'grad') got.grad = Float32Array.from(r.grad);
    else if (key === 'loss') got.loss = Number(r);
    else got[key] = Float32Array.from(r);
    p.dispose?.();
  }
  if (backend) got.logSumExp = (await libraryFor(backend)).logSumExp(fam.x, { classes: fam.C });
  return got;
}

async function main() {
  const arg = process.argv.find((a) => a.startsWith('--families='));
  const names = arg ? arg.slice(11).split(',') : Object.keys(FAMILIES);
  const impls = ['scalar', 'simd', 'relaxed-simd'].map((b) => ({ impl: ours(b, 'api'), name: b, backend: b }));
  const peerDir = new URL('../../bench/node_modules/', import.meta.url);
  let peers = [];
  if (existsSync(peerDir)) {
    try {
      peers = (await loadBaselines(BASELINE_IDS.filter((id) => !id.includes('+')))).map((impl) => ({ impl, name: impl.short, backend: null }));
    } catch (err) {
      console.error(`accuracy: peers skipped (${err?.message ?? err})`);
    }
  } else console.error('accuracy: peers skipped (bench/node_modules is absent: `npm run bench:install`)');
  const all = [...impls, ...peers];
  const lines = tableHead(all.map((i) => i.name));
  for (const name of names) {
    const fam = makeFamily(name);
    const ref = references(fam);
    const cols = [];
    for (const { impl, backend } of all) cols.push(errors(ref, await runImpl(impl, fam, backend), fam.rows));
    lines.push(...tableRows(name, fam, cols));
  }
  for (const p of peers) p.impl.dispose?.();
  const date = new Date().toISOString().slice(0, 10);
  const head = `worst / mean error per operation and family, float32 against float64 references (${date}, Node ${process.versions.node}${peers.length ? '' : '; peers not installed'}):`;
  const builds = impls.map((i) => i.name);
  const lines64 = tableHead(builds);
  for (const name of arg ? names.filter((n) => FAMILIES64.includes(n)) : FAMILIES64) {
    const fam = makeFamily(name, 19, Float64Array);
    const ref = references64(fam);
    const cols = [];
    for (const b of builds) cols.push(errors64(ref, await run64(fam, b), fam.rows));
    lines64.push(...tableRows(name, fam, cols));
  }
  const head64 = `float64: worst / mean error in ulps of float64 (relative or x N where marked), against double-double references (${date}, Node ${process.versions.node}):`;
  const text = `${head}\n\n${lines.join('\n')}\n\n${head64}\n\n${lines64.join('\n')}`;
  console.log(text);
  // --readme: the table also replaces the README's, between its markers
  if (process.argv.includes('--readme')) {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const file = new URL('../../README.md', import.meta.url);
    const readme = readFileSync(file, 'utf8');
    const [a, b] = ['<!-- accuracy:start -->', '<!-- accuracy:end -->'].map((m) => readme.indexOf(m));
    if (a < 0 || b < a) throw new Error('accuracy: README.md has no <!-- accuracy:start --> ... <!-- accuracy:end --> markers');
    writeFileSync(file, `${readme.slice(0, a)}<!-- accuracy:start -->\n${text}\n${readme.slice(b)}`);
  }
}

if (isMain) await main();
