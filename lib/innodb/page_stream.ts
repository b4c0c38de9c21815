/**
 * The one page-stream checker: a tablespace arrives as chunks of bytes of any
 * size; pages are reassembled across chunk boundaries into a page buffer and
 * judged with the validator's verdicts (page size and format from page 0).
 * `validateEntries` (stream.ts) builds validation reports on it; {@link pageChecker}
 * wraps an entry so a corrupt page fails the copy (backup, copy-back).
 */
import type { FileEntry } from "../entry.ts";
import { CorruptionError } from "../errors.ts";
import type { ChecksumAlgorithm } from "./algorithm.ts";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { needsWholePage0, type SpaceInfo, spaceInfoFromPage0 } from "./flags.ts";
import { UNIV_ZIP_SIZE_MIN } from "./layout.ts";
import { checkPages, emptyRange, type RangeResult } from "./page_range.ts";

/** Bytes of the page buffer: a multiple of every page size. */
export const PAGE_STREAM_BLOCK = 1 << 20;

/** The pages of one tablespace stream, judged as its bytes arrive. */
export class PageStream {
  /** Format from page 0, once enough bytes arrived. */
  space?: SpaceInfo;
  /** Why page 0 could not be read (nothing more is judged then). */
  page0Error?: string;
  /** Bytes pushed so far. */
  bytes = 0;
  /** The verdicts so far. */
  readonly result: RangeResult = emptyRange();
  /** True once `threshold` corrupt pages were found (nothing more is judged). */
  stopped = false;
  #fill = 0;
  #nextPage = 0;

  /** Judge with `algorithm`, stopping at `threshold` corrupt pages, in the shared `buf`. */
  constructor(
    readonly buf: PageBuffer,
    readonly algorithm: ChecksumAlgorithm,
    readonly threshold: number,
  ) {}

  /** Bytes left over after the last whole page (known after {@link finish}). */
  get leftover(): number {
    return this.#fill;
  }

  /** Number of the first page not judged yet. */
  get nextPage(): number {
    return this.#nextPage;
  }

  /** Add the next bytes of the file. */
  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.stopped || this.page0Error) return;
    const cap = this.buf.length;
    let pos = 0;
    while (pos < chunk.length) {
      const n = Math.min(chunk.length - pos, cap - this.#fill);
      this.buf.bytes.set(chunk.subarray(pos, pos + n), this.#fill);
      this.#fill += n;
      pos += n;
      if (!this.space && this.#fill >= UNIV_ZIP_SIZE_MIN) {
        try {
          this.space = spaceInfoFromPage0(this.buf.bytes.subarray(0, this.#fill));
        } catch (err) {
          this.page0Error = (err as Error).message;
          return;
        }
        // Page 0's encryption record sits deep in the page: wait for all of it.
        if (needsWholePage0(this.space, this.#fill)) this.space = undefined;
      }
      if (this.#fill === cap) this.#judge();
      if (this.stopped) return;
    }
  }

  /** The file ended: judge the whole pages still buffered; what is left is {@link leftover}. */
  finish(): void {
    if (this.space && !this.page0Error) this.#judge();
  }

  #judge(): void {
    if (!this.space) return;
    const ps = this.space.physicalSize;
    const whole = Math.floor(this.#fill / ps);
    if (whole > 0 && !this.stopped) {
      checkPages(
        this.buf,
        0,
        whole,
        this.#nextPage,
        this.space,
        this.algorithm,
        this.threshold,
        this.result,
      );
      if (this.result.corrupt.length >= this.threshold) this.stopped = true;
    }
    this.#nextPage += whole;
    const used = whole * ps;
    if (used < this.#fill) this.buf.bytes.copyWithin(0, used, this.#fill);
    this.#fill -= used;
  }
}

/** A buffer for page streams (one stream at a time uses it). */
export function pageStreamBuffer(kernels?: "auto" | "ts"): PageBuffer {
  return allocPageBuffer(PAGE_STREAM_BLOCK, kernels);
}

/** Wraps an entry so its pages are checked as its data flows (throws CorruptionError). */
export type PageCheck = (entry: FileEntry) => FileEntry;

/** Settings of {@link pageChecker}. */
export interface PageCheckOptions {
  /** How classic pages are judged (from the server's innodb_checksum_algorithm). */
  algorithm: ChecksumAlgorithm;
  /** Stop at this many corrupt pages in one file (the error lists them). Default 1. */
  threshold?: number;
  /** Human table name per entry path, for messages. */
  describe?: (path: string) => string;
}

/**
 * A {@link PageCheck} that judges every page of an `.ibd` stream as it passes.
 * A corrupt page, or a file that is not a whole number of pages, is a
 * CorruptionError naming the file, the table and the page. One instance checks
 * one entry at a time (it owns one page buffer).
 */
export function pageChecker(opts: PageCheckOptions): PageCheck {
  const threshold = Math.max(1, opts.threshold ?? 1);
  let buf: PageBuffer | undefined;
  return (entry) => ({
    ...entry,
    data: (async function* () {
      buf ??= pageStreamBuffer();
      const where = opts.describe ? `${entry.path} (${opts.describe(entry.path)})` : entry.path;
      const pages = new PageStream(buf, opts.algorithm, threshold);
      const fail = () => {
        const list = pages.result.corrupt.map((c) => `page ${c.page}: ${c.reason}`).join("; ");
        return new CorruptionError(`${where}: corrupt page in the source: ${list}`);
      };
      for await (const chunk of entry.data) {
        pages.push(chunk);
        if (pages.page0Error) throw new CorruptionError(`${where}: page 0: ${pages.page0Error}`);
        if (pages.stopped) throw fail();
        yield chunk;
      }
      pages.finish();
      if (pages.page0Error) throw new CorruptionError(`${where}: page 0: ${pages.page0Error}`);
      if (pages.result.corrupt.length > 0) throw fail();
      if (pages.leftover > 0) {
        throw new CorruptionError(
          `${where}: size is not a whole number of ${pages.space?.physicalSize ?? "?"}-byte ` +
            `pages (${pages.leftover} bytes left after page ${pages.nextPage - 1})`,
        );
      }
    })(),
  });
}
