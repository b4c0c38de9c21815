/**
 * A backup directory checked against its manifest: every regular file (the
 * manifest aside) with its size and CRC-32C, compared with the listed entries.
 */
import { join } from "node:path";
import { type Manifest, MANIFEST_FILE } from "../core/manifest.ts";
import { fileCrc32c } from "../core/manifest_io.ts";
import { isRunLogPath } from "../core/run_log_path.ts";
import { JOURNAL_FILE } from "../core/write_journal.ts";
import {
  checkCompleteness,
  type CompletenessReport,
  type SeenEntry,
} from "../core/completeness.ts";
import { walkFiles } from "./walk.ts";

/** Missing, truncated, altered and unexpected files of `dir` against `manifest`. */
export async function dirCompleteness(
  dir: string,
  manifest: Manifest,
): Promise<CompletenessReport> {
  const found = await walkFiles(dir, {
    skip: (rel) => rel === MANIFEST_FILE || rel === JOURNAL_FILE || isRunLogPath(rel),
    what: "backup directory",
  });
  const sizes = new Map(manifest.entries.map((e) => [e.path, e.size]));
  const seen = new Map<string, SeenEntry>();
  for (const f of found) {
    // The CRC is only worth reading the file for when the size already agrees.
    const crc32c = sizes.get(f.path) === f.size
      ? await fileCrc32c(join(dir, ...f.path.split("/")))
      : undefined;
    seen.set(f.path, { size: f.size, crc32c });
  }
  return checkCompleteness(manifest, seen);
}
