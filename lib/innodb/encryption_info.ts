/**
 * What page 0 says about a tablespace's encryption, read without a key:
 *
 * - MariaDB (non-full_crc32 format): the crypt data record after the extent
 *   descriptor array, magic `s\x0e\x0cREt`, then the scheme (1 = encrypted),
 *   IV length, IV, minimum key version, key id and the encryption mode
 *   (MariaDB `fil_space_read_crypt_data`). When the scheme is 1, every page
 *   whose key version (bytes 26..29) is not 0 carries a post-encryption
 *   checksum in bytes 30..33 (`fil_space_verify_crypt_checksum`).
 * - MySQL (keyring encryption, 5.7.11+): the encryption header at the same
 *   place, magic `lCA` (5.7.11, 64-bit key id), `lCB` (key id and server
 *   UUID) or `lCC` (8.0.5+), followed by the key id, the server UUID and the
 *   tablespace key and IV encrypted with the master key (MySQL
 *   `Encryption::decode_encryption_info`). Pages of types 15, 16 and 17 are
 *   encrypted with that key.
 *
 * Both sit after the extent descriptor array, XDES_ARR_OFFSET (150) + 40 bytes
 * per descriptor (page size / extent size of them): MySQL writes the record
 * there (`fsp_header_get_encryption_offset` + page), MariaDB adds the FSP
 * header offset (38) once more, i.e. 10390 and 10428 on a 16 KiB page (the
 * latter checked on page 0 of tablespaces written by MariaDB 10.11).
 */
import { FIL_PAGE_DATA, XDES_ARR_OFFSET, XDES_SIZE } from "./layout.ts";

/** MariaDB's crypt data magic. */
const CRYPT_MAGIC = [0x73, 0x0e, 0x0c, 0x52, 0x45, 0x74];
/** MariaDB CRYPT_SCHEME_1: the tablespace is (being) encrypted. */
const CRYPT_SCHEME_1 = 1;

/** Where MySQL's encryption header starts on page 0 (MariaDB's crypt data is 38 bytes later). */
export function encryptionInfoOffset(physicalSize: number, logicalSize: number): number {
  const extent = logicalSize <= 16384 ? (1 << 20) / logicalSize : 64;
  return XDES_ARR_OFFSET + (XDES_SIZE * physicalSize) / extent;
}

function matches(b: Uint8Array, off: number, magic: number[]): boolean {
  if (off + magic.length > b.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[off + i] !== magic[i]) return false;
  return true;
}

/** Whether page 0 holds MariaDB crypt data with scheme 1 (pages carry post-encryption checksums). */
export function mariadbEncrypted(
  page0: Uint8Array,
  physicalSize: number,
  logical: number,
): boolean {
  const off = FIL_PAGE_DATA + encryptionInfoOffset(physicalSize, logical);
  return matches(page0, off, CRYPT_MAGIC) && page0[off + 6] === CRYPT_SCHEME_1;
}

/** MySQL encryption header versions by their magic. */
const MYSQL_MAGIC: Record<string, 1 | 2 | 3> = { lCA: 1, lCB: 2, lCC: 3 };

/** The MySQL encryption header version on page 0 (1 `lCA`, 2 `lCB`, 3 `lCC`), or 0 if none. */
export function mysqlEncryptionVersion(
  page0: Uint8Array,
  physicalSize: number,
  logical: number,
): 0 | 1 | 2 | 3 {
  const off = encryptionInfoOffset(physicalSize, logical);
  if (off + 3 > page0.length) return 0;
  const magic = String.fromCharCode(page0[off], page0[off + 1], page0[off + 2]);
  return MYSQL_MAGIC[magic] ?? 0;
}
