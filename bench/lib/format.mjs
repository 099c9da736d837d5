// Number formatting and plain-text / markdown tables.

export const shapeKey = ([r, c]) => `${r}x${c}`;
export const shapeLabel = ([r, c]) => `[${r},${c}]`;

/** elements/s with an SI-ish suffix: 1.23G, 456.7M, 12.3k. */
export function fmtRate(r) {
  if (r == null || !Number.isFinite(r)) return '–';
  if (r >= 1e9) return `${(r / 1e9).toFixed(2)}G`;
  if (r >= 1e6) return `${(r / 1e6).toFixed(r >= 1e8 ? 0 : 1)}M`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)}k`;
  return r.toFixed(0);
}

export function fmtRatio(x) {
  if (x == null || !Number.isFinite(x)) return '–';
  return `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)}x`;
}

/** A duration given in ns, in ns / µs / ms. */
export function fmtNs(ns) {
  if (ns == null || !Number.isFinite(ns)) return '–';
  if (ns < 1e4) return `${ns.toFixed(0)} ns`;
  if (ns < 1e7) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${(ns / 1e6).toFixed(1)} ms`;
}

/**
 * A markdown table (also readable as plain text): first column left-aligned, the others right.
 * @param {string[]} header
 * @param {string[][]} rows
 */
export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
