// `npm run test:demo-browser`: the browser demo (examples/browser-demo) in headless Chromium.
//  1. Serves it with the Vite dev server (what `npm run demo:browser` runs), waits for the
//     default run (softmax regression) to finish, checks the final test accuracy shown on the page
//     (>= 94%), the plot, the digit grid and the wasm build, and saves the screenshot the README
//     shows (examples/browser-demo/screenshot.png).
//  2. Runs the MLP (?hidden=64) on the same server and checks >= 96%.
//  3. Builds it for production (vite build, into a temporary directory), serves that with
//     `vite preview` and checks the default run again.
// Needs `npm run build` first (the demo imports the package's dist/), and Chromium:
// CHROMIUM_PATH, else /usr/bin/chromium.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, createServer, preview } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
const configFile = join(root, 'examples/browser-demo/vite.config.mjs');
const screenshot = join(root, 'examples/browser-demo/screenshot.png');
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TIMEOUT = 60_000;

if (!existsSync(join(root, 'dist/index.js'))) {
  console.error('test-browser-demo: dist/index.js is missing; run `npm run build` first.');
  process.exit(1);
}

const failures = [];
function check(ok, message) {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failures.push(message);
}

/** Loads the page, waits for the training to end, checks it; returns the page. */
async function runPage(browser, url, { minAccuracy, epochs, label }) {
  console.log(`\n${label}: ${url}`);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  const t0 = performance.now();
  await page.goto(url);
  const final = page.locator('#final-accuracy[data-state="done"], #final-accuracy[data-state="error"]');
  await final.waitFor({ timeout: TIMEOUT });
  const seconds = (performance.now() - t0) / 1000;
  const state = await page.getAttribute('#final-accuracy', 'data-state');
  const status = (await page.textContent('#status'))?.trim();
  check(state === 'done', `training finished (${status}) in ${seconds.toFixed(1)} s`);
  const accuracy = Number(await page.getAttribute('#final-accuracy', 'data-accuracy'));
  const shown = (await page.textContent('#final-accuracy'))?.trim();
  check(accuracy >= minAccuracy, `final test accuracy on the page ${shown} >= ${minAccuracy * 100}%`);
  check(shown?.startsWith(`${(accuracy * 100).toFixed(2)}%`) === true, 'the page shows the accuracy it reports');
  const build = (await page.textContent('#backend'))?.trim();
  check(['relaxed-simd', 'simd', 'scalar'].includes(build ?? ''), `wasm build shown: ${build}`);
  check(Number(await page.getAttribute('#final-accuracy', 'data-epochs')) === epochs, `${epochs} epochs ran`);
  check((await page.textContent('#stat-epoch'))?.trim() === `${epochs} / ${epochs}`, 'the epoch counter reached the end');
  const digits = await page.$$eval('#digits .digit', (cells) =>
    cells.map((c) => ({ cls: c.className, text: c.textContent?.trim() ?? '' })),
  );
  check(
    digits.length === 36 && digits.every((d) => /^\d\s*\d+\.\d%/.test(d.text) && /\b(ok|bad)\b/.test(d.cls)),
    `${digits.length} test digits with a predicted label and probability`,
  );
  // The plot has been drawn: some of the canvas's pixels are the loss and accuracy colours.
  const inked = await page.$eval('#plot', (canvas) => {
    const c = /** @type {HTMLCanvasElement} */ (canvas);
    const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] > 200 || d[i + 2] > 200) && d[i + 1] < 140) n++;
    return n;
  });
  check(inked > 500, `the loss/accuracy plot is drawn (${inked} coloured pixels)`);
  check(problems.length === 0, `no page or console errors${problems.length ? `: ${problems.join('; ')}` : ''}`);
  return { page, accuracy, build };
}

const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const servers = [];
const outDir = mkdtempSync(join(tmpdir(), 'browser-demo-'));
const results = {};
try {
  // 1-2. The dev server (`npm run demo:browser`).
  const dev = await createServer({ configFile, logLevel: 'warn', server: { port: 0, strictPort: false } });
  servers.push(dev);
  await dev.listen();
  const devUrl = dev.resolvedUrls?.local[0] ?? `http://localhost:${dev.httpServer.address().port}/`;
  const softmaxRun = await runPage(browser, devUrl, { minAccuracy: 0.94, epochs: 20, label: 'dev server, softmax regression' });
  await softmaxRun.page.screenshot({ path: screenshot, fullPage: true });
  console.log(`  saved ${screenshot}`);
  results.softmax = softmaxRun.accuracy;
  results.build = softmaxRun.build;
  const mlpRun = await runPage(browser, `${devUrl}?hidden=64&delay=0`, { minAccuracy: 0.96, epochs: 20, label: 'dev server, MLP --hidden 64' });
  results.mlp = mlpRun.accuracy;

  // 3. The production build.
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const prod = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { port: 0, strictPort: false } });
  servers.push(prod);
  const prodUrl = prod.resolvedUrls?.local[0] ?? `http://localhost:${prod.httpServer.address().port}/`;
  const prodRun = await runPage(browser, `${prodUrl}?delay=0`, { minAccuracy: 0.94, epochs: 20, label: 'production build (vite build + preview)' });
  results.production = prodRun.accuracy;
} catch (err) {
  failures.push(String(err && err.stack ? err.stack : err));
  console.error(err);
} finally {
  await browser.close();
  for (const s of servers) await s.close();
  rmSync(outDir, { recursive: true, force: true });
}

const pctOf = (x) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`);
console.log(
  `\nbrowser demo (${results.build ?? '?'}): softmax regression ${pctOf(results.softmax)}, MLP ${pctOf(results.mlp)}, ` +
    `production build ${pctOf(results.production)}`,
);
if (failures.length) {
  console.error(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
