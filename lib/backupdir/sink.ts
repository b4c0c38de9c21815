/**
 * A backup directory as a sink: creates the directory (refusing a non-empty one
 * unless forced), writes each entry under a temporary name and renames it when
 * complete, never writes outside the directory (paths are checked, and the
 * parent of every file is resolved to make sure no symbolic link leads out),
 * and writes the manifest last, after checking what arrived against it.
 */
import { lstat, mkdir, readdir, realpath, rm, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { CorruptionError, IoError, UsageError } from "../errors.ts";
import type { Sink } from "../sink.ts";
import type { Source } from "../source.ts";
import { checkEntryPath } from "../core/entry_path.ts";
import {
  expectedBytes,
  isStreamed,
  type Manifest,
  MANIFEST_FILE,
  withEntries,
} from "../core/manifest.ts";
import { writeManifest } from "../core/manifest_io.ts";
import { checkCompleteness, describeCompleteness } from "../core/completeness.ts";
import { ioFailure, outputError, syncFiles, writeAtomically } from "../core/files.ts";
import { removeStalePartFiles, removeStaleSpools } from "../core/part_files.ts";
import { recoverIncomplete, WriteJournal } from "../core/write_journal.ts";
import { isRunLogPath, RUN_LOG_DIR } from "../core/run_log_path.ts";

/**
 * Make `dir` ready to receive files: create it, or check it is empty (unless
 * `force`). What a killed run left there is removed first and told to `onStale`
 * (it does not count): the files its journal names (see write_journal.ts), and
 * temporary files (`*.ibvault-part`) no live process holds. Run logs of earlier
 * runs (`meta/ibvault_*.log`) do not count either: they stay.
 */
export async function prepareDestination(
  dir: string,
  force: boolean,
  onStale?: (path: string) => void,
): Promise<string> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
    await recoverIncomplete(dir, onStale);
    for (const p of await removeStalePartFiles(dir)) onStale?.(p);
    for (const p of await removeStaleSpools(dir)) onStale?.(p);
    const names = await contentNames(dir);
    if (names.length > 0 && !force) {
      throw new UsageError(`${dir} is not empty (use --force to write into it anyway)`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      if (e instanceof UsageError) throw e;
      throw ioFailure(e, `use ${dir}`);
    }
    await mkdir(dir, { recursive: true }).catch((err) => {
      throw outputError(err, `creating directory ${dir}`);
    });
  }
  return await realpath(dir);
}

/**
 * The names in `dir` that make it non-empty: everything but a `meta/` holding only
 * run logs (the logs of earlier runs, failed ones included, are not a backup).
 */
async function contentNames(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  if (!names.includes(RUN_LOG_DIR)) return names;
  const meta = await readdir(join(dir, RUN_LOG_DIR), { withFileTypes: true }).catch(() => []);
  const onlyLogs = meta.every((e) => e.isFile() && isRunLogPath(`${RUN_LOG_DIR}/${e.name}`));
  return onlyLogs ? names.filter((n) => n !== RUN_LOG_DIR) : names;
}

/** Where entry `path` goes under `root` (a real path), after checking it stays inside. */
export async function targetPath(root: string, path: string): Promise<string> {
  checkEntryPath(path, "destination");
  const target = resolve(root, ...path.split("/"));
  const parent = dirname(target);
  await mkdir(parent, { recursive: true }).catch((e) => {
    throw outputError(e, `creating directory ${parent} for ${target}`);
  });
  const real = await realpath(parent);
  const rel = relative(root, real);
  if (rel.startsWith("..") || rel.split(sep).includes("..") || resolve(root, rel) !== real) {
    throw new IoError(`refusing to write ${path}: its directory leads outside ${root}`);
  }
  return join(real, target.slice(parent.length + 1));
}

