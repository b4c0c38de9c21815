/**
 * Page checks that report instead of stopping: for copies that must be made
 * whatever the pages hold (`backup-dir-to-image` images a directory as it is),
 * every `.ibd` entry's pages are judged as its bytes pass, and the problems are
 * collected for the end of the run (exit 1), while the bytes flow on unchanged.
 */
import type { FileEntry } from "../entry.ts";
import type { ChecksumAlgorithm } from "./algorithm.ts";
import { FEED_BUFFER_BYTES, PageFeed } from "./page_feed.ts";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";

/** Wraps entries to audit their pages, and holds what was found. */
export interface PageAudit {
  /** `entry` with its pages judged as its data flows (other entries as they are). */
  wrap(entry: FileEntry): FileEntry;
  /** One line per problem found so far: `PATH: page N: REASON`, ... */
  readonly problems: string[];
}

/** A {@link PageAudit} judging with `algorithm`, listing at most `threshold` pages per file. */
export function pageAudit(algorithm: ChecksumAlgorithm, threshold = 64): PageAudit {
  const problems: string[] = [];
  let buf: PageBuffer | undefined;
  return {
    problems,
    wrap(entry) {
      if (!entry.path.endsWith(".ibd")) return entry;
      return {
        ...entry,
        data: (async function* () {
          buf ??= allocPageBuffer(FEED_BUFFER_BYTES);
          const feed = new PageFeed({ path: entry.path, name: entry.path }, buf, {
            algorithm,
            threshold: Math.max(1, threshold),
          });
          for await (const chunk of entry.data) {
            feed.push(chunk);
            yield chunk;
          }
          // Not recognisably an InnoDB tablespace (page 0 unreadable or failing its own
          // checksum: plain files named .ibd): nothing to judge; validate says more.
          if (feed.problem || feed.corrupt.some((c) => c.page === 0)) return;
          for (const c of feed.corrupt) {
            problems.push(`${entry.path}: page ${c.page}: ${c.reason}`);
          }
          if (feed.partialBytes > 0) {
            problems.push(
              `${entry.path}: not a whole number of pages (${feed.partialBytes} bytes left)`,
            );
          }
        })(),
      };
    },
  };
}
