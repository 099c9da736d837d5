// src/inflate.ts, the raw DEFLATE decoder of the embedded builds: against node:zlib on random and
// structured data, through every kind of block (stored, fixed, dynamic) and zlib's strategies;
// its refusals of corrupt input; and the embedded builds, inflated, byte for byte the shipped
// dist/wasm files.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { inflateRaw } from '../src/inflate.js';
import { FEATURE_PROBE, wasmBytes } from '../src/load.js';
import { rng } from './helpers/random.js';
import { BACKENDS } from './helpers/backends.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const u8 = (b: Buffer | Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const roundTrip = (data: Uint8Array, opts: Parameters<typeof deflateRawSync>[1] = {}) => {
  const stream = u8(deflateRawSync(data, opts));
  expect(Buffer.from(inflateRaw(stream, data.length)).equals(Buffer.from(data))).toBe(true);
  return stream;
};

/** Data of a given kind and length, from a seed. */
function data(kind: string, n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  if (kind === 'random') for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  else if (kind === 'few-symbols') for (let i = 0; i < n; i++) out[i] = 'ab\n'.charCodeAt((r() * 3) | 0);
  else if (kind === 'runs') for (let i = 0; i < n; ) for (let v = (r() * 256) | 0, k = 1 + ((r() * 300) | 0); k-- && i < n; ) out[i++] = v;
  else if (kind === 'text') {
    const words = ['softmax', 'wasm', 'kernel', 'the', 'of', 'a', 'simd', 'relaxed', 'f32x4', 'i32.load'];
    let s = '';
    while (s.length < n) s += words[(r() * words.length) | 0] + (r() < 0.1 ? '\n' : ' ');
    out.set(new TextEncoder().encode(s).subarray(0, n));
  } else if (kind === 'matches') {
    // Long and short back-references at every distance, overlapping ones among them.
    for (let i = 0; i < n; ) {
      if (i > 0 && r() < 0.7) {
        const d = 1 + ((r() * Math.min(i, 32768)) | 0);
        for (let k = 3 + ((r() * 300) | 0); k-- && i < n; i++) out[i] = out[i - d]!;
      } else out[i++] = (r() * 256) | 0;
    }
  }
  return out;
}

