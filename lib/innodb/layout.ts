/**
 * InnoDB page layout: byte offsets of the fields every page carries (the FIL
 * header and trailer), the tablespace header on page 0, and the page types and
 * magic values the validator needs. All multi-byte fields are big-endian.
 */

/** Checksum (or space id in very old files): 4 bytes at the start of a page. */
export const FIL_PAGE_SPACE_OR_CHKSUM = 0;
/** Page number within the tablespace. */
export const FIL_PAGE_OFFSET = 4;
/** LSN of the newest change to the page (8 bytes). */
export const FIL_PAGE_LSN = 16;
/** Page type (2 bytes); in full_crc32 files bit 15 marks a page_compressed page. */
export const FIL_PAGE_TYPE = 24;
/** Flush LSN on page 0 of the system tablespace, or the encryption key version. */
export const FIL_PAGE_FILE_FLUSH_LSN = 26;
/** Space id (4 bytes). */
export const FIL_PAGE_SPACE_ID = 34;
/** Start of the page body after the FIL header. */
export const FIL_PAGE_DATA = 38;
/** Size of the trailer: old-style checksum (4 bytes) then the low 32 bits of the LSN. */
export const FIL_PAGE_END_LSN_OLD_CHKSUM = 8;
/** Offset of the tablespace flags on page 0 (FSP header at FIL_PAGE_DATA + 16). */
export const FSP_SPACE_FLAGS = FIL_PAGE_DATA + 16;
/** Offset of the tablespace size in pages on page 0. */
export const FSP_SIZE = FIL_PAGE_DATA + 8;
/** The value stored instead of a checksum under innodb_checksum_algorithm=none. */
export const BUF_NO_CHECKSUM_MAGIC = 0xdeadbeef;
/** MariaDB page_compressed page (non-full_crc32 format): no checksum after compression. */
export const FIL_PAGE_PAGE_COMPRESSED = 34354;
/** MariaDB page_compressed and encrypted page (non-full_crc32 format). */
export const FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED = 37401;
/** MySQL transparent page compression (COMPRESSION="zlib"/"lz4"): the page body is compressed. */
export const FIL_PAGE_COMPRESSED = 14;
/** MySQL keyring-encrypted page. */
export const FIL_PAGE_ENCRYPTED = 15;
/** MySQL page compressed, then encrypted. */
export const FIL_PAGE_COMPRESSED_AND_ENCRYPTED = 16;
/** MySQL encrypted R-tree page. */
export const FIL_PAGE_ENCRYPTED_RTREE = 17;
/** Page type of page 0 (the tablespace header page). */
export const FIL_PAGE_TYPE_FSP_HDR = 8;
/** The 4 bytes after FIL_PAGE_FILE_FLUSH_LSN: MariaDB's post-encryption checksum (non-full_crc32). */
export const FIL_PAGE_CRYPT_CHECKSUM = FIL_PAGE_FILE_FLUSH_LSN + 4;
/** Start of the extent descriptor array on page 0 (FSP header offset + FSP header size). */
export const XDES_ARR_OFFSET = FIL_PAGE_DATA + 112;
/** Bytes per extent descriptor. */
export const XDES_SIZE = 40;
/** Bit of FIL_PAGE_TYPE marking a page_compressed page in the full_crc32 format. */
export const FIL_PAGE_COMPRESS_FCRC32_MARKER = 1 << 15;
/** Smallest page size InnoDB knows (ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=1). */
export const UNIV_ZIP_SIZE_MIN = 1024;
/** Smallest innodb_page_size. */
export const UNIV_PAGE_SIZE_MIN = 4096;
/** Largest innodb_page_size. */
export const UNIV_PAGE_SIZE_MAX = 65536;

/** Read a big-endian unsigned 32-bit value. */
export function be32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** Read a big-endian unsigned 16-bit value. */
export function be16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** Write a big-endian unsigned 32-bit value. */
export function putBe32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** Format a 32-bit value as `0x` and 8 hex digits. */
export function hex32(v: number): string {
  return "0x" + (v >>> 0).toString(16).padStart(8, "0");
}
