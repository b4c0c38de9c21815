/**
 * The LZ4 frame format (magic 0x184D2204): a writer over the LZ4 block kernel and a
 * reader for frames from any LZ4 frame writer, the `lz4` CLI included (all block
 * sizes, independent or linked blocks, block and content checksums, content size,
 * concatenated and skippable frames). Dictionary-ID frames are refused.
 */
import { CorruptionError } from "../errors.ts";
import { ByteReader } from "../core/byte_reader.ts";
import { lz4CompressBlock, lz4DecompressBlock, lz4DecompressLinked, xxhash32 } from "./kernels.ts";
import { Xxh32 } from "./xxh32.ts";

/** LZ4 frame magic number (little-endian on disk). */
export const LZ4_FRAME_MAGIC = 0x184d2204;
const BLOCK_SIZES: Record<number, number> = { 4: 65536, 5: 262144, 6: 1048576, 7: 4194304 };
const UNCOMPRESSED_BIT = 0x80000000;

/** How a frame is written. */
export interface Lz4FrameOptions {
  /** Largest block: 64 KiB, 256 KiB, 1 MiB or 4 MiB (default 4 MiB, as `lz4`). */
  blockSize?: number;
  /** Append an xxHash32 of the content (default true, as `lz4`). */
  contentChecksum?: boolean;
  /** Append an xxHash32 to every block (default false). */
  blockChecksum?: boolean;
  /** Record the content size in the header. */
  contentSize?: number;
}

function blockSizeCode(size: number): number {
  for (const [code, s] of Object.entries(BLOCK_SIZES)) if (s === size) return Number(code);
  throw new RangeError(`LZ4 frame block size must be 64K, 256K, 1M or 4M, got ${size}`);
}

/** The frame header (magic, FLG, BD, optional content size, header checksum). */
export function lz4FrameHeader(opts: Lz4FrameOptions = {}): Uint8Array {
  const hasSize = opts.contentSize !== undefined;
  const out = new Uint8Array(hasSize ? 15 : 7);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, LZ4_FRAME_MAGIC, true);
  out[4] = 0x40 | 0x20 | (opts.blockChecksum ? 0x10 : 0) | (hasSize ? 0x08 : 0) |
    (opts.contentChecksum ?? true ? 0x04 : 0);
  out[5] = blockSizeCode(opts.blockSize ?? 4194304) << 4;
  if (hasSize) dv.setBigUint64(6, BigInt(opts.contentSize!), true);
  out[out.length - 1] = (xxhash32(out.subarray(4, out.length - 1)) >>> 8) & 0xff;
  return out;
}