describe('inflateRaw', () => {
  const kinds = ['random', 'few-symbols', 'runs', 'text', 'matches'];
  const sizes = [0, 1, 2, 100, 4096, 70_000];

  it.each(kinds)('inflates what zlib deflates: %s data, every level and strategy', (kind) => {
    for (const n of sizes) {
      const input = data(kind, n, n + kind.length);
      for (const level of [0, 1, 6, 9]) roundTrip(input, { level });
      for (const strategy of [constants.Z_FILTERED, constants.Z_HUFFMAN_ONLY, constants.Z_RLE, constants.Z_FIXED]) {
        roundTrip(input, { level: 9, strategy });
      }
      // Small windows and memory: more, shorter blocks.
      roundTrip(input, { level: 9, windowBits: 9, memLevel: 1 });
    }
  });

  it('decodes each kind of block: stored, fixed and dynamic (read from the stream headers)', () => {
    const type = (s: Uint8Array) => (s[0]! >> 1) & 3;
    expect(type(roundTrip(data('random', 1000, 1), { level: 0 }))).toBe(0);
    expect(type(roundTrip(data('text', 1000, 2), { strategy: constants.Z_FIXED }))).toBe(1);
    expect(type(roundTrip(data('text', 10_000, 3), { level: 9 }))).toBe(2);
  });

  it('decodes streams that mix block types (stored, fixed and dynamic blocks in one stream)', () => {
    // zlib switches block type between flushes: deflate the pieces into one stream by hand.
    const pieces = [data('random', 3000, 4), data('text', 200, 5), data('matches', 50_000, 6), data('random', 70_000, 7)];
    const params: [number, number][] = [[0, 0], [9, constants.Z_FIXED], [9, 0], [1, constants.Z_HUFFMAN_ONLY]];
    // Each piece as its own non-final blocks, ended by an empty stored block (Z_FULL_FLUSH's
    // byte-aligned sync point, with no back-references across it), then a final empty block.
    const chunks = pieces.map((p, i) => {
      const [level, strategy] = params[i]!;
      return deflateRawSync(p, { level, strategy, finishFlush: constants.Z_FULL_FLUSH });
    });
    chunks.push(Buffer.from([0x03, 0x00])); // a final, empty fixed block
    const stream = u8(Buffer.concat(chunks));
    const all = Buffer.concat(pieces.map((p) => Buffer.from(p)));
    expect(inflateRawSync(stream).equals(all)).toBe(true); // the stream is what the test means
    expect(Buffer.from(inflateRaw(stream, all.length)).equals(all)).toBe(true);
  });

  it('rejects corrupt input: truncated streams, the wrong size, bad block types, bad stored lengths', () => {
    const input = data('text', 20_000, 8);
    const stream = u8(deflateRawSync(input, { level: 9 }));
    const stored = u8(deflateRawSync(input.subarray(0, 100), { level: 0 }));
    const corrupt = /corrupt compressed wasm/;
    for (const cut of [0, 1, stream.length >> 1, stream.length - 1]) expect(() => inflateRaw(stream.subarray(0, cut), input.length)).toThrow(corrupt);
    expect(() => inflateRaw(stream, input.length - 1)).toThrow(corrupt);
    expect(() => inflateRaw(stream, input.length + 1)).toThrow(corrupt);
    expect(() => inflateRaw(new Uint8Array([0x07, 0, 0]), 0)).toThrow(corrupt); // block type 3
    const badLen = stored.slice();
    badLen[3] = badLen[3]! ^ 1; // NLEN no longer LEN's complement
    expect(() => inflateRaw(badLen, 100)).toThrow(corrupt);
    // Random damage: throws or yields some bytes, never hangs or reads past its buffers.
    const r = rng(9);
    for (let k = 0; k < 200; k++) {
      const bad = stream.slice();
      for (let j = 0; j < 3; j++) bad[(r() * bad.length) | 0] = (r() * 256) | 0;
      try {
        expect(inflateRaw(bad, input.length).length).toBe(input.length);
      } catch (e) {
        expect(String(e)).toMatch(corrupt);
      }
    }
  });
});

describe('the embedded builds', () => {
  // V8 removed the flag once relaxed SIMD shipped (Node 22); the probe is then checked without it only.
  const acceptsRelaxedFlag = (() => {
    try {
      execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', '0'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.each(BACKENDS)('%s: inflated, it is dist/wasm/softmax.%s.wasm byte for byte', (b) => {
    const shipped = readFileSync(join(ROOT, `dist/wasm/softmax.${b}.wasm`));
    expect(Buffer.from(wasmBytes(b)).equals(shipped)).toBe(true);
  });

  it.each(BACKENDS)('%s: its feature probe answers as validating the whole build does, in a runtime with and without relaxed SIMD (so init inflates only builds it can run)', (b) => {
    const probe = FEATURE_PROBE[b];
    const script = `const fs = require('fs');
      const probe = ${JSON.stringify(probe)};
      const whole = WebAssembly.validate(fs.readFileSync(${JSON.stringify(join(ROOT, `dist/wasm/softmax.${b}.wasm`))}));
      console.log(JSON.stringify([probe === null || WebAssembly.validate(new Uint8Array(probe)), whole]));`;
    // Node 20 without its flag has no relaxed SIMD; Node >= 22 has it by default and rejects the flag.
    for (const flags of [[], ...(acceptsRelaxedFlag ? [['--experimental-wasm-relaxed-simd']] : [])]) {
      const [probed, whole] = JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' })) as boolean[];
      expect(probed, flags.join(' ')).toBe(whole);
    }
  });
});
