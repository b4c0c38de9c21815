/**
 * The one page-stream checker (validation of streams, page checks while
 * backing up and restoring, xbstream payloads). A push-driven page checker for one tablespace whose bytes arrive in pieces of
 * any size and in turns with other files (an xbstream interleaves its files'
 * chunks): each feed keeps only its partial page between pushes and judges
 * whole pages in a page buffer shared by all feeds (used synchronously inside
 * one push), with the same verdict code as the file engine. It also records
 * the highest page LSN, and the LSN of every corrupt page, so a caller that
 * learns a checkpoint LSN later (a hot copy's `xtrabackup_checkpoints` comes
 * last) can tell pages changed during the copy from damaged ones.
 */
import { type ChecksumAlgorithm, parseAlgorithm } from "./algorithm.ts";
import type { PageBuffer } from "./checksum_kernels.ts";
import { describeSpace, needsWholePage0, type SpaceInfo, spaceInfoFromPage0 } from "./flags.ts";
import { FIL_PAGE_LSN, UNIV_PAGE_SIZE_MAX, UNIV_ZIP_SIZE_MIN } from "./layout.ts";
import {
  checkPages,
  codesWithRoom,
  type CorruptPage,
  emptyRange,
  type PageCodes,
  type RangeResult,
} from "./page_range.ts";
import type { FileReport } from "./report.ts";
import { finishReport, type ValidateInput } from "./validator.ts";
import { errorReport, validReport } from "./report.ts";

/** Settings shared by the feeds of one run. */
export interface FeedOptions {
  algorithm?: ChecksumAlgorithm;
  /** Stop judging a file after this many corrupt pages (default 64). */
  threshold?: number;
  /** Keep each page's verdict ({@link PageFeed.codes}): one byte per page. */
  codes?: boolean;
}

function lsnAt(b: Uint8Array, off: number): bigint {
  const dv = new DataView(b.buffer, b.byteOffset + off + FIL_PAGE_LSN, 8);
  return dv.getBigUint64(0, false);
}

/** The pages of one tablespace, pushed in order. */
export class PageFeed {
  readonly input: ValidateInput;
  #buf: PageBuffer;
  #algo: ChecksumAlgorithm;
  #threshold: number;
  #space?: SpaceInfo;
  #head = new Uint8Array(0);
  #carry?: Uint8Array;
  #carryFill = 0;
  #nextPage = 0;
  #total = 0;
  #stopped = false;
  #bad?: string;
  #result: RangeResult = emptyRange();
  /** Highest FIL_PAGE_LSN seen on any page (0n when none). */
  maxLsn = 0n;
  /** Page number → FIL_PAGE_LSN of each corrupt page recorded. */
  readonly corruptLsn = new Map<number, bigint>();
  /** Pages whose every byte is zero. */
  zeroPages = 0;
  #codes?: PageCodes;

  /** A feed for `input`, judging in the shared `buf` (at least one 64 KiB page long). */
  constructor(input: ValidateInput, buf: PageBuffer, opts: FeedOptions = {}) {
    this.input = input;
    this.#buf = buf;
    this.#algo = opts.algorithm ?? parseAlgorithm();
    this.#threshold = Math.max(1, opts.threshold ?? 64);
    if (opts.codes) this.#codes = new Uint8Array(64);
  }

  /** Each judged page's verdict, by page number (with the `codes` option; else empty). */
  get codes(): PageCodes {
    return this.#codes?.subarray(0, this.#nextPage) ?? new Uint8Array(0);
  }

  /** Bytes pushed so far. */
  get bytes(): number {
    return this.#total;
  }

  /** The corrupt pages found so far, in the order found. */
  get corrupt(): readonly CorruptPage[] {
    return this.#result.corrupt;
  }

  /** True once the threshold of corrupt pages was reached (nothing more is judged). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Why the file cannot be judged (page 0 unreadable, or a {@link fail} reason), if so. */
  get problem(): string | undefined {
    return this.#bad;
  }

  /** Bytes pushed after the last whole page (a page not complete yet, or a short file). */
  get partialBytes(): number {
    return this.#space ? this.#carryFill : this.#head.length;
  }

  /** Number of the next page to judge. */
  get nextPage(): number {
    return this.#nextPage;
  }

  /** Give up on the file with a reason (e.g. the stream lost its order); no further pages judged. */
  fail(reason: string): void {
    this.#bad ??= reason;
  }

