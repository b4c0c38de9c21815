// LZ4 block format: a fast greedy compressor (the shape of LZ4's level 1: one hash table of
// positions, accelerating skip over incompressible data) and a decoder that checks every
// length and offset against the given ranges, so hostile input ends in an error code.

const MIN_MATCH: usize = 4;
const LAST_LITERALS: usize = 5;
const MF_LIMIT: usize = 12;
const MAX_OFFSET: usize = 65535;
const HASH_LOG: u64 = 12;
const SKIP_TRIGGER: u32 = 6;

/** Positions (relative to the source start) by hash of the next 5 bytes. */
const HASH_TABLE: usize = memory.data(4 << <i32> HASH_LOG, 64);

/** The destination is too small for the worst case of this source. */
export const LZ4_ERR_DST_TOO_SMALL: i32 = -1;
/** The compressed block is malformed or its output does not fit. */
export const LZ4_ERR_MALFORMED: i32 = -2;

/** Worst-case compressed size of `n` bytes. */
export function lz4CompressBound(n: u32): u32 {
  return n + n / 255 + 16;
}

function hash5(p: usize): usize {
  return <usize> (((load<u64>(p) << 24) * 889523592379) >>> (64 - HASH_LOG)) << 2;
}

/** Length of the common run of [a..) and [b..), stopping at `limit` (for a). */
function commonLength(a: usize, b: usize, limit: usize): usize {
  const start = a;
  while (a + 8 <= limit) {
    const x = load<u64>(a) ^ load<u64>(b);
    if (x != 0) return a - start + <usize> (ctz<u64>(x) >>> 3);
    a += 8;
    b += 8;
  }
  while (a < limit && load<u8>(a) == load<u8>(b)) {
    a++;
    b++;
  }
  return a - start;
}

/** Writes a length extension (the part of a length beyond 15) at op; returns the new op. */
function writeLength(op: usize, len: usize): usize {
  while (len >= 255) {
    store<u8>(op, 255);
    op++;
    len -= 255;
  }
  store<u8>(op, <u8> len);
  return op + 1;
}

/** Copies n bytes, 16 at a time when both ranges have 16 bytes of slack, else exactly. */
function copyLiterals(dst: usize, src: usize, n: usize, dstEnd: usize, srcEnd: usize): void {
  if (dst + n + 16 <= dstEnd && src + n + 16 <= srcEnd) {
    const end = dst + n;
    do {
      v128.store(dst, v128.load(src));
      dst += 16;
      src += 16;
    } while (dst < end);
  } else {
    memory.copy(dst, src, n);
  }
}

/**
 * Compresses [src, src+srcLen) into one LZ4 block at dst (capacity dstCap, which must be at
 * least lz4CompressBound(srcLen)); returns the compressed size or LZ4_ERR_DST_TOO_SMALL.
 */
export function lz4CompressBlock(src: usize, srcLen: usize, dst: usize, dstCap: usize): i32 {
  if (dstCap < <usize> lz4CompressBound(<u32> srcLen)) return LZ4_ERR_DST_TOO_SMALL;
  const srcEnd = src + srcLen;
  const dstEnd = dst + dstCap;
  let op = dst;
  let anchor = src;
  if (srcLen > MF_LIMIT) {
    memory.fill(HASH_TABLE, 0, 4 << <i32> HASH_LOG);
    const mfLimit = srcEnd - MF_LIMIT;
    const matchLimit = srcEnd - LAST_LITERALS;
    let ip = src + 1;
    store<u32>(HASH_TABLE + hash5(src), 0);
    let done = false;
    while (!done) {
      // Find a match, skipping faster the longer none is found.
      let ref: usize = 0;
      let tries: u32 = 1 << SKIP_TRIGGER;
      let next = ip;
      let found = false;
      while (true) {
        ip = next;
        next = ip + (tries++ >>> SKIP_TRIGGER);
        if (ip > mfLimit) break;
        const h = HASH_TABLE + hash5(ip);
        ref = src + load<u32>(h);
        store<u32>(h, <u32> (ip - src));
        if (ref + MAX_OFFSET >= ip && load<u32>(ref) == load<u32>(ip)) {
          found = true;
          break;
        }
      }
      if (!found) break;
      // Extend backwards over equal bytes.
      while (ip > anchor && ref > src && load<u8>(ip - 1) == load<u8>(ref - 1)) {
        ip--;
        ref--;
      }
      // Literals.
      const litLen = ip - anchor;
      let token = op++;
      if (litLen >= 15) {
        store<u8>(token, 0xf0);
        op = writeLength(op, litLen - 15);
      } else {
        store<u8>(token, <u8> (litLen << 4));
      }
      copyLiterals(op, anchor, litLen, dstEnd, srcEnd);
      op += litLen;
      // Match, then any match that starts right after it.
      while (true) {
        store<u16>(op, <u16> (ip - ref));
        op += 2;
        const ml = commonLength(ip + MIN_MATCH, ref + MIN_MATCH, matchLimit);
        ip += ml + MIN_MATCH;
        if (ml >= 15) {
          store<u8>(token, load<u8>(token) | 15);
          op = writeLength(op, ml - 15);
        } else {
          store<u8>(token, load<u8>(token) | <u8> ml);
        }
        anchor = ip;
        if (ip > mfLimit) {
          done = true;
          break;
        }
        store<u32>(HASH_TABLE + hash5(ip - 2), <u32> (ip - 2 - src));
        const h = HASH_TABLE + hash5(ip);
        ref = src + load<u32>(h);
        store<u32>(h, <u32> (ip - src));
        if (ref + MAX_OFFSET >= ip && load<u32>(ref) == load<u32>(ip)) {
          token = op++;
          store<u8>(token, 0);
          continue;
        }
        ip++;
        break;
      }
    }
  }
  // Last literals.
  const lastLen = srcEnd - anchor;
  if (lastLen >= 15) {
    store<u8>(op++, 0xf0);
    op = writeLength(op, lastLen - 15);
  } else {
    store<u8>(op++, <u8> (lastLen << 4));
  }
  memory.copy(op, anchor, lastLen);
  op += lastLen;
  return <i32> (op - dst);
}

