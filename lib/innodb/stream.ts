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
import { HotCopyFeed, type HotCopyVerdict, joinHotCopy } from "./hot_copy_join.ts";
import { deltaTarget } from "../core/chain.ts";
import { CorruptionError } from "../errors.ts";

/** Settings for {@link validateEntries}. */
export interface StreamOptions {
  algorithm?: ChecksumAlgorithm;
  threshold?: number;
  kernels?: "auto" | "ts";
  signal?: AbortSignal;
  /** Called after each chunk with the bytes consumed so far over all entries. */
  onProgress?: (done: number) => void;
  /**
   * Hot copies whose delta follows them in the stream (minimum locking), as
   * stored: each is judged with its delta, not rebuilt (`hot_copy_join.ts`).
   */
  hotCopies?: ReadonlySet<string>;
  /** The source's name, for messages. */
  name?: string;
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
  const waiting = new Map<string, HotCopyVerdict>();
  /** The chunks of `data`, counted for progress, after a check for abort each. */
  const tracked = async function* (data: AsyncIterable<Uint8Array>) {
    for await (const chunk of data) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
      consumed += chunk.length;
      opts.onProgress?.(consumed);
      yield chunk;
    }
  };
  for await (const entry of entries) {
    const base = entry.path.split("/").pop() ?? entry.path;
    const input = { path: entry.path, name: entry.path, table: tableNameOf(entry.path) };
    const target = deltaTarget(entry.path);
    const hot = target === undefined ? undefined : waiting.get(target);
    if (hot) {
      waiting.delete(target!);
      buf ??= allocPageBuffer(FEED_BUFFER_BYTES, opts.kernels);
      const where = opts.name ? `${opts.name}: ${entry.path}` : entry.path;
      const data = tracked(entry.data);
      reports.push(await joinHotCopy(hot, { data }, where, buf, algorithm, threshold));
      continue;
    }
    if (opts.hotCopies?.has(entry.path)) {
      buf ??= allocPageBuffer(FEED_BUFFER_BYTES, opts.kernels);
      const feed = new HotCopyFeed(input, buf, algorithm);
      for await (const chunk of tracked(entry.data)) feed.push(chunk);
      waiting.set(entry.path, feed.finish());
      continue;
    }
    if (!isInnodbName(base)) {
      for await (const chunk of entry.data) consumed += chunk.length;
      reports.push(notValidatedReport(input, entry.size));
      continue;
    }
    buf ??= allocPageBuffer(FEED_BUFFER_BYTES, opts.kernels);
    const feed = new PageFeed(input, buf, { algorithm, threshold });
    for await (const chunk of tracked(entry.data)) feed.push(chunk);
    reports.push(feed.finish());
  }
  for (const path of waiting.keys()) {
    const where = opts.name ? `${opts.name}: ${path}` : path;
    throw new CorruptionError(`${where} is a hot copy whose delta is missing`);
  }
  return reports;
}
