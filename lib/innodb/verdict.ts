/**
 * The verdict on one page: valid (and which checksum flavour proved it) or
 * corrupt (with every failed check named). It follows the server's
 * buf_page_is_corrupted() and innochecksum's page id check:
 *
 * - a page of only zero bytes is valid (never written);
 * - the page number stored in a page must equal its position in the file;
 * - full_crc32 pages: CRC-32C of everything before the last 4 bytes (the
 *   page_compressed payload only, for compressed pages), and for plain pages the
 *   LSN low half copied at the end;
 * - classic pages: the LSN low half in the trailer equals the header's, and the
 *   two checksum fields match crc32, innodb (legacy fold) or none (0xDEADBEEF)
 *   as the algorithm allows; MariaDB page_compressed pages carry no checksum;
 * - ROW_FORMAT=COMPRESSED pages: the zip checksum (3 CRC-32C parts XORed, or
 *   Adler-32, or none) over the physical page;
 * - MariaDB encrypted pages (crypt data on page 0, key version in bytes 26..29
 *   not 0): only the post-encryption checksum in bytes 30..33, as
 *   fil_space_verify_crypt_checksum() does (page_compressed ones carry none);
 * - MySQL page-compressed pages (type 14): inflated, then judged as plain pages;
 * - MySQL keyring-encrypted pages (types 15, 16, 17): with the tablespace key
 *   (SpaceInfo.key) decrypted and judged as what they were; without it only the
 *   page number can be checked and they count as encrypted, not verified;
 * - the legacy big-endian crc32 of some MySQL 5.6/5.7 builds is accepted by the
 *   non-strict algorithms, never by strict_crc32.
 */
import type { ChecksumAlgorithm } from "./algorithm.ts";
import type { SpaceInfo } from "./flags.ts";
import { type PageBuffer, wrapPageBuffer } from "./checksum_kernels.ts";
import { crc32cLegacyBigEndianTs } from "./checksum_ts.ts";
import { inflateMysqlPage } from "./page_compression.ts";
import { decryptMysqlPage } from "./mysql_keyring.ts";
import {
  be16,
  be32,
  BUF_NO_CHECKSUM_MAGIC,
  FIL_PAGE_COMPRESS_FCRC32_MARKER,
  FIL_PAGE_COMPRESSED,
  FIL_PAGE_CRYPT_CHECKSUM,
  FIL_PAGE_DATA,
  FIL_PAGE_ENCRYPTED_RTREE,
  FIL_PAGE_FILE_FLUSH_LSN,
  FIL_PAGE_LSN,
  FIL_PAGE_OFFSET,
  FIL_PAGE_PAGE_COMPRESSED,
  FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED,
  FIL_PAGE_SPACE_ID,
  FIL_PAGE_TYPE,
  hex32,
} from "./layout.ts";

/** Flavours a valid page can be proved by (index into counters). */
export const FLAVOURS = [
  "zero",
  "crc32",
  "innodb",
  "none",
  "full_crc32",
  "page_compressed",
  "zip_crc32",
  "zip_adler32",
  "zip_none",
  "crc32_big_endian",
  "encrypted_crc32",
  "encrypted_innodb",
  "encrypted_none",
  "mysql_compressed",
  "encrypted_not_verified",
  "mysql_encrypted",
] as const;

/** One of {@link FLAVOURS}. */
export type Flavour = typeof FLAVOURS[number];

/** Flavour index constants. */
export const F_ZERO = 0,
  F_CRC32 = 1,
  F_INNODB = 2,
  F_NONE = 3,
  F_FULL_CRC32 = 4,
  F_PAGE_COMPRESSED = 5,
  F_ZIP_CRC32 = 6,
  F_ZIP_ADLER = 7,
  F_ZIP_NONE = 8,
  /** MySQL 5.6/5.7 big-endian crc32 (`ut_crc32_legacy_big_endian`). */
  F_CRC32_BE = 9,
  /** MariaDB encrypted page, post-encryption checksum crc32 (or the zip crc32). */
  F_ENC_CRC32 = 10,
  /** MariaDB encrypted page, post-encryption checksum innodb (or the zip adler32). */
  F_ENC_INNODB = 11,
  /** MariaDB encrypted page, post-encryption checksum 0xDEADBEEF. */
  F_ENC_NONE = 12,
  /** MySQL page-compressed page (type 14) whose inflated page verifies. */
  F_MYSQL_COMPRESSED = 13,
  /** MySQL keyring-encrypted page (type 15/16/17) read without its key: not verified. */
  F_ENCRYPTED_UNVERIFIED = 14,
  /** MySQL keyring-encrypted page decrypted with its key, whose plain page verifies. */
  F_MYSQL_ENCRYPTED = 15;

