// The training loop of the digits demo, shared by the terminal demo (cli.mjs), the browser demo
// (examples/browser-demo) and its test (test/train-digits.test.ts). Plain JavaScript that runs
// unchanged in Node and in browsers: it gets the dataset as CSV text and never touches the file
// system or the DOM.
//
// The model is a softmax regression (logits = x W + b) or, with `hidden > 0`, a one-hidden-layer
// MLP (ReLU). The matrix products are plain JavaScript loops; the loss and its gradient with
// respect to the logits, `(softmax(z) - y) / batch` (with label smoothing, `y` is the smoothed
// target), come from softmax-wasm's `crossEntropyWithGrad`, and everything downstream of the
// logits is ordinary backpropagation of that gradient.
//
// Every buffer (mini-batch inputs, activations, logits, the gradient that `crossEntropyWithGrad`
// writes through `gradInto`, the parameter gradients, the optimizer state) is allocated once when
// the trainer is created: a training step allocates nothing but the small `{ loss, grad }` result.

import { init, backend, crossEntropyWithGrad, softmax } from 'softmax-wasm';

// Callers initialise the very module instance this file computes with (see `ready`).
export { init, backend };

/** Loads the fastest wasm build this runtime runs and returns its name ('simd', ...). */
export async function ready() {
  await init();
  return /** @type {string} */ (backend());
}

/** Pixels per image (8 x 8) and classes (digits 0-9). */
export const FEATURES = 64;
export const CLASSES = 10;

/** The default options; `lr` depends on the optimizer when not given (see `resolveOptions`). */
export const DEFAULTS = Object.freeze({
  epochs: 20,
  batch: 32,
  lr: undefined,
  hidden: 0,
  labelSmoothing: 0,
  seed: 42,
  optimizer: 'sgd',
});

/** Default learning rate of each optimizer ('sgd' is mini-batch SGD with momentum 0.9). */
export const DEFAULT_LR = Object.freeze({ sgd: 0.02, adam: 0.005 });

/** The seed of the fixed train/test split: the split never depends on `--seed`, so runs with
 *  different seeds are scored on the same test digits. */
export const SPLIT_SEED = 20240601;
/** The fraction of every class held out as the test set. */
export const TEST_FRACTION = 0.2;

// ---------------------------------------------------------------------------------------------
// Random numbers: a small seeded generator, so a seed gives the same run everywhere.

/** mulberry32: a 32-bit seeded PRNG returning floats in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles `a` in place (Fisher-Yates) with the generator `rand`. */
function shuffle(a, rand) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** A standard normal sample (Box-Muller). */
function gaussian(rand) {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

// ---------------------------------------------------------------------------------------------
// Data

/**
 * Parses the digits CSV (no header; 64 pixel values 0..16, then the label 0..9 per row).
 * @param {string} text
 * @returns {{ pixels: Float32Array, labels: Int32Array, n: number }}
 */
export function parseDigitsCsv(text) {
  const rows = text.split('\n').filter((line) => line.trim() !== '');
  const n = rows.length;
  const pixels = new Float32Array(n * FEATURES);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cells = rows[i].split(',');
    if (cells.length !== FEATURES + 1) {
      throw new Error(`digits CSV line ${i + 1}: expected ${FEATURES + 1} values, got ${cells.length}`);
    }
    for (let j = 0; j < FEATURES; j++) pixels[i * FEATURES + j] = Number(cells[j]);
    const label = Number(cells[FEATURES]);
    if (!Number.isInteger(label) || label < 0 || label >= CLASSES) {
      throw new Error(`digits CSV line ${i + 1}: bad label ${cells[FEATURES]}`);
    }
    labels[i] = label;
  }
  return { pixels, labels, n };
}

/**
 * The fixed, stratified train/test split (TEST_FRACTION of every class, chosen with SPLIT_SEED),
 * with the pixels standardized by the training set's per-pixel mean and standard deviation
 * (pixels that are constant in the training set, like some corners, are only centred).
 * @param {string} csvText the contents of digits.csv
 */
