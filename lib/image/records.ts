/**
 * The record reader of an image: checks the header (and the key, before any
 * record is read), then reads records strictly in order in the background and
 * decodes them through the codec pool with a bounded read-ahead. Every
 * structural rule is checked as records arrive: types, flags, entry and chunk
 * numbers in sequence, declared lengths within bounds (so no allocation follows
 * an untrusted length). The entry iterator (`reader.ts`) reads records from it.
 */
import { CorruptionError, KeyError } from "../errors.ts";
import { ByteReader } from "../core/byte_reader.ts";
import { CodecPool, type CodecResult } from "./codec_pool.ts";
import type { DecodeMode } from "./chunk_codec.ts";
import { deriveImageKeys, equalBytes } from "./derive.ts";
import {
  decodeEntryPayload,
  decodeImageHeader,
  decodeRecordHeader,
  IMAGE_HEADER_SIZE,
  type ImageHeader,
  maxRawLen,
  maxStoredLen,
  RECORD_HEADER_SIZE,
  RecordFlag,
  type RecordHeader,
  RecordType,
} from "./format.ts";

/** A record read and decoded. */
export interface DecodedRecord {
  h: RecordHeader;
  r: CodecResult;
}

type Item = { h: RecordHeader; p: Promise<CodecResult> } | { err: Error };

/** How the records are read. */
export interface RecordReaderOptions {
  /** The user's 256-bit key (needed for encrypted images). */
  key?: Uint8Array;
  /** Codec worker threads (0: on this thread). */
  threads: number;
  /** How data records of entries after the manifest are decoded. */
  mode: DecodeMode;
  /** The image's name in messages. */
  name: string;
  signal?: AbortSignal;
  /** "check" mode: the data of entries whose path this accepts is decoded in full. */
  decodeWhole?: (path: string) => boolean;
}

const typeName = (t: number) =>
  t === RecordType.ENTRY
    ? "entry"
    : t === RecordType.DATA
    ? "data"
    : t === RecordType.END
    ? "end"
    : `type ${t}`;

/** Why a record header breaks the image's rules, or undefined when it follows them. */
export function recordProblem(
  h: RecordHeader,
  header: ImageHeader,
  curEntry: number,
  nextChunk: number,
): string | undefined {
  if (h.type < 1 || h.type > 3) return `unknown record type ${h.type}`;
  if (h.flags & ~(RecordFlag.LZ4 | RecordFlag.AES | RecordFlag.ZSTD)) {
    return `unknown flags 0x${h.flags.toString(16)}`;
  }
  if (((h.flags & RecordFlag.AES) !== 0) !== header.encrypted) {
    return header.encrypted
      ? "unencrypted record in an encrypted image"
      : "encrypted record in a plain image";
  }
  if ((h.flags & (RecordFlag.LZ4 | RecordFlag.ZSTD)) && h.type !== RecordType.DATA) {
    return "compressed non-data record";
  }
  if (h.type === RecordType.ENTRY || h.type === RecordType.END) {
    if (h.entry !== curEntry + 1 || h.chunk !== 0) {
      return `${typeName(h.type)} record for entry #${h.entry} chunk ${h.chunk} out of sequence`;
    }
  } else if (curEntry < 0 || h.entry !== curEntry || h.chunk !== nextChunk) {
    return `data record for entry #${h.entry} chunk ${h.chunk} out of sequence`;
  }
  if (h.rawLen > maxRawLen(h.type, header.chunkSize)) {
    return `declared length ${h.rawLen} too large`;
  }
  if (h.storedLen > maxStoredLen(h.type, header.chunkSize)) {
    return `declared stored length ${h.storedLen} too large`;
  }
  return undefined;
}

/** Reads an image's records in order; see the module documentation. */
export class RecordReader {
  /** What the entry being read is called in messages (set by the entry iterator). */
  current = "";
  /** Chunks the caller has consumed, handed to the workers to decompress into. */
  readonly consumed: ArrayBuffer[] = [];
  readonly readAhead: number;
  #queue: Item[] = [];
  #done = false;
  #pumping?: Promise<void>;
  #wake?: () => void;
  #curEntry = -1;
  #nextChunk = 0;
  #ended = false;
  #peeked?: DecodedRecord;
  readonly #dataCap: number;
  readonly #whole = new Set<number>();

  private constructor(
    readonly header: ImageHeader,
    readonly pool: CodecPool,
    /** Decodes the manifest's records and the small entry and end records, on this thread. */
    readonly inline: CodecPool,
    readonly input: ByteReader,
    readonly opts: RecordReaderOptions,
  ) {
    this.readAhead = Math.max(4, pool.threads * 3);
    this.#dataCap = RECORD_HEADER_SIZE + maxStoredLen(RecordType.DATA, header.chunkSize);
  }

