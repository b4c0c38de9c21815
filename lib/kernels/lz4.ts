/**
 * LZ4 block format (no framing; lib/image/lz4frame.ts wraps blocks in the standard frame). The
 * compressor is a fast greedy one in the manner of `lz4 -1`; the decompressor is safe on hostile
 * input and reports malformed blocks as CorruptionError.
 */

import { CorruptionError } from "../errors.ts";
import { copyIn, kernels, view } from "./wasm.ts";

/** Worst-case compressed size of `n` input bytes (n + n/255 + 16). */
export function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/**
 * Compresses `srcLen` bytes at `srcPtr` into one block at `dstPtr` (capacity `dstCap`, at least
 * `lz4CompressBound(srcLen)`) and returns the compressed size. Throws RangeError if dst is small.
 */
export function lz4CompressBlockAt(
  srcPtr: number,
  srcLen: number,
  dstPtr: number,
  dstCap: number,
): number {
  const n = kernels().lz4CompressBlock(srcPtr, srcLen, dstPtr, dstCap);
  if (n < 0) throw new RangeError(`LZ4 destination of ${dstCap} bytes is below the bound`);
  return n;
}

/** Compresses `src` into a new Uint8Array holding one LZ4 block. */
export function lz4CompressBlock(src: Uint8Array): Uint8Array {
  const srcSpan = Math.ceil(src.length / 64) * 64;
  const cap = lz4CompressBound(src.length);
  const ptr = copyIn(src, srcSpan - src.length + cap);
  const n = lz4CompressBlockAt(ptr, src.length, ptr + srcSpan, cap);
  return view(ptr + srcSpan, n).slice();
}

/**
 * Decompresses the block of `srcLen` bytes at `srcPtr` into [dstPtr, dstPtr+dstCap) and returns
 * the decompressed size. With `prefixLen`, matches may reach that many bytes back before dstPtr
 * (linked blocks: put the previous block's output, up to 64 KiB, just below dstPtr). Throws
 * CorruptionError if the block is malformed or needs more room.
 */
export function lz4DecompressBlockAt(
  srcPtr: number,
  srcLen: number,
  dstPtr: number,
  dstCap: number,
  prefixLen = 0,
): number {
  const n = kernels().lz4DecompressBlock(srcPtr, srcLen, dstPtr, dstCap, prefixLen);
  if (n < 0) {
    throw new CorruptionError(
      `malformed LZ4 block (${srcLen} bytes) or output larger than ${dstCap} bytes`,
    );
  }
  return n;
}

/** Decompresses one LZ4 block of at most `maxOutput` bytes into a new Uint8Array. */
export function lz4DecompressBlock(src: Uint8Array, maxOutput: number): Uint8Array {
  const srcSpan = Math.ceil(src.length / 64) * 64;
  const ptr = copyIn(src, srcSpan - src.length + maxOutput);
  const n = lz4DecompressBlockAt(ptr, src.length, ptr + srcSpan, maxOutput);
  return view(ptr + srcSpan, n).slice();
}
