/**
 * Checking a run of consecutive pages held in a page buffer: the loop the
 * workers and the stream front end share. It applies the page verdict, skips
 * the doublewrite buffer of the system tablespace, and collects the results.
 * With the WASM kernels, runs of pages go through one kernel call that passes
 * the common case (all-zero pages, and crc32/full_crc32 pages whose checksum,
 * LSN copies and page number are right) and stops at the first other page,
 * which the full TypeScript rules then judge (giving the exact reasons).
 */
import fs from "node:fs";
import type { ChecksumAlgorithm } from "./algorithm.ts";
import type { CorruptPage, RangeResult, RangeTask } from "./pool_protocol.ts";

export type { CorruptPage, RangeResult };
import type { PageBuffer } from "./checksum_kernels.ts";
import { extentSize, type SpaceInfo } from "./flags.ts";
import { F_CRC32, F_FULL_CRC32, F_ZERO, FLAVOURS, isZero, judgePage } from "./verdict.ts";
import { PAGES_CRC32, PAGES_FULL_CRC32, PAGES_ZERO_ONLY } from "../kernels/pages.ts";

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

/** {@link PageCodes} value of a corrupt page (a valid one holds its flavour index). */
export const CODE_CORRUPT = 0xff;
/** {@link PageCodes} value of a page not judged (the doublewrite buffer). */
export const CODE_SKIPPED = 0xfe;

/**
 * Each judged page's verdict, indexed by page number: its flavour index (see
 * `FLAVOURS`), {@link CODE_CORRUPT} or {@link CODE_SKIPPED}. Long enough for
 * every page judged into it.
 */
export type PageCodes = Uint8Array;

/**
 * `codes` with room for pages below `end`: itself, or a copy grown (at least
 * doubled) whose new pages read as zero pages (F_ZERO is 0).
 */
export function codesWithRoom(codes: PageCodes, end: number): PageCodes {
  if (end <= codes.length) return codes;
  const grown = new Uint8Array(Math.max(end, 2 * codes.length));
  grown.set(codes);
  return grown;
}

/** Codes of a run the kernel passed: `zeros` of its `passed` pages are all-zero, the rest `flavour`. */
function codeRun(
  codes: PageCodes,
  b: Uint8Array,
  off: number,
  first: number,
  passed: number,
  zeros: number,
  size: number,
  flavour: number,
): void {
  codes.fill(flavour, first, first + passed);
  if (zeros === 0) return;
  // A page with a byte set in its FIL header is not all-zero; when exactly `zeros` are left,
  // those are the zero ones, else each is read whole.
  const maybe: number[] = [];
  for (let k = 0; k < passed; k++) if (isZero(b, off + k * size, 38)) maybe.push(k);
  for (const k of maybe) {
    if (maybe.length === zeros || isZero(b, off + k * size, size)) codes[first + k] = F_ZERO;
  }
}

/**
 * Judge `count` pages stored back to back from byte `off` of `buf`, the first
 * being page `firstPage` (the same verdicts whichever kernels `buf` has); at
 * most `maxCorrupt` corrupt pages are recorded before the loop stops early.
 * With `codes`, each judged page's verdict is also written there.
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
  codes?: PageCodes,
): RangeResult {
  const size = space.physicalSize;
  const dblwr = space.spaceId === 0;
  const mode = runMode(space, algo);
  let bytes = buf.bytes;
  for (let i = 0; i < count; i++) {
    const pageNo = firstPage + i;
    if (dblwr && isDoublewritePage(space, pageNo)) {
      into.skipped++;
      if (codes) codes[pageNo] = CODE_SKIPPED;
      continue;
    }
    if (buf.checkRun) {
      // Up to the next doublewrite page (if any) in one kernel call.
      let end = count;
      if (dblwr) {
        const e = extentSize(space.logicalSize);
        if (pageNo < e) end = Math.min(count, e - firstPage);
      }
      const { passed, zeros } = buf.checkRun(off + i * size, end - i, size, pageNo, mode);
      const flavour = mode === PAGES_FULL_CRC32 ? F_FULL_CRC32 : F_CRC32;
      into.pages += passed;
      into.flavours[F_ZERO] += zeros;
      into.flavours[flavour] += passed - zeros;
      if (codes) codeRun(codes, bytes, off + i * size, pageNo, passed, zeros, size, flavour);
      i += passed;
      if (i >= end) {
        i = end - 1;
        continue;
      }
    }
    const v = judgePage(buf, off + i * size, firstPage + i, space, algo, bytes);
    // Inflating an LZ4 page may grow kernel memory, which detaches the old view.
    if (bytes.buffer.byteLength === 0) bytes = buf.bytes;
    into.pages++;
    if (codes) codes[firstPage + i] = typeof v === "number" ? v : CODE_CORRUPT;
    if (typeof v === "number") into.flavours[v]++;
    else {
      into.corrupt.push({ page: firstPage + i, reason: v });
      if (into.corrupt.length >= maxCorrupt) break;
    }
  }
  return into;
}

/** The page-run kernel mode that matches the fast path of judgePage for this space. */
function runMode(space: SpaceInfo, algo: ChecksumAlgorithm): number {
  if (space.fullCrc32) return PAGES_FULL_CRC32;
  if (space.zipSize || space.pageCompressed) return PAGES_ZERO_ONLY;
  if (algo.strict === "innodb" || algo.strict === "none") return PAGES_ZERO_ONLY;
  return PAGES_CRC32;
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
