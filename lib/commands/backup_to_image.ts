/**
 * `backup-to-image`: the `backup` export streamed straight into an image file
 * (`--backup-image=FILE`, written under a temporary name and renamed when whole) or
 * to stdout (`-`), compressed and encrypted as asked, never staged on disk. The
 * image's end record is written only after UNLOCK TABLES succeeded and every file
 * is in, so an interrupted stream never looks complete.
 */
import { open, rename, rm, stat } from "node:fs/promises";
import process from "node:process";
import type { Command, CommandContext } from "./command.ts";
import { IoError, UsageError } from "../errors.ts";
import { writeImage } from "../image/writer.ts";
import { loadKey } from "../image/key.ts";
import {
  BACKUP_HELP,
  BACKUP_OPTIONS,
  buildManifest,
  endQuietly,
  finish,
  openExport,
  planBackup,
  sinkError,
} from "./backup.ts";
import type { TtsExport } from "../server/export.ts";

/** Suffix of an image file being written. */
const PART_SUFFIX = ".ibvault-part";

/** Refuse an existing non-empty image file unless `force`. */
async function checkImageDestination(file: string, force: boolean): Promise<void> {
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new UsageError(`${file} is a directory, not an image file`);
    if (st.size > 0 && !force) {
      throw new UsageError(`${file} exists and is not empty (use --force to overwrite it)`);
    }
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
}

/** Write a byte stream to `file` through a temporary name, renamed when complete. */
async function writeImageFile(file: string, bytes: AsyncIterable<Uint8Array>): Promise<void> {
  const part = file + PART_SUFFIX;
  const fh = await open(part, "w", 0o640).catch((err) => {
    throw sinkError(err, `creating ${part}`);
  });
  try {
    for await (const chunk of bytes) {
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    await rename(part, file);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(part, { force: true });
    throw sinkError(err, `writing ${file}`);
  }
}

/** Write a byte stream to stdout, honouring back-pressure; a closed pipe is an IoError. */
async function writeStdout(bytes: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void> {
  const out = process.stdout;
  let failed: Error | undefined;
  const onError = (err: Error) => void (failed ??= err);
  out.on("error", onError);
  try {
    for await (const chunk of bytes) {
      if (failed) break;
      if (!out.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off("drain", done);
            out.off("error", done);
            signal.removeEventListener("abort", done);
            resolve();
          };
          out.once("drain", done);
          out.once("error", done);
          signal.addEventListener("abort", done, { once: true });
        });
      }
      signal.throwIfAborted();
      if (failed) break;
    }
    if (failed) {
      throw new IoError(`writing the image to stdout: ${failed.message}`, { cause: failed });
    }
  } finally {
    out.off("error", onError);
  }
}

/** Run `backup-to-image`. */
export async function runBackupToImage(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const target = o.backupImage;
  if (!target) throw new UsageError("backup-to-image needs --backup-image=FILE (or - for stdout)");
  if (o.compress && o.compressMethod.toLowerCase() !== "lz4") {
    throw new UsageError(`--compress=${o.compressMethod}: only lz4 is supported`);
  }
  const key = o.encrypt ? await loadKey(o, (m) => ctx.report.warn(m)) : undefined;
  if (o.encrypt && !key) throw new UsageError("--encrypt needs --key-file, --key-env or --key");
  const toStdout = target === "-";
  if (!toStdout) await checkImageDestination(target, o.force);
  const started = performance.now();
  const plan = await planBackup(ctx);
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
      threads: Math.max(1, o.threads),
      signal: ctx.signal,
      onEntry: (_path, size) => void (bytes += size),
    });
    if (toStdout) await writeStdout(image, ctx.signal);
    else await writeImageFile(target, image);
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
temporary name and renamed when complete; an existing non-empty FILE needs --force.
${BACKUP_HELP}`,
  options: [
    "backup-image",
    "compress",
    "compress-method",
    "encrypt",
    "key-file",
    "key",
    "key-env",
    ...BACKUP_OPTIONS,
  ],
  run: runBackupToImage,
};
