// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
//
// Long inputs use the sparse-polynomial fold: Z(y) = y^209 + y^144 + y^54 + y^39 + y^14 + 1 with
// y = x^32 is a multiple of the generator (Z(x) is, so Z(x)^32 = Z(x^32) is too; the tests check
// Z(x) mod P = 0). XORing a multiple of the generator into a message leaves its CRC unchanged, so
// every 4-byte word w[j] at least 209 words from the end of the folded span can be cleared and
// XORed into w[j+65], w[j+155], w[j+170], w[j+195] and w[j+209]. Done in "pull" form, the folded
// value of word j is f[j] = w[j] ^ f[j-65] ^ f[j-155] ^ f[j-170] ^ f[j-195] ^ f[j-209]: one
// forward pass of v128 loads and XORs (the smallest distance, 65 words, exceeds a vector's 4).
// The cleared words become zeros, whose raw CRC from a zero register is zero, so only the 212
// tail words (and the bytes after them) go through slicing-by-16. The initial register is XORed
// into the first word, which for a reflected CRC is the same as starting from that register.
// The input is never written: f[] lives in a sliding scratch window in module-owned memory.

const POLY: u32 = 0x82f63b78;

/** Slicing-by-16 tables: TABLES[k*256 + b] is the CRC of byte b followed by k zero bytes. */
const TABLES: usize = memory.data(16 * 256 * 4, 64);

/** Fold distances in words (209 - the other exponents of Z). */
const D1: usize = 65;
const D2: usize = 155;
const D3: usize = 170;
const D4: usize = 195;
const D5: usize = 209;
/** Words kept below the write position so f[j - D5] is always readable. */
const HIST: usize = 212;
/** Tail words handled by slicing: a multiple of 4 that is at least D5. */
const TAIL_WORDS: usize = 212;
/** Words per scratch window before the history is slid back down. */
const WINDOW: usize = 8192;
/** Shortest input (bytes) that is folded; shorter inputs are sliced. */
const FOLD_MIN: usize = (TAIL_WORDS + 64) * 4;

const SCRATCH: usize = memory.data(<i32>((HIST + WINDOW) * 4), 64);
const SCR: usize = SCRATCH + HIST * 4;
const SCR_END: usize = SCR + WINDOW * 4;
const TAIL: usize = memory.data(<i32>(TAIL_WORDS * 4), 64);

function initTables(): void {
  for (let b: u32 = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (<usize>b << 2), c);
  }
  for (let k: usize = 1; k < 16; k++) {
    for (let b: usize = 0; b < 256; b++) {
      const prev = load<u32>(TABLES + ((k - 1) << 10) + (b << 2));
      const next = load<u32>(TABLES + ((prev & 0xff) << 2)) ^ (prev >>> 8);
      store<u32>(TABLES + (k << 10) + (b << 2), next);
    }
  }
}
initTables();

@inline function tab(k: usize, b: u32): u32 {
  return load<u32>(TABLES + (k << 10) + (<usize>b << 2));
}

/** Raw (no pre/post inversion) slicing-by-16 update of register `reg` over [p, p+len). */
function slice16(p: usize, len: usize, reg: u32): u32 {
  const end16 = p + (len & ~15);
  while (p < end16) {
    const w0 = load<u32>(p) ^ reg;
    const w1 = load<u32>(p, 4);
    const w2 = load<u32>(p, 8);
    const w3 = load<u32>(p, 12);
    reg = tab(15, w0 & 0xff) ^ tab(14, (w0 >>> 8) & 0xff) ^ tab(13, (w0 >>> 16) & 0xff) ^
      tab(12, w0 >>> 24) ^ tab(11, w1 & 0xff) ^ tab(10, (w1 >>> 8) & 0xff) ^
      tab(9, (w1 >>> 16) & 0xff) ^ tab(8, w1 >>> 24) ^ tab(7, w2 & 0xff) ^
      tab(6, (w2 >>> 8) & 0xff) ^ tab(5, (w2 >>> 16) & 0xff) ^ tab(4, w2 >>> 24) ^
      tab(3, w3 & 0xff) ^ tab(2, (w3 >>> 8) & 0xff) ^ tab(1, (w3 >>> 16) & 0xff) ^ tab(0, w3 >>> 24);
    p += 16;
  }
  const end = p + (len & 15);
  while (p < end) {
    reg = tab(0, (reg ^ load<u8>(p)) & 0xff) ^ (reg >>> 8);
    p++;
  }
  return reg;
}

