// Hand-written SVG chart of a results.json object: elements/s vs row width (classes), both on log
// axes, one line per implementation; a panel for crossEntropyWithGrad and one for softmax.
// For each row width the line goes through the shape with the most rows ([64,10], [4096,1000],
// [32,32000], [8,128256]); the other shapes of the same width ([1,10], [128,1000]) are drawn as
// hollow markers of the same colour.

import { fmtRate } from './format.mjs';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f = (x) => (Math.round(x * 10) / 10).toString();

const COLORS = {
  'relaxed-simd': '#1b7837',
  simd: '#2166ac',
  scalar: '#8c8c8c',
  naive: '#8c510a',
  'tfjs-wasm': '#e08214',
  'ort-web': '#762a83',
  'ort-node': '#d62728',
};

function styleOf(impl) {
  if (impl.kind === 'ours') {
    return {
      color: COLORS[impl.backend] ?? '#000',
      dash: impl.path === 'ws' ? '7 4' : null,
      marker: impl.path === 'ws' ? 'square' : 'circle',
      width: impl.backend === 'scalar' ? 1.5 : 2.5,
    };
  }
  const [base, variant] = impl.id.split('+');
  return { color: COLORS[base] ?? '#444', dash: variant ? '2 3' : null, marker: variant ? 'triangle' : 'diamond', width: 1.8 };
}

function marker(kind, x, y, r, color, hollow) {
  const fill = hollow ? '#fff' : color;
  const common = `fill="${fill}" stroke="${color}" stroke-width="1.5"`;
  switch (kind) {
    case 'square':
      return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${f(2 * r)}" height="${f(2 * r)}" ${common}/>`;
    case 'diamond':
      return `<path d="M${f(x)} ${f(y - r * 1.3)}L${f(x + r * 1.3)} ${f(y)}L${f(x)} ${f(y + r * 1.3)}L${f(x - r * 1.3)} ${f(y)}Z" ${common}/>`;
    case 'triangle':
      return `<path d="M${f(x)} ${f(y - r * 1.3)}L${f(x + r * 1.2)} ${f(y + r * 0.9)}L${f(x - r * 1.2)} ${f(y + r * 0.9)}Z" ${common}/>`;
    default:
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" ${common}/>`;
  }
}

const decadeLabel = (v) => (v >= 1e9 ? `${v / 1e9}G` : v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : `${v}`);

