/**
 * The hot-path kernels (WASM, one instance per thread): checksums and LZ4 blocks, each with a
 * pointer API over kernel memory (no copy) and a convenience API over a Uint8Array (copies in).
 *
 * @example
 * ```ts
 * import { alloc, crc32cAt, view } from "./mod.ts";
 * const ptr = alloc(16384);
 * view(ptr, 16384).fill(7); // or fs.readSync(fd, view(ptr, 16384))
 * const crc = crc32cAt(ptr, 16384);
 * ```
 */

export { alloc, free, kernels, memory, ownedStart, view } from "./wasm.ts";
export type { KernelExports } from "./wasm.ts";
export { crc32c, crc32cAt, crc32cCombine } from "./crc32c.ts";
export {
  innodbChecksumNew,
  innodbChecksumNewAt,
  innodbChecksumOld,
  innodbChecksumOldAt,
} from "./innodb.ts";
export { adler32, adler32At } from "./adler32.ts";
export { xxhash32, xxhash32At } from "./xxhash32.ts";
export {
  PAGES_CRC32,
  PAGES_FULL_CRC32,
  PAGES_ZERO_ONLY,
  pagesCheckAt,
  pagesZeroCount,
} from "./pages.ts";
export {
  lz4CompressBlock,
  lz4CompressBlockAt,
  lz4CompressBound,
  lz4DecompressBlock,
  lz4DecompressBlockAt,
} from "./lz4.ts";