/** A number (index into FLAVOURS) for a valid page, or the reasons a page is corrupt. */
export type PageVerdict = number | string;

/** True when bytes [off, off+len) of `b` are all zero (those `skipLen` from `skipFrom` aside). */
export function isZero(
  b: Uint8Array,
  off: number,
  len: number,
  skipFrom = -1,
  skipLen = 0,
): boolean {
  for (let i = off, end = off + len; i < end; i++) {
    if (b[i] !== 0) {
      if (i - off >= skipFrom && i - off < skipFrom + skipLen) continue;
      return false;
    }
  }
  return true;
}

/**
 * Judge the page at byte `off` of `buf`, found at position `pageNo` of a tablespace
 * described by `space`, under `algo`. Returns a flavour index when valid, else the
 * failed checks joined by "; ".
 */
export function judgePage(
  buf: PageBuffer,
  off: number,
  pageNo: number,
  space: SpaceInfo,
  algo: ChecksumAlgorithm,
  b: Uint8Array = buf.bytes,
): PageVerdict {
  const size = space.physicalSize;
  const fast = fastPath(buf, b, off, pageNo, space, algo);
  if (fast >= 0) return fast;
  const reasons: string[] = [];
  const storedNo = be32(b, off + FIL_PAGE_OFFSET);
  if (storedNo !== pageNo) {
    if (isZero(b, off, size)) return F_ZERO;
    reasons.push(`page number ${storedNo} stored at position ${pageNo}`);
  }
  if (space.fullCrc32) return judgeFullCrc32(buf, b, off, space, reasons);
  const type = be16(b, off + FIL_PAGE_TYPE);
  if (
    space.pageCompressed &&
    (type === FIL_PAGE_PAGE_COMPRESSED || type === FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED)
  ) {
    return verdictOf(reasons, F_PAGE_COMPRESSED);
  }
  if (type > FIL_PAGE_COMPRESSED && type <= FIL_PAGE_ENCRYPTED_RTREE) {
    if (!space.key) return verdictOf(reasons, F_ENCRYPTED_UNVERIFIED);
    return judgeMysqlEncrypted(b, off, space, algo, reasons);
  }
  if (type === FIL_PAGE_COMPRESSED && !space.zipSize) {
    return judgeMysqlCompressed(b, off, size, algo, reasons);
  }
  if (space.mariadbCrypt && pageNo !== 0 && be32(b, off + FIL_PAGE_FILE_FLUSH_LSN) !== 0) {
    return judgeMariadbCrypt(buf, b, off, space, algo, reasons);
  }
  if (space.zipSize) return judgeZip(buf, b, off, size, algo, reasons);
  return judgeClassic(buf, b, off, size, algo, reasons);
}

/** Scratch pages for inflated and decrypted pages (per thread). */
let inflated: Uint8Array | undefined;
let decrypted: Uint8Array | undefined;

/** MySQL type 15/16/17 with the tablespace key: decrypt, then the rules for what it was. */
function judgeMysqlEncrypted(
  b: Uint8Array,
  off: number,
  space: SpaceInfo,
  algo: ChecksumAlgorithm,
  reasons: string[],
): PageVerdict {
  const size = space.physicalSize;
  if (!decrypted || decrypted.length < size) decrypted = new Uint8Array(size);
  const page = decrypted.subarray(0, size);
  decryptMysqlPage(b, off, size, space.key!, page);
  const plain = wrapPageBuffer(page);
  const inner = be16(page, FIL_PAGE_TYPE) === FIL_PAGE_COMPRESSED && !space.zipSize
    ? judgeMysqlCompressed(page, 0, size, algo, reasons)
    : space.zipSize
    ? judgeZip(plain, page, 0, size, algo, reasons)
    : judgeClassic(plain, page, 0, size, algo, reasons);
  return decodedVerdict(inner, F_MYSQL_ENCRYPTED, "decrypting");
}

