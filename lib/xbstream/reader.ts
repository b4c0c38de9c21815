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
import { zlib } from "../builtins.ts";
import { ByteReader } from "../core/byte_reader.ts";
import { crcHex as hex } from "../core/crc.ts";
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

const PIECE = 4 << 20;
const zeros = new Uint8Array(1 << 20);

class Stop extends Error {}

/** The fixed part of a payload-carrying chunk after its path. */
interface PayloadHead {
  length: number;
  offset: number;
  stored: number;
  /** Sparse map as (skip, take) pairs, `S` chunks only. */
  map?: Uint32Array;
  /** CRC-32 of the sparse map bytes (the payload continues it). */
  crc: number;
}

/** One pass over a stream; {@link readXbstream} is its entry point. */
class XbReader {
  readonly summary: XbSummary = { bytes: 0, chunks: 0, files: [], skippedChunks: 0 };
  #r: ByteReader;
  #v: XbVisitor;
  #name: string;
  #files = new Map<string, XbFile>();
  #decoder = new TextDecoder("utf-8", { fatal: true });
  /** Stream offset of the chunk being read, and what it is for (in messages). */
  #at = 0;
  #what = "";

  constructor(source: AsyncIterable<Uint8Array>, visitor: XbVisitor, name: string) {
    this.#r = new ByteReader(source);
    this.#v = visitor;
    this.#name = name;
  }