/** f[j] for `n` vectors: reads src and the history below q, writes q; returns nothing. */
@inline function foldSpan(src: usize, q: usize, n: usize): void {
  let b = q - D5 * 4;
  const end = src + (n << 4);
  while (src < end) {
    let v = v128.load(src);
    v = v128.xor(v, v128.load(b, (D5 - D1) * 4));
    v = v128.xor(v, v128.load(b, (D5 - D2) * 4));
    v = v128.xor(v, v128.load(b, (D5 - D3) * 4));
    v = v128.xor(v, v128.load(b, (D5 - D4) * 4));
    v = v128.xor(v, v128.load(b));
    v128.store(b, v, D5 * 4);
    src += 16;
    b += 16;
  }
}

/** Moves the last HIST words before q to just below SCR; returns the new write position. */
@inline function slide(q: usize): usize {
  memory.copy(SCRATCH, q - HIST * 4, HIST * 4);
  return SCR;
}

/**
 * Folds the first words of [p, p+4n) with the raw register `reg` applied to the first word.
 * Writes the TAIL_WORDS tail words to TAIL; returns the number of input words consumed.
 */
function fold(p: usize, n: usize, reg: u32): usize {
  const cleared = (n - TAIL_WORDS) & ~(<usize>3);
  memory.fill(SCRATCH, 0, HIST * 4);
  v128.store(SCR, v128.xor(v128.load(p), i32x4(reg, 0, 0, 0)));
  let q = SCR + 16;
  let src = p + 16;
  let left = (cleared >>> 2) - 1;
  while (left > 0) {
    let room = (SCR_END - q) >>> 4;
    if (room == 0) {
      q = slide(q);
      room = WINDOW >>> 2;
    }
    const k = left < room ? left : room;
    foldSpan(src, q, k);
    src += k << 4;
    q += k << 4;
    left -= k;
  }
  // Tail: the same sums, but with the tail's own f values taken as zero.
  if (SCR_END - q < TAIL_WORDS * 4) q = slide(q);
  const zero = i32x4(0, 0, 0, 0);
  let out = TAIL;
  const tailEnd = TAIL + TAIL_WORDS * 4;
  let b = q - D5 * 4;
  while (out < tailEnd) {
    let v = v128.load(src);
    v = v128.xor(v, v128.load(b, (D5 - D1) * 4));
    v = v128.xor(v, v128.load(b, (D5 - D2) * 4));
    v = v128.xor(v, v128.load(b, (D5 - D3) * 4));
    v = v128.xor(v, v128.load(b, (D5 - D4) * 4));
    v = v128.xor(v, v128.load(b));
    v128.store(out, v);
    v128.store(b, zero, D5 * 4);
    src += 16;
    b += 16;
    out += 16;
  }
  return cleared + TAIL_WORDS;
}

/** CRC-32C of [ptr, ptr+len) continuing from `crc` (0 for a fresh CRC). */
export function crc32c(ptr: usize, len: usize, crc: u32): u32 {
  let reg = ~crc;
  if (len >= FOLD_MIN) {
    const used = fold(ptr, len >>> 2, reg) << 2;
    reg = slice16(TAIL, TAIL_WORDS * 4, 0);
    ptr += used;
    len -= used;
  }
  return ~slice16(ptr, len, reg);
}

/** CRC-32C by slicing-by-16 only (for tests and benchmarks). */
export function crc32cSliced(ptr: usize, len: usize, crc: u32): u32 {
  return ~slice16(ptr, len, ~crc);
}