/** MySQL type 14: inflate, then the plain-page rules on the result. */
function judgeMysqlCompressed(
  b: Uint8Array,
  off: number,
  size: number,
  algo: ChecksumAlgorithm,
  reasons: string[],
): PageVerdict {
  if (!inflated || inflated.length < size) inflated = new Uint8Array(size);
  const why = inflateMysqlPage(b, off, size, inflated);
  if (why) {
    reasons.push(why);
    return reasons.join("; ");
  }
  const inner = judgeClassic(wrapPageBuffer(inflated), inflated, 0, size, algo, reasons);
  return decodedVerdict(inner, F_MYSQL_COMPRESSED, "inflating");
}

/** The verdict on a stored page from the verdict on it decoded (`how`: decrypting, inflating). */
function decodedVerdict(inner: PageVerdict, flavour: number, how: string): PageVerdict {
  return typeof inner === "number" ? flavour : `after ${how}: ${inner}`;
}

/** Valid as `flavour` when no check failed, else the failed checks. */
function verdictOf(reasons: string[], flavour: number): PageVerdict {
  return reasons.length ? reasons.join("; ") : flavour;
}

/** The classic crc32 page checksum (buf_calc_page_crc32): header after the checksum field, body before the trailer. */
function classicCrc32(buf: PageBuffer, off: number, size: number): number {
  return (buf.crc32c(off + FIL_PAGE_OFFSET, FIL_PAGE_FILE_FLUSH_LSN - FIL_PAGE_OFFSET) ^
    buf.crc32c(off + FIL_PAGE_DATA, size - FIL_PAGE_DATA - 8)) >>> 0;
}

/**
 * MariaDB encrypted page (non-full_crc32): the post-encryption checksum in bytes
 * 30..33 over the encrypted page, by the classic or the zip formula; none on
 * page_compressed pages. Follows fil_space_verify_crypt_checksum().
 */
function judgeMariadbCrypt(
  buf: PageBuffer,
  b: Uint8Array,
  off: number,
  space: SpaceInfo,
  algo: ChecksumAlgorithm,
  reasons: string[],
): PageVerdict {
  if (be16(b, off + FIL_PAGE_TYPE) === FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED) {
    return verdictOf(reasons, F_PAGE_COMPRESSED);
  }
  const size = space.physicalSize;
  const stored = be32(b, off + FIL_PAGE_CRYPT_CHECKSUM);
  let crc: number, innodb: () => number;
  if (space.zipSize) {
    crc = zipCrc32(buf, off, size);
    innodb = () => zipAdler(buf, off, size);
  } else {
    crc = classicCrc32(buf, off, size);
    innodb = () => buf.innodbNew(off, size);
  }
  let ok = -1;
  if (stored === crc) ok = F_ENC_CRC32;
  else if (algo.strict !== "crc32") {
    if (stored === BUF_NO_CHECKSUM_MAGIC) ok = F_ENC_NONE;
    else if (stored === innodb()) ok = F_ENC_INNODB;
  }
  if (ok < 0) {
    reasons.push(
      `encrypted page: post-encryption checksum mismatch (stored ${hex32(stored)}, crc32 ${
        hex32(crc)
      }${algo.strict === "crc32" ? "" : `, innodb ${hex32(innodb())}`})`,
    );
  }
  return verdictOf(reasons, ok);
}

function zipCrc32(buf: PageBuffer, off: number, size: number): number {
  return (buf.crc32c(off + FIL_PAGE_OFFSET, FIL_PAGE_LSN - FIL_PAGE_OFFSET) ^
    buf.crc32c(off + FIL_PAGE_TYPE, 2) ^
    buf.crc32c(off + FIL_PAGE_SPACE_ID, size - FIL_PAGE_SPACE_ID)) >>> 0;
}

function zipAdler(buf: PageBuffer, off: number, size: number): number {
  let a = buf.adler32(off + FIL_PAGE_OFFSET, FIL_PAGE_LSN - FIL_PAGE_OFFSET, 0);
  a = buf.adler32(off + FIL_PAGE_TYPE, 2, a);
  return buf.adler32(off + FIL_PAGE_SPACE_ID, size - FIL_PAGE_SPACE_ID, a);
}

