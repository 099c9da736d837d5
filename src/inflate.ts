// A raw DEFLATE (RFC 1951) decoder. It decodes the embedded wasm builds (compressed at build time
// by scripts/build/build-wasm.mjs) synchronously, so init() and initSync() share one path. It is
// 1.3 kB min+gzip where fflate's inflateSync is 2.0 kB, and it builds its tables on each call
// (one call per build per process), where fflate builds some at import: importing the package
// still runs nothing. Each Huffman code is a
// lookup table indexed by the next `max` input bits (the code's longest length), as in zlib's
// inflate and fflate. The literal/match loop (most of the work) is its own function whose state is
// in locals, not in variables a closure captures: it mostly runs before the JIT has optimized it,
// and context slots and calls are what cost there. Corrupt input throws; it never reads or writes
// past its buffers.

/** A Huffman code as a table: entry = symbol << 4 | code length, for every `max`-bit input. */
interface Huffman {
  table: Uint16Array;
  max: number;
}

function huffman(lengths: ArrayLike<number>): Huffman {
  const count = new Uint16Array(16);
  const next = new Uint16Array(16);
  let max = 1;
  for (let i = 0; i < lengths.length; i++) {
    count[lengths[i]!]!++;
    if (lengths[i]! > max) max = lengths[i]!;
  }
  count[0] = 0;
  for (let len = 1, code = 0; len < 16; len++) next[len] = code = (code + count[len - 1]!) << 1;
  const table = new Uint16Array(1 << max); // 0: no code (length 0)
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i]!;
    if (!len) continue;
    // Codes are packed most significant bit first, so the table is indexed by the reversed code.
    const code = next[len]!++;
    let r = 0;
    for (let k = 0; k < len; k++) r |= ((code >> k) & 1) << (len - 1 - k);
    for (; r < 1 << max; r += 1 << len) table[r] = (i << 4) | len;
  }
  return { table, max };
}

function corrupt(): never {
  throw new Error('softmax-wasm: internal error (corrupt compressed wasm)');
}

/** The decoder's position: next byte of src, bits read but not used (least significant first)
 *  and how many, next byte of out. */
interface State {
  src: Uint8Array;
  out: Uint8Array;
  pos: number;
  buf: number;
  cnt: number;
  o: number;
}

// Length and distance codes: base values and extra bits (RFC 1951 3.2.5), made on first use.
let lbase: number[], lext: number[], dbase: number[], dext: number[];

/** Decodes one block's literals and matches, up to its end-of-block code. */
function codes(st: State, lit: Huffman, dist: Huffman): void {
  const { src, out } = st;
  let { pos, buf, cnt, o } = st;
  const end = src.length + 2; // a table may look at up to 2 bytes past the end, read as zeros
  const size = out.length;
  const lt = lit.table;
  const lm = lit.max;
  const dt = dist.table;
  const dm = dist.max;
  for (;;) {
    for (; cnt < lm; cnt += 8) {
      if (pos >= end) corrupt();
      buf |= src[pos++]! << cnt; // undefined << cnt is 0
    }
    let e = lt[buf & ((1 << lm) - 1)]!;
    if (!(e & 15)) corrupt();
    buf >>>= e & 15;
    cnt -= e & 15;
    let s = e >> 4;
    if (s < 256) {
      if (o >= size) corrupt();
      out[o++] = s;
      continue;
    }
    if (s === 256) break;
    s -= 257;
    if (s >= 29) corrupt();
    let x = lext[s]!;
    for (; cnt < x; cnt += 8) {
      if (pos >= end) corrupt();
      buf |= src[pos++]! << cnt;
    }
    const len = lbase[s]! + (buf & ((1 << x) - 1));
    buf >>>= x;
    cnt -= x;
    for (; cnt < dm; cnt += 8) {
      if (pos >= end) corrupt();
      buf |= src[pos++]! << cnt;
    }
    e = dt[buf & ((1 << dm) - 1)]!;
    if (!(e & 15)) corrupt();
    buf >>>= e & 15;
    cnt -= e & 15;
    s = e >> 4;
    if (s >= 30) corrupt();
    x = dext[s]!;
    for (; cnt < x; cnt += 8) {
      if (pos >= end) corrupt();
      buf |= src[pos++]! << cnt;
    }
    const d = dbase[s]! + (buf & ((1 << x) - 1));
    buf >>>= x;
    cnt -= x;
    if (d > o || o + len > size) corrupt();
    // A builtin copy unless the match overlaps its own output.
    if (d >= len) out.copyWithin(o, o - d, o - d + len), (o += len);
    else for (const stop = o + len; o < stop; o++) out[o] = out[o - d]!;
  }
  st.pos = pos;
  st.buf = buf;
  st.cnt = cnt;
  st.o = o;
}

