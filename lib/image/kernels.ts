/**
 * The one place the image code gets its kernels: CRC-32C, xxHash32 and the LZ4
 * block codec from the WASM kernels (`lib/kernels/mod.ts`, one instance per
 * thread), including linked blocks (matches reaching into earlier output).
 */
import {
  alloc,
  crc32c as crc32cWasm,
  crc32cAt,
  free,
  lz4CompressBlock as lz4CompressWasm,
  lz4CompressBlockAt,
  lz4CompressBound,
  lz4DecompressBlock as lz4DecompressWasm,
  lz4DecompressBlockAt,
  view,
  xxhash32 as xxhash32Wasm,
} from "../kernels/mod.ts";

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
export function lz4DecompressLinked(
  src: Uint8Array,
  maxOutput: number,
  prefix: Uint8Array,
): Uint8Array {
  // LZ4 matches reach back at most 64 KiB: only that much of the prefix matters.
  const dict = prefix.subarray(Math.max(0, prefix.length - 65536));
  const srcAt = alloc(src.length + dict.length + maxOutput);
  try {
    const dst = srcAt + src.length + dict.length;
    view(srcAt, src.length).set(src);
    view(dst - dict.length, dict.length).set(dict);
    const n = lz4DecompressBlockAt(srcAt, src.length, dst, maxOutput, dict.length);
    return view(dst, n).slice();
  } finally {
    free(srcAt);
  }
}

/** CRC-32C of A‖B from crc(A), crc(B) and |B|. */
export { crc32cCombine } from "../kernels/mod.ts";

let region = 0, regionSize = 0;

/**
 * CRC-32C of `raw` and its LZ4 block, with one copy into kernel memory for both.
 * The block is a view of kernel memory, valid only until the next kernel call on
 * this thread: copy it (or hand it to WebCrypto, which copies) at once.
 */
export function crcAndCompress(raw: Uint8Array): { crc: number; block: Uint8Array } {
  const span = Math.ceil(raw.length / 64) * 64;
  const cap = lz4CompressBound(raw.length);
  if (span + cap > regionSize) {
    if (regionSize) free(region);
    regionSize = span + cap;
    region = alloc(regionSize);
  }
  view(region, raw.length).set(raw);
  const crc = crc32cAt(region, raw.length);
  const n = lz4CompressBlockAt(region, raw.length, region + span, cap);
  return { crc, block: view(region + span, n) };
}

/**
 * Decompress one LZ4 block of exactly `rawLen` bytes and CRC-32C the result in
 * kernel memory (one copy in, one copy out, into `output(n)`: a recycled buffer's
 * view, by default a fresh array). CorruptionError if malformed.
 */
export function decompressAndCrc(
  block: Uint8Array,
  rawLen: number,
  output: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): {
  crc: number;
  raw: Uint8Array;
} {
  const span = Math.ceil(block.length / 64) * 64;
  if (span + rawLen > regionSize) {
    if (regionSize) free(region);
    regionSize = span + rawLen;
    region = alloc(regionSize);
  }
  view(region, block.length).set(block);
  const n = lz4DecompressBlockAt(region, block.length, region + span, rawLen);
  const raw = output(n);
  raw.set(view(region + span, n));
  return { crc: crc32cAt(region + span, n), raw };
}
