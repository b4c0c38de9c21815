// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
//
// Long inputs use the sparse-polynomial fold. Z(x) = x^290 + x^136 + x^113 + x^107 + x^32 + 1 is a
// multiple of the generator (the tests check it), hence so is Z(y) = Z(x)^8 with y = x^8: its
// exponents count bytes. XORing a multiple of the generator into a message leaves its CRC
// unchanged, so every byte m[j] at least 290 bytes from the end of the folded span can be cleared
// and XORed into m[j+154], m[j+177], m[j+183], m[j+258] and m[j+290]. In "pull" form the folded
// byte is f[j] = m[j] ^ f[j-154] ^ f[j-177] ^ f[j-183] ^ f[j-258] ^ f[j-290]: one forward pass of
// (unaligned) v128 loads and XORs, as the smallest distance exceeds a vector's 16 bytes.
// The cleared bytes become zeros, whose raw CRC from a zero register is zero, so only the 304
// tail bytes (and any bytes after them) go through slicing-by-16. The initial register is XORed
// into the first 4 bytes, which for a reflected CRC is the same as starting from that register.
// The input is never written: f[] lives in a sliding scratch window in module-owned memory.
// (Byte units keep the sliced tail 4x shorter than 4-byte units at the same cost per vector.)
// Why this Z and not the lowest-degree one, x^209 + x^144 + x^54 + x^39 + x^14 + 1: its smallest
// distance, 65 bytes, made each vector load f values stored four vectors earlier, unaligned to
// those stores, so the load waited for the stores to reach the cache (no store forwarding). With
// every distance at least 154 bytes (the lowest degree for that), a single fold ran 7,700 ->
// 12,200 MB/s on 16 KiB pages under bun; the pair below, which hid the stall by interleaving,
// kept its speed.

const POLY: u32 = 0x82f63b78;

/** Slicing-by-16 tables: TABLES[k*256 + b] is the CRC of byte b followed by k zero bytes. */
const TABLES: usize = memory.data(16 * 256 * 4, 64);

/** Fold distances in bytes (290 minus the other exponents of Z). */
const D1: usize = 154;
const D2: usize = 177;
const D3: usize = 183;
const D4: usize = 258;
const D5: usize = 290;
/** Tail bytes handled by slicing: whole vectors covering at least D5. */
const TAIL_BYTES: usize = (D5 + 15) & ~15;
/** History kept below the write position so f[j - D5] is always readable. */
const HIST: usize = TAIL_BYTES;
/** Bytes per scratch window before the history is slid back down. */
const WINDOW: usize = 32768;
/** Shortest input (bytes) that is folded; shorter inputs are sliced. */
const FOLD_MIN: usize = TAIL_BYTES + 256;

const SCRATCH: usize = memory.data(<i32> (HIST + WINDOW), 64);
const SCR: usize = SCRATCH + HIST;
const SCR_END: usize = SCR + WINDOW;
const TAIL: usize = memory.data(<i32> TAIL_BYTES, 64);

// Long buffers: Z2(y) = y^5275 + y^4508 + y^2751 + 1 (also a multiple, y = x^8) needs three
// history loads per vector instead of five; its 5,280-byte sliced tail only pays off on long input.
const L1: usize = 767;
const L2: usize = 2524;
const L3: usize = 5275;
const LONG_TAIL: usize = (L3 + 15) & ~15;
const LONG_MIN: usize = 512 * 1024;
const LSCRATCH: usize = memory.data(<i32> (LONG_TAIL + WINDOW), 64);
const LSCR: usize = LSCRATCH + LONG_TAIL;
const LSCR_END: usize = LSCR + WINDOW;
const LTAIL: usize = memory.data(<i32> LONG_TAIL, 64);

