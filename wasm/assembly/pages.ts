// The common-case InnoDB page verdict over a run of pages in one call: the caller (lib/innodb/
// page_range.ts) judges every page the kernel stops at with the full TypeScript rules, which give
// the exact reasons, then resumes the kernel after it.
//
// A page is handled here when it is
// - entirely zero bytes (valid under every format and algorithm: never written), or
// - mode PAGES_CRC32: its stored page number equals its position, its first checksum field is
//   neither 0 nor 0xDEADBEEF and equals the trailer's, the LSN low half in the header equals the
//   trailer's, and CRC-32C over [4,26) XOR CRC-32C over [38,size-8) equals the stored value;
// - mode PAGES_FULL_CRC32: its stored page number equals its position, the page_compressed marker
//   (bit 15 of the type) is clear, the key version (first 4 bytes) is 0, the stored checksum (last
//   4 bytes) is not 0 and equals CRC-32C over [0,size-4), and the LSN low half equals its copy at
//   size-8.
// These are exactly the conditions of fastPath() and the zero rules in lib/innodb/verdict.ts.

import { crc32c, crc32cPair, crc32cPairFirst, crc32cPairSecond } from "./crc32c";

/** Only all-zero pages are handled (other formats, or innodb/none strict algorithms). */
export const PAGES_ZERO_ONLY: u32 = 0;
/** Classic pages, crc32 checksum. */
export const PAGES_CRC32: u32 = 1;
/** full_crc32 pages. */
export const PAGES_FULL_CRC32: u32 = 2;

const NO_CHECKSUM_MAGIC: u32 = 0xdeadbeef;

let zeroPages: u32 = 0;

function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/** Whether [p, p+len) is all zero bytes (len a multiple of 64). */
function allZero(p: usize, len: usize): bool {
  const end = p + len;
  while (p < end) {
    const v = v128.or(
      v128.or(v128.load(p), v128.load(p, 16)),
      v128.or(v128.load(p, 32), v128.load(p, 48)),
    );
    if (v128.any_true(v)) return false;
    p += 64;
  }
  return true;
}

/** The crc32 rules other than the checksum itself. */
function crc32Pre(p: usize, size: usize, pageNo: u32): bool {
  if (be32(p + 4) != pageNo) return false;
  const f1 = load<u32>(p);
  if (f1 == 0 || f1 == NO_CHECKSUM_MAGIC) return false;
  if (f1 != load<u32>(p + size - 8)) return false;
  return load<u32>(p + 20) == load<u32>(p + size - 4);
}

function crc32Ok(p: usize, size: usize, pageNo: u32): bool {
  if (!crc32Pre(p, size, pageNo)) return false;
  const c = crc32c(p + 4, 22, 0) ^ crc32c(p + 38, size - 46, 0);
  return c == be32(p);
}

/** The full_crc32 rules other than the checksum itself. */
function fullCrc32Pre(p: usize, size: usize, pageNo: u32): bool {
  if (be32(p + 4) != pageNo) return false;
  if (load<u8>(p + 24) & 0x80) return false;
  if (load<u32>(p) != 0) return false;
  if (load<u32>(p + size - 4) == 0) return false;
  return load<u32>(p + 20) == load<u32>(p + size - 8);
}

function fullCrc32Ok(p: usize, size: usize, pageNo: u32): bool {
  if (!fullCrc32Pre(p, size, pageNo)) return false;
  return crc32c(p, size - 4, 0) == be32(p + size - 4);
}

/**
 * Judges up to `count` pages of `size` bytes stored back to back from `ptr`, the first being page
 * `firstPage`, under `mode`. Returns how many leading pages passed (each valid by the common
 * rules); the page at that index, if below `count`, needs the full rules. The number of all-zero
 * pages among the passed ones is then available from pagesZeroCount().
 */
export function pagesCheck(ptr: usize, count: u32, size: usize, firstPage: u32, mode: u32): u32 {
  let zeros: u32 = 0;
  let i: u32 = 0;
  let p = ptr;
  for (; i < count; i++, p += size) {
    const pageNo = firstPage + i;
    // Two pages whose other rules hold: both checksums in one interleaved pass.
    if (mode == PAGES_CRC32 && i + 1 < count) {
      const q = p + size;
      if (crc32Pre(p, size, pageNo) && crc32Pre(q, size, pageNo + 1)) {
        crc32cPair(p + 38, q + 38, size - 46);
        if ((crc32c(p + 4, 22, 0) ^ crc32cPairFirst()) != be32(p)) break;
        i++;
        p = q;
        if ((crc32c(q + 4, 22, 0) ^ crc32cPairSecond()) != be32(q)) break;
        continue;
      }
    } else if (mode == PAGES_FULL_CRC32 && i + 1 < count) {
      const q = p + size;
      if (fullCrc32Pre(p, size, pageNo) && fullCrc32Pre(q, size, pageNo + 1)) {
        crc32cPair(p, q, size - 4);
        if (crc32cPairFirst() != be32(p + size - 4)) break;
        i++;
        p = q;
        if (crc32cPairSecond() != be32(q + size - 4)) break;
        continue;
      }
    }
    if (mode == PAGES_CRC32) {
      if (crc32Ok(p, size, pageNo)) continue;
    } else if (mode == PAGES_FULL_CRC32) {
      if (fullCrc32Ok(p, size, pageNo)) continue;
    }
    if (load<u32>(p) == 0 && allZero(p, size)) {
      zeros++;
      continue;
    }
    break;
  }
  zeroPages = zeros;
  return i;
}

/** All-zero pages among those the last pagesCheck() call passed. */
export function pagesZeroCount(): u32 {
  return zeroPages;
}
