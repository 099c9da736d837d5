// Pool calls on arrays backed by a SharedArrayBuffer (API.md "Multi-core (worker pool)"): the
// workers copy their own rows between the caller's shared arrays and the wasm memory, instead of
// the calling thread. Results must be identical to the synchronous call on plain arrays, for every
// operation, both element types, 1, 2 and 3 workers, mixed shared and plain inputs and outputs,
// and strided layouts; the float64 results also match the float64 reference.
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { stats, tuning } from '../src/pool.js';
import type { ChunkRing } from '../src/pool-ring.js';
import { F32 } from '../src/dtype.js';
import { diff } from './helpers/compare.js';
import { randomLabels, randomProbabilities, uniformArray } from './helpers/random.js';
import { dimsOf, maxErrRatio, softmax64 } from './helpers/reference.js';
import { usePools } from './helpers/pools.js';

type F = Float32Array | Float64Array;
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** A copy of `a` in a SharedArrayBuffer (at an offset, so byteOffset is not 0). */
function sharedCopy<A extends F>(a: A): A {
  const T = a.constructor as new (b: SharedArrayBuffer, o: number, n: number) => A;
  const bytes = a.BYTES_PER_ELEMENT;
  const out = new T(new SharedArrayBuffer((a.length + 3) * bytes), 3 * bytes, a.length);
  out.set(a);
  return out;
}
const sharedZeros = (T: Ctor, n: number): F => new (T as Float64ArrayConstructor)(new SharedArrayBuffer(n * T.BYTES_PER_ELEMENT) as unknown as ArrayBuffer) as F;

const saved = { ...tuning };
const pools = usePools([1, 2, 3]);

const layouts = [
  { name: '[300, 37]', n: 300 * 37, rows: 300, C: 37, o: { classes: 37 }, ce: { classes: 37 } },
  { name: '[5, 20000]', n: 5 * 20000, rows: 5, C: 20000, o: { classes: 20000 }, ce: { classes: 20000 } },
  { name: '[7, 33, 50] axis 1', n: 7 * 33 * 50, rows: 7 * 50, C: 33, o: { shape: [7, 33, 50], axis: 1 }, ce: { shape: [7, 33, 50] } },
];

for (const T of [Float32Array, Float64Array] as Ctor[]) {
  describe(`pool calls on SharedArrayBuffer-backed arrays, ${T.name}: identical to the synchronous call`, () => {
    for (const L of layouts) {
      it(L.name, async () => {
        Object.assign(tuning, { minElements: 1, cutoff: 1, chunkBytes: 4096, cores: 64, wakeBacklog: 1 });
        try {
          const x = uniformArray(T, L.n, 1) as F;
          const g = uniformArray(T, L.n, 2) as F;
          const lab = randomLabels(L.rows, L.C, 3, -100);
          const q = randomProbabilities(T, L.rows, L.C, 4) as F;
          const ceLayout = L.ce;
          // (a strided probabilities target has the logits' layout: transpose q's rows into it)
          const qT = 'shape' in ceLayout ? (() => {
            const t = new T(L.n) as F;
            const [o, C, inner] = [7, 33, 50];
            for (let a = 0; a < o; a++) for (let c = 0; c < C; c++) for (let i = 0; i < inner; i++) t[(a * C + c) * inner + i] = q[(a * inner + i) * C + c]!;
            return t;
          })() : q;
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          type Run = (f: Record<'softmax' | 'logSoftmax' | 'logSumExp' | 'softmaxBackward' | 'logSoftmaxBackward' | 'crossEntropy' | 'crossEntropyWithGrad', (...args: any[]) => unknown>, ins: { x: F; g: F; q: F }, out: (n: number) => F | undefined) => unknown;
          const ops: [string, Run][] = [
            ['softmax', (f, a, out) => f.softmax(a.x, { ...L.o, into: out(L.n) } as never)],
            ['logSoftmax T=2', (f, a, out) => f.logSoftmax(a.x, { ...L.o, temperature: 2, into: out(L.n) } as never)],
            ['logSumExp', (f, a, out) => f.logSumExp(a.x, { ...L.o, into: out(L.rows) } as never)],
            ['softmaxBackward', (f, a, out) => f.softmaxBackward(a.x, a.g, { ...L.o, into: out(L.n) } as never)],
            ['logSoftmaxBackward', (f, a, out) => f.logSoftmaxBackward(a.x, a.g, { ...L.o, into: out(L.n) } as never)],
            ['crossEntropy', (f, a) => f.crossEntropy(a.x, lab, { ...ceLayout, labelSmoothing: 0.1 } as never)],
            ['crossEntropyWithGrad', (f, a, out) => f.crossEntropyWithGrad(a.x, lab, { ...ceLayout, zLoss: 1e-3, gradInto: out(L.n) } as never)],
            ['crossEntropyWithGrad probabilities, none', (f, a, out) => f.crossEntropyWithGrad(a.x, a.q as never, { ...ceLayout, reduction: 'none', gradInto: out(L.n) } as never)],
          ];
          for (const [name, run] of ops) {
            const want = await run(api as never, { x, g, q: qT }, () => undefined);
            for (const [sIn, sOut] of [[true, true], [true, false], [false, true]]) {
              for (const p of pools) {
                const ins = sIn ? { x: sharedCopy(x), g: sharedCopy(g), q: sharedCopy(qT) } : { x, g, q: qT };
                const before = stats.sharedCopies;
                const got = await run(p as never, ins, (n) => (sOut ? sharedZeros(T, n) : undefined));
                const what = `${name}, shared input ${sIn}, shared output ${sOut}, ${p.threads} threads`;
                expect(diff(want, got), what).toBe('');
                // In Node the workers copied (browsers: a Web Worker takes a new array only
                // while it sleeps, so the calling thread copies it this first time; the results
                // are the same).
                if (isNode && (sIn || name !== 'crossEntropy')) expect(stats.sharedCopies, what).toBeGreaterThan(before);
              }
            }
          }
        } finally {
          Object.assign(tuning, saved);
        }
      });
    }
  });
}

