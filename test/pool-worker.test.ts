// How a pool worker ends (src/pool-worker.ts, closeWorkerPort): with parentPort.close() where the
// port has one (Node, Bun), the worker scope's close() where it has not (Deno, whose worker_threads
// parentPort lacks close: there the workers threw "wt.parentPort.close is not a function" on
// dispose), and quietly otherwise. The worker tests run the real worker source in Node
// worker_threads, with parentPort.close removed as in Deno. (Node only: imports node:worker_threads.)
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { closeWorkerPort, nodeWorkerSource, type WorkerInit } from '../src/pool-worker.js';

describe('closeWorkerPort', () => {
  it("calls the port's close, as a method, when it has one", () => {
    const calls: unknown[] = [];
    const port = { close(this: unknown) { calls.push(this); } };
    const scope = { close: () => calls.push('scope') };
    closeWorkerPort(port, scope);
    expect(calls).toEqual([port]);
  });

  it("calls the scope's close when the port has none (Deno)", () => {
    const calls: string[] = [];
    closeWorkerPort({}, { close: () => calls.push('scope') });
    closeWorkerPort({ close: undefined }, { close: () => calls.push('scope') });
    closeWorkerPort(null, { close: () => calls.push('scope') });
    expect(calls).toEqual(['scope', 'scope', 'scope']);
  });

  it('does nothing, without throwing, when neither has one', () => {
    expect(() => closeWorkerPort({}, {})).not.toThrow();
    expect(() => closeWorkerPort(undefined, {})).not.toThrow();
  });
});

// (module (import "env" "nope" (func))): the worker cannot instantiate it, so it posts an error
// and ends at once through its close function, the path every worker takes at dispose.
const unlinkable = new WebAssembly.Module(new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
  0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x04, 0x6e, 0x6f, 0x70, 0x65, 0x00, 0x00,
]));

/** Runs the pool's worker source after `prelude`, to its end: its messages, 'error' events and exit code. */
function runWorker(prelude: string, flag: SharedArrayBuffer) {
  const init: WorkerInit & { flag: SharedArrayBuffer } = {
    module: unlinkable, memory: new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }), ctrl: 0, cmd: 0, slots: 4, names: [], spinMs: 0, id: 0, flag,
  };
  const w = new Worker(prelude + nodeWorkerSource(), { eval: true, workerData: init });
  const messages: { type: string; message?: string }[] = [];
  const errors: string[] = [];
  w.on('message', (m: { type: string }) => messages.push(m));
  w.on('error', (e: Error) => errors.push(e.message));
  return new Promise<{ messages: typeof messages; errors: string[]; code: number }>((resolve) => {
    w.on('exit', (code) => resolve({ messages, errors, code }));
  });
}

const wt = `const _wt = process.getBuiltinModule('node:worker_threads');\n`;

describe('a pool worker ends cleanly', () => {
  it('in Node (parentPort.close)', async () => {
    const r = await runWorker('', new SharedArrayBuffer(4));
    expect(r.messages.map((m) => m.type)).toEqual(['error']);
    expect(r.messages[0]!.message).toMatch(/nope|import/i);
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("as in Deno: no parentPort.close, the scope's close() ends it", async () => {
    const flag = new SharedArrayBuffer(4);
    // Deno's worker_threads parentPort has no close; its worker scope has close() (a Web Worker's).
    const prelude = wt + `_wt.parentPort.close = undefined;\n` +
      `globalThis.close = () => { Atomics.store(new Int32Array(_wt.workerData.flag), 0, 1); process.exit(0); };\n`;
    const r = await runWorker(prelude, flag);
    expect(r.errors).toEqual([]); // before the fix: ['wt.parentPort.close is not a function']
    expect(r.code).toBe(0);
    expect(Atomics.load(new Int32Array(flag), 0)).toBe(1);
  });

  it('with no close anywhere: the worker still ends without an error', async () => {
    const r = await runWorker(wt + `_wt.parentPort.close = undefined;\n`, new SharedArrayBuffer(4));
    expect(r.messages.map((m) => m.type)).toEqual(['error']);
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
  });
});
