#!/usr/bin/env node
// `npm start`: trains a handwritten-digits classifier with softmax-wasm in the terminal.
// Run `npm start -- --help` (or `node examples/train-digits/cli.mjs --help`) for the options.
import { parseArgs } from 'node:util';
import { readDigitsCsv } from './data-node.mjs';
import {
  CLASSES,
  DEFAULTS,
  DEFAULT_LR,
  FEATURES,
  createTrainer,
  describeModel,
  formatConfusion,
  prepareData,
  ready,
  resolveOptions,
} from './train.mjs';

const HELP = `Usage: npm start -- [options]
       node examples/train-digits/cli.mjs [options]

Trains a classifier of 8x8 handwritten digits (1797 images, 10 classes; a fixed stratified
80/20 train/test split, standardized pixels) with mini-batch SGD or Adam. The loss and its
gradient with respect to the logits come from softmax-wasm's crossEntropyWithGrad.

Options:
  --epochs N             training epochs (default ${DEFAULTS.epochs})
  --batch N              mini-batch size (default ${DEFAULTS.batch})
  --lr X                 learning rate (default ${DEFAULT_LR.sgd} with sgd, ${DEFAULT_LR.adam} with adam)
  --hidden N             hidden units: N > 0 trains a one-hidden-layer MLP (ReLU),
                         0 a softmax regression (default ${DEFAULTS.hidden})
  --optimizer NAME       sgd (with momentum 0.9) or adam (default ${DEFAULTS.optimizer})
  --label-smoothing X    label smoothing of the cross-entropy, in [0, 1) (default ${DEFAULTS.labelSmoothing})
  --seed N               seed of the weight initialisation and the batch order (default ${DEFAULTS.seed})
  -h, --help             show this help

Examples:
  npm start
  npm start -- --hidden 64
  npm start -- --optimizer adam --epochs 30 --label-smoothing 0.1`;

class UsageError extends Error {}

/** Parses an option value that must be a number (integer when `integer`). */
function numberOption(name, text, integer) {
  const ok = integer ? /^\d+$/.test(text) : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text);
  if (!ok) {
    throw new UsageError(`--${name} expects ${integer ? 'a non-negative integer' : 'a number'}, got '${text}'`);
  }
  return Number(text);
}

/** The options from the command line, or a UsageError. */
function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        epochs: { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        hidden: { type: 'string' },
        optimizer: { type: 'string' },
        'label-smoothing': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err.message);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  const options = {
    epochs: v.epochs === undefined ? undefined : numberOption('epochs', v.epochs, true),
    batch: v.batch === undefined ? undefined : numberOption('batch', v.batch, true),
    lr: v.lr === undefined ? undefined : numberOption('lr', v.lr, false),
    hidden: v.hidden === undefined ? undefined : numberOption('hidden', v.hidden, true),
    labelSmoothing:
      v['label-smoothing'] === undefined ? undefined : numberOption('label-smoothing', v['label-smoothing'], false),
    seed: v.seed === undefined ? undefined : numberOption('seed', v.seed, true),
    optimizer: v.optimizer,
  };
  try {
    return { options: resolveOptions(options) };
  } catch (err) {
    // resolveOptions names options as words ("label smoothing must ..."); point at the flag.
    const flag = {
      epochs: '--epochs',
      batch: '--batch',
      hidden: '--hidden',
      label: '--label-smoothing',
      seed: '--seed',
      optimizer: '--optimizer',
      learning: '--lr',
    }[err.message.split(' ')[0]];
    throw new UsageError(flag ? `${flag}: ${err.message}` : err.message);
  }
}

const BAR = 24;
const pct = (x) => `${(x * 100).toFixed(1).padStart(5)}%`;
const rate = (x) => `${Math.round(x).toLocaleString('en-US').padStart(9)} ex/s`;

function bar(done, total) {
  const filled = Math.round((done / total) * BAR);
  return '█'.repeat(filled) + '░'.repeat(BAR - filled);
}

async function main() {
  let cmd;
  try {
    cmd = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`train-digits: ${err.message}\nRun 'npm start -- --help' for the options.\n`);
    process.exitCode = 2;
    return;
  }
  if (cmd.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const o = cmd.options;
  const t0 = performance.now();
  const build = await ready();
  const data = prepareData(readDigitsCsv());
  const trainer = createTrainer(data, o);

  const out = process.stdout;
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  const hint =
    build !== 'relaxed-simd' && nodeMajor < 22 ? '  (Node 20 runs relaxed SIMD only with --experimental-wasm-relaxed-simd)' : '';
  out.write(`softmax-wasm · train-digits\n`);
  out.write(`wasm build:  ${build}${hint}\n`);
  out.write(
    `data:        ${data.total} digits, ${FEATURES} pixels each, ${CLASSES} classes · ${data.train.n} train / ${data.test.n} test (fixed split)\n`,
  );
  out.write(`model:       ${describeModel(o.hidden)} · ${trainer.paramCount.toLocaleString('en-US')} parameters\n`);
  out.write(
    `training:    ${o.optimizer === 'sgd' ? 'SGD (momentum 0.9)' : 'Adam'}, lr ${o.lr}, batch ${o.batch}, ${o.epochs} epochs` +
      `${o.labelSmoothing ? `, label smoothing ${o.labelSmoothing}` : ''}, seed ${o.seed}\n\n`,
  );

  const w = String(o.epochs).length;
  const live = out.isTTY === true;
  let lastDraw = 0;
  for (let e = 1; e <= o.epochs; e++) {
    const head = `epoch ${String(e).padStart(w)}/${o.epochs} `;
    const stats = trainer.runEpoch(
      live
        ? (done, total) => {
            const t = performance.now();
            if (t - lastDraw < 50 && done < total) return;
            lastDraw = t;
            out.write(`\r${head}${bar(done, total)} ${String(done).padStart(4)}/${total}`);
          }
        : undefined,
    );
    const line =
      `${head}${bar(1, 1)} loss ${stats.loss.toFixed(4)}  train ${pct(stats.trainAccuracy)}` +
      `  test ${pct(stats.testAccuracy)}  ${rate(stats.examplesPerSecond)}`;
    out.write(live ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  const { correct, accuracy } = trainer.evaluate(data.test);
  out.write(`\nConfusion matrix of the test set (rows: true digit, columns: predicted):\n`);
  out.write(formatConfusion(trainer.confusion()) + '\n\n');
  out.write(`test accuracy: ${(accuracy * 100).toFixed(2)}% (${correct}/${data.test.n})\n`);
  out.write(`done in ${((performance.now() - t0) / 1000).toFixed(2)} s (wasm build: ${build})\n`);
}

main().catch((err) => {
  process.stderr.write(`train-digits: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
