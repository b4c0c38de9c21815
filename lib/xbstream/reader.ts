/**
 * Reading an xbstream strictly sequentially (a file or stdin), chunk by chunk,
 * with every check the format allows: the chunk magic, known chunk types (an
 * unknown one is skipped only when flagged ignorable), path length and safety,
 * each payload's CRC-32, per-file offsets that continue where the previous chunk
 * ended, one end-of-file chunk per path and nothing after it, and an end-of-file
 * chunk for every path by the end of the stream. Payload bytes go to a visitor
 * in pieces as they are read (never a whole chunk in memory), in file order;
 * findings that leave the stream readable are reported to the visitor and the
 * reading goes on; a broken structure (bad magic, truncation) stops it.
 */
import { crc32 } from "node:zlib";
import { ByteReader } from "../core/byte_reader.ts";
import { entryPathProblem } from "../core/entry_path.ts";
import {
  chunkTypeName,
  isXbstreamMagic,
  XB_EOF,
  XB_FLAG_IGNORABLE,
  XB_HEADER_FIXED,
  XB_PATH_MAX,
  XB_PAYLOAD,
  XB_SPARSE,
} from "./format.ts";

/** What the reader knows about one path of the stream. */
export interface XbFile {
  /** The path as stored (filename-encoded, `/`-separated). */
  path: string;
  /** File bytes delivered (holes of sparse chunks included). */
  size: number;
  /** Payload and sparse chunks seen. */
  chunks: number;
  /** Payload bytes stored in the stream. */
  storedBytes: number;
  /** An end-of-file chunk was seen. */
  ended: boolean;
  /** The bytes stopped being delivered (out-of-order chunk, unsafe path): reason. */
  broken?: string;
}

/** Receives what the reader finds. Returning a promise from `data` holds the reader back. */
export interface XbVisitor {
  /** A path appears for the first time (its bytes follow through `data`). */
  open?(file: XbFile): void;
  /** The next bytes of `file` (valid only during the call). */
  data?(file: XbFile, bytes: Uint8Array): void | Promise<void>;
  /** The end-of-file chunk of `file` arrived. */
  close?(file: XbFile): void | Promise<void>;
  /** A finding about `file` (or the stream) that does not stop the reading. */
  problem(message: string, file?: XbFile): void;
}

/** The whole stream as read. */
export interface XbSummary {
  /** Bytes of the stream read. */
  bytes: number;
  chunks: number;
  /** Every path, in the order it first appeared. */
  files: XbFile[];
  /** Unknown ignorable chunks skipped. */
  skippedChunks: number;
  /** Why reading stopped before the end of the stream, if it did. */
  damaged?: string;
}

const PIECE = 1 << 20;
const zeros = new Uint8Array(PIECE);

class Stop extends Error {}