function initTables(): void {
  for (let b: u32 = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (<usize> b << 2), c);
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

function tab(k: usize, b: u32): u32 {
  return load<u32>(TABLES + (k << 10) + (<usize> b << 2));
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
      tab(3, w3 & 0xff) ^ tab(2, (w3 >>> 8) & 0xff) ^ tab(1, (w3 >>> 16) & 0xff) ^
      tab(0, w3 >>> 24);
    p += 16;
  }
  const end = p + (len & 15);
  while (p < end) {
    reg = tab(0, (reg ^ load<u8>(p)) & 0xff) ^ (reg >>> 8);
    p++;
  }
  return reg;
}

/** One vector of f: the input XOR the folded values D1..D5 bytes back (b = position - D5). */
function pull(src: usize, b: usize): v128 {
  let v = v128.load(src);
  v = v128.xor(v, v128.load(b, D5 - D1));
  v = v128.xor(v, v128.load(b, D5 - D2));
  v = v128.xor(v, v128.load(b, D5 - D3));
  v = v128.xor(v, v128.load(b, D5 - D4));
  return v128.xor(v, v128.load(b));
}

/** f for `n` vectors: reads src and the history below q, writes at q. */
function foldSpan(src: usize, q: usize, n: usize): void {
  let b = q - D5;
  const end = src + (n << 4);
  const end2 = src + ((n & ~1) << 4);
  while (src < end2) {
    v128.store(b, pull(src, b), D5);
    v128.store(b, pull(src + 16, b + 16), D5 + 16);
    src += 32;
    b += 32;
  }
  if (src < end) v128.store(b, pull(src, b), D5);
}

/** Moves the last HIST bytes before q to just below SCR; returns the new write position. */
function slide(q: usize): usize {
  memory.copy(SCRATCH, q - HIST, HIST);
  return SCR;
}

/**
 * Folds the start of [p, p+len) with the raw register `reg` applied to the first word. Writes the
 * TAIL_BYTES tail bytes to TAIL; returns the number of input bytes consumed.
 */
function fold(p: usize, len: usize, reg: u32): usize {
  const cleared = (len - TAIL_BYTES) & ~(<usize> 15);
  const zero = i32x4(0, 0, 0, 0);
  for (let z = SCRATCH; z < SCR; z += 16) v128.store(z, zero);
  v128.store(SCR, v128.xor(v128.load(p), i32x4(reg, 0, 0, 0)));
  let q = SCR + 16;
  let src = p + 16;
  let left = (cleared >>> 4) - 1;
  while (left > 0) {
    let room = (SCR_END - q) >>> 4;
    if (room == 0) {
      q = slide(q);
      room = WINDOW >>> 4;
    }
    const k = left < room ? left : room;
    foldSpan(src, q, k);
    src += k << 4;
    q += k << 4;
    left -= k;
  }
  // Tail: the same sums, but with the tail's own f values taken as zero.
  if (SCR_END - q < TAIL_BYTES) q = slide(q);
  let b = q - D5;
  for (let out = TAIL; out < TAIL + TAIL_BYTES; out += 16) {
    v128.store(out, pull(src, b));
    v128.store(b, zero, D5);
    src += 16;
    b += 16;
  }
  return cleared + TAIL_BYTES;
}

/** One vector of f for Z2 (b = position - L3). */
function pullLong(src: usize, b: usize): v128 {
  let v = v128.load(src);
  v = v128.xor(v, v128.load(b, L3 - L1));
  v = v128.xor(v, v128.load(b, L3 - L2));
  return v128.xor(v, v128.load(b));
}

