/**
 * The one place the image code gets its kernels: CRC-32C, xxHash32 and the LZ4
 * block codec from the WASM kernels (`lib/kernels/mod.ts`, one instance per
 * thread), plus the TypeScript LZ4 decoder for linked blocks (a prefix
 * dictionary), which the block kernel does not take.
 */
import {
  crc32c as crc32cWasm,
  lz4CompressBlock as lz4CompressWasm,
  lz4CompressBound,
  lz4DecompressBlock as lz4DecompressWasm,
  xxhash32 as xxhash32Wasm,
} from "../kernels/mod.ts";
import { lz4DecompressBlockTs } from "./kernels_ts.ts";

/** CRC-32C of `data`, continuing from `init` (default 0). */
export const crc32c: (data: Uint8Array, init?: number) => number = crc32cWasm;

/** xxHash32 of `data` with `seed` (default 0). */
export const xxhash32: (data: Uint8Array, seed?: number) => number = xxhash32Wasm;

/** Largest LZ4 block `n` input bytes can become. */
export const lz4Bound: (n: number) => number = lz4CompressBound;

/** Compress `src` into one independent LZ4 block. */
export const lz4CompressBlock: (src: Uint8Array) => Uint8Array = lz4CompressWasm;

/** Decompress one LZ4 block to at most `maxOutput` bytes; CorruptionError if malformed. */
export const lz4DecompressBlock: (src: Uint8Array, maxOutput: number) => Uint8Array =
  lz4DecompressWasm;

/** Decompress a linked LZ4 block whose matches may reach into `prefix` (earlier output). */
export const lz4DecompressLinked: (
  src: Uint8Array,
  maxOutput: number,
  prefix: Uint8Array,
) => Uint8Array = lz4DecompressBlockTs;

/** CRC-32C of A‖B from crc(A), crc(B) and |B|. */
export { crc32cCombine } from "../kernels/mod.ts";
