/**
 * Judging a minimum-locking hot copy together with its delta without rebuilding
 * the file (docs/FORMAT.md, "Applying a delta"): the hot copy's pages are judged
 * as they stream past and its failing pages are set aside (a hot copy is
 * expected to hold torn pages); when the delta arrives, each of its runs
 * replaces the pages it carries, set-aside ones included, and its own pages are
 * judged; what is left below the delta's final size is the rebuilt file's
 * verdict. So validating an image needs no temporary copy of its hot copies,
 * only the set-aside pages' records (one per failing page) between the two.
 *
 * The verdict is the one validating the rebuilt file gives (tests/hot_copy_join_test.ts
 * compares both): the same corrupt pages with the same reasons, the same checks of
 * the delta against the file it continues. Its page and flavour counts are of
 * the pages judged, hot copy and delta each: a page both carry counts twice.
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
import { PageJudge } from "./page_judge.ts";
import { type CorruptPage, emptyRange, type RangeResult } from "./page_range.ts";
import { errorReport, type FileReport, validReport } from "./report.ts";
import { finishReport, type ValidateInput } from "./validator.ts";
import { FLAVOURS } from "./verdict.ts";

/**
 * Failing hot-copy pages set aside per file, at most: about 100 bytes each, so
 * a hot copy that fails more pages than this (no torn-page count comes near it)
 * is reported as not judged rather than held in memory.
 */
export const HOT_COPY_SET_ASIDE_MAX = 1 << 20;

/** The bytes of page 0 the delta's check of its base reads (through FSP_SPACE_FLAGS). */
const BASE_BYTES = FSP_SPACE_FLAGS + 4;

/** What is kept of a hot copy until its delta arrives: its verdict with every failing page. */
export interface HotCopyVerdict {
  report: FileReport;
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
    this.#feed = new PageFeed(input, buf, { algorithm, threshold: HOT_COPY_SET_ASIDE_MAX });
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

/** Pages and flavours of a finished report, as a range result (no corrupt pages). */
function judgedOf(report: FileReport): RangeResult {
  const r = emptyRange();
  r.pages = report.pages;
  for (const [name, n] of Object.entries(report.flavours)) {
    const i = FLAVOURS.indexOf(name as (typeof FLAVOURS)[number]);
    if (i >= 0) r.flavours[i] += n;
  }
  return r;
}

/**
 * The verdict of the file rebuilt from `hot` and the delta entry `delta` (read
 * to its end), judged with `judge`. A delta that does not read, or does not
 * continue this hot copy, is a CorruptionError naming `where`, as when the
 * delta is applied.
 */
export async function joinHotCopy(
  hot: HotCopyVerdict,
  delta: Pick<FileEntry, "data">,
  where: string,
  judge: PageJudge,
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
  if (kept && !unjudged) { for (const c of hot.report.corrupt) setAside.set(c.page, c); }
  const failed = new Map<number, CorruptPage>();
  const judged = kept && hot.report.status !== "error" ? judgedOf(hot.report) : emptyRange();
  let space = decodeFlags(header.fspFlags, header.spaceId);
  let step = await runs.next();
  while (!step.done) {
    const run = step.value;
    // page 0 (always carried) says more than the header: the encryption record
    if (run.first === 0) space = page0Space(run.bytes.subarray(0, size)) ?? space;
    for (let p = run.first; p < run.first + run.count; p++) {
      setAside.delete(p);
      failed.delete(p);
    }
    for (const c of judge.judge(space, run.first, run.bytes, judged)) failed.set(c.page, c);
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
  return finishReport(report, { ...judged, corrupt }, threshold, false);
}