/** As fold, with Z2: writes LONG_TAIL bytes to LTAIL; returns the input bytes consumed. */
function foldLong(p: usize, len: usize, reg: u32): usize {
  const cleared = (len - LONG_TAIL) & ~(<usize> 15);
  const zero = i32x4(0, 0, 0, 0);
  for (let z = LSCRATCH; z < LSCR; z += 16) v128.store(z, zero);
  v128.store(LSCR, v128.xor(v128.load(p), i32x4(reg, 0, 0, 0)));
  let q = LSCR + 16;
  let src = p + 16;
  const end = p + cleared;
  while (src < end) {
    if (q == LSCR_END) {
      memory.copy(LSCRATCH, q - LONG_TAIL, LONG_TAIL);
      q = LSCR;
    }
    const stop = min(end, src + (LSCR_END - q));
    let b = q - L3;
    while (src < stop) {
      v128.store(b, pullLong(src, b), L3);
      src += 16;
      b += 16;
    }
    q = b + L3;
  }
  if (LSCR_END - q < LONG_TAIL) {
    memory.copy(LSCRATCH, q - LONG_TAIL, LONG_TAIL);
    q = LSCR;
  }
  let b = q - L3;
  for (let out = LTAIL; out < LTAIL + LONG_TAIL; out += 16) {
    v128.store(out, pullLong(src, b));
    v128.store(b, zero, L3);
    src += 16;
    b += 16;
  }
  return cleared + LONG_TAIL;
}

// Page-sized inputs (MID_MIN..WINDOW bytes, i.e. 16 and 32 KiB pages) use Z2 then Z, fused.
// Z2 clears the first C bytes (C a multiple of 16, leaving R = len - C >= L3 bytes) with three
// history loads per vector instead of Z's five. Its pulls need no zeroed history: a term at
// distance L applies only from byte L on (the vector that straddles L takes it under a mask).
// The R bytes left, u[t] = m[C+t] ^ the Z2 terms whose source lies in the cleared part (distance
// L for t < L), are never stored: they are the input of the Z fold, computed as it reads them.
const MID_MIN: usize = 2 * LONG_TAIL + 16;
const MID_MAX: usize = WINDOW;
/** 16 bytes of 0xff then 16 of zero: a lane mask is a load from inside it. */
const MASKS: usize = memory.data<u8>([
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  255,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
]);
/** Lanes below k (0..16) set. */
function lanesBelow(k: usize): v128 {
  return v128.load(MASKS + 16 - k);
}
/** The Z2 terms of the vector of u at tail offset t (h: the Z2 value of tail offset 0). */
function tailTerms(h: usize, t: usize): v128 {
  let v = i32x4(0, 0, 0, 0);
  if (t + 16 <= L1) v = v128.load(h + t - L1);
  else if (t < L1) v = v128.and(v128.load(h + t - L1), lanesBelow(L1 - t));
  if (t + 16 <= L2) v = v128.xor(v, v128.load(h + t - L2));
  else if (t < L2) v = v128.xor(v, v128.and(v128.load(h + t - L2), lanesBelow(L2 - t)));
  if (t + 16 <= L3) v = v128.xor(v, v128.load(h + t - L3));
  else if (t < L3) v = v128.xor(v, v128.and(v128.load(h + t - L3), lanesBelow(L3 - t)));
  return v;
}
/** The vector of u at tail offset t (m: the tail's first input byte). */
function tailInput(m: usize, h: usize, t: usize): v128 {
  return v128.xor(v128.load(m + t), tailTerms(h, t));
}
const UTAIL: usize = memory.data(16, 64);

/** u ^ the g values D1..D5 back (b = position - D5). */
function zPull(u: v128, b: usize): v128 {
  let v = v128.xor(u, v128.load(b, D5 - D1));
  v = v128.xor(v, v128.load(b, D5 - D2));
  v = v128.xor(v, v128.load(b, D5 - D3));
  v = v128.xor(v, v128.load(b, D5 - D4));
  return v128.xor(v, v128.load(b));
}

/** One vector of the Z fold of u, stored as g (b = position - D5). */
function zStep(u: v128, b: usize): void {
  v128.store(b, zPull(u, b), D5);
}

