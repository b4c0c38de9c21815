/**
 * Entries leaving an image still compressed (`extract --keep-compressed`): each
 * entry becomes one standard file the `lz4` or `zstd` CLI reads, in the framing
 * of the image's compression method (its manifest's `compression`, LZ4 when
 * absent). Chunks are passed through as they are stored whenever they already
 * are in that framing; the rare others are re-framed here.
 */
import type { Manifest } from "../core/manifest.ts";
import { lz4FrameBlock, lz4FrameEnd, lz4FrameHeader } from "./lz4frame.ts";
import { lz4DecompressBlock } from "./kernels.ts";
import { zstdDecompress, zstdRawFrame } from "./zstd.ts";

/** The standard framing of a kept-compressed entry. */
export type KeptFrame = "lz4" | "zstd";

/** File name suffix for a kept-compressed entry. */
export const KEPT_SUFFIX: Record<KeptFrame, string> = { lz4: ".lz4", zstd: ".zst" };

/** The framing for the entries of the image whose manifest is `m`. */
export function keptFrameOf(m: Manifest): KeptFrame {
  return m.compression?.method === "zstd" ? "zstd" : "lz4";
}

/** What goes before an entry's chunks (the LZ4 frame header; nothing for zstd). */
export function keptStart(kind: KeptFrame, size: number): Uint8Array[] {
  return kind === "lz4"
    ? [lz4FrameHeader({ blockSize: 4 << 20, contentChecksum: false, contentSize: size })]
    : [];
}

/**
 * One chunk as stored (`data`: an LZ4 block, a zstd frame, or raw bytes,
 * `rawLen` bytes once decompressed) in the framing `kind`: an LZ4 frame block,
 * or a whole zstd frame (frames of one file may follow each other).
 */
export function keptChunk(
  kind: KeptFrame,
  c: { data: Uint8Array; compressed: boolean; zstd: boolean },
  rawLen: number,
): Uint8Array {
  const lz4 = c.compressed && !c.zstd;
  if (kind === "lz4") {
    return lz4 || !c.compressed
      ? lz4FrameBlock(c.data, lz4)
      : lz4FrameBlock(zstdDecompress(c.data, rawLen), false);
  }
  if (c.zstd) return c.data;
  return zstdRawFrame(lz4 ? lz4DecompressBlock(c.data, rawLen) : c.data);
}

/** What ends an entry: the LZ4 end mark; for zstd an empty frame when it had no chunk. */
export function keptEnd(kind: KeptFrame, chunks: number): Uint8Array[] {
  if (kind === "lz4") return [lz4FrameEnd()];
  return chunks === 0 ? [zstdRawFrame(new Uint8Array(0))] : [];
}