  /** The next bytes of the file; `bytes` may be reused by the caller after the call. */
  push(bytes: Uint8Array): void {
    this.#total += bytes.length;
    if (this.#stopped || this.#bad) return;
    if (!this.#space) {
      const joined = new Uint8Array(this.#head.length + bytes.length);
      joined.set(this.#head);
      joined.set(bytes, this.#head.length);
      if (joined.length < UNIV_ZIP_SIZE_MIN) {
        this.#head = joined;
        return;
      }
      let space: SpaceInfo;
      try {
        space = spaceInfoFromPage0(joined);
      } catch (err) {
        this.#bad = `page 0 has invalid tablespace flags: ${(err as Error).message}`;
        return;
      }
      // Page 0's encryption record sits deep in the page: wait for all of it.
      if (needsWholePage0(space, joined.length)) {
        this.#head = joined;
        return;
      }
      this.#head = new Uint8Array(0);
      this.#space = space;
      this.#carry = new Uint8Array(this.#space.physicalSize);
      bytes = joined;
    }
    this.#take(bytes);
  }

  #take(bytes: Uint8Array): void {
    const ps = this.#space!.physicalSize;
    let pos = 0;
    if (this.#carryFill > 0) {
      const n = Math.min(ps - this.#carryFill, bytes.length);
      this.#carry!.set(bytes.subarray(0, n), this.#carryFill);
      this.#carryFill += n;
      pos = n;
      if (this.#carryFill < ps) return;
      this.#buf.bytes.set(this.#carry!, 0);
      this.#judge(1);
      this.#carryFill = 0;
    }
    const per = Math.floor(this.#buf.length / ps);
    while (bytes.length - pos >= ps && !this.#stopped) {
      const pages = Math.min(per, Math.floor((bytes.length - pos) / ps));
      this.#buf.bytes.set(bytes.subarray(pos, pos + pages * ps), 0);
      this.#judge(pages);
      pos += pages * ps;
    }
    if (this.#stopped) return;
    const rest = bytes.length - pos;
    if (rest > 0) {
      this.#carry!.set(bytes.subarray(pos), 0);
      this.#carryFill = rest;
    }
  }

  /** Judge `count` pages at the start of the shared buffer. */
  #judge(count: number): void {
    const space = this.#space!;
    const ps = space.physicalSize;
    const b = this.#buf.bytes;
    const before = this.#result.corrupt.length;
    const zerosBefore = this.#result.flavours[0];
    if (this.#codes) this.#codes = codesWithRoom(this.#codes, this.#nextPage + count);
    checkPages(
      this.#buf,
      0,
      count,
      this.#nextPage,
      space,
      this.#algo,
      this.#threshold,
      this.#result,
      this.#codes,
    );
    this.zeroPages += this.#result.flavours[0] - zerosBefore;
    for (let i = 0; i < count; i++) {
      const lsn = lsnAt(b, i * ps);
      if (lsn > this.maxLsn) this.maxLsn = lsn;
    }
    for (let i = before; i < this.#result.corrupt.length; i++) {
      const page = this.#result.corrupt[i].page;
      this.corruptLsn.set(page, lsnAt(b, (page - this.#nextPage) * ps));
    }
    this.#nextPage += count;
    if (this.#result.corrupt.length >= this.#threshold) this.#stopped = true;
  }

  /** The tablespace format once page 0 was seen. */
  get space(): SpaceInfo | undefined {
    return this.#space;
  }

  /** All bytes pushed: the file's report (the feed must not be pushed to afterwards). */
  finish(): FileReport {
    const total = this.#total;
    if (this.#bad) return errorReport(this.input, this.#bad, total);
    if (total === 0) {
      return errorReport(this.input, "empty file (0 bytes): not an InnoDB tablespace");
    }
    const space = this.#space;
    if (!space || total < space.physicalSize) {
      return errorReport(
        this.input,
        `file too small (${total} bytes): not an InnoDB tablespace`,
        total,
      );
    }
    const report = validReport(this.input, total, describeSpace(space), space);
    if (total % space.physicalSize) report.truncatedBytes = total % space.physicalSize;
    return finishReport(report, this.#result, this.#threshold, this.#stopped);
  }
}

/** Bytes a shared page buffer for feeds should have: 1 MiB, a whole number of the largest pages. */
export const FEED_BUFFER_BYTES = Math.max(1 << 20, UNIV_PAGE_SIZE_MAX);
