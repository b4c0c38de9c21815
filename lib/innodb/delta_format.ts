/**
 * The page delta of one tablespace file (docs/FORMAT.md, "Page deltas"): a
 * header naming the page size, space id and FSP flags, then runs of whole pages
 * (each with its first page number and a CRC-32C), then an end record with the
 * file's final size in pages. The same bytes are a `.ibd.delta` file in a backup
 * directory and a `.ibd.delta` entry in an image. Applying a delta to the file it
 * continues: write each run at page number × page size, in order (a later run
 * wins), then set the file length to the final size. Pure encode/decode; the
 * file I/O of applying lives in apply.ts.
 */
import { CorruptionError } from "../errors.ts";
import { crc32c } from "../kernels/mod.ts";
import { ByteReader } from "../core/byte_reader.ts";

/** Magic of a delta: "IBVDLT" 0x0A 0x00. */
export const DELTA_MAGIC = Uint8Array.of(0x49, 0x42, 0x56, 0x44, 0x4c, 0x54, 0x0a, 0x00);
/** Delta format version. */
export const DELTA_VERSION = 1;
/** Header length. */
export const DELTA_HEADER_SIZE = 40;
/** Run header (and end record) length. */
export const RUN_HEADER_SIZE = 16;
/** First-page value that marks the end record. */
export const END_MARK = 0xffffffff;
/** Largest run in bytes a reader accepts (bounds its allocation). */
export const MAX_RUN_BYTES = 4 << 20;
/** Suffix of a delta's file or entry name, after the name of the file it applies to. */
export const DELTA_SUFFIX = ".delta";

/** What a delta header says. */
export interface DeltaHeader {
  /** Physical page size of the file (1 KiB..64 KiB). */
  pageSize: number;
  /** Space id of the tablespace (page 0, bytes 34..38). */
  spaceId: number;
  /** FSP_SPACE_FLAGS of the tablespace. */
  fspFlags: number;
  /**
   * The delta carries every page of the file: applying it discards what it is
   * applied to (a file rebuilt during the backup, or one with nothing to continue).
   */
  complete: boolean;
  /** The delta holds (at least) every page whose FIL_PAGE_LSN is ≥ this. */
  sinceLsn: bigint;
}

/** What the end record says. */
export interface DeltaEnd {
  /** Size of the rebuilt file in pages. */
  pages: number;
  /** Pages carried by the runs (a page carried twice counts twice). */
  deltaPages: number;
}

const isPageSize = (n: number) => n >= 1024 && n <= 65536 && (n & (n - 1)) === 0;

/** Encode a delta header. */
export function encodeDeltaHeader(h: DeltaHeader): Uint8Array {
  const out = new Uint8Array(DELTA_HEADER_SIZE);
  const dv = new DataView(out.buffer);
  out.set(DELTA_MAGIC, 0);
  dv.setUint16(8, DELTA_VERSION, true);
  dv.setUint16(10, h.complete ? 1 : 0, true);
  dv.setUint32(12, h.pageSize, true);
  dv.setUint32(16, h.spaceId >>> 0, true);
  dv.setUint32(20, h.fspFlags >>> 0, true);
  dv.setBigUint64(24, h.sinceLsn, true);
  dv.setUint32(36, crc32c(out.subarray(0, 36)), true);
  return out;
}

/** Decode and check a delta header; `where` names the file or entry in errors. */
export function decodeDeltaHeader(b: Uint8Array, where: string): DeltaHeader {
  if (b.length < DELTA_HEADER_SIZE) {
    throw new CorruptionError(`${where}: delta truncated in its header`);
  }
  for (let i = 0; i < 8; i++) {
    if (b[i] !== DELTA_MAGIC[i]) throw new CorruptionError(`${where}: not an ibvault page delta`);
  }
  const dv = new DataView(b.buffer, b.byteOffset, DELTA_HEADER_SIZE);
  if (dv.getUint32(36, true) !== crc32c(b.subarray(0, 36))) {
    throw new CorruptionError(`${where}: delta header checksum mismatch`);
  }
  const version = dv.getUint16(8, true);
  if (version !== DELTA_VERSION) {
    throw new CorruptionError(`${where}: delta version ${version} is not supported`);
  }
  const bits = dv.getUint16(10, true);
  if (bits & ~1) throw new CorruptionError(`${where}: delta header flags ${bits} unknown`);
  const pageSize = dv.getUint32(12, true);
  if (!isPageSize(pageSize)) {
    throw new CorruptionError(`${where}: delta page size ${pageSize} invalid`);
  }
  return {
    pageSize,
    spaceId: dv.getUint32(16, true),
    fspFlags: dv.getUint32(20, true),
    complete: (bits & 1) !== 0,
    sinceLsn: dv.getBigUint64(24, true),
  };
}

/** Encode a run header for `count` pages starting at `first`, whose bytes have CRC-32C `crc`. */
export function encodeRunHeader(first: number, count: number, crc: number): Uint8Array {
  const out = new Uint8Array(RUN_HEADER_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, first >>> 0, true);
  dv.setUint32(4, count >>> 0, true);
  dv.setUint32(8, crc >>> 0, true);
  dv.setUint32(12, crc32c(out.subarray(0, 12)), true);
  return out;
}

