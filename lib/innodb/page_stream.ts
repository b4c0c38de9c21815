/**
 * Page checks while a tablespace is copied (backup, copy-back): {@link pageChecker}
 * wraps an entry so its pages are judged as its data flows, by the one
 * page-stream checker ({@link PageFeed}, `page_feed.ts`), and a corrupt page
 * fails the copy.
 */
import type { FileEntry } from "../entry.ts";
import { CorruptionError } from "../errors.ts";
import type { ChecksumAlgorithm } from "./algorithm.ts";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { FEED_BUFFER_BYTES, PageFeed } from "./page_feed.ts";

/** Wraps an entry so its pages are checked as its data flows (throws CorruptionError). */
export type PageCheck = (entry: FileEntry) => FileEntry;

/** Settings of {@link pageChecker}. */
export interface PageCheckOptions {
  /** How classic pages are judged (from the server's innodb_checksum_algorithm). */
  algorithm: ChecksumAlgorithm;
  /** Stop at this many corrupt pages in one file (the error lists them). Default 1. */
  threshold?: number;
  /** Human table name per entry path, for messages. */
  describe?: (path: string) => string;
}

/**
 * A {@link PageCheck} that judges every page of an `.ibd` stream as it passes.
 * A corrupt page, or a file that is not a whole number of pages, is a
 * CorruptionError naming the file, the table and the page. One instance checks
 * one entry at a time (it owns one page buffer).
 */
export function pageChecker(opts: PageCheckOptions): PageCheck {
  const threshold = Math.max(1, opts.threshold ?? 1);
  let buf: PageBuffer | undefined;
  return (entry) => ({
    ...entry,
    data: (async function* () {
      buf ??= allocPageBuffer(FEED_BUFFER_BYTES);
      const where = opts.describe ? `${entry.path} (${opts.describe(entry.path)})` : entry.path;
      const feed = new PageFeed({ path: entry.path, name: entry.path }, buf, {
        algorithm: opts.algorithm,
        threshold,
      });
      const corrupt = () => {
        const list = feed.corrupt.map((c) => `page ${c.page}: ${c.reason}`).join("; ");
        return new CorruptionError(`${where}: corrupt page in the source: ${list}`);
      };
      for await (const chunk of entry.data) {
        feed.push(chunk);
        if (feed.problem) throw new CorruptionError(`${where}: ${feed.problem}`);
        if (feed.stopped) throw corrupt();
        yield chunk;
      }
      if (feed.corrupt.length > 0) throw corrupt();
      if (feed.partialBytes > 0) {
        throw new CorruptionError(
          `${where}: size is not a whole number of ${feed.space?.physicalSize ?? "?"}-byte ` +
            `pages (${feed.partialBytes} bytes left after page ${feed.nextPage - 1})`,
        );
      }
    })(),
  });
}
