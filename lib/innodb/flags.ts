/**
 * Tablespace flags (FSP_SPACE_FLAGS on page 0) and what follows from them: the
 * logical page size (innodb_page_size), the physical page size (smaller for
 * ROW_FORMAT=COMPRESSED), MariaDB's full_crc32 format and page compression.
 *
 * Two layouts exist. The classic one (MySQL, and MariaDB without full_crc32):
 * bit 0 post-antelope, bits 1-4 zip ssize, bit 5 atomic blobs, bits 6-9 page
 * ssize, and in MariaDB bit 16 page compression. The full_crc32 one (MariaDB
 * 10.4+): bits 0-3 page ssize, bit 4 the full_crc32 marker, bits 5-7 the page
 * compression algorithm. A ssize s means 512 << s bytes; page ssize 0 means 16 KiB.
 */
import { be32, FIL_PAGE_SPACE_ID, FSP_SPACE_FLAGS, UNIV_ZIP_SIZE_MIN } from "./layout.ts";
import { mariadbEncrypted, mysqlEncryptionVersion } from "./encryption_info.ts";

/** What the validator needs to know about a tablespace. */
export interface SpaceInfo {
  /** The raw FSP_SPACE_FLAGS value. */
  flags: number;
  /** Space id from page 0. */
  spaceId: number;
  /** innodb_page_size the tablespace was made with. */
  logicalSize: number;
  /** Bytes per page in the file (the zip size for ROW_FORMAT=COMPRESSED). */
  physicalSize: number;
  /** ROW_FORMAT=COMPRESSED page size, or 0. */
  zipSize: number;
  /** MariaDB full_crc32 format. */
  fullCrc32: boolean;
  /** MariaDB PAGE_COMPRESSED=1. */
  pageCompressed: boolean;
  /** MariaDB crypt data on page 0 (non-full_crc32): pages with a key version carry a post-encryption checksum. */
  mariadbCrypt?: boolean;
  /** MySQL keyring encryption header version on page 0 (1 `lCA`, 2 `lCB`, 3 `lCC`), 0 or absent if none. */
  mysqlEncryption?: number;
  /** The MySQL tablespace key, when one was found (keyring or .cfp): encrypted pages are verified. */
  key?: { key: Uint8Array; iv: Uint8Array };
}

const FCRC32_MARKER = 1 << 4;
const FLAGS_PAGE_COMPRESSION = 1 << 16;

function ssizeToBytes(ssize: number): number {
  return (UNIV_ZIP_SIZE_MIN >> 1) << ssize;
}

/** Decode tablespace flags; throws a plain Error with the reason when they are impossible. */
export function decodeFlags(flags: number, spaceId = 0): SpaceInfo {
  flags >>>= 0;
  if (flags & FCRC32_MARKER) {
    const ssize = flags & 0xf;
    if (ssize < 3 || ssize > 7) throw new Error(`invalid full_crc32 page size bits ${ssize}`);
    const size = ssizeToBytes(ssize);
    return {
      flags,
      spaceId,
      logicalSize: size,
      physicalSize: size,
      zipSize: 0,
      fullCrc32: true,
      pageCompressed: ((flags >>> 5) & 7) !== 0,
    };
  }
  const pageSsize = (flags >>> 6) & 0xf;
  const zipSsize = (flags >>> 1) & 0xf;
  if (pageSsize !== 0 && (pageSsize < 3 || pageSsize > 7)) {
    throw new Error(`invalid page size bits ${pageSsize}`);
  }
  const logicalSize = pageSsize === 0 ? 16384 : ssizeToBytes(pageSsize);
  let zipSize = 0;
  if (zipSsize !== 0) {
    zipSize = ssizeToBytes(zipSsize);
    if (zipSize > logicalSize || zipSize > 16384) {
      throw new Error(`invalid compressed page size ${zipSize} for page size ${logicalSize}`);
    }
  }
  return {
    flags,
    spaceId,
    logicalSize,
    physicalSize: zipSize || logicalSize,
    zipSize,
    fullCrc32: false,
    pageCompressed: (flags & FLAGS_PAGE_COMPRESSION) !== 0,
  };
}

/**
 * Read the flags and space id from the first bytes of page 0 (at least 58
 * bytes), and, when the whole page is there, its encryption record. Callers
 * reading a stream wait for a whole physical page (see {@link needsWholePage0}).
 */
export function spaceInfoFromPage0(page0: Uint8Array): SpaceInfo {
  if (page0.length < FSP_SPACE_FLAGS + 4) throw new Error("shorter than a page header");
  const s = decodeFlags(be32(page0, FSP_SPACE_FLAGS), be32(page0, FIL_PAGE_SPACE_ID));
  if (page0.length >= s.physicalSize) {
    if (!s.fullCrc32) s.mariadbCrypt = mariadbEncrypted(page0, s.physicalSize, s.logicalSize);
    s.mysqlEncryption = mysqlEncryptionVersion(page0, s.physicalSize, s.logicalSize);
  }
  return s;
}

/** Whether `have` bytes of page 0 are too few to learn everything about the space (wait for more). */
export function needsWholePage0(s: SpaceInfo, have: number): boolean {
  return have < s.physicalSize;
}

/** Pages per extent for a logical page size (1 MiB extents up to 16 KiB pages). */
export function extentSize(logicalSize: number): number {
  return logicalSize <= 16384 ? (1 << 20) / logicalSize : 64;
}

/** Human name of the format, as reports show it (`16k`, `8k zip of 16k`, `full_crc32 16k`). */
export function describeSpace(s: SpaceInfo): string {
  const k = (n: number) => `${n / 1024}k`;
  let d = s.fullCrc32 ? `full_crc32 ${k(s.logicalSize)}` : k(s.logicalSize);
  if (s.zipSize) d += ` compressed ${k(s.zipSize)}`;
  if (s.pageCompressed) d += " page_compressed";
  return d;
}