/** Encode the end record. */
export function encodeDeltaEnd(e: DeltaEnd): Uint8Array {
  return encodeRunHeader(END_MARK, e.pages, e.deltaPages);
}

/** One decoded run: `bytes` is valid until the next item is asked for. */
export interface DeltaRun {
  first: number;
  count: number;
  bytes: Uint8Array;
}

/** An open delta being read: its header, then its runs, then its end. */
export interface DeltaStream {
  header: DeltaHeader;
  /** The runs in order; the generator's return value is the end record. */
  runs: AsyncGenerator<DeltaRun, DeltaEnd>;
}

/**
 * Read a delta from a stream of bytes: the header at once, the runs as they are
 * iterated. Every header, run and the end record is checked (CRCs, run bounds,
 * runs inside the final size, nothing after the end); a violation is a
 * CorruptionError naming `where`.
 */
export async function readDelta(
  data: AsyncIterable<Uint8Array>,
  where: string,
): Promise<DeltaStream> {
  const r = new ByteReader(data);
  const header = decodeDeltaHeader(await r.read(DELTA_HEADER_SIZE), where);
  const size = header.pageSize;
  async function* runs(): AsyncGenerator<DeltaRun, DeltaEnd> {
    let highest = -1;
    let carried = 0;
    while (true) {
      const h = await r.read(RUN_HEADER_SIZE);
      if (h.length < RUN_HEADER_SIZE) {
        throw new CorruptionError(`${where}: delta truncated (no end record)`);
      }
      const dv = new DataView(h.buffer, h.byteOffset, RUN_HEADER_SIZE);
      if (dv.getUint32(12, true) !== crc32c(h.subarray(0, 12))) {
        throw new CorruptionError(
          `${where}: delta run header checksum mismatch at byte ${r.offset - 16}`,
        );
      }
      const first = dv.getUint32(0, true);
      const count = dv.getUint32(4, true);
      const crc = dv.getUint32(8, true);
      if (first === END_MARK) {
        if (crc !== carried) {
          throw new CorruptionError(
            `${where}: delta end says ${crc} pages, the runs carried ${carried}`,
          );
        }
        if (highest >= count) {
          throw new CorruptionError(
            `${where}: delta carries page ${highest} beyond the final size of ${count} pages`,
          );
        }
        if (!(await r.atEnd())) {
          throw new CorruptionError(`${where}: bytes after the delta's end record`);
        }
        return { pages: count, deltaPages: carried };
      }
      if (count === 0 || count * size > MAX_RUN_BYTES) {
        throw new CorruptionError(
          `${where}: delta run of ${count} pages at page ${first} out of range`,
        );
      }
      const bytes = await r.read(count * size);
      if (bytes.length < count * size) {
        throw new CorruptionError(`${where}: delta truncated in a run`);
      }
      if (crc32c(bytes) !== crc) {
        throw new CorruptionError(
          `${where}: delta pages ${first}..${first + count - 1} checksum mismatch`,
        );
      }
      highest = Math.max(highest, first + count - 1);
      carried += count;
      yield { first, count, bytes };
    }
  }
  return { header, runs: runs() };
}

/**
 * Builds a delta: the header, then {@link DeltaBuilder.run} for each run of pages,
 * then {@link DeltaBuilder.end}; every piece goes to `write` in order.
 */
export class DeltaBuilder {
  #write: (b: Uint8Array) => Promise<void>;
  #size: number;
  /** Pages written in runs so far. */
  pages = 0;
  /** Bytes written so far. */
  bytes = 0;

  /** Start a delta (nothing is written until {@link begin}). */
  constructor(header: DeltaHeader, write: (b: Uint8Array) => Promise<void>) {
    this.header = header;
    this.#write = write;
    this.#size = header.pageSize;
  }

  /** The header this delta was started with. */
  readonly header: DeltaHeader;

  async #put(b: Uint8Array): Promise<void> {
    await this.#write(b);
    this.bytes += b.length;
  }

  /** Write the header. */
  async begin(): Promise<void> {
    await this.#put(encodeDeltaHeader(this.header));
  }

  /** Append a run of whole pages starting at page `first` (split to bounded runs). */
  async run(first: number, pages: Uint8Array): Promise<void> {
    const size = this.#size;
    if (pages.length % size !== 0) throw new RangeError("a run must hold whole pages");
    const per = Math.max(1, Math.floor(MAX_RUN_BYTES / size));
    for (let off = 0; off < pages.length; off += per * size) {
      const part = pages.subarray(off, Math.min(pages.length, off + per * size));
      const count = part.length / size;
      await this.#put(encodeRunHeader(first + off / size, count, crc32c(part)));
      await this.#put(part);
      this.pages += count;
    }
  }

  /** Write the end record: the rebuilt file has `finalPages` pages. */
  async end(finalPages: number): Promise<void> {
    await this.#put(encodeDeltaEnd({ pages: finalPages, deltaPages: this.pages }));
  }
}