  #stop(why: string): never {
    this.summary.damaged =
      `${this.#name}: ${why} (chunk at stream offset ${this.#at}${this.#what})`;
    throw new Stop();
  }

  async #need(n: number, part: string): Promise<Uint8Array> {
    const b = await this.#r.read(n);
    if (b.length < n) this.#stop(`truncated in the ${part}`);
    return b;
  }

  /** Read every chunk; a broken structure ends the pass with `summary.damaged`. */
  async run(signal?: AbortSignal): Promise<XbSummary> {
    try {
      while (!(await this.#r.atEnd())) {
        if (signal?.aborted) throw signal.reason ?? new Error("aborted");
        await this.#chunk();
      }
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    } finally {
      this.summary.bytes = this.#r.offset;
      await this.#r.close();
    }
    if (!this.summary.damaged) {
      for (const f of this.summary.files) {
        if (!f.ended) this.#v.problem(`${f.path}: no end-of-file chunk (stream truncated?)`, f);
      }
    }
    return this.summary;
  }

  async #chunk(): Promise<void> {
    this.#at = this.#r.offset;
    this.#what = "";
    const head = (await this.#need(XB_HEADER_FIXED, "chunk header")).slice();
    if (!isXbstreamMagic(head)) this.#stop("no XBSTCK01 chunk magic: not an xbstream, or damaged");
    const flags = head[8], type = head[9];
    const pathLen = new DataView(head.buffer).getUint32(10, true);
    if (pathLen >= XB_PATH_MAX) this.#stop(`path length ${pathLen} is not below ${XB_PATH_MAX}`);
    const raw = await this.#need(pathLen, "path");
    let path: string;
    try {
      path = this.#decoder.decode(raw);
    } catch {
      return this.#stop("path is not UTF-8");
    }
    this.#what = ` for ${JSON.stringify(path)}`;
    this.summary.chunks++;
    const known = type === XB_PAYLOAD || type === XB_SPARSE || type === XB_EOF;
    if (!known && !(flags & XB_FLAG_IGNORABLE)) {
      this.#stop(`unknown chunk type ${chunkTypeName(type)} not marked ignorable`);
    }
    if (!known) return await this.#skip();
    const file = this.#file(path);
    if (type === XB_EOF) {
      if (file.ended) {
        this.#v.problem(`${path}: a second end-of-file chunk at stream offset ${this.#at}`, file);
      } else {
        file.ended = true;
        await this.#v.close?.(file);
      }
      return;
    }
    await this.#payload(file, await this.#payloadHead(type === XB_SPARSE));
  }

  /** The record of `path`, made (and its path checked) when it first appears. */
  #file(path: string): XbFile {
    let file = this.#files.get(path);
    if (file) return file;
    file = { path, size: 0, chunks: 0, storedBytes: 0, ended: false };
    this.#files.set(path, file);
    this.summary.files.push(file);
    const unsafe = entryPathProblem(path);
    if (unsafe) {
      file.broken = `unsafe path: ${unsafe}`;
      this.#v.problem(`${this.#name}: refused path ${JSON.stringify(path)}: ${unsafe}`, file);
    }
    this.#v.open?.(file);
    return file;
  }

  /** Sparse map size (S), payload length, file offset, CRC, sparse map (S). */
  async #payloadHead(sparse: boolean): Promise<PayloadHead> {
    let mapCount = 0;
    if (sparse) {
      const m = await this.#need(4, "sparse map size");
      mapCount = new DataView(m.buffer, m.byteOffset, 4).getUint32(0, true);
    }
    const fixed = (await this.#need(20, "payload header")).slice();
    const dv = new DataView(fixed.buffer);
    const length = dv.getBigUint64(0, true);
    const offset = dv.getBigUint64(8, true);
    if (length > BigInt(Number.MAX_SAFE_INTEGER) || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.#stop(`payload length ${length} or offset ${offset} out of range`);
    }
    const head: PayloadHead = {
      length: Number(length),
      offset: Number(offset),
      stored: dv.getUint32(16, true),
      crc: 0,
    };
    if (mapCount > 0) {
      if (mapCount > (1 << 24)) this.#stop(`sparse map of ${mapCount} entries`);
      const raw = (await this.#need(mapCount * 8, "sparse map")).slice();
      head.crc = zlib().crc32(raw, 0);
      const mdv = new DataView(raw.buffer);
      head.map = new Uint32Array(mapCount * 2);
      for (let i = 0; i < head.map.length; i++) head.map[i] = mdv.getUint32(i * 4, true);
    }
    return head;
  }

  /** An ignorable chunk of an unknown type: laid out like a payload chunk, its CRC checked. */
  async #skip(): Promise<void> {
    const h = await this.#payloadHead(false);
    this.summary.skippedChunks++;
    let crc = h.crc;
    for (let left = h.length; left > 0;) {
      const piece = await this.#piece(left);
      crc = zlib().crc32(piece, crc);
      left -= piece.length;
    }
    if ((crc >>> 0) !== h.stored) {
      this.#v.problem(
        `${this.#name}: CRC-32 mismatch in a skipped chunk at stream offset ${this.#at}`,
      );
    }
  }

  async #piece(left: number): Promise<Uint8Array> {
    const piece = await this.#r.readSome(Math.min(left, PIECE));
    if (piece.length === 0) this.#stop("truncated in the payload");
    return piece;
  }

  /** A payload (or sparse) chunk of `f`: offsets checked, bytes delivered, CRC checked. */
  async #payload(f: XbFile, h: PayloadHead): Promise<void> {
    f.chunks++;
    f.storedBytes += h.length;
    if (f.ended) {
      this.#v.problem(
        `${f.path}: chunk at stream offset ${this.#at} after its end-of-file chunk`,
        f,
      );
      f.broken ??= "data after the end-of-file chunk";
    } else if (!f.broken && h.offset !== f.size) {
      f.broken = `chunk at stream offset ${this.#at} starts at file offset ${h.offset}, ` +
        `expected ${f.size} (chunks missing or out of order); later pages not checked`;
      this.#v.problem(`${f.path}: ${f.broken}`, f);
    }
    const deliver = async (bytes: Uint8Array) => {
      if (f.broken || f.ended) return;
      f.size += bytes.length;
      await this.#v.data?.(f, bytes);
    };
    const hole = async (n: number) => {
      for (; n > 0; n -= Math.min(n, zeros.length)) {
        await deliver(zeros.subarray(0, Math.min(n, zeros.length)));
      }
    };
    // Sparse map: (skip, take) pairs over the payload; what is left of the payload follows.
    const map = h.map;
    let run = 0, take = map ? 0 : Infinity;
    let crc = h.crc;
    for (let left = h.length; left > 0;) {
      while (take === 0 && map && run < map.length) {
        await hole(map[run++]);
        take = map[run++];
      }
      if (take === 0) take = Infinity;
      const piece = await this.#piece(Math.min(left, take));
      crc = zlib().crc32(piece, crc);
      left -= piece.length;
      take -= piece.length;
      await deliver(piece);
    }
    while (map && run < map.length) {
      await hole(map[run++]);
      run++; // a trailing run with nothing left to take
    }
    if ((crc >>> 0) !== h.stored) {
      this.#v.problem(
        `${f.path}: CRC-32 mismatch in the chunk at stream offset ${this.#at} (file offset ` +
          `${h.offset}, ${h.length} bytes): stored 0x${hex(h.stored)}, computed 0x${hex(crc)}`,
        f,
      );
    }
  }
}

/** Read the xbstream `source` to its end, telling `visitor` what is in it. */
export async function readXbstream(
  source: AsyncIterable<Uint8Array>,
  visitor: XbVisitor,
  opts: { name?: string; signal?: AbortSignal } = {},
): Promise<XbSummary> {
  return await new XbReader(source, visitor, opts.name ?? "stream").run(opts.signal);
}