/** Read the xbstream `source` to its end, telling `visitor` what is in it. */
export async function readXbstream(
  source: AsyncIterable<Uint8Array>,
  visitor: XbVisitor,
  opts: { name?: string; signal?: AbortSignal } = {},
): Promise<XbSummary> {
  const r = new ByteReader(source);
  const files = new Map<string, XbFile>();
  const summary: XbSummary = { bytes: 0, chunks: 0, files: [], skippedChunks: 0 };
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const name = opts.name ?? "stream";
  let at = 0; // stream offset of the chunk being read
  let what = "";
  const stop = (why: string): never => {
    summary.damaged = `${name}: ${why} (chunk at stream offset ${at}${what})`;
    throw new Stop();
  };
  const need = async (n: number, part: string): Promise<Uint8Array> => {
    const b = await r.read(n);
    if (b.length < n) stop(`truncated in the ${part}`);
    return b;
  };
  try {
    while (!(await r.atEnd())) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
      at = r.offset;
      what = "";
      const head = (await need(XB_HEADER_FIXED, "chunk header")).slice();
      if (!isXbstreamMagic(head)) stop("no XBSTCK01 chunk magic: not an xbstream, or damaged");
      const dv = new DataView(head.buffer);
      const flags = head[8], type = head[9];
      const pathLen = dv.getUint32(10, true);
      if (pathLen >= XB_PATH_MAX) stop(`path length ${pathLen} is not below ${XB_PATH_MAX}`);
      let path: string;
      try {
        path = decoder.decode(await need(pathLen, "path"));
      } catch (e) {
        if (e instanceof Stop) throw e;
        return stop("path is not UTF-8");
      }
      what = ` for ${JSON.stringify(path)}`;
      summary.chunks++;
      const known = type === XB_PAYLOAD || type === XB_SPARSE || type === XB_EOF;
      if (!known && !(flags & XB_FLAG_IGNORABLE)) {
        stop(`unknown chunk type ${chunkTypeName(type)} not marked ignorable`);
      }
      let file = files.get(path);
      if (!file && known) {
        file = { path, size: 0, chunks: 0, storedBytes: 0, ended: false };
        files.set(path, file);
        summary.files.push(file);
        const unsafe = entryPathProblem(path);
        if (unsafe) {
          file.broken = `unsafe path: ${unsafe}`;
          visitor.problem(`${name}: refused path ${JSON.stringify(path)}: ${unsafe}`, file);
        }
        visitor.open?.(file);
      }
      if (type === XB_EOF) {
        if (file!.ended) {
          visitor.problem(`${path}: a second end-of-file chunk at stream offset ${at}`, file);
        } else {
          file!.ended = true;
          await visitor.close?.(file!);
        }
        continue;
      }
      // P, S, and ignorable unknown chunks share this layout (as the writers' readers assume).
      let mapCount = 0;
      if (type === XB_SPARSE) {
        const m = await need(4, "sparse map size");
        mapCount = new DataView(m.buffer, m.byteOffset, 4).getUint32(0, true);
      }
      const fixed = (await need(20, "payload header")).slice();
      const fdv = new DataView(fixed.buffer);
      const length = fdv.getBigUint64(0, true);
      const offset = fdv.getBigUint64(8, true);
      const stored = fdv.getUint32(16, true);
      if (length > BigInt(Number.MAX_SAFE_INTEGER) || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
        stop(`payload length ${length} or offset ${offset} out of range`);
      }
      let crc = 0;
      let map: Uint32Array | undefined;
      if (mapCount > 0) {
        if (mapCount > (1 << 24)) stop(`sparse map of ${mapCount} entries`);
        const raw = (await need(mapCount * 8, "sparse map")).slice();
        crc = crc32(raw, crc);
        map = new Uint32Array(mapCount * 2);
        const mdv = new DataView(raw.buffer);
        for (let i = 0; i < map.length; i++) map[i] = mdv.getUint32(i * 4, true);
      }
      let left = Number(length);
      const fileOffset = Number(offset);
      if (!known) {
        summary.skippedChunks++;
        while (left > 0) {
          const piece = await need(Math.min(left, PIECE), "payload");
          crc = crc32(piece, crc);
          left -= piece.length;
        }
        if ((crc >>> 0) !== stored) {
          visitor.problem(`${name}: CRC-32 mismatch in a skipped chunk at stream offset ${at}`);
        }
        continue;
      }
      const f = file!;
      f.chunks++;
      f.storedBytes += left;
      if (f.ended) {
        visitor.problem(`${path}: chunk at stream offset ${at} after its end-of-file chunk`, f);
        f.broken ??= "data after the end-of-file chunk";
      } else if (!f.broken && fileOffset !== f.size) {
        f.broken = `chunk at stream offset ${at} starts at file offset ${fileOffset}, ` +
          `expected ${f.size} (chunks missing or out of order); later pages not checked`;
        visitor.problem(`${path}: ${f.broken}`, f);
      }
      const deliver = async (bytes: Uint8Array) => {
        if (f.broken || f.ended) return;
        f.size += bytes.length;
        await visitor.data?.(f, bytes);
      };
      // Sparse map: (skip, take) pairs over the payload; the rest of the payload follows.
      let mapIndex = 0;
      let take = map ? 0 : Infinity;
      const nextRun = async () => {
        while (take === 0 && map && mapIndex < map.length) {
          let skip = map[mapIndex++];
          take = map[mapIndex++];
          while (skip > 0) {
            const n = Math.min(skip, PIECE);
            await deliver(zeros.subarray(0, n));
            skip -= n;
          }
        }
        if (take === 0) take = Infinity;
      };
      while (left > 0) {
        if (map) await nextRun();
        const piece = await need(Math.min(left, PIECE, take), "payload");
        crc = crc32(piece, crc);
        left -= piece.length;
        take -= piece.length;
        await deliver(piece);
      }
      if (map) await nextRun(); // trailing holes
      if ((crc >>> 0) !== stored) {
        visitor.problem(
          `${path}: CRC-32 mismatch in the chunk at stream offset ${at} (file offset ` +
            `${fileOffset}, ${length} bytes): stored 0x${hex(stored)}, computed 0x${hex(crc)}`,
          f,
        );
      }
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  } finally {
    summary.bytes = r.offset;
    await r.close();
  }
  if (!summary.damaged) {
    for (const f of summary.files) {
      if (!f.ended) visitor.problem(`${f.path}: no end-of-file chunk (stream truncated?)`, f);
    }
  }
  return summary;
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
