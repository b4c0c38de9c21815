/**
 * Carry out a retention policy over a root of backups: scan it, decide (see
 * policy.ts), delete what goes. A directory is first renamed to a hidden
 * `.NAME.ibvault-purging` (one atomic step: it stops being a backup at once),
 * then removed; a later run finishes what an interrupted one renamed. Images are
 * unlinked. A work directory (only run logs, see catalog/scan.ts) goes once its
 * newest log is older than every backup kept: the logs stay as long as the
 * backups of their time do. Nothing else that is not an ibvault backup is touched.
 */
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type FoundBackup,
  type LeftAlone,
  PURGING_SUFFIX,
  scanRoot,
  type WorkDir,
} from "../catalog/scan.ts";
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

/** A work directory in the report: what happened to it and why. */
export interface WorkDirItem {
  name: string;
  /** When its newest run log was written. */
  lastRun: string;
  deleted: boolean;
  reason: string;
}

/** What a purge did (or, with dryRun, would do). */
export interface PurgeReport {
  root: string;
  dryRun: boolean;
  kept: PurgeItem[];
  deleted: PurgeItem[];
  /** Directories holding only run logs (image runs' working directories). */
  workDirs: WorkDirItem[];
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

/** Remove a directory of the root: renamed out of the way first, then removed. */
async function removeDir(root: string, name: string, path: string): Promise<void> {
  const hidden = join(root, `.${name}${PURGING_SUFFIX}`);
  await rename(path, hidden);
  await rm(hidden, { recursive: true });
}

/** Remove one backup: a directory as removeDir does, an image unlinked. */
async function removeBackup(root: string, b: FoundBackup): Promise<void> {
  if (b.form === "image") await rm(b.path);
  else await removeDir(root, b.name, b.path);
}

/** Which work directories go: those whose newest log is older than every backup kept. */
function judgeWorkDirs(dirs: WorkDir[], kept: FoundBackup[]): WorkDirItem[] {
  const oldestKept = Math.min(...kept.map((b) => b.createdAt.getTime()));
  return dirs.map((d) => {
    const old = kept.length > 0 && d.lastRun.getTime() < oldestKept;
    return {
      name: d.name,
      lastRun: d.lastRun.toISOString(),
      deleted: old,
      reason: old
        ? "only run logs, all older than every backup kept"
        : kept.length > 0
        ? "only run logs, not older than the oldest backup kept"
        : "only run logs, and no backup is kept to date them against",
    };
  });
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
    workDirs: [],
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
  const kept: FoundBackup[] = [];
  for (const d of applyPolicy(readable, policy)) {
    (d.keep ? report.kept : report.deleted).push(item(d.backup, d.reasons));
    if (d.keep) kept.push(d.backup);
  }
  report.workDirs = judgeWorkDirs(scan.workDirs, kept);
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
  const workPaths = new Map(scan.workDirs.map((w) => [w.name, w.path]));
  for (const w of report.workDirs.filter((x) => x.deleted)) {
    try {
      await removeDir(root, w.name, workPaths.get(w.name)!);
    } catch (e) {
      w.deleted = false;
      report.failed.push({ name: w.name, error: (e as Error).message });
    }
  }
  const failed = new Set(report.failed.map((f) => f.name));
  report.deleted = report.deleted.filter((d) => !failed.has(d.name));
  return report;
}