/** One data block: its length word (high bit set when stored uncompressed), data, checksum. */
export function lz4FrameBlock(data: Uint8Array, compressed: boolean, blockChecksum = false) {
  const out = new Uint8Array(4 + data.length + (blockChecksum ? 4 : 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, (data.length | (compressed ? 0 : UNCOMPRESSED_BIT)) >>> 0, true);
  out.set(data, 4);
  if (blockChecksum) dv.setUint32(4 + data.length, xxhash32(data), true);
  return out;
}

/** The end mark, followed by the content checksum when one is given. */
export function lz4FrameEnd(contentChecksum?: number): Uint8Array {
  const out = new Uint8Array(contentChecksum === undefined ? 4 : 8);
  if (contentChecksum !== undefined) new DataView(out.buffer).setUint32(4, contentChecksum, true);
  return out;
}

/** Compress a stream of bytes into one LZ4 frame with independent blocks. */
export async function* lz4FrameEncode(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: Lz4FrameOptions = {},
): AsyncGenerator<Uint8Array> {
  const blockSize = opts.blockSize ?? 4194304;
  const withSum = opts.contentChecksum ?? true;
  const hash = withSum ? new Xxh32() : undefined;
  yield lz4FrameHeader(opts);
  const buf = new Uint8Array(blockSize);
  let fill = 0;
  const flush = (block: Uint8Array) => {
    hash?.update(block);
    const c = lz4CompressBlock(block);
    return c.length < block.length
      ? lz4FrameBlock(c, true, opts.blockChecksum)
      : lz4FrameBlock(block, false, opts.blockChecksum);
  };
  for await (const piece of source) {
    let i = 0;
    while (i < piece.length) {
      if (fill === 0 && piece.length - i >= blockSize) {
        yield flush(piece.subarray(i, i + blockSize));
        i += blockSize;
        continue;
      }
      const take = Math.min(blockSize - fill, piece.length - i);
      buf.set(piece.subarray(i, i + take), fill);
      fill += take;
      i += take;
      if (fill === blockSize) {
        yield flush(buf);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield flush(buf.subarray(0, fill));
  yield lz4FrameEnd(hash?.digest());
}

/** Decoding limits. */
export interface Lz4DecodeOptions {
  /** Name used in error messages (a file or entry). */
  name?: string;
}

/**
 * Decompress a stream holding one or more LZ4 frames (skippable frames are skipped).
 * Every checksum present is verified; malformed or truncated input gives a
 * CorruptionError naming the frame and block.
 */
export async function* lz4FrameDecode(
  source: AsyncIterable<Uint8Array>,
  opts: Lz4DecodeOptions = {},
): AsyncGenerator<Uint8Array> {
  const r = new ByteReader(source);
  const name = opts.name ?? "LZ4 input";
  let frame = 0;
  const bad = (why: string): never => {
    throw new CorruptionError(`${name}: LZ4 frame ${frame}: ${why}`);
  };
  const need = async (n: number, what: string) => {
    const b = await r.read(n);
    if (b.length < n) bad(`truncated (in ${what})`);
    return b;
  };
  try {
    while (!(await r.atEnd())) {
      const m = await need(4, "magic number");
      const magic = new DataView(m.buffer, m.byteOffset, 4).getUint32(0, true);
      if ((magic & 0xfffffff0) === 0x184d2a50) {
        const l = await need(4, "skippable frame");
        let skip = new DataView(l.buffer, l.byteOffset, 4).getUint32(0, true);
        while (skip > 0) skip -= (await need(Math.min(skip, 1 << 20), "skippable frame")).length;
        frame++;
        continue;
      }
      if (magic !== LZ4_FRAME_MAGIC) bad(`not an LZ4 frame (magic 0x${magic.toString(16)})`);
      const fb = (await need(2, "frame descriptor")).slice();
      const flg = fb[0], bd = fb[1];
      if ((flg >>> 6) !== 1) bad(`unsupported frame version ${flg >>> 6}`);
      if (flg & 0x02 || bd & 0x8f) bad("reserved bits set in frame descriptor");
      if (flg & 0x01) bad("frames with a dictionary ID are not supported");
      const blockMax = BLOCK_SIZES[(bd >>> 4) & 7] ?? bad(`invalid block size code ${bd >>> 4}`);
      const independent = (flg & 0x20) !== 0;
      const blockSum = (flg & 0x10) !== 0;
      const hasSize = (flg & 0x08) !== 0;
      const contentSum = (flg & 0x04) !== 0;
      const extra = (await need(hasSize ? 9 : 1, "frame descriptor")).slice();
      const desc = new Uint8Array(2 + extra.length - 1);
      desc.set(fb);
      desc.set(extra.subarray(0, extra.length - 1), 2);
      if (((xxhash32(desc) >>> 8) & 0xff) !== extra[extra.length - 1]) {
        bad("header checksum mismatch");
      }
      const declared = hasSize
        ? new DataView(extra.buffer, extra.byteOffset).getBigUint64(0, true)
        : undefined;
      const hash = contentSum ? new Xxh32() : undefined;
      let prefix = new Uint8Array(0);
      let total = 0n;
      for (let block = 0;; block++) {
        const lw = await need(4, `block ${block} length`);
        const word = new DataView(lw.buffer, lw.byteOffset, 4).getUint32(0, true);
        if (word === 0) break;
        const len = word & 0x7fffffff;
        const stored = (word & UNCOMPRESSED_BIT) !== 0;
        if (len > blockMax) bad(`block ${block}: length ${len} exceeds block maximum ${blockMax}`);
        const data = await need(len, `block ${block}`);
        if (blockSum) {
          const s = await need(4, `block ${block} checksum`);
          if (new DataView(s.buffer, s.byteOffset, 4).getUint32(0, true) !== xxhash32(data)) {
            bad(`block ${block}: block checksum mismatch`);
          }
        }
        let out: Uint8Array;
        try {
          out = stored
            ? data.slice()
            : independent
            ? lz4DecompressBlock(data, blockMax)
            : lz4DecompressLinked(data, blockMax, prefix);
        } catch (e) {
          return bad(`block ${block}: ${(e as Error).message}`);
        }
        if (!independent) {
          const joined = new Uint8Array(Math.min(65536, prefix.length + out.length));
          const fromOut = Math.min(out.length, joined.length);
          joined.set(prefix.subarray(prefix.length - (joined.length - fromOut)), 0);
          joined.set(out.subarray(out.length - fromOut), joined.length - fromOut);
          prefix = joined;
        }
        hash?.update(out);
        total += BigInt(out.length);
        if (out.length > 0) yield out;
      }
      if (declared !== undefined && declared !== total) {
        bad(`content size ${total} differs from the declared ${declared}`);
      }
      if (contentSum) {
        const s = await need(4, "content checksum");
        if (new DataView(s.buffer, s.byteOffset, 4).getUint32(0, true) !== hash!.digest()) {
          bad("content checksum mismatch");
        }
      }
      frame++;
    }
  } finally {
    await r.close();
  }
}
