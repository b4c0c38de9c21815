/** Adler-32 (RFC 1950), the zlib stream checksum. */

import { kernels, locate } from "./wasm.ts";

/** Adler-32 of `len` bytes at `ptr` in kernel memory, continuing from `adler` (1 to start). */
export function adler32At(ptr: number, len: number, adler = 1): number {
  return kernels().adler32(ptr, len, adler) >>> 0;
}

/** Adler-32 of `data`, continuing from `adler` (1 to start). */
export function adler32(data: Uint8Array, adler = 1): number {
  return adler32At(locate(data), data.length, adler);
}