/** How a directory sink writes. */
export interface DirSinkOptions {
  /** Real path of the destination directory (from {@link prepareDestination}). */
  root: string;
  /**
   * "each": every file reaches the disk before its rename; "end": files are
   * flushed together after the last entry (a live export: the tables are locked
   * while entries arrive, so nothing waits for the disk meanwhile); "none": never.
   */
  sync: "each" | "end" | "none";
  /** Replace existing files. */
  force: boolean;
  /** Only entries this accepts (the source skips the others). */
  select?: (path: string) => boolean;
  /** Write the single selected entry here instead (a path relative to the cwd or absolute). */
  dstEntry?: string;
  /** Entries are kept compressed: add `.lz4` or `.zst` (their framing) to their names. */
  keptSuffix?: boolean;
  /** Check the entries against the manifest and write it, last (a whole backup). */
  manifest: boolean;
  /** Called as bytes are written, with the total the manifest lists. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** What a directory sink wrote. */
export interface DirSinkSummary {
  destination: string;
  entries: number;
  bytes: number;
}

async function exists(p: string): Promise<boolean> {
  return await lstat(p).then(() => true, () => false);
}

/** A sink writing a source's entries (and its manifest) into a directory. */
export function dirSink(opts: DirSinkOptions): Sink<DirSinkSummary> {
  return { write: (source) => writeToDir(source, opts) };
}

/**
 * Write into the directory under a journal of the files created: a failed or
 * interrupted write removes them, a killed one leaves the journal for the next
 * run (a single `dstEntry` is one atomic file and needs none).
 */
async function writeToDir(source: Source, opts: DirSinkOptions): Promise<DirSinkSummary> {
  if (opts.dstEntry) return await writeEntries(source, opts);
  const journal = await WriteJournal.start(opts.root);
  let summary: DirSinkSummary;
  try {
    summary = await writeEntries(source, opts, journal);
  } catch (err) {
    await journal.discard().catch(() => {});
    throw err;
  }
  await journal.finish();
  return summary;
}

async function writeEntries(
  source: Source,
  opts: DirSinkOptions,
  journal?: WriteJournal,
): Promise<DirSinkSummary> {
  if (opts.manifest) {
    // With --force into an old backup, its manifest goes first: until the new one is
    // written, the directory must not look like a complete backup.
    await rm(join(opts.root, MANIFEST_FILE), { force: true });
  }
  let entries = 0, bytes = 0, done = 0;
  const total = expectedBytes(source.manifest) ?? 0;
  const files: string[] = [];
  for await (const e of source.entries(opts.select)) {
    opts.signal?.throwIfAborted();
    const name = e.path + (opts.keptSuffix ? e.framedSuffix ?? "" : "");
    const file = opts.dstEntry ?? await targetPath(opts.root, name);
    const there = await exists(file);
    if (!opts.force && there) {
      throw new UsageError(`${file} already exists (use --force to replace it)`);
    }
    if (!there) await journal?.add(file); // a file replaced with --force is not this run's to remove
    const counted = (async function* () {
      for await (const b of e.data) {
        done += b.length;
        opts.onProgress?.(done, total);
        yield b;
      }
    })();
    try {
      bytes += await writeAtomically(
        file,
        counted,
        (e.mode ?? 0o640) & 0o777 || 0o640,
        opts.sync === "each",
      );
    } catch (err) {
      throw outputError(err, `writing ${file}`);
    }
    files.push(file);
    entries++;
  }
  if (opts.sync === "end") {
    await syncFiles(files).catch((err) => {
      throw outputError(err, `flushing ${opts.root} to disk`);
    });
  }
  // An interrupt that came while the last files were flushed stops the run before
  // the manifest: an interrupted run leaves no backup (the journal removes the files).
  opts.signal?.throwIfAborted();
  if (opts.manifest) await finishDirectory(source, opts.root, opts.sync !== "none");
  return { destination: opts.root, entries, bytes };
}

/**
 * Check what the source delivered against its manifest, then write the manifest
 * (a streamed one completed with the entries seen) as the directory's last file.
 */
async function finishDirectory(source: Source, root: string, sync: boolean): Promise<void> {
  const r = checkCompleteness(source.manifest, source.seen);
  if (!r.ok) {
    throw new CorruptionError(
      `${source.name} does not match its manifest: ${describeCompleteness(r).join("; ")}`,
    );
  }
  const manifest: Manifest = isStreamed(source.manifest)
    ? withEntries(
      source.manifest,
      [...source.seen].map(([path, s]) => ({ path, size: s.size, crc32c: s.crc32c ?? "" })),
    )
    : source.manifest;
  try {
    // `compression` and `plannedBytes` describe an image, not the directory's plain files.
    const { compression: _chunks, plannedBytes: _planned, ...plain } = manifest;
    await writeManifest(root, plain, sync);
  } catch (err) {
    throw outputError(err, `writing ${join(root, MANIFEST_FILE)}`);
  }
}