/** Makes `buf` hold at least n bits (the block headers' reader; codes() has its own, inlined). */
function fill(st: State, n: number): void {
  for (; st.cnt < n; st.cnt += 8) {
    if (st.pos >= st.src.length + 2) corrupt();
    st.buf |= st.src[st.pos++]! << st.cnt;
  }
}

/** The next n bits. */
function bits(st: State, n: number): number {
  fill(st, n);
  const v = st.buf & ((1 << n) - 1);
  st.buf >>>= n;
  st.cnt -= n;
  return v;
}

/** The next symbol of code h. */
function decode(st: State, h: Huffman): number {
  fill(st, h.max);
  const e = h.table[st.buf & ((1 << h.max) - 1)]!;
  if (!(e & 15)) corrupt();
  st.buf >>>= e & 15;
  st.cnt -= e & 15;
  return e >> 4;
}

/** Fills the length and distance code tables (RFC 1951 3.2.5) on first use. */
function lengthTables(): void {
  if (lbase) return;
  lbase = [];
  lext = [];
  dbase = [];
  dext = [];
  for (let i = 0, b = 3; i < 28; i++) {
    lext.push(i < 8 ? 0 : (i >> 2) - 1);
    lbase.push(b);
    b += 1 << lext[i]!;
  }
  lext.push(0);
  lbase.push(258);
  for (let i = 0, b = 1; i < 30; i++) {
    dext.push(i < 4 ? 0 : (i >> 1) - 1);
    dbase.push(b);
    b += 1 << dext[i]!;
  }
}

/** A stored block: the rest of this byte is padding, then LEN, NLEN and LEN bytes. */
function stored(st: State): void {
  const { src, out } = st;
  // Whole bytes already in `buf` were read ahead: give them back.
  let pos = st.pos - (st.cnt >> 3);
  st.buf = st.cnt = 0;
  if (pos + 4 > src.length) corrupt();
  const len = src[pos]! | (src[pos + 1]! << 8);
  if ((len ^ 0xffff) !== (src[pos + 2]! | (src[pos + 3]! << 8))) corrupt();
  pos += 4;
  if (pos + len > src.length || st.o + len > out.length) corrupt();
  out.set(src.subarray(pos, pos + len), st.o);
  st.pos = pos + len;
  st.o += len;
}

/** A dynamic block's literal/length and distance codes: their code lengths, themselves
 *  Huffman-coded, with runs. */
function dynamicCodes(st: State): [Huffman, Huffman] {
  const nlen = bits(st, 5) + 257;
  const ndist = bits(st, 5) + 1;
  const ncode = bits(st, 4) + 4;
  if (nlen > 286 || ndist > 30) corrupt();
  const cl = new Uint8Array(19);
  for (let i = 0; i < ncode; i++) cl[[16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15][i]!] = bits(st, 3);
  const lencode = huffman(cl);
  const lengths = new Uint8Array(nlen + ndist);
  for (let i = 0; i < lengths.length; ) {
    const s = decode(st, lencode);
    if (s < 16) {
      lengths[i++] = s;
      continue;
    }
    if (s === 16 && i === 0) corrupt();
    const v = s === 16 ? lengths[i - 1]! : 0;
    let rep = s === 16 ? 3 + bits(st, 2) : s === 17 ? 3 + bits(st, 3) : 11 + bits(st, 7);
    if (i + rep > lengths.length) corrupt();
    while (rep--) lengths[i++] = v;
  }
  return [huffman(lengths.subarray(0, nlen)), huffman(lengths.subarray(nlen))];
}

/** Decodes the raw DEFLATE stream `src`, which must inflate to exactly `size` bytes. */
export function inflateRaw(src: Uint8Array, size: number): Uint8Array {
  const st: State = { src, out: new Uint8Array(size), pos: 0, buf: 0, cnt: 0, o: 0 };
  lengthTables();
  let last: number;
  do {
    last = bits(st, 1);
    const type = bits(st, 2);
    if (type === 0) stored(st);
    else if (type === 1) {
      // Fixed codes.
      const l: number[] = [];
      for (let i = 0; i < 288; i++) l.push(i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8);
      codes(st, huffman(l), huffman(new Array<number>(30).fill(5)));
    } else if (type === 2) codes(st, ...dynamicCodes(st));
    else corrupt();
  } while (!last);
  if (st.o !== size || st.pos - (st.cnt >> 3) > src.length) corrupt();
  return st.out;
}
