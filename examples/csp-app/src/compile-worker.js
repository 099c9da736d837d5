// Compiles a wasm file in a worker. A dedicated worker has its own content security policy (the
// one its script is served with), so it can compile where the page may not; the page receives the
// compiled WebAssembly.Module, and instantiating a module needs no CSP permission.
self.onmessage = async ({ data: url }) => {
  try {
    self.postMessage({ module: await WebAssembly.compileStreaming(fetch(url)) });
  } catch (err) {
    self.postMessage({ error: `${err.name}: ${err.message}` });
  }
};