  /** Read and check the header and the key; throws KeyError or CorruptionError. */
  static async open(
    source: AsyncIterable<Uint8Array>,
    opts: RecordReaderOptions,
  ): Promise<RecordReader> {
    const { name } = opts;
    const input = new ByteReader(source);
    const header = decodeImageHeader((await input.read(IMAGE_HEADER_SIZE)).slice(), name);
    let enc: Uint8Array | undefined, mac: Uint8Array | undefined;
    if (header.encrypted) {
      if (!opts.key) {
        await input.close();
        throw new KeyError(
          `${name} is encrypted: give the key with --key-file, --key-env or --key`,
        );
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
    const inline = new CodecPool(0, { compress: false, enc, mac });
    return new RecordReader(header, pool, inline, input, opts);
  }

  #corrupt(message: string): Item {
    return { err: new CorruptionError(`${this.opts.name}: ${message}`) };
  }

  /** Read one record's bytes, check its header, and submit it for decoding. */
  async #readOne(): Promise<Item | undefined> {
    const { input } = this;
    if (this.#ended) {
      return (await input.atEnd())
        ? undefined
        : this.#corrupt("unexpected data after the end record");
    }
    const hb = await input.read(RECORD_HEADER_SIZE);
    const at = this.#curEntry < 0
      ? "the manifest"
      : `entry #${this.#curEntry} chunk ${this.#nextChunk}`;
    if (hb.length < RECORD_HEADER_SIZE) {
      return this.#corrupt(`image truncated at byte ${input.offset} (before ${at}): no end record`);
    }
    const hdr = hb.slice();
    const h = decodeRecordHeader(hdr);
    const problem = recordProblem(h, this.header, this.#curEntry, this.#nextChunk);
    if (problem) {
      const where = `${at} (byte ${input.offset - RECORD_HEADER_SIZE})`;
      return this.#corrupt(`corrupt record header at ${where}: ${problem}`);
    }
    // The manifest (entry 0, untrusted and bounded while it arrives) and the small
    // entry and end records are decoded here: the workers start with the first
    // file's data, so a damaged manifest is refused without them.
    const data = h.type === RecordType.DATA;
    const pool = data && h.entry > 0 ? this.pool : this.inline;
    // DATA records are read into buffers of the largest size a DATA record may have,
    // which the workers give back once decoded: the same few buffers go round.
    const record = pool.threads > 0
      ? new Uint8Array(this.pool.buffers.take(this.#dataCap), 0, RECORD_HEADER_SIZE + h.storedLen)
      : new Uint8Array(RECORD_HEADER_SIZE + h.storedLen);
    record.set(hdr);
    if (await input.readInto(record.subarray(RECORD_HEADER_SIZE)) < h.storedLen) {
      return this.#corrupt(`image truncated at byte ${input.offset} (inside ${at}): no end record`);
    }
    if (h.type === RecordType.ENTRY) {
      this.#curEntry = h.entry;
      this.#nextChunk = 0;
    } else if (h.type === RecordType.DATA) this.#nextChunk++;
    else this.#ended = true;
    const m: DecodeMode = h.entry === 0 || !data || this.#whole.has(h.entry)
      ? "full"
      : this.opts.mode;
    const p = pool.decode(h, record, m, pool.threads > 0 ? this.consumed.pop() : undefined);
    p.catch(() => {});
    if (h.type === RecordType.ENTRY && this.opts.decodeWhole && this.opts.mode === "check") {
      // rare entries decoded whole: the entry record names its path (bad ones are reported later)
      const path = await p.then((r) => decodeEntryPayload(r.data, this.opts.name).path)
        .catch(() => "");
      if (path && this.opts.decodeWhole(path)) this.#whole.add(h.entry);
    }
    return { h, p };
  }

  /** True when the data of entry `index` is decoded in full despite the mode (`decodeWhole`). */
  decodedWhole(index: number): boolean {
    return this.#whole.has(index);
  }

  #push(item: Item): void {
    this.#queue.push(item);
    this.#wake?.();
    this.#wake = undefined;
  }

  /** Read records in the background until the queue is full (one pump at a time). */
  async #fill(): Promise<void> {
    try {
      while (!this.#done && this.#queue.length < this.readAhead) {
        this.opts.signal?.throwIfAborted();
        const item = await this.#readOne();
        if (!item) this.#done = true;
        else {
          if ("err" in item) this.#done = true;
          this.#push(item);
        }
      }
    } catch (e) {
      this.#done = true;
      this.#push({ err: e as Error });
    } finally {
      this.#pumping = undefined;
      this.#wake?.();
      this.#wake = undefined;
    }
  }

  #pump(): void {
    if (!this.#pumping && !this.#done && this.#queue.length < this.readAhead) {
      this.#pumping = this.#fill();
    }
  }

  /** The next decoded record, or undefined after the end record. */
  async next(): Promise<DecodedRecord | undefined> {
    while (this.#queue.length === 0 && !this.#done) {
      const woken = new Promise<void>((r) => (this.#wake = r));
      this.#pump();
      if (!this.#pumping && this.#queue.length === 0 && !this.#done) continue;
      await woken;
    }
    const item = this.#queue.shift();
    this.#pump();
    if (!item) return undefined;
    if ("err" in item) throw item.err;
    try {
      return { h: item.h, r: await item.p };
    } catch (e) {
      if (!(e instanceof CorruptionError)) throw e;
      const what = item.h.type === RecordType.DATA
        ? `${this.current} chunk ${item.h.chunk}`
        : item.h.type === RecordType.ENTRY
        ? `entry #${item.h.entry} (its entry record)`
        : "the end record";
      throw new CorruptionError(`${this.opts.name}: ${what}: ${e.message}`);
    }
  }

  /** The next record, consumed. */
  async take(): Promise<DecodedRecord | undefined> {
    const d = this.#peeked ?? (await this.next());
    this.#peeked = undefined;
    return d;
  }

  /** The next record, left for {@link take}. */
  async peek(): Promise<DecodedRecord | undefined> {
    return (this.#peeked ??= await this.next());
  }

  /** Stop reading and release the workers and the input. */
  async close(): Promise<void> {
    this.#done = true;
    await this.#pumping;
    await this.pool.close();
    await this.input.close();
  }
}
