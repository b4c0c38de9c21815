/**
 * The stream front end of the validator: file entries (from an image or any
 * other source) arrive as chunks of bytes; pages are reassembled across chunk
 * boundaries into a page buffer and judged on the calling thread with the same
 * verdict code as the file engine.
 */
import type { FileEntry } from "../entry.ts";
import { type ChecksumAlgorithm, parseAlgorithm } from "./algorithm.ts";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { describeSpace, type SpaceInfo, spaceInfoFromPage0 } from "./flags.ts";
import { UNIV_ZIP_SIZE_MIN } from "./layout.ts";
import { checkPages, emptyRange } from "./page_range.ts";
import type { FileReport } from "./report.ts";
import { errorReport, finishReport } from "./validator.ts";
import { isInnodbName, tableNameOf } from "./discover.ts";

/** Settings for {@link validateEntries}. */
export interface StreamOptions {
  algorithm?: ChecksumAlgorithm;
  threshold?: number;
  kernels?: "auto" | "ts";
  signal?: AbortSignal;
  /** Called after each chunk with the bytes consumed so far over all entries. */
  onProgress?: (done: number) => void;
}

const BLOCK = 1 << 20;

/** Validate a stream of file entries; non-InnoDB entries are drained and listed as not validated. */
export async function validateEntries(
  entries: AsyncIterable<FileEntry>,
  opts: StreamOptions = {},
): Promise<FileReport[]> {
  const algo = opts.algorithm ?? parseAlgorithm();
  const threshold = Math.max(1, opts.threshold ?? 64);
  const reports: FileReport[] = [];
  let buf: PageBuffer | undefined;
  let consumed = 0;
  for await (const entry of entries) {
    const base = entry.path.split("/").pop() ?? entry.path;
    const input = { path: entry.path, name: entry.path, table: tableNameOf(entry.path) };
    if (!isInnodbName(base)) {
      for await (const chunk of entry.data) {
        consumed += chunk.length;
      }
      const r = errorReport(input, "", entry.size);
      r.status = "not-validated";
      delete r.error;
      reports.push(r);
      continue;
    }
    buf ??= allocPageBuffer(BLOCK, opts.kernels);
    const result = emptyRange();
    let space: SpaceInfo | undefined;
    let fill = 0;
    let nextPage = 0;
    let total = 0;
    let stopped = false;
    let bad: string | undefined;
    const flush = (final: boolean) => {
      if (!space) return;
      const ps = space.physicalSize;
      const whole = Math.floor(fill / ps);
      if (whole > 0 && !stopped) {
        checkPages(buf!, 0, whole, nextPage, space, algo, threshold, result);
        if (result.corrupt.length >= threshold) stopped = true;
      }
      nextPage += whole;
      const rest = fill - whole * ps;
      if (rest && !final) buf!.bytes.copyWithin(0, whole * ps, fill);
      fill = rest;
    };
    for await (const chunk of entry.data) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
      total += chunk.length;
      consumed += chunk.length;
      opts.onProgress?.(consumed);
      if (stopped || bad) continue;
      let pos = 0;
      while (pos < chunk.length) {
        const n = Math.min(chunk.length - pos, buf.length - fill);
        buf.bytes.set(chunk.subarray(pos, pos + n), fill);
        fill += n;
        pos += n;
        if (!space && fill >= UNIV_ZIP_SIZE_MIN) {
          try {
            space = spaceInfoFromPage0(buf.bytes.subarray(0, fill));
          } catch (err) {
            bad = `page 0 has invalid tablespace flags: ${(err as Error).message}`;
            break;
          }
        }
        if (fill === buf.length) flush(false);
      }
    }
    if (bad) {
      reports.push(errorReport(input, bad, total));
      continue;
    }
    if (total === 0) {
      reports.push(errorReport(input, "empty file (0 bytes): not an InnoDB tablespace", 0));
      continue;
    }
    if (!space || total < space.physicalSize) {
      reports.push(
        errorReport(input, `file too small (${total} bytes): not an InnoDB tablespace`, total),
      );
      continue;
    }
    flush(true);
    const report = errorReport(input, "", total);
    report.status = "valid";
    delete report.error;
    report.format = describeSpace(space);
    report.pageSize = space.logicalSize;
    report.physicalPageSize = space.physicalSize;
    if (total % space.physicalSize) report.truncatedBytes = total % space.physicalSize;
    reports.push(finishReport(report, result, threshold, stopped));
  }
  return reports;
}