/** Raw register after [p, p+len) from `reg`, MID_MIN <= len <= MID_MAX. */
function crcMid(p: usize, len: usize, reg: u32): u32 {
  const c = (len - L3) & ~(<usize> 15);
  // Z2 over [0, c): f1 at LSCR + j. Segments by which distances have begun.
  const f = LSCR;
  v128.store(f, v128.xor(v128.load(p), i32x4(reg, 0, 0, 0)));
  let j: usize = 16;
  const e1 = L1 & ~(<usize> 15);
  const e2 = L2 & ~(<usize> 15);
  const e3 = L3 & ~(<usize> 15);
  for (; j < e1; j += 16) v128.store(f + j, v128.load(p + j));
  // j == e1: the L1 term for lanes >= L1 - e1.
  v128.store(
    f + j,
    v128.xor(v128.load(p + j), v128.andnot(v128.load(f + j - L1), lanesBelow(L1 - e1))),
  );
  for (j += 16; j < e2; j += 16) {
    v128.store(f + j, v128.xor(v128.load(p + j), v128.load(f + j - L1)));
  }
  v128.store(
    f + j,
    v128.xor(
      v128.xor(v128.load(p + j), v128.load(f + j - L1)),
      v128.andnot(v128.load(f + j - L2), lanesBelow(L2 - e2)),
    ),
  );
  for (j += 16; j < e3; j += 16) {
    v128.store(
      f + j,
      v128.xor(v128.xor(v128.load(p + j), v128.load(f + j - L1)), v128.load(f + j - L2)),
    );
  }
  v128.store(
    f + j,
    v128.xor(
      v128.xor(v128.xor(v128.load(p + j), v128.load(f + j - L1)), v128.load(f + j - L2)),
      v128.andnot(v128.load(f + j - L3), lanesBelow(L3 - e3)),
    ),
  );
  for (j += 16; j < c; j += 16) {
    v128.store(
      f + j,
      v128.xor(
        v128.xor(v128.xor(v128.load(p + j), v128.load(f + j - L1)), v128.load(f + j - L2)),
        v128.load(f + j - L3),
      ),
    );
  }
  // Z over u[0, r), r = len - c: g at SCR + t, zeroed history below SCR.
  const r = len - c;
  const m = p + c;
  const h = f + c;
  const zero = i32x4(0, 0, 0, 0);
  for (let z = SCRATCH; z < SCR; z += 16) v128.store(z, zero);
  const c2 = (r - TAIL_BYTES) & ~(<usize> 15);
  // The cleared part of u by segments (no per-vector tests): all three Z2 terms, then L2 and L3,
  // then L3 alone; a boundary vector takes its terms from tailTerms.
  let t: usize = 0;
  const s1 = min(c2, L1 & ~(<usize> 15));
  for (; t < s1; t += 16) {
    const u = v128.xor(
      v128.xor(v128.xor(v128.load(m + t), v128.load(h + t - L1)), v128.load(h + t - L2)),
      v128.load(h + t - L3),
    );
    zStep(u, SCR + t - D5);
  }
  if (t < c2) {
    zStep(tailInput(m, h, t), SCR + t - D5);
    t += 16;
  }
  const s2 = min(c2, L2 & ~(<usize> 15));
  for (; t < s2; t += 16) {
    const u = v128.xor(v128.xor(v128.load(m + t), v128.load(h + t - L2)), v128.load(h + t - L3));
    zStep(u, SCR + t - D5);
  }
  if (t < c2) {
    zStep(tailInput(m, h, t), SCR + t - D5);
    t += 16;
  }
  const s3 = min(c2, L3 & ~(<usize> 15));
  for (; t < s3; t += 16) {
    zStep(v128.xor(v128.load(m + t), v128.load(h + t - L3)), SCR + t - D5);
  }
  for (; t < c2; t += 16) zStep(tailInput(m, h, t), SCR + t - D5);
  // The tail: the same sums, but with the tail's own g values taken as zero.
  for (let out = TAIL; out < TAIL + TAIL_BYTES; out += 16) {
    const b = SCR + t - D5;
    v128.store(out, zPull(tailInput(m, h, t), b));
    v128.store(b, zero, D5);
    t += 16;
  }
  let out = slice16(TAIL, TAIL_BYTES, 0);
  if (t < r) {
    // The last r - t (< 16) input bytes (never read past the input): their u, then sliced.
    memory.copy(UTAIL, m + t, r - t);
    v128.store(UTAIL, v128.xor(v128.load(UTAIL), tailTerms(h, t)));
    out = slice16(UTAIL, r - t, out);
  }
  return out;
}

