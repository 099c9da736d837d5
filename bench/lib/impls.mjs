// Everything the bench times, behind one interface:
//   { id, label, kind: 'ours' | 'baseline', backend?, path?, isAsync, ops,
//     prepare(op, logits, labels, rows, classes) -> Promise<{ run, result, dispose? }> }
// prepare() does all one-time work (buffers, workspaces, sessions) outside the timed function;
// run() is one call; result() is what the last call produced (checked against float64).

export const OPS = ['softmax', 'logSoftmax', 'crossEntropy', 'crossEntropyWithGrad'];
export const BACKENDS = ['scalar', 'simd', 'relaxed-simd'];

// Each build runs in a copy of the library of its own (a module instance: the same file under
// another URL), initialized once, as a user's process or page loads one build. One copy switched
// between builds timed the small calls slower and unsteadily: its call sites into wasm then meet
// the kernels of several wasm instances, and V8 calls those through a slower path (Node 24, three
// runs each: crossEntropyWithGrad at [1, 10], relaxed-simd API, 1.13-1.49x plain JS with one
// copy, 1.37-1.41x with a copy per build).
let loadLibrary = (key) => import(new URL(`../../dist/index.js?build=${key}`, import.meta.url).href);
const libraries = new Map();

/** Sets how a copy of the library is loaded (the browser page: its own bundle of it, by URL). */
export function setLibraryLoader(load) {
  loadLibrary = load;
  libraries.clear();
}

/** The library's copy for `build` ('default': init() with no backend), initialized; rejects where
 *  the runtime cannot run that build. */
export function libraryFor(build) {
  let lib = libraries.get(build);
  if (!lib) {
    lib = loadLibrary(build).then(async (m) => {
      await m.init(build === 'default' ? undefined : { backend: build });
      return m;
    });
    libraries.set(build, lib);
  }
  return lib;
}

/** The builds this runtime can run (init rejects a build it cannot validate). */
export async function runnableBackends(wanted = BACKENDS) {
  const ok = [];
  const skipped = [];
  for (const b of wanted) {
    if (!BACKENDS.includes(b)) throw new Error(`bench: unknown build ${b} (builds: ${BACKENDS.join(', ')})`);
    try {
      await libraryFor(b);
      ok.push(b);
    } catch (err) {
      skipped.push({ backend: b, reason: err?.message ?? String(err) });
    }
  }
  return { ok, skipped };
}

/**
 * softmax-wasm through the normal API with `into` / `gradInto` (path 'api'), or through a
 * Workspace (path 'ws'), on one build. The options objects and output buffers are made once in
 * prepare(); through the API every call still copies the logits into wasm memory and the results
 * out (that is what the API path measures); through the Workspace the inputs are written once and
 * only ws.softmax() / ws.crossEntropyWithGrad() etc. are timed.
 */
export function ours(backend, path, dtype = 'float32') {
  const f64 = dtype === 'float64';
  const id = `${backend}:${path}${f64 ? ':f64' : ''}`;
  return {
    id,
    label: `softmax-wasm ${backend}${f64 ? ' float64' : ''} (${path === 'api' ? 'API' : 'Workspace'})`,
    short: `${backend}${f64 ? ' f64' : ''} ${path === 'api' ? 'API' : 'WS'}`,
    kind: 'ours',
    backend,
    path,
    dtype,
    isAsync: false,
    ops: OPS,
    async prepare(op, logits, labels, rows, classes) {
      const lib = await libraryFor(backend);
      if (lib.backend() !== backend) throw new Error(`init({ backend: '${backend}' }) left backend() = ${lib.backend()}`);
      // float64: the same logits widened (results are checked against the same float64 reference)
      const x = f64 ? Float64Array.from(logits) : logits;
      return path === 'api' ? prepareApi(lib, op, x, labels, rows, classes) : prepareWorkspace(lib, op, x, labels, rows, classes, dtype);
    },
  };
}

/**
 * A task's run(): `body` compiled as code of its own, over the names of `env`. Each task's call
 * into the library is then a call site only it feeds, as in an application, which loads one
 * build and calls it from its own code. A closure shared by every build and shape (the same
 * source) sees three copies' functions and objects there, and V8 calls them through its
 * polymorphic path: 90-91 ns against 79 ns for the relaxed-simd [1, 10] crossEntropyWithGrad
 * through the API in Chromium (two pages each, plain JS 115-116 ns in all four). The plain-JS
 * baseline's run() already calls one function, whatever the shape.
 */