/**
 * Decompresses the LZ4 block [src, src+srcLen) into [dst, dst+dstCap); returns the number of
 * bytes written, or LZ4_ERR_MALFORMED if the block is malformed or does not fit. Matches may
 * reach `prefixLen` bytes back before dst (the previous block of a linked-block frame). Never
 * reads outside the source range and [dst-prefixLen, dst+dstCap), never writes outside
 * [dst, dst+dstCap), and always terminates.
 */
export function lz4DecompressBlock(
  src: usize,
  srcLen: usize,
  dst: usize,
  dstCap: usize,
  prefixLen: usize,
): i32 {
  let ip = src;
  const ipEnd = src + srcLen;
  let op = dst;
  const opEnd = dst + dstCap;
  while (true) {
    if (ip >= ipEnd) return LZ4_ERR_MALFORMED;
    const token = <usize> load<u8>(ip++);
    let lit = token >>> 4;
    if (lit == 15) {
      let b: usize = 255;
      while (b == 255) {
        if (ip >= ipEnd) return LZ4_ERR_MALFORMED;
        b = <usize> load<u8>(ip++);
        lit += b;
      }
    }
    if (lit > ipEnd - ip || lit > opEnd - op) return LZ4_ERR_MALFORMED;
    copyLiterals(op, ip, lit, opEnd, ipEnd);
    ip += lit;
    op += lit;
    if (ip == ipEnd) return <i32> (op - dst);
    if (ipEnd - ip < 2) return LZ4_ERR_MALFORMED;
    const offset = <usize> load<u16>(ip);
    ip += 2;
    if (offset == 0 || offset > op - dst + prefixLen) return LZ4_ERR_MALFORMED;
    let ml = token & 15;
    if (ml == 15) {
      let b: usize = 255;
      while (b == 255) {
        if (ip >= ipEnd) return LZ4_ERR_MALFORMED;
        b = <usize> load<u8>(ip++);
        ml += b;
      }
    }
    ml += MIN_MATCH;
    if (ml > opEnd - op) return LZ4_ERR_MALFORMED;
    let from = op - offset;
    const end = op + ml;
    if (end + 16 <= opEnd) {
      if (offset >= 16) {
        do {
          v128.store(op, v128.load(from));
          op += 16;
          from += 16;
        } while (op < end);
      } else {
        // Periodic run: copy bytes until a whole multiple of the period is 16+ bytes behind.
        let dist = offset;
        while (dist < 16) dist += offset;
        const head = dist - offset < ml ? dist - offset : ml;
        const headEnd = op + head;
        while (op < headEnd) store<u8>(op++, load<u8>(from++));
        from = op - dist;
        while (op < end) {
          v128.store(op, v128.load(from));
          op += 16;
          from += 16;
        }
      }
    } else {
      while (op < end) store<u8>(op++, load<u8>(from++));
    }
    op = end;
  }
}