/** The legacy big-endian crc32 page checksum (MySQL buf_calc_page_crc32(page, true)). */
export function pageCrc32BigEndian(b: Uint8Array, off: number, size: number): number {
  return (crc32cLegacyBigEndianTs(
    b,
    off,
    FIL_PAGE_OFFSET,
    FIL_PAGE_FILE_FLUSH_LSN - FIL_PAGE_OFFSET,
  ) ^ crc32cLegacyBigEndianTs(b, off, FIL_PAGE_DATA, size - FIL_PAGE_DATA - 8)) >>> 0;
}

/**
 * The common case in one pass: page number right, plain (not compressed) page,
 * crc32 or full_crc32 checksum matching, LSN copies equal. Returns -1 when the
 * page needs the full rules (then they run from scratch).
 */
function fastPath(
  buf: PageBuffer,
  b: Uint8Array,
  off: number,
  pageNo: number,
  space: SpaceInfo,
  algo: ChecksumAlgorithm,
): number {
  if (be32(b, off + FIL_PAGE_OFFSET) !== pageNo) return -1;
  const size = space.physicalSize;
  if (space.fullCrc32) {
    if (b[off + FIL_PAGE_TYPE] & 0x80) return -1;
    const stored = be32(b, off + size - 4);
    if (
      stored !== 0 && be32(b, off) === 0 &&
      be32(b, off + FIL_PAGE_LSN + 4) === be32(b, off + size - 8) &&
      buf.crc32c(off, size - 4) === stored
    ) return F_FULL_CRC32;
    return -1;
  }
  if (space.zipSize || space.pageCompressed) return -1;
  if (algo.strict === "innodb" || algo.strict === "none") return -1;
  const f1 = be32(b, off);
  if (
    f1 !== 0 && f1 !== BUF_NO_CHECKSUM_MAGIC && f1 === be32(b, off + size - 8) &&
    be32(b, off + FIL_PAGE_LSN + 4) === be32(b, off + size - 4) &&
    classicCrc32(buf, off, size) === f1
  ) return F_CRC32;
  return -1;
}

function judgeFullCrc32(
  buf: PageBuffer,
  b: Uint8Array,
  off: number,
  space: SpaceInfo,
  reasons: string[],
): PageVerdict {
  const logical = space.logicalSize;
  const type = be16(b, off + FIL_PAGE_TYPE);
  let payload = logical;
  let compressed = false;
  if (type & FIL_PAGE_COMPRESS_FCRC32_MARKER) {
    const n = (type & ~FIL_PAGE_COMPRESS_FCRC32_MARKER) << 8;
    if (n < logical) {
      payload = n;
      compressed = true;
    } else {
      reasons.push(`page_compressed size ${n} not below page size ${logical}`);
      return reasons.join("; ");
    }
  }
  if (payload < FIL_PAGE_DATA) {
    reasons.push(`page_compressed size ${payload} too small`);
    return reasons.join("; ");
  }
  const stored = be32(b, off + payload - 4);
  if (stored === 0 && !compressed && reasons.length === 0 && isZero(b, off, logical)) {
    return F_ZERO;
  }
  const calc = buf.crc32c(off, payload - 4);
  if (calc !== stored) {
    reasons.push(`checksum mismatch (stored ${hex32(stored)}, full_crc32 ${hex32(calc)})`);
  }
  const keyVersion = be32(b, off);
  if (!compressed && keyVersion === 0) {
    const head = be32(b, off + FIL_PAGE_LSN + 4);
    const tail = be32(b, off + logical - 8);
    if (head !== tail) reasons.push(`LSN mismatch (header ${hex32(head)}, trailer ${hex32(tail)})`);
  }
  return verdictOf(reasons, F_FULL_CRC32);
}

/**
 * A rule for one format of page: the page at byte `off` of `b` (`buf`'s bytes, or a
 * decoded copy wrapped as a buffer), `size` bytes long, under `algo`; failed checks
 * are added to `reasons` (which may hold the page-number check's already).
 */
type PageRule = (
  buf: PageBuffer,
  b: Uint8Array,
  off: number,
  size: number,
  algo: ChecksumAlgorithm,
  reasons: string[],
) => PageVerdict;

