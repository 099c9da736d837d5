// Vite config of the browser demo: `npm run demo:browser` serves it, and
// scripts/test/test-browser-demo.mjs builds, serves and checks it in headless Chromium.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  // No public/ directory: the dataset is imported as an asset by main.js.
  publicDir: false,
  resolve: {
    // The page (and ../train-digits/train.mjs, which it shares with `npm start`) imports the
    // package by name; here that is this repository's build (`npm run build`, run by `npm install`).
    alias: { 'softmax-wasm': here('../../dist/index.js') },
  },
  server: {
    port: 5173,
    // main.js imports ../train-digits and ../data: let the dev server read the whole repository.
    fs: { allow: [here('../..')] },
  },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    // Keep the gzip-compressed CSV a separate file (the page fetches and decompresses it).
    assetsInlineLimit: 0,
  },
});
