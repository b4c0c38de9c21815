/**
 * The image writer: turns a manifest and a stream of entries into the bytes of an
 * image (an async stream, written strictly in order). Records are encoded by the
 * codec pool with a bounded number in flight, so memory stays bounded however
 * large the entries are, and output order is the submission order.
 */
import { IoError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import { type Manifest, MANIFEST_FILE } from "../core/manifest.ts";
import { CodecPool } from "./codec_pool.ts";
import { type Compression, compressionMethod } from "./chunk_codec.ts";
import { deriveImageKeys } from "./derive.ts";
import {
  DEFAULT_CHUNK_SIZE,
  encodeEndPayload,
  encodeEntryPayload,
  encodeImageHeader,
  type EndInfo,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  RecordType,
} from "./format.ts";
import { checkEntryPath } from "../core/entry_path.ts";
import { crcHex } from "../core/crc.ts";
import { crc32cCombine } from "./kernels.ts";
import { once } from "../core/files.ts";

/** How an image is written. */
export interface ImageWriteOptions {
  /** Compress DATA chunks: `true` is LZ4; `{ method: "zstd", level }` zstd frames. */
  compress: Compression;
  /** The user's 256-bit key: present means encrypt. */
  key?: Uint8Array;
  /** Codec worker threads (0: on this thread). */
  threads: number;
  /** Uncompressed bytes per chunk (default 1 MiB, at most 4 MiB). */
  chunkSize?: number;
  /** Called after each entry with its size and the CRC-32C of its content. */
  onEntry?: (path: string, size: number, crc32c: string) => void;
  /** Called as data is read, with the running count of raw bytes. */
  onProgress?: (rawBytes: number) => void;
  signal?: AbortSignal;
}

/** A record being encoded, in submission order; a `done` item marks the end of an entry. */
type Item = { p: Promise<{ data: Uint8Array; rawCrc: number }>; len: number } | {
  done: { path: string; size: number };
};

/** Encodes records through the codec pool and yields them in order, bounded in flight. */
class RecordEncoder {
  readonly queue: Item[] = [];
  pending = 0;
  /** Records already written, handed back to the workers to build later records in. */
  readonly written: ArrayBuffer[] = [];
  readonly end: EndInfo = { entries: 0, chunks: 0, rawBytes: 0, storedBytes: 0 };
  entryCrc = 0;
  readonly maxInFlight: number;

  constructor(
    readonly pool: CodecPool,
    readonly opts: ImageWriteOptions,
    readonly chunkSize: number,
  ) {
    this.maxInFlight = Math.max(4, pool.threads * 3);
  }

  submit(type: number, entry: number, chunk: number, data: Uint8Array): void {
    const len = type === RecordType.DATA ? data.length : -1;
    const out = this.pool.threads > 0 && type === RecordType.DATA ? this.written.pop() : undefined;
    const p = this.pool.encode({ type, entry, chunk }, data, out);
    p.catch(() => {}); // surfaced when awaited in order
    this.queue.push({ p, len });
    this.pending++;
  }

  /** Yield the encoded records at the head of the queue (all of them with `all`). */
  async *drain(all: boolean): AsyncGenerator<Uint8Array> {
    const { queue, pool } = this;
    while (queue.length > 0 && (all || this.pending > this.maxInFlight || "done" in queue[0])) {
      const item = queue.shift()!;
      if ("done" in item) {
        this.opts.onEntry?.(item.done.path, item.done.size, crcHex(this.entryCrc));
        continue;
      }
      this.pending--;
      const r = await item.p;
      if (item.len === -1) this.entryCrc = 0;
      else this.entryCrc = crc32cCombine(this.entryCrc, r.rawCrc, item.len);
      this.end.storedBytes += r.data.length;
      yield r.data;
      // The consumer is done with it once it asks for more.
      if (pool.threads > 0 && item.len > 0 && this.written.length < 4) {
        this.written.push(r.data.buffer as ArrayBuffer);
      }
    }
  }

  /** One entry: an ENTRY record then its DATA chunks. */
  async *entry(index: number, e: FileEntry): AsyncGenerator<Uint8Array> {
    const { chunkSize, end, opts, pool } = this;
    checkEntryPath(e.path, "entry");
    const payload = encodeEntryPayload({ path: e.path, size: e.size, mode: e.mode ?? 0o640 });
    this.submit(RecordType.ENTRY, index, 0, payload);
    let chunk = 0, total = 0;
    // Chunk buffers come back from the workers once encoded and are refilled.
    const fresh = () => new Uint8Array(pool.buffers.take(chunkSize));
    let buf = fresh(), fill = 0;
    const emit = (data: Uint8Array) => {
      this.submit(RecordType.DATA, index, chunk++, data);
      end.chunks++;
    };
    for await (const piece of e.data) {
      opts.signal?.throwIfAborted();
      total += piece.length;
      if (total > e.size) {
        throw new IoError(`${e.path}: grew while being read (expected ${e.size} bytes)`);
      }
      let i = 0;
      while (i < piece.length) {
        const take = Math.min(chunkSize - fill, piece.length - i);
        buf.set(piece.subarray(i, i + take), fill);
        fill += take;
        i += take;
        if (fill === chunkSize) {
          emit(buf);
          buf = fresh();
          fill = 0;
          yield* this.drain(false);
        }
      }
      opts.onProgress?.(end.rawBytes + total);
    }
    // A view from offset 0: its whole buffer travels (and comes back), no copy.
    if (fill > 0) emit(buf.subarray(0, fill));
    if (total !== e.size) {
      throw new IoError(`${e.path}: shrank while being read (${total} of ${e.size} bytes)`);
    }
    end.rawBytes += total;
    end.entries++;
    this.queue.push({ done: { path: e.path, size: total } });
    yield* this.drain(false);
  }
}

/** The image header (with the key check when encrypting) and the codec keys. */
async function imageHeader(chunkSize: number, key: Uint8Array | undefined, version: number) {
  const encrypted = key !== undefined;
  const salt = encrypted ? crypto.getRandomValues(new Uint8Array(32)) : undefined;
  const header = encodeImageHeader({ encrypted, chunkSize, salt, version });
  if (!encrypted) return { header };
  const k = await deriveImageKeys(key!, salt!, header.subarray(0, 16));
  return {
    header: encodeImageHeader({ encrypted, chunkSize, salt, keyCheck: k.check, version }),
    enc: k.enc,
    mac: k.mac,
  };
}

/**
 * Produce the bytes of an image holding `manifest` then `entries`, in order.
 * Each yielded buffer is valid only until the next one is asked for (buffers are
 * recycled between this thread and the codec workers): write or copy it at once.
 */
export async function* writeImage(
  manifest: Manifest,
  entries: AsyncIterable<FileEntry>,
  opts: ImageWriteOptions,
): AsyncGenerator<Uint8Array> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunk size ${chunkSize} out of range`);
  }
  // Version 2 when the backup carries page deltas (`F.delta` entries), else 1.
  const deltas = manifest.tables.some((t) => t.files.some((f) => f.endsWith(".delta")));
  const { header, enc, mac } = await imageHeader(chunkSize, opts.key, deltas ? 2 : 1);
  const pool = new CodecPool(opts.threads, { compress: opts.compress, enc, mac });
  const w = new RecordEncoder(pool, opts, chunkSize);
  try {
    yield header;
    const method = compressionMethod(opts.compress);
    const level = typeof opts.compress === "object" ? opts.compress.level : undefined;
    const stamped: Manifest = method
      ? { ...manifest, compression: { method, ...(method === "zstd" ? { level } : {}) } }
      : manifest;
    const json = new TextEncoder().encode(JSON.stringify(stamped, null, 1));
    yield* w.entry(0, { path: MANIFEST_FILE, size: json.length, mode: 0o640, data: once(json) });
    let index = 1;
    for await (const e of entries) yield* w.entry(index++, e);
    yield* w.drain(true);
    w.submit(RecordType.END, index, 0, encodeEndPayload(w.end));
    yield* w.drain(true);
  } finally {
    await pool.close();
  }
}
