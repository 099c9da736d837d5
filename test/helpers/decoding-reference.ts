// The obvious decoding implementation, in float64 with full sorts: the reference the property
// tests hold the library to (written from docs/API.md "Decoding" and Transformers' warpers,
// sharing nothing with src/ or assembly/).

export interface RefOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  minTokensToKeep?: number;
  repetitionPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  previousTokens?: number[];
}

export interface RefRow {
  /** The distribution over the row. */
  p: Float64Array;
  /** How far the closest top-p / min-p decision was from flipping (relative), Infinity if none. */
  margin: number;
}

function softmaxOf(z: number[]): number[] {
  const m = Math.max(...z);
  if (m === -Infinity) return z.map(() => 0);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** The value of the k-th largest (1-based) of `v`, or -Infinity when k > length. */
function kthLargest(v: number[], k: number): number {
  const s = [...v].sort((a, b) => b - a);
  return k <= s.length ? s[k - 1]! : -Infinity;
}

/** The relative gap between the least probable kept token and the most probable one a step
 *  removed (Infinity if it removed none): below the element type's rounding, the step's
 *  decision is rounding's. */
function boundaryGap(p: number[], z: number[]): number {
  let kept = Infinity, removed = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    if (z[i] === -Infinity) removed = Math.max(removed, p[i]!);
    else kept = Math.min(kept, p[i]!);
  }
  return removed === 0 ? Infinity : (kept - removed) / kept;
}

/** One row's sampling distribution (and how robust its decisions are). */
export function refDistribution(row: ArrayLike<number>, o: RefOptions): RefRow {
  const C = row.length;
  let x = Array.from(row);
  const prev = o.previousTokens ?? [];
  const count = new Map<number, number>();
  for (const t of prev) count.set(t, (count.get(t) ?? 0) + 1);
  const rp = o.repetitionPenalty ?? 1, pp = o.presencePenalty ?? 0, fp = o.frequencyPenalty ?? 0;
  for (const [t, c] of count) {
    let v = x[t]!;
    if (rp !== 1) v = v < 0 ? v * rp : v / rp;
    x[t] = v - pp - fp * c;
  }
  const T = o.temperature ?? 1;
  if (T === 0) {
    let best = 0;
    for (let i = 1; i < C; i++) if (x[i]! > x[best]!) best = i;
    const p = new Float64Array(C);
    p[best] = 1;
    return { p, margin: Infinity };
  }
  let z = x.map((v) => v / T);
  const keep = Math.max(1, o.minTokensToKeep ?? 1);
  let margin = Infinity;
  if ((o.topK ?? 0) > 0) {
    const k = Math.min(Math.max(o.topK!, keep), C);
    const t = kthLargest(z, k);
    z = z.map((v) => (v < t ? -Infinity : v));
  }
  const topP = o.topP ?? 1;
  if (topP < 1) {
    const p = softmaxOf(z);
    const order = [...p.keys()].sort((a, b) => p[b]! - p[a]!);
    const above = new Float64Array(C);
    let acc = 0;
    for (let j = 0; j < C; ) {
      let e = j;
      while (e < C && p[order[e]!] === p[order[j]!]) e++;
      for (let q = j; q < e; q++) above[order[q]!] = acc;
      for (let q = j; q < e; q++) acc += p[order[q]!]!;
      j = e;
    }
    const tk = p[order[Math.min(keep, C) - 1]!]!;
    z = z.map((v, i) => {
      if (v === -Infinity) return v;
      margin = Math.min(margin, Math.abs(above[i]! - topP));
      return above[i]! < topP || p[i]! >= tk ? v : -Infinity;
    });
    margin = Math.min(margin, boundaryGap(p, z));
  }
  const minP = o.minP ?? 0;
  if (minP > 0) {
    const p = softmaxOf(z);
    const pmax = Math.max(...p);
    const tk = kthLargest(p, Math.min(keep, C));
    z = z.map((v, i) => {
      if (v === -Infinity) return v;
      if (p[i]! !== pmax) margin = Math.min(margin, Math.abs(p[i]! - minP * pmax) / (minP * pmax));
      return p[i]! >= minP * pmax || p[i]! >= tk ? v : -Infinity;
    });
    margin = Math.min(margin, boundaryGap(p, z));
  }
  return { p: Float64Array.from(softmaxOf(z)), margin };
}

/** The index inverse-CDF sampling draws from `p` for `u`, and the distance of u from the
 *  nearest CDF boundary of a nonzero token. */
export function refSample(p: ArrayLike<number>, u: number): { index: number; margin: number } {
  let acc = 0;
  let margin = Infinity;
  let found = -1;
  let last = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i]! === 0) continue;
    last = i;
    acc += p[i]!;
    margin = Math.min(margin, Math.abs(acc - u));
    if (found < 0 && acc > u) found = i;
  }
  return { index: found < 0 ? last : found, margin };
}

/** The k largest of a row, descending, ties by lower index (NaN largest), and log-softmax(x / T). */
export function refTopK(row: ArrayLike<number>, k: number, T = 1): { indices: number[]; values: number[]; logProbs: number[] } {
  const x = Array.from(row);
  const key = (v: number) => (Number.isNaN(v) ? Infinity : v);
  const order = [...x.keys()].sort((a, b) => {
    const d = key(x[b]!) - key(x[a]!);
    if (d !== 0 && !Number.isNaN(d)) return d;
    const an = Number.isNaN(x[a]!), bn = Number.isNaN(x[b]!);
    if (an !== bn) return an ? -1 : 1;
    return a - b;
  });
  const indices = order.slice(0, k);
  const z = x.map((v) => v / T);
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return { indices, values: indices.map((i) => x[i]!), logProbs: indices.map((i) => z[i]! - lse) };
}
