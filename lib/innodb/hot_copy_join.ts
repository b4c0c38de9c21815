/**
 * Judging a minimum-locking hot copy together with its delta without rebuilding
 * the file (docs/FORMAT.md, "Applying a delta"): the hot copy's pages are judged
 * as they stream past and its failing pages are set aside (a hot copy is
 * expected to hold torn pages); when the delta arrives, each of its runs
 * replaces the pages it carries, set-aside ones included, and its own pages are
 * judged; what is left below the delta's final size is the rebuilt file's
 * verdict. So validating an image needs no temporary copy of its hot copies,
 * only a byte per page and the set-aside pages' records between the two.
 *
 * Each page's verdict is kept as one byte (its flavour, or corrupt) so that the
 * counts are the rebuilt file's: the verdict is the one validating the rebuilt
 * file gives (tests/hot_copy_join_test.ts compares both): the same pages and
 * flavours, the same corrupt pages with the same reasons, the same checks of the
 * delta against the file it continues.
 */
import type { FileEntry } from "../entry.ts";
import { CorruptionError } from "../errors.ts";
import type { ChecksumAlgorithm } from "./algorithm.ts";
import { checkDeltaBase } from "./delta_apply.ts";
import { readDelta } from "./delta_format.ts";
import { decodeFlags, describeSpace, type SpaceInfo, spaceInfoFromPage0 } from "./flags.ts";
import { FSP_SPACE_FLAGS } from "./layout.ts";
import type { PageBuffer } from "./checksum_kernels.ts";
import { PageFeed } from "./page_feed.ts";
import {
  checkPages,
  CODE_CORRUPT,
  CODE_SKIPPED,
  codesWithRoom,
  type CorruptPage,
  emptyRange,
  type PageCodes,
  type RangeResult,
} from "./page_range.ts";
import { errorReport, type FileReport, validReport } from "./report.ts";
import { finishReport, type ValidateInput } from "./validator.ts";

/**
 * Failing hot-copy pages set aside per file, at most: about 100 bytes each, so
 * a hot copy that fails more pages than this (no torn-page count comes near it)
 * is reported as not judged rather than held in memory.
 */
export const HOT_COPY_SET_ASIDE_MAX = 1 << 20;

/** The bytes of page 0 the delta's check of its base reads (through FSP_SPACE_FLAGS). */
const BASE_BYTES = FSP_SPACE_FLAGS + 4;

/** What is kept of a hot copy until its delta arrives. */
export interface HotCopyVerdict {
  /** Its verdict, with every failing page (the set-aside ones). */
  report: FileReport;
  /** Each page's verdict code, by page number: one byte per page. */
  codes: PageCodes;
  /** The first bytes of its page 0 (the delta is checked against them). */
  page0: Uint8Array;
  /** More than {@link HOT_COPY_SET_ASIDE_MAX} pages failed: not all were recorded. */
  overflow: boolean;
}

/** Judges one hot copy as its bytes arrive; {@link finish} gives what to keep for the delta. */
export class HotCopyFeed {
  #feed: PageFeed;
  #page0 = new Uint8Array(BASE_BYTES);
  #page0Fill = 0;

  /** A feed for hot copy `input`, judging in the shared `buf` like a {@link PageFeed}. */
  constructor(input: ValidateInput, buf: PageBuffer, algorithm: ChecksumAlgorithm) {
    this.#feed = new PageFeed(input, buf, {
      algorithm,
      threshold: HOT_COPY_SET_ASIDE_MAX,
      codes: true,
    });
  }

  /** The next bytes of the hot copy (`bytes` may be reused by the caller afterwards). */
  push(bytes: Uint8Array): void {
    if (this.#page0Fill < BASE_BYTES) {
      const n = Math.min(BASE_BYTES - this.#page0Fill, bytes.length);
      this.#page0.set(bytes.subarray(0, n), this.#page0Fill);
      this.#page0Fill += n;
    }
    this.#feed.push(bytes);
  }

  /** All bytes pushed: the verdict to keep until the delta (the page buffer is not held). */
  finish(): HotCopyVerdict {
    return {
      report: this.#feed.finish(),
      codes: this.#feed.codes.slice(),
      page0: this.#page0.slice(0, this.#page0Fill),
      overflow: this.#feed.stopped,
    };
  }
}

