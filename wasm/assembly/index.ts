// The ibvault kernel module: every export of the per-kernel files, plus heapBase().
// Module-owned tables and scratch live in static data below heapBase(); the embedder owns memory
// from the first 64 KiB boundary at or above it.

export { crc32c, crc32cSliced } from "./crc32c";
export { innodbPageChecksumNew, innodbPageChecksumOld } from "./innodb";
export { adler32 } from "./adler32";
export { pagesCheck, pagesZeroCount } from "./pages";
export { xxhash32 } from "./xxhash32";
export {
  LZ4_ERR_DST_TOO_SMALL,
  LZ4_ERR_MALFORMED,
  lz4CompressBlock,
  lz4CompressBound,
  lz4DecompressBlock,
} from "./lz4";

/** First byte above the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
