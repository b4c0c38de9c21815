/**
 * The common-case InnoDB page verdict over a run of pages in one WASM call (see
 * wasm/assembly/pages.ts): all-zero pages, and pages whose page number, LSN copies and crc32 or
 * full_crc32 checksum are right. The caller judges the page the kernel stops at by the full rules.
 */

import { kernels } from "./wasm.ts";

/** Kernel mode: only all-zero pages pass. */
export const PAGES_ZERO_ONLY = 0;
/** Kernel mode: classic pages under the crc32 checksum (and all-zero pages). */
export const PAGES_CRC32 = 1;
/** Kernel mode: full_crc32 pages (and all-zero pages). */
export const PAGES_FULL_CRC32 = 2;

/**
 * Judges up to `count` pages of `size` bytes at `ptr` in kernel memory, the first being page
 * `firstPage`, under `mode`. Returns how many leading pages passed; `pagesZeroCount()` then gives
 * how many of those were all zero.
 */
export function pagesCheckAt(
  ptr: number,
  count: number,
  size: number,
  firstPage: number,
  mode: number,
): number {
  return kernels().pagesCheck(ptr, count, size, firstPage, mode) >>> 0;
}

/** All-zero pages among those the last `pagesCheckAt` call on this thread passed. */
export function pagesZeroCount(): number {
  return kernels().pagesZeroCount() >>> 0;
}
