/**
 * Page LSNs: every InnoDB page carries the end LSN of its last change in
 * FIL_PAGE_LSN (bytes 16..24, big-endian), in every format (ROW_FORMAT=COMPRESSED,
 * page_compressed and encrypted pages keep it in plaintext). This module finds
 * the pages of a tablespace file changed since a given LSN, reading the file in
 * its physical page size (from the FSP flags on page 0), so delta and
 * incremental backups need no redo-log parsing.
 */
import type { FileHandle } from "node:fs/promises";
import { FIL_PAGE_LSN } from "./layout.ts";

/** The FIL_PAGE_LSN of the page that starts at byte `off` of `b`. */
export function pageLsn(b: Uint8Array, off: number): bigint {
  const dv = new DataView(b.buffer, b.byteOffset + off + FIL_PAGE_LSN, 8);
  return dv.getBigUint64(0, false);
}

/** A run of consecutive selected pages; `bytes` is valid until the next run is asked for. */
export interface PageRun {
  /** Page number of the first page. */
  first: number;
  /** Number of pages. */
  count: number;
  /** `count` × page size bytes. */
  bytes: Uint8Array;
}

/** What {@link scanChangedPages} selects. */
export interface ScanOptions {
  /** Physical page size of the file. */
  pageSize: number;
  /** Bytes of the file to scan (a whole number of pages is expected; a partial last page is skipped). */
  length: number;
  /** Pages whose FIL_PAGE_LSN is at least this are selected. */
  since: bigint;
  /** Every page from this page number on is selected (the growth since an earlier copy). */
  allFrom?: number;
  /** Page 0 is always selected (default true): it carries the space header. */
  withPage0?: boolean;
  /** Bytes read at a time (default 1 MiB, rounded down to whole pages). */
  chunkSize?: number;
  /** Largest run yielded, in pages (default: what fits in 1 MiB). */
  maxRun?: number;
  /**
   * Pages (other than page 0 and those from `allFrom` on) for which this says
   * true are left out although their LSN is ≥ `since` (already taken intact).
   */
  skip?: (page: number, lsn: bigint) => boolean;
}

/**
 * Read `length` bytes of an open tablespace file in pages and yield the runs of
 * selected pages: page 0, pages with FIL_PAGE_LSN ≥ `since` (unless `skip` says
 * so), and every page from `allFrom` on. Also returns (as the generator's result) the number of pages scanned.
 */
export async function* scanChangedPages(
  fh: FileHandle,
  opts: ScanOptions,
): AsyncGenerator<PageRun, number> {
  const size = opts.pageSize;
  const chunk = Math.max(size, Math.floor((opts.chunkSize ?? 1 << 20) / size) * size);
  const maxRun = Math.max(1, opts.maxRun ?? Math.floor((1 << 20) / size));
  const allFrom = opts.allFrom ?? Number.MAX_SAFE_INTEGER;
  const withPage0 = opts.withPage0 ?? true;
  const totalPages = Math.floor(opts.length / size);
  const buf = new Uint8Array(chunk);
  const skip = opts.skip;
  const changed = (p: number, lsn: bigint) => lsn >= opts.since && !(skip && skip(p, lsn));
  let pageNo = 0;
  while (pageNo < totalPages) {
    const want = Math.min(chunk, (totalPages - pageNo) * size);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, pageNo * size + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const pages = Math.floor(got / size);
    let runStart = -1;
    for (let i = 0; i <= pages; i++) {
      const p = pageNo + i;
      const selected = i < pages &&
        ((p === 0 && withPage0) || p >= allFrom || changed(p, pageLsn(buf, i * size)));
      if (selected && runStart < 0) runStart = i;
      if (runStart >= 0 && (!selected || i - runStart === maxRun)) {
        yield {
          first: pageNo + runStart,
          count: i - runStart,
          bytes: buf.subarray(runStart * size, i * size),
        };
        runStart = selected ? i : -1;
      }
    }
    pageNo += pages;
    if (got < want) break; // the file is shorter than `length`: scan what is there
  }
  return pageNo;
}