export function prepareData(csvText) {
  const all = parseDigitsCsv(csvText);
  const rand = rng(SPLIT_SEED);
  const byClass = Array.from({ length: CLASSES }, () => /** @type {number[]} */ ([]));
  for (let i = 0; i < all.n; i++) byClass[all.labels[i]].push(i);
  const trainIdx = [];
  const testIdx = [];
  for (const members of byClass) {
    shuffle(members, rand);
    const nTest = Math.round(members.length * TEST_FRACTION);
    testIdx.push(...members.slice(0, nTest));
    trainIdx.push(...members.slice(nTest));
  }
  // Sorted, so each set keeps the file's order (the training loop shuffles per epoch anyway).
  trainIdx.sort((a, b) => a - b);
  testIdx.sort((a, b) => a - b);

  const raw = (idx) => {
    const x = new Float32Array(idx.length * FEATURES);
    const y = new Int32Array(idx.length);
    idx.forEach((src, i) => {
      x.set(all.pixels.subarray(src * FEATURES, (src + 1) * FEATURES), i * FEATURES);
      y[i] = all.labels[src];
    });
    return { raw: x.slice(), x, y, n: idx.length, index: Int32Array.from(idx) };
  };
  const train = raw(trainIdx);
  const test = raw(testIdx);

  const mean = new Float64Array(FEATURES);
  const std = new Float64Array(FEATURES);
  for (let i = 0; i < train.n; i++) for (let j = 0; j < FEATURES; j++) mean[j] += train.x[i * FEATURES + j];
  for (let j = 0; j < FEATURES; j++) mean[j] /= train.n;
  for (let i = 0; i < train.n; i++) {
    for (let j = 0; j < FEATURES; j++) std[j] += (train.x[i * FEATURES + j] - mean[j]) ** 2;
  }
  for (let j = 0; j < FEATURES; j++) {
    const s = Math.sqrt(std[j] / train.n);
    std[j] = s > 1e-6 ? s : 1;
  }
  for (const set of [train, test]) {
    for (let i = 0; i < set.n; i++) {
      for (let j = 0; j < FEATURES; j++) set.x[i * FEATURES + j] = (set.x[i * FEATURES + j] - mean[j]) / std[j];
    }
  }
  return { train, test, mean, std, total: all.n };
}

// ---------------------------------------------------------------------------------------------
// Options

const int = (v) => typeof v === 'number' && Number.isInteger(v);

/**
 * Fills in the defaults and checks every option; throws a RangeError naming the bad one.
 * @param {Partial<typeof DEFAULTS> & { lr?: number }} [options]
 */
