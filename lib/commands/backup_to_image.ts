/**
 * `backup-to-image`: the `backup` export streamed straight into an image file
 * (`--backup-image=FILE`, written under a temporary name and renamed when whole) or
 * to stdout (`-`), compressed and encrypted as asked, never staged on disk. The
 * image's end record is written only after UNLOCK TABLES succeeded and every file
 * is in, so an interrupted stream never looks complete.
 */
import type { Command } from "./command.ts";
import { BACKUP_OPTIONS, IMAGE_WRITE_OPTIONS } from "./options.ts";
import { codecThreads, compressionFor, keyForWriting } from "./image_options.ts";
import { selectionSpec } from "./selection.ts";
import { reported } from "./run_report.ts";
import { BACKUP_HELP, runBackupInto } from "./backup_common.ts";
import { UsageError } from "../errors.ts";
import { checkImageTarget, imageTargetKind } from "../image/image_io.ts";
import { imageSink } from "../image/sink.ts";
import { timestampedDir } from "../retention/timestamp.ts";
import { prepareWorkDir } from "./work_dir.ts";

/** Run `backup-to-image`. */
export const runBackupToImage = reported("backup-to-image", async (ctx, rep) => {
  const o = ctx.options;
  const target = o.backupImage!;
  const spec = selectionSpec(o);
  const compress = compressionFor(o, rep.report);
  const key = await keyForWriting(o, rep.report);
  // A device, FIFO or socket (e.g. /dev/null) is written into directly; an existing
  // regular file needs --force. Checked before the server is touched.
  if (target !== "-" && (await imageTargetKind(target)) === "replace" && !o.force) {
    throw new UsageError(`${target} already exists (use --force to replace it)`);
  }
  await checkImageTarget(target);
  // MEB's working directory (--backup-dir): spools and the run log; with
  // --with-timestamp its YYYY-MM-DD_HH-MM-SS/ subdirectory, as MEB does.
  if (o.withTimestamp && o.backupDir === undefined) {
    throw new UsageError("--with-timestamp needs --backup-dir=DIR (the working directory)");
  }
  const work = o.backupDir === undefined
    ? undefined
    : await prepareWorkDir(o.withTimestamp ? timestampedDir(o.backupDir) : o.backupDir);
  if (work !== undefined) ctx.log?.openIn(work); // WORK/meta/ibvault_backup-to-image_<stamp>.log
  const sink = (plannedBytes: number) =>
    imageSink({
      target,
      compress,
      key,
      threads: codecThreads(o),
      force: true,
      sync: !o.noSync,
      signal: ctx.signal,
      plannedBytes, // the manifest's size hint: readers show percent and ETA
    });
  // The manifest goes first in an image, before any file is read: its entry list
  // stays empty, and the image's own entry records and end record say what is in it.
  const destination = target === "-" ? "stdout" : target;
  return await runBackupInto(ctx, rep, spec, destination, async (source) => {
    return (await sink(source.totalBytes).write(source)).bytes;
  }, { crc: false, image: true, spoolDir: work });
}, { stdoutTaken: requireTarget });

/** The image target (required); true when it is stdout (which then carries the image). */
function requireTarget(ctx: { options: { backupImage?: string } }): boolean {
  const target = ctx.options.backupImage;
  if (!target) throw new UsageError("backup-to-image needs --backup-image=FILE (or - for stdout)");
  return target === "-";
}

/** The `backup-to-image` command. */
export const backupToImageCommand: Command = {
  name: "backup-to-image",
  summary: "TTS backup of the selected tables into one image file (or - for stdout)",
  usage: "--backup-image=FILE|- [--compress] [--encrypt --key-file=F] [OPTIONS]",
  help: `Streams the backup into a single image, compressed (--compress: LZ4;
--compress-method=zstd [--compress-level=1..19]: zstd) and encrypted (--encrypt, AES-256) chunk by chunk, without staging it on disk: with
--backup-image=- it can be piped, e.g. over ssh into copy-back. The image's end
record is written only after the tables were unlocked and every file is in, so a
truncated or interrupted image is detected as such. A FILE is written under a
temporary name and renamed when complete; an existing FILE needs --force. A
device or FIFO (e.g. /dev/null) is written into directly, never replaced.
--backup-dir=DIR, as in MEB, is the working directory: temporary files (the
locked pages' spool) and the run log (DIR/meta/) go there; with --with-timestamp
into DIR/YYYY-MM-DD_HH-MM-SS/ (local time). The image itself is --backup-image.
${BACKUP_HELP}`,
  options: [
    ...IMAGE_WRITE_OPTIONS,
    "backup-dir",
    "with-timestamp",
    ...BACKUP_OPTIONS,
  ],
  run: runBackupToImage,
};
