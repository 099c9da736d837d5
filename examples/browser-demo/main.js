// The browser demo: the same training loop as `npm start` (../train-digits/train.mjs), run live in
// the page. The dataset is a static asset, fetched and gunzipped with DecompressionStream.
//
// URL parameters preset the form: ?hidden=64&optimizer=adam&epochs=30&batch=32&lr=0.01&
// labelSmoothing=0.1&seed=1; ?autostart=0 waits for the button; ?delay=ms pauses between epochs
// (default 40, so the plot visibly grows).
import {
  CLASSES,
  DEFAULTS,
  createTrainer,
  describeModel,
  prepareData,
  ready,
  resolveOptions,
} from '../train-digits/train.mjs';
import digitsCsvGzUrl from '../data/digits.csv.gz?url';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const form = /** @type {HTMLFormElement} */ ($('controls'));
const button = /** @type {HTMLButtonElement} */ ($('train'));
const status = $('status');
const finalOut = $('final-accuracy');
const params = new URLSearchParams(location.search);
const GRID = 36; // test digits shown

// ---------------------------------------------------------------------------------------------
// Data

async function loadCsv() {
  const res = await fetch(digitsCsvGzUrl);
  if (!res.ok) throw new Error(`fetching ${digitsCsvGzUrl}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  // A server may already have decoded it (Content-Encoding: gzip); gunzip only gzip bytes.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return new TextDecoder().decode(bytes);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}

// ---------------------------------------------------------------------------------------------
// Form

function fillForm() {
  const defaults = { ...DEFAULTS, lr: '' };
  for (const name of ['hidden', 'optimizer', 'epochs', 'batch', 'lr', 'labelSmoothing', 'seed']) {
    const el = /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
    const v = params.get(name) ?? String(defaults[name]);
    if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === v)) {
      el.add(new Option(name === 'hidden' ? describeModel(Number(v)) : v, v));
    }
    el.value = v;
  }
}

function readForm() {
  const get = (name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value.trim();
  const num = (name) => (get(name) === '' ? undefined : Number(get(name)));
  return resolveOptions({
    hidden: num('hidden'),
    optimizer: /** @type {'sgd' | 'adam'} */ (get('optimizer')),
    epochs: num('epochs'),
    batch: num('batch'),
    lr: num('lr'),
    labelSmoothing: num('labelSmoothing'),
    seed: num('seed'),
  });
}

// ---------------------------------------------------------------------------------------------
// Plot: loss (left axis) and train/test accuracy (right axis) per epoch, on a canvas.

const plot = /** @type {HTMLCanvasElement} */ ($('plot'));

function drawPlot(history, epochs) {
  const dpr = window.devicePixelRatio || 1;
  const cssW = plot.clientWidth || 560;
  const cssH = Math.round(cssW * 0.54);
  if (plot.width !== Math.round(cssW * dpr)) {
    plot.width = Math.round(cssW * dpr);
    plot.height = Math.round(cssH * dpr);
  }
  const g = /** @type {CanvasRenderingContext2D} */ (plot.getContext('2d'));
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  const L = 52;
  const R = 52;
  const T = 26;
  const B = 30;
  const w = cssW - L - R;
  const h = cssH - T - B;
  const css = getComputedStyle(document.documentElement);
  const colLoss = css.getPropertyValue('--loss').trim();
  const colAcc = css.getPropertyValue('--accent').trim();
  const colLine = css.getPropertyValue('--line').trim();
  const colMuted = css.getPropertyValue('--muted').trim();

  const maxLoss = Math.max(0.5, ...history.map((s) => s.loss)) * 1.05;
  const minAcc = Math.min(0.8, ...history.map((s) => Math.floor(Math.min(s.trainAccuracy, s.testAccuracy) * 10) / 10));
  const x = (e) => L + (epochs <= 1 ? w / 2 : ((e - 1) / (epochs - 1)) * w);
  const yLoss = (v) => T + h - (v / maxLoss) * h;
  const yAcc = (v) => T + h - ((v - minAcc) / (1 - minAcc)) * h;

  // Grid and axes.
  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  g.strokeStyle = colLine;
  g.fillStyle = colMuted;
  for (let i = 0; i <= 4; i++) {
    const yy = T + (h * i) / 4;
    g.beginPath();
    g.moveTo(L, yy);
    g.lineTo(L + w, yy);
    g.stroke();
    g.textAlign = 'right';
    g.fillText((maxLoss * (1 - i / 4)).toFixed(2), L - 6, yy + 4);
    g.textAlign = 'left';
    g.fillText(`${((1 - (i / 4) * (1 - minAcc)) * 100).toFixed(0)}%`, L + w + 6, yy + 4);
  }
  g.textAlign = 'center';
  const step = Math.max(1, Math.ceil(epochs / 10));
  for (let e = 1; e <= epochs; e += step) g.fillText(String(e), x(e), T + h + 16);
  g.fillText('epoch', L + w / 2, T + h + 28);
  g.save();
  g.translate(12, T + h / 2);
  g.rotate(-Math.PI / 2);
  g.fillText('loss', 0, 0);
  g.restore();
  g.save();
  g.translate(cssW - 6, T + h / 2);
  g.rotate(-Math.PI / 2);
  g.fillText('accuracy', 0, 0);
  g.restore();

  const line = (values, y, color, dash) => {
    if (values.length === 0) return;
    g.strokeStyle = color;
    g.fillStyle = color;
    g.lineWidth = 2;
    g.setLineDash(dash);
    g.beginPath();
    values.forEach((v, i) => (i === 0 ? g.moveTo(x(i + 1), y(v)) : g.lineTo(x(i + 1), y(v))));
    g.stroke();
    g.setLineDash([]);
    values.forEach((v, i) => {
      g.beginPath();
      g.arc(x(i + 1), y(v), 2.5, 0, 2 * Math.PI);
      g.fill();
    });
  };
  line(history.map((s) => s.loss), yLoss, colLoss, []);
  line(history.map((s) => s.trainAccuracy), yAcc, colAcc, [5, 4]);
  line(history.map((s) => s.testAccuracy), yAcc, colAcc, []);

  // Legend.
  const items = [
    ['loss', colLoss, []],
    ['train accuracy', colAcc, [5, 4]],
    ['test accuracy', colAcc, []],
  ];
  let lx = L;
  g.textAlign = 'left';
  for (const [label, color, dash] of items) {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.setLineDash(dash);
    g.beginPath();
    g.moveTo(lx, 12);
    g.lineTo(lx + 22, 12);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = colMuted;
    g.fillText(label, lx + 27, 16);
    lx += 34 + g.measureText(label).width + 14;
  }
}

// ---------------------------------------------------------------------------------------------
// Test digits: 8x8 images with the predicted digit and its probability.

const grid = $('digits');

function buildGrid(data) {
  grid.replaceChildren();
  const cells = [];
  // Evenly spread over the test set, so every digit class shows up.
  const stride = data.test.n / GRID;
  for (let k = 0; k < GRID; k++) {
    const i = Math.floor(k * stride);
    const cell = document.createElement('figure');
    cell.className = 'digit';
    cell.style.margin = '0';
    const canvas = document.createElement('canvas');
    canvas.width = 8;
    canvas.height = 8;
    const img = new ImageData(8, 8);
    for (let p = 0; p < 64; p++) {
      const ink = data.test.raw[i * 64 + p] / 16;
      const c = Math.round(255 * (1 - ink));
      img.data.set([c, c, c, 255], p * 4);
    }
    /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')).putImageData(img, 0, 0);
    const caption = document.createElement('figcaption');
    caption.innerHTML = '<span class="pred">?</span> <span class="prob"></span>';
    cell.append(canvas, caption);
    grid.append(cell);
    cells.push({ i, cell, pred: caption.firstElementChild, prob: caption.lastElementChild });
  }
  return cells;
}

function updateGrid(cells, data, probs) {
  for (const { i, cell, pred, prob } of cells) {
    let best = 0;
    for (let k = 1; k < CLASSES; k++) if (probs[i * CLASSES + k] > probs[i * CLASSES + best]) best = k;
    const truth = data.test.y[i];
    const ok = best === truth;
    pred.textContent = String(best);
    prob.textContent = `${(probs[i * CLASSES + best] * 100).toFixed(1)}%${ok ? '' : ` (${truth})`}`;
    cell.className = `digit ${ok ? 'ok' : 'bad'}`;
    cell.title = `test digit #${i}: true ${truth}, predicted ${best}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Confusion matrix

function drawConfusion(counts) {
  const table = $('confusion');
  const head = `<tr><th>true\\pred</th>${Array.from({ length: CLASSES }, (_, k) => `<th>${k}</th>`).join('')}</tr>`;
  let max = 1;
  for (let t = 0; t < CLASSES; t++) max = Math.max(max, counts[t * CLASSES + t]);
  let rows = '';
  for (let t = 0; t < CLASSES; t++) {
    rows += `<tr><th>${t}</th>`;
    for (let p = 0; p < CLASSES; p++) {
      const c = counts[t * CLASSES + p];
      const alpha = c === 0 ? 0 : 0.12 + 0.6 * (c / max);
      const color = t === p ? `rgba(47,158,68,${alpha})` : `rgba(224,49,49,${Math.min(0.9, alpha + 0.25)})`;
      rows += `<td style="background:${c ? color : 'transparent'}">${c || '·'}</td>`;
    }
    rows += '</tr>';
  }
  table.innerHTML = head + rows;
}

// ---------------------------------------------------------------------------------------------
// Training

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));
const setStat = (id, text) => ($(id).textContent = text);
const pct = (x) => `${(x * 100).toFixed(1)}%`;