function ownRun(body, env) {
  const names = Object.keys(env);
  return new Function(...names, `return () => { ${body}; };`)(...names.map((k) => env[k]));
}

function prepareApi(lib, op, logits, labels, rows, classes) {
  const n = rows * classes;
  const Float = logits.constructor;
  const s = { last: null };
  const env = { lib, s, x: logits, t: labels };
  switch (op) {
    case 'softmax':
    case 'logSoftmax': {
      const out = new Float(n);
      return { run: ownRun(`lib.${op}(x, o)`, { ...env, o: { classes, into: out } }), result: () => out };
    }
    case 'crossEntropy':
      return { run: ownRun('s.last = lib.crossEntropy(x, t, o)', { ...env, o: { classes } }), result: () => s.last };
    case 'crossEntropyWithGrad': {
      const grad = new Float(n);
      return {
        run: ownRun('s.last = lib.crossEntropyWithGrad(x, t, o)', { ...env, o: { classes, gradInto: grad } }),
        result() {
          if (s.last.grad !== grad) throw new Error('crossEntropyWithGrad did not return the gradInto buffer');
          return { loss: s.last.loss, grad };
        },
      };
    }
  }
  throw new Error(`unknown op ${op}`);
}

function prepareWorkspace(lib, op, logits, labels, rows, classes, dtype) {
  if (!OPS.includes(op)) throw new Error(`unknown op ${op}`);
  const ws = lib.createWorkspace({ classes, rows, dtype });
  ws.logits.set(logits);
  ws.target.set(labels);
  const s = { last: NaN };
  return {
    run: ownRun(`s.last = ws.${op}()`, { ws, s }),
    result: () => (op === 'crossEntropyWithGrad' ? { loss: s.last, grad: ws.grad } : op === 'crossEntropy' ? s.last : ws.output),
    dispose: () => ws.dispose(),
  };
}

/** The baseline modules of bench/baselines; `+scatter` is the ORT loss+grad graph variant. */
export const BASELINE_IDS = ['naive', 'tfjs-wasm', 'ort-web', 'ort-node', 'ort-web+scatter', 'ort-node+scatter'];

export const BASELINE_SHORT = {
  naive: 'naive',
  'tfjs-wasm': 'tfjs',
  'ort-web': 'ort-web',
  'ort-node': 'ort-node',
  'ort-web+scatter': 'ort-web[s]',
  'ort-node+scatter': 'ort-node[s]',
};

/** Loads the baselines; each wrapped in the interface above, plus dispose() of the peer. `load(file)`
 *  imports bench/baselines/<file>.mjs (the browser page passes its own: the Node modules find
 *  their wasm by file path). */
export async function loadBaselines(ids = BASELINE_IDS, load = (file) => import(new URL(`../baselines/${file}.mjs`, import.meta.url).href)) {
  const out = [];
  for (const id of ids) {
    const [file, variant] = id.split('+');
    const mod = await load(file);
    const b = await mod.default(variant ? { gradGraph: variant } : undefined);
    out.push({
      id,
      label: b.name,
      short: BASELINE_SHORT[id] ?? id,
      kind: 'baseline',
      isAsync: b.isAsync,
      config: b.config,
      // The scatter graph differs from the default only in loss+grad.
      ops: variant ? ['crossEntropyWithGrad'] : OPS,
      prepare(op, logits, labels, rows, classes) {
        switch (op) {
          case 'softmax':
            return b.prepareSoftmax(logits, rows, classes);
          case 'logSoftmax':
            return b.prepareLogSoftmax(logits, rows, classes);
          case 'crossEntropy':
            return b.prepareCrossEntropy(logits, labels, rows, classes);
          case 'crossEntropyWithGrad':
            return b.prepareCrossEntropyWithGrad(logits, labels, rows, classes);
        }
        throw new Error(`unknown op ${op}`);
      },
      dispose: () => b.dispose(),
    });
  }
  return out;
}
