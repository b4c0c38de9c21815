/**
 * MySQL Enterprise Backup command names that have no work of their own in
 * ibvault: the log-applying commands. A TTS backup is consistent when it is
 * taken (the tables are flushed and locked while their files are copied), so
 * there is no redo log to apply: `copy-back-and-apply-log` is copy-back,
 * `backup-and-apply-log` is backup, and `apply-log` checks the backup is one
 * and says there is nothing to do. Each says so in one line.
 */
import { stat } from "node:fs/promises";
import type { Command } from "./command.ts";
import { backupCommand, backupRun } from "./backup.ts";
import { copyBackCommand, copyBackRun } from "./copy_back.ts";
import { IMAGE_READ_OPTIONS } from "./options.ts";
import { reported } from "./run_report.ts";
import { imageWorkDir, prepareWorkDir } from "./work_dir.ts";
import { UsageError } from "../errors.ts";
import { readManifest } from "../core/manifest_io.ts";
import { MANIFEST_FILE } from "../core/manifest.ts";
import { EXPORT_LOCK } from "../server/lock_session.ts";
import { printable } from "../names/printable.ts";

/** Why there is no log to apply (the one-line note of these commands). */
export const APPLY_NOTE = `a TTS backup is consistent as taken (${EXPORT_LOCK}): ` +
  "there is no redo log to apply";

/** `copy-back-and-apply-log`: MEB's restore command, here the same as copy-back. */
export const copyBackAndApplyLogCommand: Command = {
  ...copyBackCommand,
  name: "copy-back-and-apply-log",
  summary: "MEB's name for copy-back (a TTS backup needs no log applied)",
  help: `The same as copy-back (see ibvault copy-back --help): ${APPLY_NOTE}.`,
  run: reported("copy-back-and-apply-log", async (ctx, rep) => {
    ctx.report.info(`copy-back-and-apply-log runs copy-back: ${APPLY_NOTE}`);
    return await copyBackRun(ctx, rep);
  }),
};

/** `backup-and-apply-log`: MEB's consistent-backup command, here the same as backup. */
export const backupAndApplyLogCommand: Command = {
  ...backupCommand,
  name: "backup-and-apply-log",
  summary: "MEB's name for backup (a TTS backup is consistent when taken)",
  help: `The same as backup (see ibvault backup --help): ${APPLY_NOTE}.`,
  run: reported("backup-and-apply-log", async (ctx, rep) => {
    ctx.report.info(`backup-and-apply-log runs backup: ${APPLY_NOTE}`);
    return await backupRun(ctx, rep);
  }),
};

/** `apply-log`: nothing to do for a TTS backup; checks the backup is there and says so. */
export const applyLogCommand: Command = {
  name: "apply-log",
  summary: "MEB's log-apply step: nothing to do for a TTS backup (says so, exit 0)",
  usage: "--backup-dir=DIR | --backup-image=FILE",
  help: `A TTS backup is consistent when it is taken: there is no redo log to apply.
With --backup-dir alone, DIR must hold a backup (its ${MANIFEST_FILE}); with
--backup-image, FILE must exist (its content is not read: validate checks an
image), and --backup-dir, if given too, is the working directory as in MEB.
Exit 0.`,
  options: ["backup-dir", "backup-image", ...IMAGE_READ_OPTIONS],
  run: reported("apply-log", async (ctx, rep) => {
    const o = ctx.options;
    if (o.backupDir === undefined && o.backupImage === undefined) {
      throw new UsageError("apply-log needs --backup-dir=DIR or --backup-image=FILE");
    }
    const what = o.backupImage ?? o.backupDir!;
    const work = imageWorkDir(o);
    if (work !== undefined) ctx.log?.openIn(await prepareWorkDir(work));
    if (o.backupImage === undefined) {
      if (!(await readManifest(o.backupDir!))) {
        throw new UsageError(
          `${printable(what)} is not an ibvault backup (no ${MANIFEST_FILE}): nothing to apply`,
        );
      }
    } else if (o.backupImage !== "-") {
      await stat(o.backupImage).catch(() => {
        throw new UsageError(`--backup-image=${printable(what)}: no such file`);
      });
    }
    return rep.finish(
      "ok",
      { backup: what },
      `apply-log: ${printable(what)}: ${APPLY_NOTE}; nothing to do`,
    );
  }),
};