/** ROW_FORMAT=COMPRESSED pages: the zip checksum (crc32, adler32 or none). */
const judgeZip: PageRule = (buf, b, off, size, algo, reasons) => {
  const stored = be32(b, off);
  if (
    stored === 0 && be32(b, off + FIL_PAGE_LSN) === 0 && be32(b, off + FIL_PAGE_LSN + 4) === 0 &&
    isZero(b, off, size)
  ) {
    return F_ZERO;
  }
  const crc = zipCrc32(buf, off, size);
  const adler = () => zipAdler(buf, off, size);
  let ok = -1;
  const s = algo.strict;
  if ((s === "any" || s === "crc32") && stored === crc) ok = F_ZIP_CRC32;
  else if ((s === "any" || s === "none") && stored === BUF_NO_CHECKSUM_MAGIC) ok = F_ZIP_NONE;
  else if ((s === "any" || s === "innodb") && stored === adler()) ok = F_ZIP_ADLER;
  if (ok < 0) {
    reasons.push(
      `checksum mismatch (stored ${hex32(stored)}, crc32 ${hex32(crc)}, adler32 ${hex32(adler())})`,
    );
  }
  return verdictOf(reasons, ok);
};

/** Classic pages: the LSN copy in the trailer and the two checksum fields. */
const judgeClassic: PageRule = (buf, b, off, size, algo, reasons) => {
  const lsnHead = be32(b, off + FIL_PAGE_LSN + 4);
  const lsnTail = be32(b, off + size - 4);
  if (lsnHead !== lsnTail) {
    reasons.push(`LSN mismatch (header ${hex32(lsnHead)}, trailer ${hex32(lsnTail)})`);
  }
  const f1 = be32(b, off);
  const f2 = be32(b, off + size - 8);
  if (f1 === 0 && f2 === 0 && isZero(b, off, size, FIL_PAGE_FILE_FLUSH_LSN, 8)) {
    return verdictOf(reasons, F_ZERO);
  }
  let crcValue = -1;
  const crc = () => {
    if (crcValue < 0) {
      crcValue = classicCrc32(buf, off, size);
    }
    return crcValue;
  };
  const lsnHigh = be32(b, off + FIL_PAGE_LSN);
  let ok = -1;
  switch (algo.strict) {
    case "crc32":
      if (f1 === f2 && f1 === crc()) ok = F_CRC32;
      break;
    case "none":
      if (f1 === BUF_NO_CHECKSUM_MAGIC && f2 === BUF_NO_CHECKSUM_MAGIC) ok = F_NONE;
      break;
    case "innodb":
      if (
        (f2 === lsnHigh || f2 === buf.innodbOld(off)) &&
        (f1 === 0 || f1 === buf.innodbNew(off, size))
      ) ok = F_INNODB;
      break;
    default:
      ok = judgeAny(buf, off, size, f1, f2, lsnHigh, crc, b);
  }
  if (ok < 0) {
    reasons.push(
      `checksum mismatch (stored ${hex32(f1)}/${hex32(f2)}, crc32 ${hex32(crc())}, innodb ${
        hex32(buf.innodbNew(off, size))
      }/${hex32(buf.innodbOld(off))})`,
    );
  }
  return verdictOf(reasons, ok);
};

/** The server's non-strict rule: the trailer field and the head field may each match any flavour. */
function judgeAny(
  buf: PageBuffer,
  off: number,
  size: number,
  f1: number,
  f2: number,
  lsnHigh: number,
  crc: () => number,
  b: Uint8Array,
): number {
  if (f1 === BUF_NO_CHECKSUM_MAGIC && f2 === BUF_NO_CHECKSUM_MAGIC) return F_NONE;
  const isCrc = () => f1 === f2 && f1 === crc();
  // MySQL tries the legacy big-endian crc32 after crc32 and innodb (BlockReporter::is_corrupted).
  const isCrcBe = () => f1 === f2 && f1 === pageCrc32BigEndian(b, off, size);
  let flavour = -1;
  if (f2 !== lsnHigh && f2 !== BUF_NO_CHECKSUM_MAGIC) {
    if (isCrc()) flavour = F_CRC32;
    else if (f2 === buf.innodbOld(off)) flavour = F_INNODB;
    else if (isCrcBe()) return F_CRC32_BE;
    else return -1;
  }
  if (f1 === 0 || f1 === BUF_NO_CHECKSUM_MAGIC) return flavour < 0 ? F_INNODB : flavour;
  if (flavour === F_CRC32 || isCrc()) return F_CRC32;
  if (f1 === buf.innodbNew(off, size)) return F_INNODB;
  return isCrcBe() ? F_CRC32_BE : -1;
}
