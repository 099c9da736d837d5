// The digits demo's training loop (examples/train-digits/train.mjs, used by `npm start` and the
// browser demo): it learns (the loss falls, the test accuracy passes the README's bounds), it is
// reproducible (one seed, one result, bit for bit), and the CLI rejects bad options.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDigitsCsv } from '../examples/train-digits/data-node.mjs';
import {
  CLASSES,
  FEATURES,
  createTrainer,
  prepareData,
  ready,
  resolveOptions,
  train,
  type DigitsData,
} from '../examples/train-digits/train.mjs';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../examples/train-digits/cli.mjs', import.meta.url));

let data: DigitsData;
beforeAll(async () => {
  await ready();
  data = prepareData(readDigitsCsv());
});

describe('dataset', () => {
  it('is the 1797 digits, split 80/20 per class, with standardized training pixels', () => {
    expect(data.total).toBe(1797);
    expect(data.train.n + data.test.n).toBe(1797);
    expect(data.test.n).toBeGreaterThan(340);
    expect(data.test.n).toBeLessThan(380);
    // No digit is in both sets, and every class is in the test set.
    const trainRows = new Set(data.train.index);
    expect(data.test.index.every((i) => !trainRows.has(i))).toBe(true);
    expect(new Set(data.test.y).size).toBe(CLASSES);
    // Each non-constant training pixel has mean ~0 and standard deviation ~1.
    for (const j of [10, 20, 36, 50]) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < data.train.n; i++) {
        const v = data.train.x[i * FEATURES + j]!;
        s += v;
        s2 += v * v;
      }
      expect(Math.abs(s / data.train.n)).toBeLessThan(1e-4);
      expect(Math.abs(s2 / data.train.n - 1)).toBeLessThan(1e-3);
    }
  });

  it('is the same split every time', () => {
    const again = prepareData(readDigitsCsv());
    expect(again.test.index).toEqual(data.test.index);
  });
});

describe('training', () => {
  it('softmax regression: the loss falls and the test accuracy reaches 94%', () => {
    const { history, testAccuracy } = train(data, { epochs: 12 });
    const losses = history.map((h) => h.loss);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 3);
    for (let e = 1; e < losses.length; e++) expect(losses[e]!).toBeLessThan(losses[e - 1]! * 1.05);
    expect(history[0]!.testAccuracy).toBeLessThan(testAccuracy + 1e-9);
    expect(testAccuracy).toBeGreaterThanOrEqual(0.94);
    for (const h of history) {
      expect(Number.isFinite(h.loss)).toBe(true);
      expect(h.examplesPerSecond).toBeGreaterThan(0);
    }
  });

  it('MLP (--hidden 64): the test accuracy reaches 96%', () => {
    const { history, testAccuracy } = train(data, { hidden: 64, epochs: 8 });
    expect(history[history.length - 1]!.loss).toBeLessThan(history[0]!.loss / 3);
    expect(testAccuracy).toBeGreaterThanOrEqual(0.96);
  });

  it('Adam with label smoothing learns too', () => {
    const { history, testAccuracy } = train(data, { optimizer: 'adam', labelSmoothing: 0.1, epochs: 8 });
    // With smoothing 0.1 over 10 classes the loss cannot fall below the target's entropy (~0.50).
    expect(history[history.length - 1]!.loss).toBeLessThan(history[0]!.loss);
    expect(history[history.length - 1]!.loss).toBeGreaterThan(0.45);
    expect(testAccuracy).toBeGreaterThanOrEqual(0.94);
  });

  it('is reproducible: the same seed gives bit-identical runs, another seed a different one', () => {
    const opts = { hidden: 16, epochs: 3, seed: 7 };
    const a = train(data, opts);
    const b = train(data, opts);
    const strip = (h: typeof a.history) => h.map(({ loss, trainAccuracy, testAccuracy }) => [loss, trainAccuracy, testAccuracy]);
    expect(strip(b.history)).toEqual(strip(a.history));
    expect(b.trainer.parameters()).toEqual(a.trainer.parameters());
    const c = train(data, { ...opts, seed: 8 });
    expect(c.trainer.parameters()).not.toEqual(a.trainer.parameters());
  });

  it('the confusion matrix counts every test digit; probabilities are rows of a softmax', () => {
    const trainer = createTrainer(data, { epochs: 2 });
    trainer.runEpoch();
    trainer.runEpoch();
    const m = trainer.confusion();
    expect(m.length).toBe(CLASSES * CLASSES);
    expect(m.reduce((s, v) => s + v, 0)).toBe(data.test.n);
    let diag = 0;
    for (let k = 0; k < CLASSES; k++) diag += m[k * CLASSES + k]!;
    expect(diag).toBe(trainer.evaluate(data.test).correct);
    const p = trainer.testProbabilities();
    expect(p.length).toBe(data.test.n * CLASSES);
    for (const row of [0, 100, data.test.n - 1]) {
      const sum = p.subarray(row * CLASSES, (row + 1) * CLASSES).reduce((s, v) => s + v, 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    }
  });

  it('rejects bad options with a RangeError naming them', () => {
    expect(() => resolveOptions({ epochs: 0 })).toThrow(/epochs/);
    expect(() => resolveOptions({ batch: 1.5 })).toThrow(/batch/);
    expect(() => resolveOptions({ lr: -1 })).toThrow(/learning rate/);
    expect(() => resolveOptions({ hidden: -3 })).toThrow(/hidden/);
    expect(() => resolveOptions({ labelSmoothing: 1 })).toThrow(/label smoothing/);
    expect(() => resolveOptions({ seed: -1 })).toThrow(/seed/);
    expect(() => resolveOptions({ optimizer: 'rmsprop' as 'sgd' })).toThrow(/optimizer/);
    expect(resolveOptions({ optimizer: 'adam' }).lr).toBeGreaterThan(0);
  });
});

describe('the command line (npm start)', () => {
  it('trains and prints the epochs, the confusion matrix, the accuracy and the wasm build', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--epochs', '3', '--seed', '1']);
    expect(stdout).toMatch(/wasm build: +(relaxed-simd|simd|scalar)/);
    expect(stdout.match(/^epoch +\d\/3 .*loss \d+\.\d+ +train +\d+\.\d% +test +\d+\.\d% .*ex\/s$/gm)).toHaveLength(3);
    expect(stdout).toMatch(/Confusion matrix/);
    expect(stdout).toMatch(/test accuracy: \d+\.\d\d% \(\d+\/\d+\)/);
  });

  it('prints the help', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--help']);
    for (const flag of ['--epochs', '--batch', '--lr', '--hidden', '--label-smoothing', '--seed', '--help']) {
      expect(stdout).toContain(flag);
    }
  });

  it.each([
    [['--epochs', 'ten'], /--epochs expects a non-negative integer, got 'ten'/],
    [['--epochs', '0'], /--epochs: epochs must be an integer from 1/],
    [['--lr=-0.1'], /--lr: learning rate must be a number in \(0, 10\]/],
    [['--label-smoothing', '2'], /--label-smoothing: label smoothing must be a number in \[0, 1\)/],
    [['--hidden'], /--hidden/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j with a clear message and exit code 2', async (args, message) => {
    const err = await run(process.execPath, [CLI, ...args]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.code).toBe(2);
    expect(err!.stderr).toMatch(message);
    expect(err!.stderr).toMatch(/--help/);
  });
});
