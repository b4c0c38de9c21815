/**
 * The image reader: checks the header (and the key, before any record is read),
 * then decodes records strictly in order with a bounded read-ahead through the
 * codec pool, reads the manifest (the first entry), and yields the entries one at
 * a time. Every structural rule is checked as records arrive: types, flags,
 * entry and chunk numbers in sequence, declared lengths within bounds (so no
 * allocation follows an untrusted length), sizes adding up, the end record
 * present and agreeing. Errors name the entry and chunk.
 */
import { CorruptionError, KeyError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import { type Manifest, MANIFEST_FILE } from "./manifest.ts";
import { ByteReader } from "./byte_reader.ts";
import { CodecPool, type CodecResult } from "./codec_pool.ts";
import { releaseBuffer } from "./buffers.ts";
import type { DecodeMode } from "./chunk_codec.ts";
import { deriveImageKeys, equalBytes } from "./derive.ts";
import {
  decodeEndPayload,
  decodeEntryPayload,
  decodeImageHeader,
  decodeRecordHeader,
  type EndInfo,
  type EntryInfo,
  IMAGE_HEADER_SIZE,
  type ImageHeader,
  MAX_MANIFEST_SIZE,
  maxRawLen,
  maxStoredLen,
  RECORD_HEADER_SIZE,
  RecordFlag,
  type RecordHeader,
  RecordType,
} from "./format.ts";
import { checkEntryPath } from "./names.ts";
import { crc32cCombine } from "./kernels.ts";
import { lz4FrameBlock, lz4FrameEnd, lz4FrameHeader } from "./lz4frame.ts";

/** How an image is read. */
export interface ImageReadOptions {
  /** The user's 256-bit key (needed for encrypted images). */
  key?: Uint8Array;
  /** Codec worker threads (0: on this thread). */
  threads: number;
  /**
   * "full": entries yield their content; "keep-compressed": entries yield a standard
   * LZ4 frame of their content (compressed chunks are not decompressed); "check":
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
}

/** One entry of an image being read. */
export interface ImageEntry extends FileEntry {
  /** Position in the image (the manifest is 0). */
  index: number;
  /** True when `data` is an LZ4 frame of the content ("keep-compressed" mode). */
  lz4Frame: boolean;
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

type Decoded = { h: RecordHeader; r: CodecResult };
type Item = { h: RecordHeader; p: Promise<CodecResult> } | { err: Error };

const typeName = (t: number) =>
  t === RecordType.ENTRY
    ? "entry"
    : t === RecordType.DATA
    ? "data"
    : t === RecordType.END
    ? "end"
    : `type ${t}`;

/** Open an image from a byte stream: check header and key, read the manifest. */
export async function openImage(
  source: AsyncIterable<Uint8Array>,
  opts: ImageReadOptions,
): Promise<OpenedImage> {
  const name = opts.name ?? "image";
  const mode = opts.mode ?? "full";
  const input = new ByteReader(source);
  const header = decodeImageHeader((await input.read(IMAGE_HEADER_SIZE)).slice(), name);
  let enc: Uint8Array | undefined, mac: Uint8Array | undefined;
  if (header.encrypted) {
    if (!opts.key) {
      await input.close();
      throw new KeyError(`${name} is encrypted: give the key with --key-file, --key-env or --key`);
    }
    const k = await deriveImageKeys(opts.key, header.salt, header.prefix.subarray(0, 16));
    if (!equalBytes(k.check, header.keyCheck)) {
      await input.close();
      throw new KeyError(`wrong key for ${name}: the key check value does not match`);
    }
    enc = k.enc;
    mac = k.mac;
  }
  const pool = new CodecPool(opts.threads, { compress: false, enc, mac });
  const readAhead = Math.max(4, pool.threads * 3);
  const dataCap = RECORD_HEADER_SIZE + maxStoredLen(RecordType.DATA, header.chunkSize);
  // Chunks the caller has consumed (`recycle`), handed to the workers to decompress into.
  const consumed: ArrayBuffer[] = [];
  const recycle = opts.recycle === true && mode === "full" && pool.threads > 0;
  const queue: Item[] = [];
  let stage1Done = false;

  // Stage 1: read record headers and bytes in order, check structure, submit for decoding.
  let curEntry = -1, nextChunk = 0, ended = false;
  const where = (entry: number, chunk: number) => `entry #${entry} chunk ${chunk}`;
  async function readOne(): Promise<Item | undefined> {
    if (ended) {
      if (!(await input.atEnd())) {
        return { err: new CorruptionError(`${name}: unexpected data after the end record`) };
      }
      return undefined;
    }
    const hb = await input.read(RECORD_HEADER_SIZE);
    const at = curEntry < 0 ? "the manifest" : where(curEntry, nextChunk);
    if (hb.length < RECORD_HEADER_SIZE) {
      return {
        err: new CorruptionError(
          `${name}: image truncated at byte ${input.offset} (before ${at}): no end record`,
        ),
      };
    }
    const hdr = hb.slice();
    const h = decodeRecordHeader(hdr);
    const bad = (why: string): Item => ({
      err: new CorruptionError(
        `${name}: corrupt record header at ${at} (byte ${
          input.offset - RECORD_HEADER_SIZE
        }): ${why}`,
      ),
    });
    if (h.type < 1 || h.type > 3) return bad(`unknown record type ${h.type}`);
    if (h.flags & ~(RecordFlag.LZ4 | RecordFlag.AES)) {
      return bad(`unknown flags 0x${h.flags.toString(16)}`);
    }
    if (((h.flags & RecordFlag.AES) !== 0) !== header.encrypted) {
      return bad(
        header.encrypted
          ? "unencrypted record in an encrypted image"
          : "encrypted record in a plain image",
      );
    }
    if ((h.flags & RecordFlag.LZ4) && h.type !== RecordType.DATA) {
      return bad("compressed non-data record");
    }
    if (h.type === RecordType.ENTRY || h.type === RecordType.END) {
      if (h.entry !== curEntry + 1 || h.chunk !== 0) {
        return bad(
          `${typeName(h.type)} record for entry #${h.entry} chunk ${h.chunk} out of sequence`,
        );
      }
    } else if (curEntry < 0 || h.entry !== curEntry || h.chunk !== nextChunk) {
      return bad(`data record for entry #${h.entry} chunk ${h.chunk} out of sequence`);
    }
    if (h.rawLen > maxRawLen(h.type, header.chunkSize)) {
      return bad(`declared length ${h.rawLen} too large`);
    }
    if (h.storedLen > maxStoredLen(h.type, header.chunkSize)) {
      return bad(`declared stored length ${h.storedLen} too large`);
    }
    // DATA records are read into buffers of the largest size a DATA record may have,
    // which the workers give back once decoded: the same few buffers go round.
    const record = h.type === RecordType.DATA && pool.threads > 0
      ? new Uint8Array(pool.buffers.take(dataCap), 0, RECORD_HEADER_SIZE + h.storedLen)
      : new Uint8Array(RECORD_HEADER_SIZE + h.storedLen);
    record.set(hdr);
    if (await input.readInto(record.subarray(RECORD_HEADER_SIZE)) < h.storedLen) {
      return {
        err: new CorruptionError(
          `${name}: image truncated at byte ${input.offset} (inside ${at}): no end record`,
        ),
      };
    }
    if (h.type === RecordType.ENTRY) {
      curEntry = h.entry;
      nextChunk = 0;
    } else if (h.type === RecordType.DATA) nextChunk++;
    else ended = true;
    const m: DecodeMode = h.entry === 0 || h.type !== RecordType.DATA ? "full" : mode;
    const p = pool.decode(h, record, m, h.type === RecordType.DATA ? consumed.pop() : undefined);
    p.catch(() => {});
    return { h, p };
  }
  // Stage 1 runs in the background (one pump at a time), so reading the input
  // overlaps decoding and the caller's writes; it stops when the queue is full.
  let pumping: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  function push(item: Item) {
    queue.push(item);
    wake?.();
    wake = undefined;
  }
  async function fill() {
    try {
      while (!stage1Done && queue.length < readAhead) {
        opts.signal?.throwIfAborted();
        const item = await readOne();
        if (!item) stage1Done = true;
        else {
          if ("err" in item) stage1Done = true;
          push(item);
        }
      }
    } catch (e) {
      stage1Done = true;
      push({ err: e as Error });
    } finally {
      pumping = undefined;
      wake?.();
      wake = undefined;
    }
  }
  function pump() {
    if (!pumping && !stage1Done && queue.length < readAhead) pumping = fill();
  }
  let current = "";
  /** The next decoded record, or undefined after the end record. */
  async function next(): Promise<Decoded | undefined> {
    while (queue.length === 0 && !stage1Done) {
      const woken = new Promise<void>((r) => (wake = r));
      pump();
      if (!pumping && queue.length === 0 && !stage1Done) continue;
      await woken;
    }
    const item = queue.shift();
    pump();
    if (!item) return undefined;
    if ("err" in item) throw item.err;
    try {
      return { h: item.h, r: await item.p };
    } catch (e) {
      if (e instanceof CorruptionError) {
        const what = item.h.type === RecordType.DATA
          ? `${current} chunk ${item.h.chunk}`
          : item.h.type === RecordType.ENTRY
          ? `entry #${item.h.entry} (its entry record)`
          : "the end record";
        throw new CorruptionError(`${name}: ${what}: ${e.message}`);
      }
      throw e;
    }
  }
  let peeked: Decoded | undefined;
  const take = async () => {
    const d = peeked ?? (await next());
    peeked = undefined;
    return d;
  };
  const peek = async () => (peeked ??= await next());

  const seen = new Map<string, { size: number; crc32c: string }>();
  const totals = { entries: 0, chunks: 0, rawBytes: 0, storedBytes: 0 };

  function entryInfo(d: Decoded): EntryInfo {
    const info = decodeEntryPayload(d.r.data, `${name}: entry #${d.h.entry}`);
    checkEntryPath(info.path, `${name}: entry #${d.h.entry}`);
    return info;
  }

  // Yield an entry's chunks (decoded, compressed blocks, or nothing), checking sizes.
  async function* chunks(index: number, info: EntryInfo, stats: ImageEntry["stats"]) {
    let got = 0, crc = 0;
    for (;;) {
      const d = await peek();
      if (!d || d.h.type !== RecordType.DATA || d.h.entry !== index) break;
      await take();
      got += d.h.rawLen;
      if (got > info.size) {
        throw new CorruptionError(
          `${name}: ${current} chunk ${d.h.chunk}: more data than the entry size ${info.size}`,
        );
      }
      stats.chunks++;
      stats.storedBytes += RECORD_HEADER_SIZE + d.h.storedLen;
      totals.chunks++;
      totals.storedBytes += RECORD_HEADER_SIZE + d.h.storedLen;
      if (mode === "full" || index === 0) crc = crc32cCombine(crc, d.r.rawCrc, d.h.rawLen);
      yield { d, last: got === info.size };
    }
    if (got !== info.size) {
      throw new CorruptionError(
        `${name}: ${current}: ${got} of ${info.size} bytes present (entry cut short)`,
      );
    }
    totals.rawBytes += got;
    if (mode === "full" || index === 0) stats.crc32c = (crc >>> 0).toString(16).padStart(8, "0");
  }

  let manifest: Manifest;
  try {
    // The manifest: entry 0.
    const first = await take();
    if (!first || first.h.type !== RecordType.ENTRY) {
      throw new CorruptionError(`${name}: the first record is not the manifest entry`);
    }
    totals.storedBytes += RECORD_HEADER_SIZE + first.h.storedLen;
    const minfo = entryInfo(first);
    if (minfo.path !== MANIFEST_FILE) {
      throw new CorruptionError(`${name}: the first entry is not the manifest`);
    }
    if (minfo.size > MAX_MANIFEST_SIZE) {
      throw new CorruptionError(`${name}: manifest size ${minfo.size} too large`);
    }
    current = `entry #0 '${MANIFEST_FILE}'`;
    const mbytes = new Uint8Array(minfo.size);
    let mo = 0;
    const mstats = { storedBytes: 0, chunks: 0 };
    for await (const { d } of chunks(0, minfo, mstats)) {
      mbytes.set(d.r.data, mo);
      mo += d.r.data.length;
    }
    totals.entries++;
    try {
      manifest = JSON.parse(new TextDecoder().decode(mbytes));
      if (manifest?.format !== "ibvault-manifest") throw new Error("not an ibvault manifest");
    } catch (e) {
      throw new CorruptionError(`${name}: the manifest is unreadable: ${(e as Error).message}`);
    }
  } catch (e) {
    stage1Done = true;
    await pumping;
    await pool.close();
    await input.close();
    throw e;
  }

  const opened: OpenedImage = {
    header,
    manifest,
    seen,
    async *entries() {
      for (;;) {
        const d = await take();
        if (!d) throw new CorruptionError(`${name}: no end record`);
        if (d.h.type === RecordType.END) {
          const e = decodeEndPayload(d.r.data, `${name}: end record`);
          if (
            e.entries !== totals.entries || e.chunks !== totals.chunks ||
            e.rawBytes !== totals.rawBytes || e.storedBytes !== totals.storedBytes
          ) {
            throw new CorruptionError(
              `${name}: the end record disagrees with what was read (entries ${e.entries}/${totals.entries}, chunks ${e.chunks}/${totals.chunks}, bytes ${e.rawBytes}/${totals.rawBytes})`,
            );
          }
          opened.end = e;
          if (await next()) throw new CorruptionError(`${name}: records after the end record`);
          return;
        }
        if (d.h.type !== RecordType.ENTRY) {
          throw new CorruptionError(`${name}: data record outside an entry`);
        }
        totals.storedBytes += RECORD_HEADER_SIZE + d.h.storedLen;
        const info = entryInfo(d);
        const index = d.h.entry;
        current = `entry #${index} '${info.path}'`;
        if (info.path === MANIFEST_FILE || seen.has(info.path)) {
          throw new CorruptionError(`${name}: ${current}: duplicate entry name`);
        }
        const stats: ImageEntry["stats"] = { storedBytes: 0, chunks: 0 };
        const it = chunks(index, info, stats);
        let started = false;
        const lz4 = mode === "keep-compressed";
        const data = (async function* () {
          started = true;
          if (lz4) {
            yield lz4FrameHeader({
              blockSize: 4 << 20,
              contentChecksum: false,
              contentSize: info.size,
            });
          }
          for await (const { d } of it) {
            if (mode === "check") continue;
            yield lz4 ? lz4FrameBlock(d.r.data, d.r.compressed) : d.r.data;
            if (recycle && d.r.data.byteOffset === 0) {
              if (consumed.length < readAhead + 2) consumed.push(d.r.data.buffer as ArrayBuffer);
              else releaseBuffer(d.r.data.buffer);
            }
          }
          if (lz4) yield lz4FrameEnd();
        })();
        yield {
          index,
          path: info.path,
          size: info.size,
          mode: info.mode,
          data,
          lz4Frame: lz4,
          stats,
        };
        // Consume whatever the caller left unread (verifying it).
        if (!started) { for await (const _ of it) { /* skip */ } }
        else for await (const _ of data) { /* skip */ }
        totals.entries++;
        seen.set(info.path, { size: info.size, crc32c: stats.crc32c ?? "" });
      }
    },
    async close() {
      stage1Done = true;
      await pumping;
      await pool.close();
      await input.close();
    },
  };
  return opened;
}
