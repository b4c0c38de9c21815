/**
 * The legacy InnoDB page checksums (`innodb_checksum_algorithm=innodb`): the "new" one stored
 * in the first 4 bytes of a page, the "old" one in the 4 bytes before the trailer's LSN.
 */

import { kernels, locate } from "./wasm.ts";

/** buf_calc_page_new_checksum of the `pageSize`-byte page at `ptr` in kernel memory. */
export function innodbChecksumNewAt(ptr: number, pageSize: number): number {
  return kernels().innodbPageChecksumNew(ptr, pageSize) >>> 0;
}

/** buf_calc_page_old_checksum (fold of bytes 0..25) of the page at `ptr` in kernel memory. */
export function innodbChecksumOldAt(ptr: number): number {
  return kernels().innodbPageChecksumOld(ptr) >>> 0;
}

/** buf_calc_page_new_checksum of `page` (its length is the page size). */
export function innodbChecksumNew(page: Uint8Array): number {
  return innodbChecksumNewAt(locate(page), page.length);
}

/** buf_calc_page_old_checksum of `page` (only its first 26 bytes matter). */
export function innodbChecksumOld(page: Uint8Array): number {
  if (page.length < 26) throw new RangeError("a page has at least 26 bytes");
  return innodbChecksumOldAt(locate(page));
}
