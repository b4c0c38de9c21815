/**
 * The stream front end of the validator: file entries (from an image or any
 * other source) are judged page by page with the shared {@link PageStream} on
 * the calling thread, with the same verdict code as the file engine, and each
 * becomes a {@link FileReport}.
 */
import type { FileEntry } from "../entry.ts";
import { type ChecksumAlgorithm, parseAlgorithm } from "./algorithm.ts";
import type { PageBuffer } from "./checksum_kernels.ts";
import { describeSpace } from "./flags.ts";
import { PageStream, pageStreamBuffer } from "./page_stream.ts";
import { errorReport, type FileReport, notValidatedReport, validReport } from "./report.ts";
import { finishReport } from "./validator.ts";
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
      for await (const chunk of entry.data) consumed += chunk.length;
      reports.push(notValidatedReport(input, entry.size));
      continue;
    }
    buf ??= pageStreamBuffer(opts.kernels);
    const pages = new PageStream(buf, algo, threshold);
    for await (const chunk of entry.data) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
      consumed += chunk.length;
      opts.onProgress?.(consumed);
      pages.push(chunk);
    }
    reports.push(reportOf(input, pages, threshold));
  }
  return reports;
}

/** The report of one finished stream. */
function reportOf(
  input: { path: string; name: string; table?: string },
  pages: PageStream,
  threshold: number,
): FileReport {
  const total = pages.bytes;
  if (pages.page0Error) {
    return errorReport(input, `page 0 has invalid tablespace flags: ${pages.page0Error}`, total);
  }
  if (total === 0) return errorReport(input, "empty file (0 bytes): not an InnoDB tablespace", 0);
  const space = pages.space;
  if (!space || total < space.physicalSize) {
    return errorReport(input, `file too small (${total} bytes): not an InnoDB tablespace`, total);
  }
  pages.finish();
  const report = validReport(input, total, describeSpace(space), space);
  if (total % space.physicalSize) report.truncatedBytes = total % space.physicalSize;
  return finishReport(report, pages.result, threshold, pages.stopped);
}