let data;
let cells = [];
let running = false;

async function run() {
  if (running) return;
  let opts;
  try {
    opts = readForm();
  } catch (err) {
    status.textContent = err.message;
    status.className = 'status error';
    return;
  }
  running = true;
  button.disabled = true;
  status.className = 'status';
  finalOut.dataset.state = 'running';
  finalOut.removeAttribute('data-accuracy');
  finalOut.textContent = '…';
  const delay = Math.max(0, Number(params.get('delay') ?? 40) || 0);
  const trainer = createTrainer(data, opts);
  status.textContent = `Training ${trainer.describe()} (${trainer.paramCount} parameters) with ${
    opts.optimizer === 'sgd' ? 'SGD + momentum' : 'Adam'
  }, lr ${opts.lr}, batch ${opts.batch}…`;
  const history = [];
  drawPlot(history, opts.epochs);
  updateGrid(cells, data, trainer.testProbabilities());
  drawConfusion(trainer.confusion());
  const t0 = performance.now();
  for (let e = 1; e <= opts.epochs; e++) {
    const s = trainer.runEpoch();
    history.push(s);
    setStat('stat-epoch', `${e} / ${opts.epochs}`);
    setStat('stat-loss', s.loss.toFixed(4));
    setStat('stat-train', pct(s.trainAccuracy));
    setStat('stat-test', pct(s.testAccuracy));
    setStat('stat-speed', Math.round(s.examplesPerSecond).toLocaleString('en-US'));
    drawPlot(history, opts.epochs);
    updateGrid(cells, data, trainer.testProbabilities());
    drawConfusion(trainer.confusion());
    await nextFrame();
    if (delay) await sleep(delay);
  }
  const { correct, accuracy } = trainer.evaluate(data.test);
  const seconds = (performance.now() - t0) / 1000;
  finalOut.textContent = `${(accuracy * 100).toFixed(2)}% (${correct}/${data.test.n})`;
  finalOut.dataset.accuracy = String(accuracy);
  finalOut.dataset.epochs = String(history.length);
  finalOut.dataset.state = 'done';
  status.textContent = `Done: ${opts.epochs} epochs of ${trainer.describe()} in ${seconds.toFixed(1)} s${
    delay ? ` (with ${delay} ms pauses between epochs to animate)` : ''
  }.`;
  running = false;
  button.disabled = false;
}

async function main() {
  fillForm();
  const [build, csv] = await Promise.all([ready(), loadCsv()]);
  $('backend').textContent = build;
  data = prepareData(csv);
  $('data-info').textContent = `${data.total} digits · ${data.train.n} train / ${data.test.n} test (fixed split) · pixels standardized`;
  cells = buildGrid(data);
  drawPlot([], Number(/** @type {HTMLInputElement} */ (form.elements.namedItem('epochs')).value) || 1);
  status.textContent = 'Ready.';
  button.disabled = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
  if (params.get('autostart') !== '0') await run();
}

main().catch((err) => {
  console.error(err);
  status.textContent = `Error: ${err.message}`;
  status.className = 'status error';
  finalOut.dataset.state = 'error';
});