function page0Space(page0: Uint8Array): SpaceInfo | undefined {
  try {
    return spaceInfoFromPage0(page0);
  } catch {
    return undefined;
  }
}

/** Per-page codes of the file being rebuilt, growing as the delta's runs reach further. */
class RebuiltCodes {
  codes: PageCodes;
  constructor(from: PageCodes) {
    this.codes = from;
  }
  /** Room for pages below `end`; pages no run or hot copy covers read as zero pages. */
  reach(end: number): void {
    this.codes = codesWithRoom(this.codes, end);
  }
  /** The range result of the first `pages` pages: counts by code, with `corrupt`. */
  result(pages: number, corrupt: CorruptPage[]): RangeResult {
    this.reach(pages);
    const r = emptyRange();
    for (let p = 0; p < pages; p++) {
      const c = this.codes[p];
      if (c === CODE_SKIPPED) r.skipped++;
      else {
        r.pages++;
        if (c !== CODE_CORRUPT) r.flavours[c]++;
      }
    }
    r.corrupt = corrupt;
    return r;
  }
}

/**
 * The verdict of the file rebuilt from `hot` and the delta entry `delta` (read
 * to its end), judged in the page buffer `buf`. A delta that does not read, or
 * does not continue this hot copy, is a CorruptionError naming `where`, as when
 * the delta is applied.
 */
export async function joinHotCopy(
  hot: HotCopyVerdict,
  delta: Pick<FileEntry, "data">,
  where: string,
  buf: PageBuffer,
  algorithm: ChecksumAlgorithm,
  threshold: number,
): Promise<FileReport> {
  const subject = { name: hot.report.name, table: hot.report.table };
  const { header, runs } = await readDelta(delta.data, where);
  if (!header.complete) {
    if (hot.page0.length < BASE_BYTES) {
      throw new CorruptionError(`${where}: the file the delta applies to is missing or empty`);
    }
    checkDeltaBase(hot.page0, header, where);
  }
  const kept = !header.complete;
  const size = header.pageSize;
  const unjudged = kept && (hot.overflow ||
    (hot.report.status === "error" && hot.report.bytes >= size));
  const setAside = new Map<number, CorruptPage>();
  const codes = new RebuiltCodes(kept && !unjudged ? hot.codes : new Uint8Array(0));
  if (kept && !unjudged) {
    for (const c of hot.report.corrupt) setAside.set(c.page, c);
    // a partial last page (a hot copy cut short) is corrupt unless a run replaces it
    codes.reach(Math.ceil(hot.report.bytes / size));
    codes.codes.fill(CODE_CORRUPT, hot.codes.length, Math.ceil(hot.report.bytes / size));
  }
  const failed = new Map<number, CorruptPage>();
  let space = decodeFlags(header.fspFlags, header.spaceId);
  const per = Math.floor(buf.length / size);
  let step = await runs.next();
  while (!step.done) {
    const run = step.value;
    // page 0 (always carried) says more than the header: the encryption record
    if (run.first === 0) space = page0Space(run.bytes.subarray(0, size)) ?? space;
    for (let p = run.first; p < run.first + run.count; p++) {
      setAside.delete(p);
      failed.delete(p);
    }
    codes.reach(run.first + run.count);
    for (let k = 0; k < run.count; k += per) {
      const n = Math.min(per, run.count - k);
      buf.bytes.set(run.bytes.subarray(k * size, (k + n) * size), 0);
      const r = checkPages(
        buf,
        0,
        n,
        run.first + k,
        space,
        algorithm,
        Infinity,
        emptyRange(),
        codes.codes,
      );
      for (const c of r.corrupt) failed.set(c.page, c);
    }
    step = await runs.next();
  }
  const pages = step.value.pages;
  if (unjudged) {
    const why = hot.overflow
      ? `more than ${HOT_COPY_SET_ASIDE_MAX} of its pages failed their checks`
      : hot.report.error;
    return errorReport(subject, `its hot copy could not be judged (${why})`, pages * size);
  }
  const corrupt = [...setAside.values(), ...failed.values()].filter((c) => c.page < pages);
  const report = validReport(subject, pages * size, describeSpace(space), space);
  return finishReport(report, codes.result(pages, corrupt), threshold, false);
}
