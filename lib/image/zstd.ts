/**
 * zstd for image chunks, through `node:zlib` (native speed in Deno 2.9.6, Bun 1.4.5
 * and the compiled binary; the API is marked experimental upstream, hence the
 * start-up self-test). Each chunk is one independent standard zstd frame, so the
 * frames of an entry concatenated are a file `zstd -d` reads.
 */
import { zlib } from "../builtins.ts";
import { CorruptionError, IbvaultError } from "../errors.ts";

/** Lowest and highest compression level accepted (zstd's "normal" range). */
export const ZSTD_MIN_LEVEL = 1;
export const ZSTD_MAX_LEVEL = 19;
/** Level used when none is given (zstd's own default). */
export const ZSTD_DEFAULT_LEVEL = 3;
/** zstd frame magic number (little-endian on disk). */
export const ZSTD_MAGIC = 0xfd2fb528;

/** zstd support is missing or broken in this runtime (exit 3). */
export class ZstdUnavailableError extends IbvaultError {
  override name = "ZstdUnavailableError";
}

type ZlibZstd = {
  zstdCompressSync?: (b: Uint8Array, o?: unknown) => Uint8Array;
  zstdDecompressSync?: (b: Uint8Array, o?: unknown) => Uint8Array;
  constants: Record<string, number>;
};
/** node:zlib, typed with the zstd calls it may lack. */
const z = (): ZlibZstd => zlib() as unknown as ZlibZstd;

let checked: Error | true | undefined;

/**
 * Check once that `node:zlib` has working zstd (compress, decompress, and a frame
 * that starts with the zstd magic); throw ZstdUnavailableError naming the runtime
 * otherwise. Call it before a command that needs zstd touches anything.
 */
export function assertZstd(): void {
  if (checked === undefined) {
    try {
      if (
        typeof z().zstdCompressSync !== "function" || typeof z().zstdDecompressSync !== "function"
      ) {
        throw new Error("node:zlib has no zstdCompressSync/zstdDecompressSync");
      }
      const sample = new TextEncoder().encode("ibvault zstd self-test ".repeat(64));
      const frame = zstdCompress(sample, 1);
      const back = zstdDecompress(frame, sample.length);
      if (
        new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true) !== ZSTD_MAGIC ||
        back.length !== sample.length || !back.every((b, i) => b === sample[i])
      ) throw new Error("round trip gave different bytes");
      checked = true;
    } catch (e) {
      checked = e as Error;
    }
  }
  if (checked !== true) {
    const rt = (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno;
    const bun = (globalThis as { Bun?: { version: string } }).Bun?.version;
    const runtime = rt ? `Deno ${rt}` : bun ? `Bun ${bun}` : "this runtime";
    throw new ZstdUnavailableError(
      `zstd is not available in ${runtime} (${checked.message}): use --compress-method=lz4, ` +
        "or run ibvault under Deno 2.9.6 / the dist/ibvault binary",
    );
  }
}

/**
 * Compress `raw` into one standard zstd frame at `level`, with its content size
 * and content checksum (so a `.zst` file leaving the image is checkable by `zstd -t`).
 */
export function zstdCompress(raw: Uint8Array, level: number): Uint8Array {
  const c = z().constants;
  return z().zstdCompressSync!(raw, {
    params: {
      [c.ZSTD_c_compressionLevel]: level,
      [c.ZSTD_c_checksumFlag]: 1,
      [c.ZSTD_c_contentSizeFlag]: 1,
    },
  });
}

/**
 * Decompress one zstd frame that must give exactly `rawLen` bytes; never
 * allocates more than that whatever the frame claims. CorruptionError otherwise.
 */
export function zstdDecompress(frame: Uint8Array, rawLen: number): Uint8Array {
  let out: Uint8Array;
  try {
    // maxOutputLength bounds the output: a hostile frame cannot make us allocate more.
    out = z().zstdDecompressSync!(frame, { maxOutputLength: Math.max(1, rawLen) });
  } catch (e) {
    throw new CorruptionError(`bad zstd frame (${(e as Error).message})`);
  }
  if (out.length !== rawLen) {
    throw new CorruptionError(`zstd frame gives ${out.length} bytes, header says ${rawLen}`);
  }
  return out;
}

const RAW_BLOCK_MAX = 128 * 1024;

/**
 * `data` as one standard zstd frame of raw (stored) blocks, no compression: how a
 * chunk the writer kept uncompressed leaves the image as `.zst`. Single-segment
 * frame with an 8-byte content size, blocks of at most 128 KiB.
 */
export function zstdRawFrame(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / RAW_BLOCK_MAX));
  const out = new Uint8Array(4 + 1 + 8 + blocks * 3 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, ZSTD_MAGIC, true);
  out[4] = 0xe0; // FCS field 8 bytes (0b11 << 6), single segment (1 << 5), no checksum
  dv.setBigUint64(5, BigInt(data.length), true);
  let o = 13;
  for (let b = 0; b < blocks; b++) {
    const start = b * RAW_BLOCK_MAX;
    const len = Math.min(RAW_BLOCK_MAX, data.length - start);
    const last = b === blocks - 1 ? 1 : 0;
    const word = last | (0 << 1) | (len << 3); // block type 0: raw
    out[o] = word & 0xff;
    out[o + 1] = (word >>> 8) & 0xff;
    out[o + 2] = (word >>> 16) & 0xff;
    out.set(data.subarray(start, start + len), o + 3);
    o += 3 + len;
  }
  return out;
}
