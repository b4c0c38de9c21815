/**
 * The stream front end of the validator: file entries (from an image or any
 * other source) are judged page by page with the one page-stream checker
 * ({@link PageFeed}) on the calling thread, with the same verdict code as the
 * file engine, and each becomes a {@link FileReport}.
 */
import type { FileEntry } from "../entry.ts";
import { type ChecksumAlgorithm, parseAlgorithm } from "./algorithm.ts";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { FEED_BUFFER_BYTES, PageFeed } from "./page_feed.ts";
import { type FileReport, notValidatedReport } from "./report.ts";
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
  const algorithm = opts.algorithm ?? parseAlgorithm();
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
    buf ??= allocPageBuffer(FEED_BUFFER_BYTES, opts.kernels);
    const feed = new PageFeed(input, buf, { algorithm, threshold });
    for await (const chunk of entry.data) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
      consumed += chunk.length;
      opts.onProgress?.(consumed);
      feed.push(chunk);
    }
    reports.push(feed.finish());
  }
  return reports;
}
