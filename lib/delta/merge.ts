/**
 * Merging an incremental backup directory into the full backup directory it
 * continues (`apply-incremental-backup`): every new file is built first under a
 * temporary name beside its final one (a delta applied to a copy of the full
 * backup's file, or the incremental's whole copy), then the full backup's
 * manifest is removed, the new files renamed into place, the files of tables the
 * incremental no longer has removed, and the new manifest written last. Until
 * that last step the directory has no manifest, so an interrupted merge never
 * looks like a complete backup; before the first rename nothing was changed.
 */
import { copyFile, open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { ChainError, UsageError } from "../errors.ts";
import { type Manifest, MANIFEST_FILE } from "../core/manifest.ts";
import { fileCrc32c, readManifest, writeManifest } from "../core/manifest_io.ts";
import { PART_SUFFIX, readFileChunks, syncFiles } from "../core/files.ts";
import { targetPath } from "../backupdir/sink.ts";
import { applyDelta } from "../innodb/delta_apply.ts";
import { type ChainFields, checkLink, deltaTarget } from "../core/chain.ts";

/** What a merge did. */
export interface MergeSummary {
  tables: number;
  /** Files rebuilt from a delta. */
  applied: number;
  /** Files replaced by a whole copy. */
  replaced: number;
  /** Files removed (tables gone). */
  removed: number;
  /** The merged backup's id and end LSN (the incremental's). */
  id: string;
  endLsn: string;
}

async function manifestOf(dir: string, what: string): Promise<Manifest> {
  const m = await readManifest(dir);
  if (!m) {
    throw new UsageError(`${what} ${dir} is not a complete backup directory: it has no manifest`);
  }
  return m;
}

/** Merge incremental directory `inc` into full directory `full` (see the module doc). */
export async function mergeIncremental(
  full: string,
  inc: string,
  opts: { sync: boolean },
): Promise<MergeSummary> {
  const fm = await manifestOf(full, "--backup-dir");
  const im = await manifestOf(inc, "--incremental-backup-dir");
  const fc: ChainFields = fm;
  if (fc.kind === "incremental") {
    throw new ChainError(
      `--backup-dir ${full} is an incremental backup: merge into a full backup directory`,
    );
  }
  checkLink({ ...fc, where: full }, { ...im, where: inc });
  const parts = new Map<string, string>(); // final file → part file
  let applied = 0, replaced = 0, removed = 0;
  try {
    for (const t of im.tables) {
      for (const f of t.files) {
        const target = deltaTarget(f) ?? f;
        const final = await targetPath(full, target);
        const part = final + PART_SUFFIX;
        const src = await targetPath(inc, f);
        if (deltaTarget(f)) {
          try {
            await copyFile(final, part);
          } catch {
            throw new ChainError(
              `${inc}: ${f} changes ${target}, which ${full} does not have: not the backup it continues`,
            );
          }
          const fh = await open(part, "r+");
          try {
            await applyDelta(fh, readFileChunks(src), `${inc}/${f}`);
          } finally {
            await fh.close();
          }
          applied++;
        } else {
          await copyFile(src, part);
          if (f.endsWith(".ibd")) replaced++;
        }
        parts.set(final, part);
      }
    }
    if (opts.sync) await syncFiles(parts.values());
  } catch (err) {
    for (const p of parts.values()) await rm(p, { force: true });
    throw err;
  }
  // commit: from here the directory has no manifest until the new one is written
  await rm(join(full, MANIFEST_FILE), { force: true });
  for (const [final, part] of parts) await rename(part, final);
  const keep = new Set(im.tables.map((t) => `${t.database}\0${t.name}`));
  for (const t of fm.tables) {
    if (keep.has(`${t.database}\0${t.name}`)) continue;
    for (const f of t.files) {
      await rm(await targetPath(full, f), { force: true });
      removed++;
    }
  }
  const tables = im.tables.map((t) => ({
    ...t,
    files: t.files.map((f) => deltaTarget(f) ?? f),
    tablespaces: ((t as { tablespaces?: { copy: string }[] }).tablespaces ?? []).map((s) => ({
      ...s,
      copy: "whole",
    })),
  }));
  const entries = [];
  for (const t of tables) {
    for (const f of t.files) {
      const file = await targetPath(full, f);
      entries.push({ path: f, size: (await stat(file)).size, crc32c: await fileCrc32c(file) });
    }
  }
  const ic: ChainFields = im;
  const merged = {
    ...im,
    kind: "full",
    base: undefined,
    mergedFrom: [fc.id, ic.id],
    tables,
    entries,
  } as unknown as Manifest;
  delete (merged as { base?: unknown }).base;
  await writeManifest(full, merged, opts.sync);
  return {
    tables: tables.length,
    applied,
    replaced,
    removed,
    id: ic.id ?? "",
    endLsn: ic.endLsn ?? "",
  };
}
