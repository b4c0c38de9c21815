/**
 * Writing a page-LSN backup into a backup directory: every entry goes to its file
 * under a temporary name (as the plain directory sink does), except that a delta
 * `F.delta` whose file `F` was written earlier in the same run is applied to `F`
 * in place at once (the copy is local, and the tables are unlocked by then), so a
 * full backup directory made with minimum locking holds ordinary, consistent
 * files. An incremental's deltas, whose files are in the base, are kept as files.
 * The manifest (the source's, completed with every file's size and CRC-32C) is
 * written last. A file's CRC-32C is the source's for its copy, patched for the
 * pages a delta replaced or added (core/crc_patch.ts), so nothing is read twice;
 * a file a delta rewrote whole or cut short is read once more for it.
 */
import { lstat, open, rm, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { FileEntry } from "../entry.ts";
import type { Sink } from "../sink.ts";
import type { Source } from "../source.ts";
import { expectedBytes, MANIFEST_FILE } from "../core/manifest.ts";
import { fileCrc32c, writeManifest } from "../core/manifest_io.ts";
import { crcHex } from "../core/crc.ts";
import { outputError, syncFiles, writeAtomically } from "../core/files.ts";
import { targetPath } from "../backupdir/sink.ts";
import { applyDelta } from "../innodb/delta_apply.ts";
import { deltaTarget } from "../core/chain.ts";
import { rebuiltManifest } from "./rebuild_source.ts";
import { WriteJournal } from "../core/write_journal.ts";
import { FileCrc } from "../core/crc_patch.ts";
import type { SeenEntry } from "../core/completeness.ts";

/** What {@link writeRebuilding} wrote. */
export interface RebuildWrite {
  /** Bytes of the entries (a delta applied counts its own bytes). */
  bytes: number;
  /** Files written, to flush and list in the manifest. */
  files: string[];
  /** Pages written into files by deltas applied in place, by `.ibd` entry path. */
  applied: Map<string, number>;
  /** Size and CRC-32C of each file written, where known without reading it again. */
  crcs: Map<string, FileCrc>;
}

/** Apply delta entry `e` to `target` (written earlier), keeping its CRC in `crc` if known. */
async function applyInPlace(
  target: string,
  e: FileEntry,
  crc: FileCrc | undefined,
): Promise<{ pages: number; crcKept: boolean }> {
  const fh = await open(target, "r+");
  try {
    // Each run's old bytes are read before it replaces them, to patch the CRC.
    const beforeWrite = crc
      ? async (offset: number, bytes: Uint8Array) => {
        const old = new Uint8Array(bytes.length);
        const { bytesRead } = await fh.read(old, 0, old.length, offset);
        crc.write(offset, old.subarray(0, bytesRead), bytes);
      }
      : undefined;
    const r = await applyDelta(fh, e.data, e.path, { beforeWrite });
    const size = (await fh.stat()).size;
    const crcKept = !r.header.complete && !!crc && !crc.lost && crc.length === size;
    return { pages: r.deltaPages, crcKept };
  } catch (err) {
    throw outputError(err, `applying ${e.path} to ${target}`);
  } finally {
    await fh.close();
  }
}

/**
 * Write `entries` under `root`, applying deltas to files of the same run (see
 * module doc); `seen` is where the source records each entry's size and CRC-32C.
 */
export async function writeRebuilding(
  root: string,
  entries: AsyncIterable<FileEntry>,
  journal?: WriteJournal,
  seen?: ReadonlyMap<string, SeenEntry>,
  onBytes?: (n: number) => void,
): Promise<RebuildWrite> {
  let bytes = 0;
  const files: string[] = [];
  const written = new Map<string, string>();
  const applied = new Map<string, number>();
  const crcs = new Map<string, FileCrc>();
  for await (const e of entries) {
    const base = deltaTarget(e.path);
    const target = base !== undefined ? written.get(base) : undefined;
    if (base !== undefined && target !== undefined) {
      const r = await applyInPlace(target, e, crcs.get(target));
      applied.set(base, r.pages);
      if (!r.crcKept) crcs.delete(target);
      bytes += e.size;
      onBytes?.(e.size);
      continue;
    }
    const file = await targetPath(root, e.path);
    // A file replaced with --force is not this run's to remove.
    if (!(await lstat(file).then(() => true, () => false))) await journal?.add(file);
    const data = onBytes
      ? (async function* () {
        for await (const b of e.data) {
          onBytes(b.length);
          yield b;
        }
      })()
      : e.data;
    let n: number;
    try {
      n = await writeAtomically(file, data, e.mode ?? 0o640, false);
    } catch (err) {
      throw outputError(err, `writing ${file}`);
    }
    bytes += n;
    const s = seen?.get(e.path);
    if (s?.crc32c && s.size === n) crcs.set(file, new FileCrc(parseInt(s.crc32c, 16), n));
    written.set(e.path, file);
    files.push(file);
  }
  return { bytes, files, applied, crcs };
}

/** What a page-LSN directory sink wrote. */
export interface PageLsnDirSummary {
  destination: string;
  entries: number;
  bytes: number;
}

/** How a page-LSN directory sink writes. */
export interface PageLsnDirOptions {
  /** Real path of the destination directory (prepared, see backupdir/sink.ts). */
  root: string;
  /** Flush the files, then the manifest, to disk. */
  sync: boolean;
  signal?: AbortSignal;
  /** Called as bytes arrive, with the total the manifest plans (0 when unknown). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A sink writing a page-LSN source (a live export, or an image whose hot copies
 * and deltas are left as stored) into directory `root`.
 */
export function pageLsnDirSink(opts: PageLsnDirOptions): Sink<PageLsnDirSummary> {
  return {
    async write(source: Source): Promise<PageLsnDirSummary> {
      // A failed or interrupted run removes what it wrote; a killed one leaves the
      // journal, and the next run into the directory removes it (write_journal.ts).
      const journal = await WriteJournal.start(opts.root);
      try {
        const summary = await writePageLsnDir(source, opts, journal);
        await journal.finish();
        return summary;
      } catch (err) {
        await journal.discard().catch(() => {});
        throw err;
      }
    },
  };
}

async function writePageLsnDir(
  source: Source,
  opts: PageLsnDirOptions,
  journal: WriteJournal,
): Promise<PageLsnDirSummary> {
  await rm(join(opts.root, MANIFEST_FILE), { force: true });
  const total = expectedBytes(source.manifest) ?? 0;
  let done = 0;
  const onBytes = opts.onProgress && ((n: number) => opts.onProgress!(done += n, total));
  const w = await writeRebuilding(opts.root, source.entries(), journal, source.seen, onBytes);
  if (opts.sync) {
    await syncFiles(w.files).catch((err) => {
      throw outputError(err, `flushing ${opts.root} to disk`);
    });
  }
  const entries = [];
  for (const file of w.files) {
    const path = relative(opts.root, file).split(sep).join("/");
    const known = w.crcs.get(file);
    const { size } = await stat(file);
    const crc32c = known && known.length === size ? crcHex(known.crc) : await fileCrc32c(file);
    entries.push({ path, size, crc32c });
  }
  // `compression` and `plannedBytes` describe an image, not the directory's plain files.
  const { compression: _chunks, plannedBytes: _planned, ...plain } = rebuiltManifest(
    source.manifest,
  );
  const manifest = { ...plain, entries };
  // An interrupt stops the run before the manifest: it leaves no backup.
  opts.signal?.throwIfAborted();
  try {
    await writeManifest(opts.root, manifest, opts.sync);
  } catch (err) {
    throw outputError(err, `writing ${join(opts.root, MANIFEST_FILE)}`);
  }
  return { destination: opts.root, entries: entries.length, bytes: w.bytes };
}
