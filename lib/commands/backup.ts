/**
 * `backup`: a transportable-tablespace backup of the selected tables of a live
 * server into a backup directory: the export source piped into the directory
 * sink, the manifest written last.
 */
import type { Command, CommandContext } from "./command.ts";
import { BACKUP_OPTIONS } from "./options.ts";
import { selectionSpec } from "./selection.ts";
import { reported, type RunReport } from "./run_report.ts";
import { BACKUP_HELP, isPageLsn, runBackupInto } from "./backup_common.ts";
import { pageLsnDirSink } from "../delta/dir_sink.ts";
import { UsageError } from "../errors.ts";
import { MANIFEST_FILE } from "../core/manifest.ts";
import { JOURNAL_FILE } from "../core/write_journal.ts";
import { dirSink, prepareDestination } from "../backupdir/sink.ts";
import { timestampedDir } from "../retention/timestamp.ts";
import { printable } from "../names/printable.ts";

/** The work of `backup` under its run report (`backup-and-apply-log` runs it too). */
export async function backupRun(ctx: CommandContext, rep: RunReport): Promise<number> {
  const o = ctx.options;
  if (!o.backupDir) throw new UsageError("backup needs --backup-dir=DIR");
  const spec = selectionSpec(o);
  const dir = o.withTimestamp ? timestampedDir(o.backupDir) : o.backupDir; // ROOT/YYYY-MM-DD_HH-MM-SS
  const root = await prepareDestination(
    dir,
    o.force,
    (p) => ctx.report.info(`removed ${printable(p)}, left by an interrupted run`),
  );
  ctx.log?.openIn(root); // DIR/meta/ibvault_backup_<stamp>.log
  // The files are written while the tables are locked, so nothing waits for the disk
  // then; they are flushed together once the tables are unlocked, before the manifest.
  const sink = dirSink({
    root,
    sync: o.noSync ? "none" : "end",
    force: true,
    manifest: true,
    signal: ctx.signal,
  });
  return await runBackupInto(ctx, rep, spec, root, async (source) => {
    // page-LSN: deltas of hot copies are applied in place as they arrive
    if (isPageLsn(source)) {
      return (await pageLsnDirSink({ root, sync: !o.noSync, signal: ctx.signal }).write(source))
        .bytes;
    }
    return (await sink.write(source)).bytes;
  });
}

/** Run `backup`. */
export const runBackup = reported("backup", backupRun);

/** The `backup` command. */
export const backupCommand: Command = {
  name: "backup",
  summary: "TTS backup of the selected tables of a live server into --backup-dir",
  usage: "--backup-dir=DIR [--include-tables=REGEX] [--exclude-tables=REGEX] [OPTIONS]",
  help: `Writes a backup directory: DIR/DB/TABLE.ibd and .cfg for each table (names in
MySQL's filename encoding), and ${MANIFEST_FILE}, written last: a directory
without it is not a complete backup. DIR must be empty or absent (--force to
write into a non-empty one). A failed or interrupted run removes the files it
wrote; a killed one leaves ${JOURNAL_FILE} listing them, and the next run into
DIR removes them. --with-timestamp writes into DIR/YYYY-MM-DD_HH-MM-SS/
instead (local time, MEB's layout), a root that purge-backups and check-backup
work over.
${BACKUP_HELP}`,
  options: ["backup-dir", "with-timestamp", ...BACKUP_OPTIONS],
  run: runBackup,
};
