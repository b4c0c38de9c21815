/**
 * The image entry iterator: over the record reader (`records.ts`), reads the
 * manifest (the first entry) and yields the entries one at a time, checking
 * that sizes add up, names are safe and unique, and the end record is present
 * and agrees with what was read. Errors name the entry and chunk.
 */
import { CorruptionError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import { type Manifest, MANIFEST_FILE } from "../core/manifest.ts";
import { concatBytes, ManifestScanner, readManifestBytes } from "../core/manifest_schema.ts";
import { checkEntryPath } from "../core/entry_path.ts";
import { crcHex } from "../core/crc.ts";
import { releaseBuffer } from "./buffers.ts";
import type { DecodeMode } from "./chunk_codec.ts";
import {
  decodeEndPayload,
  decodeEntryPayload,
  type EndInfo,
  type EntryInfo,
  type ImageHeader,
  RECORD_HEADER_SIZE,
  RecordType,
} from "./format.ts";
import { crc32cCombine } from "./kernels.ts";
import {
  KEPT_SUFFIX,
  keptChunk,
  keptEnd,
  type KeptFrame,
  keptFrameOf,
  keptStart,
} from "./kept_frames.ts";
import { type DecodedRecord, RecordReader } from "./records.ts";
import { printable } from "../names/printable.ts";

/** How an image is read. */
export interface ImageReadOptions {
  /** The user's 256-bit key (needed for encrypted images). */
  key?: Uint8Array;
  /** Codec worker threads (0: on this thread). */
  threads: number;
  /**
   * "full": entries yield their content; "keep-compressed": entries yield a standard
   * LZ4 frame of their content, or zstd frames for a zstd image (compressed chunks
   * are not decompressed, see `kept_frames.ts`); "check":
   * chunks are verified (checksum, and MAC when encrypted) but not decoded, and
   * entries yield nothing (for listing).
   */
  mode?: DecodeMode;
  /** The image's name in messages (a file name or "stdin"). */
  name?: string;
  signal?: AbortSignal;
  /**
   * "full" mode: the caller is done with each chunk an entry yields when it asks
   * for the next (it writes or copies it), so its buffer may be reused for a later
   * chunk. Saves an allocation per chunk and keeps memory low.
   */
  recycle?: boolean;
  /** "check" mode: entries whose path this accepts yield their content all the same. */
  decodeWhole?: (path: string) => boolean;
}

/** One entry of an image being read. */
export interface ImageEntry extends FileEntry {
  /** Position in the image (the manifest is 0). */
  index: number;
  /** True when `data` is an LZ4 frame of the content ("keep-compressed" mode). */
  lz4Frame: boolean;
  /** "keep-compressed" mode: the standard framing `data` is in (LZ4 or zstd frames). */
  keptFrame?: KeptFrame;
  /** Filled in as `data` is consumed (or skipped). */
  stats: { storedBytes: number; chunks: number; crc32c?: string };
}

/** An image opened for reading. */
export interface OpenedImage {
  header: ImageHeader;
  manifest: Manifest;
  /** The entries after the manifest, in order; finish one before asking for the next. */
  entries(): AsyncGenerator<ImageEntry>;
  /** The end record's totals, once `entries()` has finished. */
  end?: EndInfo;
  /** What was seen: path → size and CRC-32C, once `entries()` has finished (or so far). */
  seen: Map<string, { size: number; crc32c: string }>;
  /** Stop reading and release the workers. */
  close(): Promise<void>;
}

type Totals = { entries: number; chunks: number; rawBytes: number; storedBytes: number };

/** Reads the entries of an image from its records. */
class EntryIterator {
  readonly seen = new Map<string, { size: number; crc32c: string }>();
  readonly totals: Totals = { entries: 0, chunks: 0, rawBytes: 0, storedBytes: 0 };
  end?: EndInfo;
  readonly #recycle: boolean;
  /** "keep-compressed" mode: the framing entries leave in, once the manifest is read. */
  #kept?: KeptFrame;

  constructor(
    readonly records: RecordReader,
    readonly name: string,
    readonly mode: DecodeMode,
    recycle: boolean,
  ) {
    this.#recycle = recycle && mode === "full" && records.pool.threads > 0;
  }

  #info(d: DecodedRecord): EntryInfo {
    const info = decodeEntryPayload(d.r.data, `${this.name}: entry #${d.h.entry}`);
    checkEntryPath(info.path, `${this.name}: entry #${d.h.entry}`);
    return info;
  }

  /** An entry's data records, checking their sizes add up to the entry's. */
  async *#chunks(index: number, info: EntryInfo, stats: ImageEntry["stats"]) {
    const { records, totals } = this;
    const withCrc = this.mode === "full" || index === 0;
    let got = 0, crc = 0;
    for (;;) {
      const d = await records.peek();
      if (!d || d.h.type !== RecordType.DATA || d.h.entry !== index) break;
      await records.take();
      got += d.h.rawLen;
      if (got > info.size) {
        throw new CorruptionError(
          `${this.name}: ${records.current} chunk ${d.h.chunk}: more data than the entry size ${info.size}`,
        );
      }
      const stored = RECORD_HEADER_SIZE + d.h.storedLen;
      stats.chunks++;
      stats.storedBytes += stored;
      totals.chunks++;
      totals.storedBytes += stored;
      if (withCrc) crc = crc32cCombine(crc, d.r.rawCrc, d.h.rawLen);
      yield d;
    }
    if (got !== info.size) {
      throw new CorruptionError(
        `${this.name}: ${records.current}: ${got} of ${info.size} bytes present (entry cut short)`,
      );
    }
    totals.rawBytes += got;
    if (withCrc) stats.crc32c = crcHex(crc);
  }

  /** Read entry 0, the manifest. */
  async manifest(): Promise<Manifest> {
    const { name, records } = this;
    const first = await records.take();
    if (!first || first.h.type !== RecordType.ENTRY) {
      throw new CorruptionError(`${name}: the first record is not the manifest entry`);
    }
    this.totals.storedBytes += RECORD_HEADER_SIZE + first.h.storedLen;
    const info = this.#info(first);
    if (info.path !== MANIFEST_FILE) {
      throw new CorruptionError(`${name}: the first entry is not the manifest`);
    }
    records.current = `entry #0 '${MANIFEST_FILE}'`;
    // Untrusted: bounded before anything is allocated, scanned as it arrives, validated once.
    const scan = new ManifestScanner(name);
    scan.declare(info.size);
    // Entry 0's records are decoded on this thread into buffers of their own (never
    // recycled), so the parts are kept as they are, not copied.
    const parts: Uint8Array[] = [];
    for await (const d of this.#chunks(0, info, { storedBytes: 0, chunks: 0 })) {
      scan.feed(d.r.data);
      parts.push(d.r.data);
    }
    this.totals.entries++;
    const m = readManifestBytes(concatBytes(parts), name);
    if (this.mode === "keep-compressed") this.#kept = keptFrameOf(m);
    return m;
  }

  /** Check the end record against what was read, and that nothing follows it. */
  async #finish(d: DecodedRecord): Promise<void> {
    const { name, totals: t } = this;
    const e = decodeEndPayload(d.r.data, `${name}: end record`);
    if (
      e.entries !== t.entries || e.chunks !== t.chunks || e.rawBytes !== t.rawBytes ||
      e.storedBytes !== t.storedBytes
    ) {
      throw new CorruptionError(
        `${name}: the end record disagrees with what was read (entries ${e.entries}/${t.entries}, chunks ${e.chunks}/${t.chunks}, bytes ${e.rawBytes}/${t.rawBytes})`,
      );
    }
    this.end = e;
    if (await this.records.next()) {
      throw new CorruptionError(`${name}: records after the end record`);
    }
  }

  /** The data stream of one entry, in the iterator's mode. */
  async *#data(d: DecodedRecord, info: EntryInfo, stats: ImageEntry["stats"]) {
    const kept = this.#kept;
    const { consumed, readAhead } = this.records;
    if (kept) yield* keptStart(kept, info.size);
    let n = 0;
    for await (const c of this.#chunks(d.h.entry, info, stats)) {
      if (this.mode === "check" && !this.records.decodedWhole(d.h.entry)) continue;
      n++;
      yield kept ? keptChunk(kept, c.r, c.h.rawLen) : c.r.data;
      if (this.#recycle && c.r.data.byteOffset === 0) {
        if (consumed.length < readAhead + 2) consumed.push(c.r.data.buffer as ArrayBuffer);
        else releaseBuffer(c.r.data.buffer);
      }
    }
    if (kept) yield* keptEnd(kept, n);
  }

  /** The entries after the manifest, each read to its end (verified) before the next. */
  async *entries(): AsyncGenerator<ImageEntry> {
    const { name, records } = this;
    for (;;) {
      const d = await records.take();
      if (!d) throw new CorruptionError(`${name}: no end record`);
      if (d.h.type === RecordType.END) return await this.#finish(d);
      if (d.h.type !== RecordType.ENTRY) {
        throw new CorruptionError(`${name}: data record outside an entry`);
      }
      this.totals.storedBytes += RECORD_HEADER_SIZE + d.h.storedLen;
      const info = this.#info(d);
      records.current = `entry #${d.h.entry} '${printable(info.path)}'`;
      if (info.path === MANIFEST_FILE || this.seen.has(info.path)) {
        throw new CorruptionError(`${name}: ${records.current}: duplicate entry name`);
      }
      const stats: ImageEntry["stats"] = { storedBytes: 0, chunks: 0 };
      const data = this.#data(d, info, stats);
      yield {
        index: d.h.entry,
        path: info.path,
        size: info.size,
        mode: info.mode,
        data,
        lz4Frame: this.#kept === "lz4",
        keptFrame: this.#kept,
        framedSuffix: this.#kept && KEPT_SUFFIX[this.#kept],
        stats,
      };
      // Consume whatever the caller left unread (verifying it).
      for await (const _ of data) { /* skip */ }
      this.totals.entries++;
      this.seen.set(info.path, { size: info.size, crc32c: stats.crc32c ?? "" });
    }
  }
}

/** Open an image from a byte stream: check header and key, read the manifest. */
export async function openImage(
  source: AsyncIterable<Uint8Array>,
  opts: ImageReadOptions,
): Promise<OpenedImage> {
  const name = opts.name ?? "image";
  const mode = opts.mode ?? "full";
  const records = await RecordReader.open(source, {
    key: opts.key,
    threads: opts.threads,
    mode,
    name,
    signal: opts.signal,
    decodeWhole: opts.decodeWhole,
  });
  const it = new EntryIterator(records, name, mode, opts.recycle === true);
  let manifest: Manifest;
  try {
    manifest = await it.manifest();
  } catch (e) {
    await records.close();
    throw e;
  }
  return {
    header: records.header,
    manifest,
    seen: it.seen,
    get end() {
      return it.end;
    },
    entries: () => it.entries(),
    close: () => records.close(),
  };
}
