/**
 * Checking a run of consecutive pages held in a page buffer: the loop the
 * workers and the stream front end share. It applies the page verdict, skips
 * the doublewrite buffer of the system tablespace, and collects the results.
 */
import fs from "node:fs";
import type { ChecksumAlgorithm } from "./algorithm.ts";
import type { RangeTask } from "./pool_protocol.ts";
import type { PageBuffer } from "./checksum_kernels.ts";
import { extentSize, type SpaceInfo } from "./flags.ts";
import { FLAVOURS, judgePage } from "./verdict.ts";

/** One corrupt page and why. */
export interface CorruptPage {
  page: number;
  reason: string;
}

/** What checking a range found. */
export interface RangeResult {
  /** Pages judged. */
  pages: number;
  /** Pages not judged (doublewrite buffer copies). */
  skipped: number;
  corrupt: CorruptPage[];
  /** Count of valid pages per flavour, indexed like FLAVOURS. */
  flavours: number[];
}

/** A fresh, empty result. */
export function emptyRange(): RangeResult {
  return { pages: 0, skipped: 0, corrupt: [], flavours: new Array(FLAVOURS.length).fill(0) };
}

/** Add `b` into `a`. */
export function mergeRange(a: RangeResult, b: RangeResult): void {
  a.pages += b.pages;
  a.skipped += b.skipped;
  for (const c of b.corrupt) a.corrupt.push(c);
  for (let i = 0; i < a.flavours.length; i++) a.flavours[i] += b.flavours[i] ?? 0;
}

/** Whether page `pageNo` of this space is in the system tablespace's doublewrite buffer. */
export function isDoublewritePage(space: SpaceInfo, pageNo: number): boolean {
  if (space.spaceId !== 0 || space.zipSize) return false;
  const e = extentSize(space.logicalSize);
  return pageNo >= e && pageNo < 3 * e;
}

/**
 * Judge `count` pages stored back to back from byte `off` of `buf`, the first
 * being page `firstPage`; at most `maxCorrupt` corrupt pages are recorded
 * before the loop stops early.
 */
export function checkPages(
  buf: PageBuffer,
  off: number,
  count: number,
  firstPage: number,
  space: SpaceInfo,
  algo: ChecksumAlgorithm,
  maxCorrupt: number,
  into: RangeResult = emptyRange(),
): RangeResult {
  const size = space.physicalSize;
  const dblwr = space.spaceId === 0;
  const bytes = buf.bytes;
  for (let i = 0; i < count; i++) {
    const pageNo = firstPage + i;
    if (dblwr && isDoublewritePage(space, pageNo)) {
      into.skipped++;
      continue;
    }
    const v = judgePage(buf, off + i * size, pageNo, space, algo, bytes);
    into.pages++;
    if (typeof v === "number") into.flavours[v]++;
    else {
      into.corrupt.push({ page: pageNo, reason: v });
      if (into.corrupt.length >= maxCorrupt) break;
    }
  }
  return into;
}

/**
 * Read the task's range from open file `fd` piece by piece into `buf` (each
 * piece at most `buf.length`, a whole number of pages) and judge each piece
 * while it is still in cache (stopping once `t.maxCorrupt` pages are corrupt).
 * Returns the merged result, the bytes read, and whether the file ended early.
 */
export function checkRange(
  fd: number,
  buf: PageBuffer,
  t: RangeTask,
): { result: RangeResult; bytes: number; short: boolean } {
  const ps = t.space.physicalSize;
  const piece = Math.max(ps, buf.length - (buf.length % ps));
  const result = emptyRange();
  let done = 0;
  let short = false;
  while (done < t.length && result.corrupt.length < t.maxCorrupt) {
    const want = Math.min(piece, t.length - done);
    const bytes = buf.bytes;
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, bytes, got, want - got, t.offset + done + got);
      if (n === 0) break;
      got += n;
    }
    const pages = Math.floor(got / ps);
    checkPages(buf, 0, pages, t.firstPage + done / ps, t.space, t.algo, t.maxCorrupt, result);
    done += got;
    if (got < want) {
      short = true;
      break;
    }
  }
  return { result, bytes: done, short };
}
