// The worker pool's builds, derived from the embedded ones instead of shipping three more: a
// *-threads build (asconfig.json) is its plain build with the memory section replaced by an
// import of a shared memory, byte for byte otherwise (test/pool.test.ts checks this against the
// asc output in build/). So the pool runs exactly the single-threaded code, and the bundle
// carries each build once.

function leb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function readLeb(b: Uint8Array, p: number): [number, number] {
  let r = 0;
  let scale = 1;
  let x: number;
  do {
    x = b[p++]!;
    r += (x & 0x7f) * scale;
    scale *= 128;
  } while (x & 0x80);
  return [r, p];
}

interface Section {
  id: number;
  /** Payload bounds. */
  start: number;
  end: number;
  /** Start of the section header (its id byte). */
  head: number;
}

/** The pages a pool's shared memory starts with (the *-threads builds' initialMemory in
 *  asconfig.json). The plain builds start at 16 MiB, because growing an ordinary memory detaches
 *  its buffer (see src/memory.ts in docs/ARCHITECTURE.md); growing a shared one does not. */
export const SHARED_INITIAL_PAGES = 2;

/**
 * The module `bytes` with its one defined memory turned into an import "env" "memory" of a shared
 * memory (minimum SHARED_INITIAL_PAGES, maximum `maxPages`), as asc emits with --importMemory
 * --sharedMemory.
 */
export function sharedMemoryBuild(bytes: Uint8Array, maxPages = 65536): Uint8Array {
  const sections: Section[] = [];
  let p = 8;
  while (p < bytes.length) {
    const head = p;
    const id = bytes[p++]!;
    let size: number;
    [size, p] = readLeb(bytes, p);
    sections.push({ id, start: p, end: p + size, head });
    p += size;
  }
  const memory = sections.find((s) => s.id === 5);
  if (!memory) throw new Error('softmax-wasm: internal error (the build has no memory section)');
  const [count] = readLeb(bytes, memory.start);
  if (count !== 1) throw new Error('softmax-wasm: internal error (the build defines more than one memory)');
  // (the limits, flags and minimum and any maximum, are replaced)
  const entry: number[] = [3, 0x65, 0x6e, 0x76, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03]; // "env" "memory" memory, shared + max
  leb(SHARED_INITIAL_PAGES, entry);
  leb(maxPages, entry);
  const imports = sections.find((s) => s.id === 2);
  const payload: number[] = [];
  if (imports) {
    const [n, first] = readLeb(bytes, imports.start);
    leb(n + 1, payload);
    for (let r = first; r < imports.end; r++) payload.push(bytes[r]!);
  } else {
    leb(1, payload);
  }
  payload.push(...entry);
  const section: number[] = [2];
  leb(payload.length, section);
  section.push(...payload);
  // Reassemble: the import section goes where it was, else right after the type section (id 1),
  // else first; the memory section is dropped.
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  const after = imports ? -1 : sections.findIndex((s) => s.id === 1);
  if (!imports && after < 0) parts.push(Uint8Array.from(section));
  sections.forEach((s, i) => {
    if (s === memory) return;
    if (s === imports) parts.push(Uint8Array.from(section));
    else parts.push(bytes.subarray(s.head, s.end));
    if (i === after) parts.push(Uint8Array.from(section));
  });
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}
