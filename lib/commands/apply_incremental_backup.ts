/**
 * `apply-incremental-backup` (MySQL Enterprise Backup's name): merge an incremental
 * backup directory into the full backup directory it continues, so the full one
 * then holds the tables as of the incremental (lib/delta/merge.ts).
 */
import type { Command } from "./command.ts";
import { reported } from "./run_report.ts";
import { UsageError } from "../errors.ts";
import { mergeIncremental } from "../delta/merge.ts";

/** Run `apply-incremental-backup`. */
export const runApplyIncrementalBackup = reported("apply-incremental-backup", async (ctx, rep) => {
  const o = ctx.options;
  if (!o.backupDir || o.incrementalBackupDir.length !== 1) {
    throw new UsageError(
      "apply-incremental-backup needs --backup-dir=FULL and one --incremental-backup-dir=INC",
    );
  }
  const inc = o.incrementalBackupDir[0];
  ctx.log?.openIn(o.backupDir); // FULL/meta/
  const r = await mergeIncremental(o.backupDir, inc, { sync: !o.noSync });
  const totals = { tables: r.tables, applied: r.applied, replaced: r.replaced, removed: r.removed };
  return rep.finish("ok", { totals, destination: o.backupDir, incremental: inc, ...r }, {
    verb: "applied",
    count: r.tables,
    noun: "table(s)",
    details: `${r.applied} file(s) rebuilt from deltas, ${r.replaced} replaced whole, ` +
      `${r.removed} removed`,
    bytes: 0,
    destination: o.backupDir,
    extra: `now at LSN ${r.endLsn} (backup ${r.id})`,
  });
});

/** The `apply-incremental-backup` command. */
export const applyIncrementalBackupCommand: Command = {
  name: "apply-incremental-backup",
  summary: "merge an incremental backup directory into the full backup directory it continues",
  usage: "--backup-dir=FULL --incremental-backup-dir=INC [OPTIONS]",
  help: `Applies the page deltas of INC to the files of FULL (and takes the tables INC
copied whole, drops the tables it no longer has), so FULL then holds the tables as
of INC and a later incremental taken on INC continues it. INC must continue FULL:
its base id and end LSN are FULL's (a full backup, or one already merged). Every
new file is first built under a temporary name; FULL's manifest is removed while
the files are renamed into place and written again last, so an interrupted merge
never leaves a directory that looks complete.`,
  options: ["backup-dir", "incremental-backup-dir", "no-sync", "force"],
  run: runApplyIncrementalBackup,
};
