/**
 * `ibvault purge-backups`: retention over a root of backups (restic `forget`
 * semantics; the policy is lib/retention/policy.ts, the deleting purge.ts).
 */
import { stat } from "node:fs/promises";
import type { Command, CommandContext } from "./command.ts";
import { IoError, UsageError } from "../errors.ts";
import { hasRule, type Policy } from "../retention/policy.ts";
import { type PurgeItem, purgeRoot } from "../retention/purge.ts";
import { parseDuration } from "../retention/duration.ts";
import { loadKey } from "../image/key.ts";
import { formatBytes } from "../progress/reporter.ts";
import { reported, type RunReport } from "./run_report.ts";
import { backupOpener } from "./open_source.ts";

const stamp = (i: PurgeItem) =>
  `${i.name} (${i.form === "image" ? "image" : "directory"}, ${i.kind}, ${
    i.createdAt.slice(0, 19).replace("T", " ")
  } UTC, ${formatBytes(i.bytes)})`;

async function run(ctx: CommandContext, rep: RunReport): Promise<number> {
  const o = ctx.options;
  if (!o.backupDir) throw new UsageError("purge-backups needs --backup-dir=ROOT");
  const policy: Policy = {
    last: o.keepLast,
    daily: o.keepDaily,
    weekly: o.keepWeekly,
    monthly: o.keepMonthly,
    withinMs: o.keepWithin === undefined ? undefined : parseDuration(o.keepWithin, "--keep-within"),
  };
  if (!hasRule(policy)) {
    throw new UsageError(
      "purge-backups needs at least one of --keep-last, --keep-daily, --keep-weekly, " +
        "--keep-monthly, --keep-within (nothing is deleted without a policy)",
    );
  }
  try {
    if (!(await stat(o.backupDir)).isDirectory()) {
      throw new UsageError(`--backup-dir=${o.backupDir} is not a directory`);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--backup-dir=${o.backupDir} does not exist`);
  }
  const key = await loadKey(o, (m) => ctx.report.warn(m));
  const r = await purgeRoot(o.backupDir, policy, {
    dryRun: o.dryRun,
    opener: backupOpener(ctx, key),
  });
  const { report } = ctx;
  for (const k of r.kept) report.info(`keep ${stamp(k)}: ${k.reasons.join("; ")}`);
  for (const d of r.deleted) {
    report.info(`${r.dryRun ? "would delete" : "deleted"} ${stamp(d)}: ${d.reasons.join("; ")}`);
  }
  for (const w of r.workDirs) {
    const what = w.deleted ? (r.dryRun ? "would delete" : "deleted") : "keep";
    report.info(
      `${what} work directory ${w.name} (last run ${w.lastRun.slice(0, 19)}Z): ${w.reason}`,
    );
  }
  for (const l of r.leftAlone) report.info(`left alone ${l.name}: ${l.reason}`);
  for (const f of r.finished) report.info(`removed ${f}, left by an interrupted purge`);
  for (const f of r.failed) report.error(`could not delete ${f.name}: ${f.error}`);
  const freed = r.deleted.reduce((s, d) => s + d.bytes, 0);
  const totals = {
    kept: r.kept.length,
    deleted: r.deleted.length,
    leftAlone: r.leftAlone.length,
    workDirsDeleted: r.workDirs.filter((w) => w.deleted).length,
    failed: r.failed.length,
    bytes: freed,
  };
  const body = { totals, ...r };
  if (r.failed.length) {
    rep.fail(new IoError(`${r.failed.length} backup(s) could not be deleted (see above)`), body);
  }
  return rep.finish("ok", body, {
    verb: r.dryRun ? "dry run: would delete" : "deleted",
    count: r.deleted.length,
    noun: "backup(s)",
    details: `kept ${r.kept.length}, left alone ${r.leftAlone.length} other name(s)`,
    bytes: freed,
    destination: undefined,
    extra: `in ${r.root}`,
  });
}

/** The `purge-backups` command. */
export const purgeBackupsCommand: Command = {
  name: "purge-backups",
  summary: "delete old backups from a root of backups by a retention policy",
  usage: "--backup-dir=ROOT [--keep-last=N] [--keep-daily=N] [--keep-weekly=N] " +
    "[--keep-monthly=N] [--keep-within=DURATION] [--dry-run]",
  help: `ROOT holds backups side by side, as --with-timestamp makes them
(ROOT/YYYY-MM-DD_HH-MM-SS/), and images (*.ibv, or files starting with the
ibvault magic). The policy is restic's "forget": a backup is kept if any rule
keeps it. --keep-last=N keeps the N newest; --keep-daily/--keep-weekly/
--keep-monthly=N keep the newest backup of each of the N latest days, ISO weeks
or months (local time) that have one; --keep-within=DURATION keeps every backup
taken within DURATION before the newest one. Ages come from each manifest's
createdAt, not from names or file times.

Whatever the rules say: the newest sound backup is kept; the base of a kept
incremental is kept (its whole chain, by the manifests' base ids); a backup that
fails the cheap check (a directory entry missing or of another size, an image
without its end record) counts for no rule; anything that is not an ibvault
backup (a directory without a manifest, other files, symbolic links, files being
written) is named and left alone, and so is an encrypted image when no key is
given. --dry-run prints what would be deleted and why each kept backup is kept.

Exit status: 0 done, 2 usage error, 3 a backup could not be deleted.`,
  options: [
    "backup-dir",
    "keep-last",
    "keep-daily",
    "keep-weekly",
    "keep-monthly",
    "keep-within",
    "dry-run",
    "key-file",
    "key",
    "key-env",
  ],
  run: reported("purge-backups", run),
};
