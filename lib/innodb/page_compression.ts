/**
 * MySQL transparent page compression (5.7+, `COMPRESSION="zlib"|"lz4"`, page
 * type 14 FIL_PAGE_COMPRESSED). As MySQL writes it (`Compression::compress`
 * in os0file.cc / os/file.cc): the 38-byte FIL header is kept as it was, with
 * the type set to 14 and bytes 26..33 holding the control information
 * (version u8 = 1 or 2, algorithm u8 = 1 zlib / 2 LZ4, original type u16,
 * original data size u16 = page size - 38, compressed size u16); the
 * compressed body follows at byte 38 and the rest of the page is zeros (or a
 * punched hole). zlib bodies are zlib streams (`compress2`), LZ4 bodies one
 * LZ4 block. Reading (`Compression::deserialize`) inflates the body back to
 * byte 38 and restores the original type; the page's own checksum (bytes 0..3
 * and the trailer) then verifies as on any uncompressed page.
 */
import { zlib } from "../builtins.ts";
import { be16, FIL_PAGE_DATA, FIL_PAGE_TYPE } from "./layout.ts";
import { lz4DecompressBlock } from "../kernels/lz4.ts";

/** Offsets of the control fields (MySQL fil0fil.h FIL_PAGE_VERSION and the *_V1 fields after it). */
const VERSION = 26, ALGORITHM = 27, ORIGINAL_TYPE = 28, ORIGINAL_SIZE = 30, COMPRESSED_SIZE = 32;
/** Compression::ZLIB and Compression::LZ4. */
export const MYSQL_ZLIB = 1, MYSQL_LZ4 = 2;

/**
 * Rebuild the uncompressed page of a type-14 page of `size` bytes at `off` of
 * `b` into `out` (at least `size` bytes). Returns undefined on success, else
 * why the page cannot be inflated (a corrupt page).
 */
export function inflateMysqlPage(
  b: Uint8Array,
  off: number,
  size: number,
  out: Uint8Array,
): string | undefined {
  const version = b[off + VERSION];
  const algorithm = b[off + ALGORITHM];
  const originalType = be16(b, off + ORIGINAL_TYPE);
  const originalSize = be16(b, off + ORIGINAL_SIZE);
  const compressedSize = be16(b, off + COMPRESSED_SIZE);
  if (version !== 1 && version !== 2) return `compressed page with unknown version ${version}`;
  if (originalSize !== size - FIL_PAGE_DATA) {
    return `compressed page: original size ${originalSize}, expected ${size - FIL_PAGE_DATA}`;
  }
  if (compressedSize === 0 || FIL_PAGE_DATA + compressedSize > size) {
    return `compressed page: compressed size ${compressedSize} does not fit the page`;
  }
  const body = b.slice(off + FIL_PAGE_DATA, off + FIL_PAGE_DATA + compressedSize);
  out.set(b.subarray(off, off + FIL_PAGE_DATA), 0);
  let data: Uint8Array;
  try {
    if (algorithm === MYSQL_ZLIB) {
      data = zlib().inflateSync(body, { maxOutputLength: originalSize });
    } else if (algorithm === MYSQL_LZ4) {
      data = lz4DecompressBlock(body, originalSize);
    } else {
      return `compressed page with unknown algorithm ${algorithm}`;
    }
  } catch (err) {
    const what = algorithm === MYSQL_ZLIB ? "zlib" : "LZ4";
    return `compressed page: ${what} body does not inflate (${(err as Error).message})`;
  }
  if (data.length !== originalSize) {
    return `compressed page inflates to ${data.length} bytes, expected ${originalSize}`;
  }
  out.set(data, FIL_PAGE_DATA);
  out[FIL_PAGE_TYPE] = originalType >> 8;
  out[FIL_PAGE_TYPE + 1] = originalType & 0xff;
  return undefined;
}