export function resolveOptions(options = {}) {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (!int(o.epochs) || o.epochs < 1 || o.epochs > 10000) {
    throw new RangeError(`epochs must be an integer from 1 to 10000 (got ${o.epochs})`);
  }
  if (!int(o.batch) || o.batch < 1 || o.batch > 4096) {
    throw new RangeError(`batch must be an integer from 1 to 4096 (got ${o.batch})`);
  }
  if (!int(o.hidden) || o.hidden < 0 || o.hidden > 4096) {
    throw new RangeError(`hidden must be an integer from 0 (softmax regression) to 4096 (got ${o.hidden})`);
  }
  if (typeof o.labelSmoothing !== 'number' || !(o.labelSmoothing >= 0 && o.labelSmoothing < 1)) {
    throw new RangeError(`label smoothing must be a number in [0, 1) (got ${o.labelSmoothing})`);
  }
  if (!int(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer from 0 to 4294967295 (got ${o.seed})`);
  }
  if (o.optimizer !== 'adam' && o.optimizer !== 'sgd') {
    throw new RangeError(`optimizer must be 'adam' or 'sgd' (got ${o.optimizer})`);
  }
  if (o.lr === undefined) o.lr = DEFAULT_LR[o.optimizer];
  if (typeof o.lr !== 'number' || !(o.lr > 0 && o.lr <= 10)) {
    throw new RangeError(`learning rate must be a number in (0, 10] (got ${o.lr})`);
  }
  return /** @type {{ epochs: number, batch: number, lr: number, hidden: number, labelSmoothing: number, seed: number, optimizer: 'adam' | 'sgd' }} */ (o);
}

/** A one-line description of the model, e.g. "MLP 64 → 64 (ReLU) → 10". */
export function describeModel(hidden) {
  return hidden > 0 ? `MLP ${FEATURES} → ${hidden} (ReLU) → ${CLASSES}` : `softmax regression ${FEATURES} → ${CLASSES}`;
}

// ---------------------------------------------------------------------------------------------
// Dense layers in plain JavaScript (row-major; W is [inputs x outputs]).

/** out[r, :] = b + x[r, :] W for `rows` rows. */
function dense(x, W, b, out, rows, nIn, nOut) {
  for (let r = 0; r < rows; r++) {
    const o = r * nOut;
    for (let k = 0; k < nOut; k++) out[o + k] = b[k];
    const xi = r * nIn;
    for (let d = 0; d < nIn; d++) {
      const v = x[xi + d];
      if (v === 0) continue;
      const w = d * nOut;
      for (let k = 0; k < nOut; k++) out[o + k] += v * W[w + k];
    }
  }
}

/** dW = x^T g, db = column sums of g (overwriting dW and db). */
function denseGradParams(x, g, dW, db, rows, nIn, nOut) {
  dW.fill(0);
  db.fill(0);
  for (let r = 0; r < rows; r++) {
    const gi = r * nOut;
    for (let k = 0; k < nOut; k++) db[k] += g[gi + k];
    const xi = r * nIn;
    for (let d = 0; d < nIn; d++) {
      const v = x[xi + d];
      if (v === 0) continue;
      const w = d * nOut;
      for (let k = 0; k < nOut; k++) dW[w + k] += v * g[gi + k];
    }
  }
}

/** dx = g W^T, masked by the ReLU (dx = 0 where the activation h was 0). */
function denseGradInputRelu(g, W, h, dx, rows, nIn, nOut) {
  for (let r = 0; r < rows; r++) {
    const gi = r * nOut;
    const hi = r * nIn;
    for (let d = 0; d < nIn; d++) {
      if (h[hi + d] <= 0) {
        dx[hi + d] = 0;
        continue;
      }
      const w = d * nOut;
      let s = 0;
      for (let k = 0; k < nOut; k++) s += g[gi + k] * W[w + k];
      dx[hi + d] = s;
    }
  }
}

function relu(a, n) {
  for (let i = 0; i < n; i++) if (a[i] < 0) a[i] = 0;
}

// ---------------------------------------------------------------------------------------------
// The trainer

/**
 * Creates a model and its optimizer for `data` (from `prepareData`). Call `runEpoch()` once per
 * epoch; it returns that epoch's statistics. The caller must have awaited `ready()` (or `init()`).
 * @param {ReturnType<typeof prepareData>} data
 * @param {Parameters<typeof resolveOptions>[0]} [options]
 */
export function createTrainer(data, options) {
  const opts = resolveOptions(options);
  const { train, test } = data;
  const H = opts.hidden;
  const C = CLASSES;
  const D = FEATURES;
  const B = Math.min(opts.batch, train.n);
  const rand = rng(opts.seed);

  // Parameters, He-initialised (biases 0). A layer is { W, b, dW, db, nIn, nOut }.
  const layer = (nIn, nOut) => {
    const W = new Float32Array(nIn * nOut);
    const scale = Math.sqrt(2 / nIn);
    for (let i = 0; i < W.length; i++) W[i] = gaussian(rand) * scale;
    return { W, b: new Float32Array(nOut), dW: new Float32Array(nIn * nOut), db: new Float32Array(nOut), nIn, nOut };
  };
  const layers = H > 0 ? [layer(D, H), layer(H, C)] : [layer(D, C)];
  const params = layers.flatMap((l) => [
    { p: l.W, g: l.dW },
    { p: l.b, g: l.db },
  ]);
  const paramCount = params.reduce((s, { p }) => s + p.length, 0);

  // Optimizer state: Adam moments or SGD momentum.
  const m = params.map(({ p }) => new Float32Array(p.length));
  const v = params.map(({ p }) => new Float32Array(p.length));
  let step = 0;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const momentum = 0.9;

  function update() {
    step++;
    const lr = opts.lr;
    if (opts.optimizer === 'adam') {
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      for (let i = 0; i < params.length; i++) {
        const { p, g } = params[i];
        const mi = m[i];
        const vi = v[i];
        for (let j = 0; j < p.length; j++) {
          const gj = g[j];
          mi[j] = beta1 * mi[j] + (1 - beta1) * gj;
          vi[j] = beta2 * vi[j] + (1 - beta2) * gj * gj;
          p[j] -= (lr * (mi[j] / c1)) / (Math.sqrt(vi[j] / c2) + 1e-8);
        }
      }
    } else {
      for (let i = 0; i < params.length; i++) {
        const { p, g } = params[i];
        const mi = m[i];
        for (let j = 0; j < p.length; j++) {
          mi[j] = momentum * mi[j] + g[j];
          p[j] -= lr * mi[j];
        }
      }
    }
  }

  // Per-batch buffers, allocated once. `views(rows)` gives arrays of exactly `rows` rows over
  // them (the last mini-batch of an epoch is smaller); the views are made once per size.
  const xb = new Float32Array(B * D);
  const yb = new Int32Array(B);
  const hb = new Float32Array(B * H);
  const dhb = new Float32Array(B * H);
  const zb = new Float32Array(B * C);
  const gb = new Float32Array(B * C);
  const viewCache = new Map();
  const views = (rows) => {
    let vw = viewCache.get(rows);
    if (!vw) {
      vw = {
        x: xb.subarray(0, rows * D),
        y: yb.subarray(0, rows),
        z: zb.subarray(0, rows * C),
        grad: gb.subarray(0, rows * C),
      };
      viewCache.set(rows, vw);
    }
    return vw;
  };
  const ceOptions = { classes: C, labelSmoothing: opts.labelSmoothing, gradInto: gb };

  /** Forward pass of `rows` rows of `x` into `z` (and the hidden activations into `h`). */
  function forward(x, rows, h, z) {
    if (H > 0) {
      const [l1, l2] = layers;
      dense(x, l1.W, l1.b, h, rows, D, H);
      relu(h, rows * H);
      dense(h, l2.W, l2.b, z, rows, H, C);
    } else {
      const [l] = layers;
      dense(x, l.W, l.b, z, rows, D, C);
    }
  }

  /** One SGD/Adam step on the mini-batch of the training rows order[start .. start+rows). */
  function trainStep(order, start, rows) {
    for (let r = 0; r < rows; r++) {
      const src = order[start + r];
      xb.set(train.x.subarray(src * D, (src + 1) * D), r * D);
      yb[r] = train.y[src];
    }
    const vw = views(rows);
    forward(vw.x, rows, hb, vw.z);
    // The loss (mean over the batch) and d loss / d logits, written into our own buffer.
    ceOptions.gradInto = vw.grad;
    const { loss } = crossEntropyWithGrad(vw.z, vw.y, ceOptions);
    if (H > 0) {
      const [l1, l2] = layers;
      denseGradParams(hb, vw.grad, l2.dW, l2.db, rows, H, C);
      denseGradInputRelu(vw.grad, l2.W, hb, dhb, rows, H, C);
      denseGradParams(vw.x, dhb, l1.dW, l1.db, rows, D, H);
    } else {
      const [l] = layers;
      denseGradParams(vw.x, vw.grad, l.dW, l.db, rows, D, C);
    }
    update();
    return /** @type {number} */ (loss);
  }

  // Whole-set buffers for evaluation, also allocated once.
  const evalBuffers = new Map();
  const evalFor = (set) => {
    let e = evalBuffers.get(set);
    if (!e) {
      e = { h: new Float32Array(set.n * H), z: new Float32Array(set.n * C), pred: new Int32Array(set.n) };
      evalBuffers.set(set, e);
    }
    return e;
  };

  /** Logits, predictions and accuracy of the current model on a set (train or test). */
  function evaluate(set) {
    const e = evalFor(set);
    forward(set.x, set.n, e.h, e.z);
    let correct = 0;
    for (let i = 0; i < set.n; i++) {
      let best = 0;
      for (let k = 1; k < C; k++) if (e.z[i * C + k] > e.z[i * C + best]) best = k;
      e.pred[i] = best;
      if (best === set.y[i]) correct++;
    }
    return { logits: e.z, predictions: e.pred, correct, accuracy: correct / set.n };
  }

  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
  let epoch = 0;

  /**
   * Trains one epoch (shuffled mini-batches) and evaluates on both sets.
   * @param {(done: number, total: number) => void} [onBatch] called after every mini-batch
   */
  function runEpoch(onBatch) {
    epoch++;
    shuffle(order, rand);
    const t0 = now();
    let lossSum = 0;
    for (let start = 0; start < train.n; start += B) {
      const rows = Math.min(B, train.n - start);
      lossSum += trainStep(order, start, rows) * rows;
      if (onBatch) onBatch(start + rows, train.n);
    }
    const seconds = (now() - t0) / 1000;
    const trainEval = evaluate(train);
    const testEval = evaluate(test);
    return {
      epoch,
      loss: lossSum / train.n,
      trainAccuracy: trainEval.accuracy,
      testAccuracy: testEval.accuracy,
      seconds,
      examplesPerSecond: train.n / Math.max(seconds, 1e-9),
    };
  }

  /** Class probabilities of the test set (softmax of the logits, from softmax-wasm), in a
   *  buffer reused by every call. */
  const testProbs = new Float32Array(test.n * C);
  function testProbabilities() {
    const { logits } = evaluate(test);
    return softmax(logits, { classes: C, into: testProbs });
  }

  return {
    options: opts,
    paramCount,
    describe: () => describeModel(H),
    get epoch() {
      return epoch;
    },
    runEpoch,
    evaluate,
    testProbabilities,
    /** The confusion matrix of the test set: counts[true * 10 + predicted]. */
    confusion() {
      return confusionMatrix(test.y, evaluate(test).predictions);
    },
    /** The parameters (for tests: two runs with one seed must end bit-identical). */
    parameters: () => params.map(({ p }) => p),
  };
}

/** counts[true * 10 + predicted] over a set. */
export function confusionMatrix(labels, predictions) {
  const counts = new Int32Array(CLASSES * CLASSES);
  for (let i = 0; i < labels.length; i++) counts[labels[i] * CLASSES + predictions[i]]++;
  return counts;
}

/** The confusion matrix as text: rows are the true digit, columns the predicted one. */
export function formatConfusion(counts) {
  const w = 5;
  const lines = [' true\\pred' + Array.from({ length: CLASSES }, (_, k) => String(k).padStart(w)).join('')];
  for (let t = 0; t < CLASSES; t++) {
    let line = `${String(t).padStart(9)} `;
    for (let p = 0; p < CLASSES; p++) {
      const c = counts[t * CLASSES + p];
      line += (c === 0 && p !== t ? '.' : String(c)).padStart(w);
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/**
 * Runs a whole training: `epochs` epochs, calling `onEpoch(stats)` after each. Returns the
 * per-epoch history, the trainer and the final test accuracy.
 * @param {ReturnType<typeof prepareData>} data
 * @param {Parameters<typeof resolveOptions>[0]} [options]
 * @param {(stats: ReturnType<ReturnType<typeof createTrainer>['runEpoch']>) => void} [onEpoch]
 */
export function train(data, options, onEpoch) {
  const trainer = createTrainer(data, options);
  const history = [];
  for (let e = 0; e < trainer.options.epochs; e++) {
    const stats = trainer.runEpoch();
    history.push(stats);
    if (onEpoch) onEpoch(stats);
  }
  const final = history[history.length - 1];
  return { trainer, history, testAccuracy: final.testAccuracy };
}