describe('shared arrays against the float64 reference', () => {
  it('softmax [2000, 100] float64, shared in and out, 2 threads', async () => {
    tuning.cores = 64;
    try {
      const x = sharedCopy(uniformArray(Float64Array, 200000, 9, 10));
      const out = sharedZeros(Float64Array, 200000);
      await pools[1]!.softmax(x, { classes: 100, into: out });
      expect(maxErrRatio(out, softmax64(x, dimsOf([2000, 100], 1)), 1e-15, 1e-12)).toBeLessThanOrEqual(1);
    } finally {
      tuning.cores = saved.cores;
    }
  });

  /** Runs `body` with every call of the pools going through the workers, in small chunks. */
  async function throughWorkers(body: () => Promise<void>): Promise<void> {
    Object.assign(tuning, { minElements: 1, cutoff: 1, chunkBytes: 4096, cores: 64 });
    try {
      await body();
    } finally {
      Object.assign(tuning, saved);
    }
  }

  /** A [256, 50] cross-entropy case: its logits (also in a SharedArrayBuffer), labels, and the
   *  single-threaded result on plain arrays; `check` compares a pool's loss and shared gradient. */
  function ceCase(seed: number) {
    const x = uniformArray(Float32Array, 256 * 50, seed);
    const labels = randomLabels(256, 50, seed + 1);
    const want = api.crossEntropyWithGrad(x, labels, { classes: 50 });
    const check = (got: { loss: number }, grad: Float32Array) => {
      expect(got.loss).toBe(want.loss);
      expect(diff(want.grad, grad)).toBe('');
    };
    return { x, labels, sx: sharedCopy(x), want, check };
  }

  it('many different shared arrays (more than the workers keep) in a row', () => throughWorkers(async () => {
    for (let k = 0; k < 40; k++) {
      const x = uniformArray(Float32Array, 256 * 50, 100 + k);
      const got = await pools[2]!.softmax(sharedCopy(x), { classes: 50, into: sharedZeros(Float32Array, 12800) as Float32Array });
      expect(diff(api.softmax(x, { classes: 50 }), got)).toBe('');
    }
  }));

  it('the same shared arrays call after call: the workers copy them (Web Workers: once they have taken them)', () => throughWorkers(async () => {
    // Node's workers receive a new array when they first meet it; a Web Worker takes it from its
    // event loop while it sleeps between calls, and the calling thread copies until then.
    const { labels, sx, check } = ceCase(11);
    const grad = sharedZeros(Float32Array, 12800) as Float32Array;
    let direct = 0;
    for (let k = 0; k < 100 && direct < 3; k++) {
      grad.fill(0);
      const before = stats.sharedCopies;
      check(await pools[2]!.crossEntropyWithGrad(sx, labels, { classes: 50, gradInto: grad }), grad);
      if (stats.sharedCopies > before) direct++;
      else expect(isNode, 'in Node the workers copy from the first call').toBe(false);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(direct).toBe(3);
  }));

  it('a call that brings a new shared array while using the oldest one the workers keep', () => throughWorkers(async () => {
    // The workers keep the last 16 arrays; a 17th drops one. The dropped one must not be an array
    // the same call uses (here the logits, first sent before the 15 others), or the workers
    // would meet its copies after they had let it go.
    const { x, labels, sx, want, check } = ceCase(7);
    for (let round = 0; round < 2; round++) {
      expect(await pools[2]!.crossEntropy(sx, labels, { classes: 50 })).toBe(want.loss);
      for (let k = 0; k < 15; k++) await pools[2]!.softmax(sharedCopy(x), { classes: 50 });
      const grad = sharedZeros(Float32Array, 12800) as Float32Array;
      check(await pools[2]!.crossEntropyWithGrad(sx, labels, { classes: 50, gradInto: grad }), grad);
    }
  }));
});

describe('the ring slots of a call whose arrays the workers copy themselves', () => {
  it('two per thread that runs chunks, reused in turn over many chunks, with results identical to the synchronous call', async () => {
    // On 2 cores the calling thread and one worker run chunks: 4 slots where the workers copy
    // every array (a slot each thread used two chunks before is still in its core's cache), the
    // whole ring where the calling thread copies (it runs ahead of the workers).
    Object.assign(tuning, { minElements: 1, cutoff: 1, chunkBytes: 4096, cores: 2 });
    try {
      const ring = (pools[1] as unknown as { ring: ChunkRing }).ring;
      const rows = 1024, C = 50, n = rows * C;
      const L = { outer: rows, C, inner: 1, rows };
      expect(ring.maxSlots).toBe(8);
      expect(ring.plan(L, F32, 1, false)!.slots).toBe(8);
      const plan = ring.plan(L, F32, 1, false, undefined, true)!;
      expect(plan.slots).toBe(4);
      expect(plan.chunks).toBeGreaterThanOrEqual(4 * plan.slots);
      const x = uniformArray(Float32Array, n, 21), labels = randomLabels(rows, C, 22);
      const sx = sharedCopy(x), sy = sharedZeros(Float32Array, n) as Float32Array;
      const wantCe = api.crossEntropyWithGrad(x, labels, { classes: C }), wantSm = api.softmax(x, { classes: C });
      for (const p of pools) {
        // (the last call's output is a plain array, copied here: the whole ring)
        const got = await p.crossEntropyWithGrad(sx, labels, { classes: C, gradInto: sy });
        expect(got.loss, `${p.threads} threads`).toBe(wantCe.loss);
        expect(diff(wantCe.grad, sy), `${p.threads} threads`).toBe('');
        expect(diff(wantSm, await p.softmax(sx, { classes: C, into: sy })), `${p.threads} threads`).toBe('');
        expect(diff(wantSm, await p.softmax(sx, { classes: C })), `${p.threads} threads, plain output`).toBe('');
      }
    } finally {
      Object.assign(tuning, saved);
    }
  });
});

describe("the copies into and out of a pool's shared memory", () => {
  it("in Node, nodeByteCopy copies the bytes between any offsets of ArrayBuffers and SharedArrayBuffers, and a pool's memory uses it", async () => {
    const { nodeByteCopy } = await import('../src/pool-host.js');
    const copy = nodeByteCopy();
    if (!isNode) {
      expect(copy).toBeNull();
      return;
    }
    expect(copy).not.toBeNull();
    for (const [S, D] of [[ArrayBuffer, SharedArrayBuffer], [SharedArrayBuffer, ArrayBuffer], [SharedArrayBuffer, SharedArrayBuffer]] as const) {
      const src = new Uint8Array(new S(1000)), dst = new Uint8Array(new D(1200));
      for (let i = 0; i < src.length; i++) src[i] = (i * 37 + 11) & 255;
      for (const [srcAt, dstAt, n] of [[0, 0, 1000], [3, 7, 500], [999, 1199, 1], [17, 100, 0]] as const) {
        dst.fill(0);
        copy!(dst.buffer, dstAt, src.buffer, srcAt, n);
        const want = new Uint8Array(1200);
        want.set(src.subarray(srcAt, srcAt + n), dstAt);
        expect(diff(dst, want), `${S.name} -> ${D.name} ${srcAt} ${dstAt} ${n}`).toBe('');
      }
    }
    // (the pool's runtime: src/pool.ts PoolImpl.prt)
    expect((pools[0] as unknown as { prt: { arena: { byteCopy: unknown } } }).prt.arena.byteCopy).not.toBeNull();
  });
});