/** CRC-32C of [ptr, ptr+len) continuing from `crc` (0 for a fresh CRC). */
export function crc32c(ptr: usize, len: usize, crc: u32): u32 {
  let reg = ~crc;
  if (len >= MID_MIN && len <= MID_MAX) return ~crcMid(ptr, len, reg);
  if (len >= LONG_MIN) {
    const used = foldLong(ptr, len, reg);
    reg = slice16(LTAIL, LONG_TAIL, 0);
    ptr += used;
    len -= used;
  } else if (len >= FOLD_MIN) {
    const used = fold(ptr, len, reg);
    reg = slice16(TAIL, TAIL_BYTES, 0);
    ptr += used;
    len -= used;
  }
  return ~slice16(ptr, len, reg);
}

/** CRC-32C by slicing-by-16 only (for tests and benchmarks). */
export function crc32cSliced(ptr: usize, len: usize, crc: u32): u32 {
  return ~slice16(ptr, len, ~crc);
}

// Two equal-length buffers at once: two independent streams give the core more to overlap (this
// mattered most with the older Z, whose loads waited for stores 65 bytes back).
const SCRATCH2: usize = memory.data(<i32> (HIST + WINDOW), 64);
const SCR2: usize = SCRATCH2 + HIST;
const TAIL2: usize = memory.data(<i32> TAIL_BYTES, 64);
let pairFirst: u32 = 0;
let pairSecond: u32 = 0;

/**
 * Fresh CRC-32C of [p1, p1+len) and of [p2, p2+len), read back with crc32cPairFirst() and
 * crc32cPairSecond(). Folds both in one interleaved pass when len fits one window.
 */
export function crc32cPair(p1: usize, p2: usize, len: usize): void {
  if (len < FOLD_MIN || len > WINDOW || len >= MID_MIN) {
    pairFirst = crc32c(p1, len, 0);
    pairSecond = crc32c(p2, len, 0);
    return;
  }
  const cleared = (len - TAIL_BYTES) & ~(<usize> 15);
  const zero = i32x4(0, 0, 0, 0);
  for (let z: usize = 0; z < HIST; z += 16) {
    v128.store(SCRATCH + z, zero);
    v128.store(SCRATCH2 + z, zero);
  }
  const init = i32x4(-1, 0, 0, 0);
  v128.store(SCR, v128.xor(v128.load(p1), init));
  v128.store(SCR2, v128.xor(v128.load(p2), init));
  let s1 = p1 + 16;
  let s2 = p2 + 16;
  let b1 = SCR + 16 - D5;
  let b2 = SCR2 + 16 - D5;
  const end = p1 + cleared;
  while (s1 < end) {
    v128.store(b1, pull(s1, b1), D5);
    v128.store(b2, pull(s2, b2), D5);
    s1 += 16;
    s2 += 16;
    b1 += 16;
    b2 += 16;
  }
  for (let out: usize = 0; out < TAIL_BYTES; out += 16) {
    v128.store(TAIL + out, pull(s1, b1));
    v128.store(b1, zero, D5);
    v128.store(TAIL2 + out, pull(s2, b2));
    v128.store(b2, zero, D5);
    s1 += 16;
    s2 += 16;
    b1 += 16;
    b2 += 16;
  }
  const used = cleared + TAIL_BYTES;
  pairFirst = ~slice16(p1 + used, len - used, slice16(TAIL, TAIL_BYTES, 0));
  pairSecond = ~slice16(p2 + used, len - used, slice16(TAIL2, TAIL_BYTES, 0));
}

/** The first CRC of the last crc32cPair() call. */
export function crc32cPairFirst(): u32 {
  return pairFirst;
}

/** The second CRC of the last crc32cPair() call. */
export function crc32cPairSecond(): u32 {
  return pairSecond;
}
