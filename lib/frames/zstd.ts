/**
 * Decoding a sequence of standard zstd frames (RFC 8878) that arrives in pieces:
 * the frame boundaries are found by walking the frame header and block headers
 * (no decompression needed for that), and each complete frame is decompressed
 * with `node:zlib`'s zstdDecompressSync, which verifies the content checksum
 * when the frame has one. Skippable frames are skipped. Working frame by frame
 * keeps errors synchronous and catchable (the streaming decompressor of Deno
 * 2.9's node:zlib throws damaged-input errors where nothing can catch them) and
 * bounds memory by the largest frame, which is small for the writers met here
 * (xtrabackup writes one frame per compressed block; ibvault one per chunk).
 */
import { zlib } from "../builtins.ts";
import { CorruptionError } from "../errors.ts";

/** zstd frame magic (little-endian). */
export const ZSTD_MAGIC = 0xfd2fb528;
/** Largest frame accepted, compressed. */
export const ZSTD_FRAME_MAX = 256 << 20;
/** Largest content of one frame accepted. */
export const ZSTD_CONTENT_MAX = 1 << 30;

/** A push decoder for concatenated zstd frames. */
export class ZstdFrames {
  #name: string;
  #buf = new Uint8Array(64 << 10);
  #fill = 0;
  #frames = 0;

  /** A decoder; `name` (a file or entry) is used in error messages. */
  constructor(name: string) {
    this.#name = name;
  }

  #bad(why: string): never {
    throw new CorruptionError(`${this.#name}: zstd frame ${this.#frames}: ${why}`);
  }

  /** Add bytes; returns the content of every frame they complete, in order. */
  push(bytes: Uint8Array): Uint8Array[] {
    if (this.#fill + bytes.length > this.#buf.length) {
      let size = this.#buf.length;
      while (size < this.#fill + bytes.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(0, this.#fill));
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.#fill);
    this.#fill += bytes.length;
    const out: Uint8Array[] = [];
    let start = 0;
    for (;;) {
      const end = this.#frameEnd(start);
      if (end < 0) break;
      const frame = this.#buf.subarray(start, end);
      const magic = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true);
      if (magic === ZSTD_MAGIC) {
        try {
          const content = zlib().zstdDecompressSync(frame, { maxOutputLength: ZSTD_CONTENT_MAX });
          out.push(new Uint8Array(content.buffer, content.byteOffset, content.length));
        } catch (e) {
          this.#bad(`does not decompress: ${(e as Error).message}`);
        }
      }
      this.#frames++;
      start = end;
    }
    if (start > 0) {
      this.#buf.copyWithin(0, start, this.#fill);
      this.#fill -= start;
    }
    if (this.#fill > ZSTD_FRAME_MAX) {
      this.#bad(`larger than ${ZSTD_FRAME_MAX} bytes: decompress the file first to check it`);
    }
    return out;
  }

  /** The input ended: throws if it stopped inside a frame. */
  end(): void {
    if (this.#fill > 0) this.#bad(`truncated (${this.#fill} bytes of an incomplete frame)`);
  }

  /**
   * Where the frame starting at `start` ends, if all of it is buffered (else -1).
   * Layout: magic, frame header descriptor, [window descriptor], [dictionary id],
   * [content size], blocks (3-byte headers: last flag, type, size), [checksum].
   */
  #frameEnd(start: number): number {
    const b = this.#buf;
    const have = this.#fill - start;
    if (have < 4) return -1;
    const dv = new DataView(b.buffer, b.byteOffset + start, have);
    const magic = dv.getUint32(0, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (have < 8) return -1;
      const n = 8 + dv.getUint32(4, true);
      return have >= n ? start + n : -1;
    }
    if (magic !== ZSTD_MAGIC) this.#bad(`not a zstd frame (magic 0x${magic.toString(16)})`);
    if (have < 5) return -1;
    const fhd = b[start + 4];
    if (fhd & 0x08) this.#bad("reserved bit set in the frame header");
    const single = (fhd & 0x20) !== 0;
    const dictBytes = [0, 1, 2, 4][fhd & 3];
    const fcsCode = fhd >>> 6;
    const fcsBytes = fcsCode === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsCode];
    let p = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
    for (;;) {
      if (have < p + 3) return -1;
      const h = b[start + p] | (b[start + p + 1] << 8) | (b[start + p + 2] << 16);
      const last = h & 1, type = (h >>> 1) & 3, size = h >>> 3;
      if (type === 3) this.#bad("reserved block type");
      p += 3 + (type === 1 ? 1 : size);
      if (p > ZSTD_FRAME_MAX) {
        this.#bad(`larger than ${ZSTD_FRAME_MAX} bytes: decompress the file first to check it`);
      }
      if (last) break;
    }
    if (fhd & 0x04) p += 4;
    return have >= p ? start + p : -1;
  }
}

/** Decode a stream of zstd frames (a `.zst` file) into its content. */
export async function* zstdDecode(
  source: AsyncIterable<Uint8Array>,
  name: string,
): AsyncGenerator<Uint8Array> {
  const frames = new ZstdFrames(name);
  for await (const piece of source) yield* frames.push(piece);
  frames.end();
}
