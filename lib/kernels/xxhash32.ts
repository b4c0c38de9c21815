/** xxHash32, the checksum of the LZ4 frame format (header, blocks and content). */

import { kernels, locate } from "./wasm.ts";

/** xxHash32 of `len` bytes at `ptr` in kernel memory with `seed`. */
export function xxhash32At(ptr: number, len: number, seed = 0): number {
  return kernels().xxhash32(ptr, len, seed) >>> 0;
}

/** xxHash32 of `data` with `seed`. */
export function xxhash32(data: Uint8Array, seed = 0): number {
  return xxhash32At(locate(data), data.length, seed);
}
