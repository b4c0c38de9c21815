/**
 * Unpacking an opened image into a directory: every entry (or the selected
 * ones) written atomically under the destination, the manifest last, and the
 * result checked against the manifest (missing, truncated, altered, unexpected).
 */
import { lstat } from "node:fs/promises";
import { CorruptionError, UsageError } from "../errors.ts";
import type { Reporter } from "../progress/reporter.ts";
import { targetPath, writeAtomically } from "../backupdir/sink.ts";
import { writeManifest } from "./manifest_io.ts";
import { checkCompleteness, describeCompleteness, manifestIsStreamed } from "./completeness.ts";
import type { OpenedImage } from "./reader.ts";

/** What to unpack and how. */
export interface UnpackOptions {
  /** Real path of the destination directory. */
  root: string;
  /** Only entries equal to this path or under it (`db/` prefix). */
  select?: string;
  /** Write the single selected entry here instead (a path relative to the cwd or absolute). */
  dstEntry?: string;
  /** Entries are LZ4 frames: add `.lz4` to their names. */
  lz4Suffix: boolean;
  /** Replace existing files. */
  force: boolean;
  /** Flush each file to the disk before renaming it into place. */
  sync: boolean;
  /** Write the manifest and check completeness (whole-image unpacking). */
  whole: boolean;
  report: Reporter;
  signal?: AbortSignal;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Unpack `img` per `opts`; returns the number of entries and bytes written. */
export async function unpackImage(
  img: OpenedImage,
  opts: UnpackOptions,
): Promise<{ entries: number; bytes: number }> {
  let entries = 0, bytes = 0;
  const total = img.manifest.entries.reduce((s, e) => s + e.size, 0);
  let done = 0;
  for await (const e of img.entries()) {
    opts.signal?.throwIfAborted();
    const chosen = opts.select === undefined || e.path === opts.select ||
      e.path.startsWith(opts.select.replace(/\/$/, "") + "/");
    if (!chosen) continue;
    const name = e.path + (opts.lz4Suffix ? ".lz4" : "");
    const file = opts.dstEntry ?? await targetPath(opts.root, name);
    if (!opts.force && await exists(file)) {
      throw new UsageError(`${file} already exists (use --force to replace it)`);
    }
    const counted = (async function* () {
      for await (const b of e.data) {
        done += b.length;
        opts.report.progress({ label: "extracting", done, total, unit: "bytes" });
        yield b;
      }
    })();
    bytes += await writeAtomically(
      file,
      counted,
      (e.mode ?? 0o640) & 0o777 || 0o640,
      opts.sync,
    );
    entries++;
  }
  if (opts.select !== undefined && entries === 0) {
    throw new UsageError(`no entry ${opts.select} in the image`);
  }
  if (opts.whole) {
    const r = checkCompleteness(img.manifest, img.seen);
    if (!r.ok) {
      throw new CorruptionError(
        `the image does not match its manifest: ${describeCompleteness(r).join("; ")}`,
      );
    }
    // A streamed manifest (backup-to-image) lists no entries: the directory's copy
    // lists what the image proved it holds, so the directory can be checked later.
    const manifest = manifestIsStreamed(img.manifest)
      ? {
        ...img.manifest,
        entries: [...img.seen].map(([path, s]) => ({ path, size: s.size, crc32c: s.crc32c })),
      }
      : img.manifest;
    await writeManifest(opts.root, manifest, opts.sync);
  }
  return { entries, bytes };
}
