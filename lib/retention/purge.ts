/**
 * Carry out a retention policy over a root of backups: scan it, decide (see
 * policy.ts), delete what goes. A directory is first renamed to a hidden
 * `.NAME.ibvault-purging` (one atomic step: it stops being a backup at once),
 * then removed; a later run finishes what an interrupted one renamed. Images are
 * unlinked. Nothing that is not an ibvault backup is touched.
 */
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { type FoundBackup, type LeftAlone, PURGING_SUFFIX, scanRoot } from "../catalog/scan.ts";
import { applyPolicy, type Policy } from "./policy.ts";
import type { BackupOpener } from "../source.ts";

/** One backup in the report. */
export interface PurgeItem {
  name: string;
  form: "directory" | "image";
  createdAt: string;
  kind: "full" | "incremental";
  id?: string;
  baseId?: string;
  bytes: number;
  reasons: string[];
}

/** What a purge did (or, with dryRun, would do). */
export interface PurgeReport {
  root: string;
  dryRun: boolean;
  kept: PurgeItem[];
  deleted: PurgeItem[];
  leftAlone: LeftAlone[];
  /** Deletions that failed, with the error. */
  failed: { name: string; error: string }[];
  /** Leftovers of an interrupted purge, removed now. */
  finished: string[];
}

function item(b: FoundBackup, reasons: string[]): PurgeItem {
  const i: PurgeItem = {
    name: b.name,
    form: b.form,
    createdAt: b.createdAt.toISOString(),
    kind: b.kind,
    bytes: b.bytes,
    reasons,
  };
  if (b.id) i.id = b.id;
  if (b.baseId) i.baseId = b.baseId;
  return i;
}

/** Remove one backup: rename a directory out of the way first, unlink an image. */
async function removeBackup(root: string, b: FoundBackup): Promise<void> {
  if (b.form === "image") {
    await rm(b.path);
    return;
  }
  const hidden = join(root, `.${b.name}${PURGING_SUFFIX}`);
  await rename(b.path, hidden);
  await rm(hidden, { recursive: true });
}

/**
 * Apply `policy` to `root`, reading each backup through `opts.opener`. Backups
 * that cannot be read (damaged manifest, or encrypted without a key) are left alone, named. Deletion errors are collected
 * in `failed`, not thrown, so one stuck backup does not stop the rest.
 */
export async function purgeRoot(
  root: string,
  policy: Policy,
  opts: { dryRun: boolean; opener: BackupOpener },
): Promise<PurgeReport> {
  const scan = await scanRoot(root, opts.opener);
  const report: PurgeReport = {
    root,
    dryRun: opts.dryRun,
    kept: [],
    deleted: [],
    leftAlone: [...scan.leftAlone],
    failed: [],
    finished: [],
  };
  const readable = scan.backups.filter((b) => {
    if (!b.unreadable) return true;
    report.leftAlone.push({
      name: b.name,
      reason: b.unreadable === "encrypted"
        ? "an encrypted image and no key was given (--key-file) to read its manifest"
        : `an ibvault backup whose manifest cannot be read: ${b.problem}`,
    });
    return false;
  });
  for (const d of applyPolicy(readable, policy)) {
    (d.keep ? report.kept : report.deleted).push(item(d.backup, d.reasons));
  }
  if (opts.dryRun) return report;
  for (const name of scan.purging) {
    try {
      await rm(join(root, name), { recursive: true });
      report.finished.push(name);
    } catch (e) {
      report.failed.push({ name, error: (e as Error).message });
    }
  }
  const byName = new Map(readable.map((b) => [b.name, b]));
  for (const d of report.deleted) {
    try {
      await removeBackup(root, byName.get(d.name)!);
    } catch (e) {
      report.failed.push({ name: d.name, error: (e as Error).message });
    }
  }
  const failed = new Set(report.failed.map((f) => f.name));
  report.deleted = report.deleted.filter((d) => !failed.has(d.name));
  return report;
}
