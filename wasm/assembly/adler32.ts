// Adler-32 (RFC 1950): two sums modulo 65521, reduced every NMAX bytes.

const BASE: u32 = 65521;
const NMAX: usize = 5552;

/** Adler-32 of [ptr, ptr+len) continuing from `adler` (1 for a fresh checksum). */
export function adler32(ptr: usize, len: usize, adler: u32): u32 {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  while (len > 0) {
    const n = len < NMAX ? len : NMAX;
    len -= n;
    const end8 = ptr + (n & ~7);
    while (ptr < end8) {
      const w = load<u64>(ptr);
      a += <u32> (w & 0xff);
      b += a;
      a += <u32> ((w >>> 8) & 0xff);
      b += a;
      a += <u32> ((w >>> 16) & 0xff);
      b += a;
      a += <u32> ((w >>> 24) & 0xff);
      b += a;
      a += <u32> ((w >>> 32) & 0xff);
      b += a;
      a += <u32> ((w >>> 40) & 0xff);
      b += a;
      a += <u32> ((w >>> 48) & 0xff);
      b += a;
      a += <u32> (w >>> 56);
      b += a;
      ptr += 8;
    }
    const end = ptr + (n & 7);
    while (ptr < end) {
      a += <u32> load<u8>(ptr);
      b += a;
      ptr++;
    }
    a %= BASE;
    b %= BASE;
  }
  return (b << 16) | a;
}