/** One panel at (ox, oy), plot area w x h. */
function panel(results, op, title, ox, oy, w, h) {
  const entries = results.entries.filter((e) => e.op === op && Number.isFinite(e.elementsPerSec));
  const impls = results.implementations.filter((i) => i.ops.includes(op) && entries.some((e) => e.impl === i.id));
  const parts = [];
  parts.push(`<text x="${ox}" y="${oy - 14}" class="title">${esc(title)}</text>`);
  if (entries.length === 0) {
    parts.push(`<text x="${ox + 10}" y="${oy + 30}" class="axis">not measured in this run</text>`);
    return parts.join('\n');
  }
  const widths = [...new Set(entries.map((e) => e.classes))].sort((a, b) => a - b);
  const lx0 = Math.log10(widths[0]) - 0.25;
  const lx1 = Math.log10(widths[widths.length - 1]) + 0.25;
  const rates = entries.map((e) => e.elementsPerSec);
  const ly0 = Math.floor(Math.log10(Math.min(...rates)));
  const ly1 = Math.ceil(Math.log10(Math.max(...rates)));
  const X = (c) => ox + ((Math.log10(c) - lx0) / (lx1 - lx0)) * w;
  const Y = (r) => oy + h - ((Math.log10(r) - ly0) / (ly1 - ly0)) * h;

  // grid and axes
  parts.push(`<rect x="${ox}" y="${oy}" width="${w}" height="${h}" class="frame"/>`);
  for (let d = ly0; d <= ly1; d++) {
    const v = 10 ** d;
    parts.push(`<line x1="${ox}" x2="${ox + w}" y1="${f(Y(v))}" y2="${f(Y(v))}" class="grid"/>`);
    parts.push(`<text x="${ox - 8}" y="${f(Y(v) + 4)}" text-anchor="end" class="axis">${decadeLabel(v)}</text>`);
    if (d < ly1) {
      for (const m of [2, 5]) {
        parts.push(`<line x1="${ox}" x2="${ox + w}" y1="${f(Y(m * v))}" y2="${f(Y(m * v))}" class="minor"/>`);
      }
    }
  }
  for (let d = Math.ceil(lx0); d <= Math.floor(lx1); d++) {
    const v = 10 ** d;
    parts.push(`<line x1="${f(X(v))}" x2="${f(X(v))}" y1="${oy}" y2="${oy + h}" class="grid"/>`);
    parts.push(`<text x="${f(X(v))}" y="${oy + h + 16}" text-anchor="middle" class="axis">${decadeLabel(v)}</text>`);
  }
  // the shapes under each row width
  for (const c of widths) {
    const shapes = [...new Set(entries.filter((e) => e.classes === c).map((e) => `[${e.rows},${e.classes}]`))];
    parts.push(`<line x1="${f(X(c))}" x2="${f(X(c))}" y1="${oy + h}" y2="${oy + h + 4}" class="tick"/>`);
    parts.push(`<text x="${f(X(c))}" y="${oy + h + 32}" text-anchor="middle" class="shape">${esc(shapes.join(' '))}</text>`);
  }
  parts.push(`<text x="${ox + w / 2}" y="${oy + h + 50}" text-anchor="middle" class="label">row width (classes), log scale</text>`);
  parts.push(
    `<text transform="translate(${ox - 52} ${oy + h / 2}) rotate(-90)" text-anchor="middle" class="label">elements/s (rows·classes / median time), log scale</text>`,
  );

  // series
  for (const impl of impls) {
    const st = styleOf(impl);
    const mine = entries.filter((e) => e.impl === impl.id);
    const main = widths
      .map((c) => mine.filter((e) => e.classes === c).sort((a, b) => b.rows - a.rows)[0])
      .filter(Boolean);
    const pts = main.map((e) => [X(e.classes), Y(e.elementsPerSec)]);
    parts.push(`<g><title>${esc(impl.label)}</title>`);
    if (pts.length > 1) {
      parts.push(
        `<polyline points="${pts.map(([x, y]) => `${f(x)},${f(y)}`).join(' ')}" fill="none" stroke="${st.color}" ` +
          `stroke-width="${st.width}"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''} stroke-linejoin="round"/>`,
      );
    }
    for (const e of mine) {
      const hollow = !main.includes(e);
      parts.push(
        `<g><title>${esc(`${impl.label} [${e.rows},${e.classes}]: ${fmtRate(e.elementsPerSec)} elements/s`)}</title>` +
          marker(st.marker, X(e.classes), Y(e.elementsPerSec), hollow ? 3 : 3.5, st.color, hollow) +
          `</g>`,
      );
    }
    parts.push(`</g>`);
  }

  // legend, right of the plot
  const lx = ox + w + 24;
  impls.forEach((impl, i) => {
    const st = styleOf(impl);
    const y = oy + 8 + i * 19;
    parts.push(
      `<line x1="${lx}" x2="${lx + 30}" y1="${y}" y2="${y}" stroke="${st.color}" stroke-width="${st.width}"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''}/>`,
    );
    parts.push(marker(st.marker, lx + 15, y, 3.5, st.color, false));
    parts.push(`<text x="${lx + 38}" y="${y + 4}" class="legend">${esc(impl.label)}</text>`);
  });
  return parts.join('\n');
}

/** The whole chart as an SVG document string. */
export function renderChart(results) {
  const W = 1040;
  const plotW = 560;
  const plotH = 330;
  const left = 90;
  const panels = [
    ['crossEntropyWithGrad', 'crossEntropyWithGrad (fused mean loss + gradient, integer labels)'],
    ['softmax', 'softmax'],
  ].filter(([op]) => results.ops.includes(op));
  const panelH = plotH + 110;
  const top = 70;
  const H = top + panels.length * panelH + 30;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`);
  out.push(`<style>
.title{font-size:15px;font-weight:600;fill:#222}
.sub{font-size:11.5px;fill:#555}
.axis{font-size:11px;fill:#444}
.shape{font-size:10.5px;fill:#666}
.label{font-size:11.5px;fill:#333}
.legend{font-size:11.5px;fill:#222}
.frame{fill:#fff;stroke:#999;stroke-width:1}
.grid{stroke:#ddd;stroke-width:1}
.minor{stroke:#f0f0f0;stroke-width:1}
.tick{stroke:#999;stroke-width:1}
</style>`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${left - 60}" y="24" class="title">softmax-wasm vs peers: throughput per row width (1 thread, f32)</text>`);
  out.push(`<text x="${left - 60}" y="42" class="sub">${esc(results.machine.line.replace(/^machine: /, ''))}</text>`);
  out.push(
    `<text x="${left - 60}" y="57" class="sub">${esc(
      `npm run bench${results.mode === 'quick' ? ' -- --quick' : ''}; ${results.clock === 'wall' ? 'wall clock' : 'CPU time'}; API = functions with into/gradInto (copies in/out included), Workspace = zero-copy; hollow markers: fewer rows, same width`,
    )}</text>`,
  );
  panels.forEach(([op, title], i) => {
    out.push(panel(results, op, title, left, top + 30 + i * panelH, plotW, plotH));
  });
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
