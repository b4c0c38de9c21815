/**
 * `backup-to-image`: the `backup` export streamed straight into an image file
 * (`--backup-image=FILE`, written under a temporary name and renamed when whole) or
 * to stdout (`-`), compressed and encrypted as asked, never staged on disk. The
 * image's end record is written only after UNLOCK TABLES succeeded and every file
 * is in, so an interrupted stream never looks complete.
 */
import { IMAGE_WRITE_OPTIONS } from "./options.ts";
import type { Command, CommandContext } from "./command.ts";
import { IoError, UsageError } from "../errors.ts";
import { writeImage } from "../image/writer.ts";
import { codecThreads, keyForWriting } from "../image/command_support.ts";
import { imageTargetKind, writeImageBytes } from "../image/image_io.ts";
import {
  BACKUP_HELP,
  BACKUP_OPTIONS,
  buildManifest,
  endQuietly,
  finish,
  openExport,
  planBackup,
  selectionSpec,
  sinkError,
} from "./backup.ts";
import type { TtsExport } from "../server/export.ts";

/**
 * Refuse an existing regular image file unless `force`, and a directory. A
 * device, FIFO or socket (e.g. /dev/null) is accepted: `writeImageBytes` writes
 * into it directly and never renames over it. Checked before the server is touched.
 */
async function checkImageDestination(file: string, force: boolean): Promise<void> {
  if ((await imageTargetKind(file)) === "replace" && !force) {
    throw new UsageError(`${file} already exists (use --force to replace it)`);
  }
}

/** Run `backup-to-image`. */
export async function runBackupToImage(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const target = o.backupImage;
  if (!target) throw new UsageError("backup-to-image needs --backup-image=FILE (or - for stdout)");
  const spec = selectionSpec(o);
  const key = await keyForWriting(o, ctx.report);
  const toStdout = target === "-";
  if (toStdout && o.json) {
    throw new UsageError("--json cannot be used with --backup-image=-: stdout carries the image");
  }
  if (!toStdout) await checkImageDestination(target, o.force);
  const started = performance.now();
  const plan = await planBackup(ctx, spec);
  let source: TtsExport | undefined;
  try {
    source = await openExport(ctx, plan, { crc: false });
    // The manifest goes first in an image, before any file is read: its entry list
    // stays empty, and the image's own entry records and end record say what is in it.
    const manifest = buildManifest(plan, source, o, []);
    let bytes = 0;
    const image = writeImage(manifest, source.entries, {
      compress: o.compress,
      key,
      threads: codecThreads(o),
      signal: ctx.signal,
      onEntry: (_path, size) => void (bytes += size),
    });
    try {
      await writeImageBytes(target, image, true, !o.noSync);
    } catch (err) {
      throw sinkError(err, `writing ${toStdout ? "the image to stdout" : target}`);
    }
    if (!source.completed) throw new IoError("the export stopped before every file was copied");
    finish(ctx, plan, source, toStdout ? "stdout" : target, bytes, started);
    return 0;
  } finally {
    await source?.close();
    await endQuietly(plan.conn);
  }
}

/** The `backup-to-image` command. */
export const backupToImageCommand: Command = {
  name: "backup-to-image",
  summary: "TTS backup of the selected tables into one image file (or - for stdout)",
  usage: "--backup-image=FILE|- [--compress] [--encrypt --key-file=F] [OPTIONS]",
  help: `Streams the backup into a single image, compressed (--compress, LZ4) and
encrypted (--encrypt, AES-256) chunk by chunk, without staging it on disk: with
--backup-image=- it can be piped, e.g. over ssh into copy-back. The image's end
record is written only after the tables were unlocked and every file is in, so a
truncated or interrupted image is detected as such. A FILE is written under a
temporary name and renamed when complete; an existing FILE needs --force. A
device or FIFO (e.g. /dev/null) is written into directly, never replaced.
${BACKUP_HELP}`,
  options: [
    ...IMAGE_WRITE_OPTIONS,
    ...BACKUP_OPTIONS,
  ],
  run: runBackupToImage,
};
