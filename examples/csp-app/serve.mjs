// Serves the built app (dist/) with a strict Content-Security-Policy on the page:
//   node serve.mjs [--allow-wasm] [--port 8080]
// Without --allow-wasm the policy forbids compiling WebAssembly in the page (no 'wasm-unsafe-eval'):
// only init({ wasm: module }) with a module compiled in the worker works. With it, all three do.
// The policy goes on the HTML document, as servers usually send it; the worker script is served
// without one, so the worker may compile wasm.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml' };

export function policy(allowWasm) {
  const script = allowWasm ? "script-src 'self' 'wasm-unsafe-eval'" : "script-src 'self'";
  return `default-src 'self'; ${script}; style-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'`;
}

/** Starts the server; resolves to its port. */
export function start({ root = fileURLToPath(new URL('./dist', import.meta.url)), allowWasm = false, port = 0, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(resolve(root), path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = await readFile(file);
      const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' };
      if (extname(file) === '.html') headers['content-security-policy'] = policy(allowWasm);
      res.writeHead(200, headers).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((ok) => server.listen(port, host, () => ok({ server, port: server.address().port })));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const { port } = await start({ allowWasm: process.argv.includes('--allow-wasm'), port: i > 0 ? Number(process.argv[i + 1]) : 8080 });
  console.log(`http://127.0.0.1:${port}/  (${policy(process.argv.includes('--allow-wasm'))})`);
}
