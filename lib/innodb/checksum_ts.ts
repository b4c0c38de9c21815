/**
 * Plain TypeScript versions of the page checksum primitives: CRC-32C
 * (slicing-by-8), the legacy InnoDB fold checksums and Adler-32. They are the
 * fallback when the WASM kernels cannot be instantiated, and the reference the
 * tests compare the kernels with.
 */

const CRC_TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0][i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) t[k][i] = (t[k - 1][i] >>> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
  return t;
})();

/** CRC-32C of `b[off, off+len)`, continuing from `crc` (0 to start). */
export function crc32cTs(b: Uint8Array, off: number, len: number, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = ~crc;
  let i = off;
  const end = off + len;
  const end8 = off + (len & ~7);
  while (i < end8) {
    const lo = c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    c = t7[lo & 0xff] ^ t6[(lo >>> 8) & 0xff] ^ t5[(lo >>> 16) & 0xff] ^ t4[lo >>> 24] ^
      t3[b[i + 4]] ^ t2[b[i + 5]] ^ t1[b[i + 6]] ^ t0[b[i + 7]];
    i += 8;
  }
  while (i < end) c = t0[(c ^ b[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const MASK = 1463735687;
const MASK2 = 1653893711;

/** ut_fold_binary over `b[off, off+len)`, low 32 bits (exact: see wasm/assembly/innodb.ts). */
export function foldBinaryTs(b: Uint8Array, off: number, len: number): number {
  let fold = 0;
  for (let i = off, end = off + len; i < end; i++) {
    const n2 = b[i];
    const x = (((fold ^ n2 ^ MASK2) << 8) >>> 0) + fold;
    fold = (((x ^ MASK) >>> 0) + n2) >>> 0;
  }
  return fold;
}

/** buf_calc_page_new_checksum of the page at `off`. */
export function innodbNewTs(b: Uint8Array, off: number, pageSize: number): number {
  return (foldBinaryTs(b, off + 4, 22) + foldBinaryTs(b, off + 38, pageSize - 46)) >>> 0;
}

/** buf_calc_page_old_checksum of the page at `off`. */
export function innodbOldTs(b: Uint8Array, off: number): number {
  return foldBinaryTs(b, off, 26);
}

/** Adler-32 of `b[off, off+len)` continuing from `adler` (zlib semantics: 1 starts fresh). */
export function adler32Ts(b: Uint8Array, off: number, len: number, adler = 1): number {
  let a = adler & 0xffff;
  let s = adler >>> 16;
  let i = off;
  const end = off + len;
  while (i < end) {
    const stop = Math.min(end, i + 5552);
    for (; i < stop; i++) {
      a += b[i];
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/**
 * The legacy big-endian CRC-32C of MySQL 5.6/5.7 builds before the fix
 * (`ut_crc32_legacy_big_endian` in MySQL's ut0crc32.cc): bytes up to an 8-byte
 * aligned address one at a time, then each aligned 8-byte word byte-swapped
 * before it enters the CRC (so its bytes are taken last to first), then the
 * remaining bytes one at a time. Page frames are page-aligned, so alignment is
 * counted from the page start: `pageOff` is where the page starts in `b`,
 * `start` the offset inside the page.
 */
export function crc32cLegacyBigEndianTs(
  b: Uint8Array,
  pageOff: number,
  start: number,
  len: number,
): number {
  const t0 = CRC_TABLES[0];
  let c = ~0;
  let p = start;
  const end = start + len;
  while (p < end && (p & 7) !== 0) c = t0[(c ^ b[pageOff + p++]) & 0xff] ^ (c >>> 8);
  while (end - p >= 8) {
    for (let k = 7; k >= 0; k--) c = t0[(c ^ b[pageOff + p + k]) & 0xff] ^ (c >>> 8);
    p += 8;
  }
  while (p < end) c = t0[(c ^ b[pageOff + p++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
