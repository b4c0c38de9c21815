/**
 * `image-to-backup-dir`: unpack an image (a file or stdin) into a backup
 * directory, checked against the image's manifest: the image source piped into
 * the directory sink.
 */
import { tmpdir } from "node:os";
import { IMAGE_READ_OPTIONS } from "./options.ts";
import type { Command } from "./command.ts";
import { openImageOption } from "./open_source.ts";
import { reported } from "./run_report.ts";
import { serverField } from "./report_fields.ts";
import { requireImage } from "./image_options.ts";
import { UsageError } from "../errors.ts";
import { dirSink, prepareDestination } from "../backupdir/sink.ts";
import { pageLsnDirSink } from "../delta/dir_sink.ts";
import { printable } from "../names/printable.ts";

/** The image-to-backup-dir command. */
export const imageToBackupDirCommand: Command = {
  name: "image-to-backup-dir",
  summary: "unpack an image into a backup directory",
  usage: "--backup-image=FILE|- --backup-dir=DIR [--key-file=FILE]",
  help: "Reads the image (- reads stdin) strictly in order, verifies every chunk (checksum, " +
    "and authentication when encrypted), and writes each file under DIR through a temporary " +
    "name (a minimum-locking image's hot copies too: each delta is applied to its file there, " +
    "nothing is spooled). DIR must be empty or absent unless --force. The manifest is written last, after " +
    "every entry was checked against it. Compression is detected by itself (--uncompress is " +
    "accepted); an encrypted image needs its key.",
  options: [
    "backup-image",
    "backup-dir",
    ...IMAGE_READ_OPTIONS,
    "force",
    "no-sync",
  ],
  run: reported("image-to-backup-dir", async (ctx, rep) => {
    const o = ctx.options;
    requireImage(o);
    if (!o.backupDir) throw new UsageError("--backup-dir=DIR is required");
    // Every chunk is written out before the next is asked for. A minimum-locking
    // image's hot copies are written in place and their deltas applied to them there,
    // so nothing is spooled (--backup-dir is the output here: spools stay out of it).
    const img = await openImageOption(ctx, {
      recycle: true,
      spoolDir: tmpdir(),
      pairsAsStored: true,
    });
    try {
      if (!img.header.encrypted && (o.keyFile || o.key || o.keyEnv)) {
        ctx.report.warn(`${img.name} is not encrypted: the key is not needed`);
      }
      const root = await prepareDestination(
        o.backupDir!,
        o.force,
        (p) => ctx.report.info(`removed ${printable(p)}, left by an interrupted run`),
      );
      ctx.log?.openIn(root);
      const onProgress = (done: number, total: number) =>
        ctx.report.progress({ label: "extracting", done, total, unit: "bytes" });
      const r = img.hotCopies?.size
        ? await pageLsnDirSink({ root, sync: !o.noSync, signal: ctx.signal, onProgress })
          .write(img)
        : await dirSink({
          root,
          force: o.force,
          sync: o.noSync ? "none" : "each",
          manifest: true,
          signal: ctx.signal,
          onProgress,
        }).write(img);
      const body = {
        server: serverField(img.manifest.server),
        totals: { tables: img.manifest.tables.length, entries: r.entries, bytes: r.bytes },
        backupDir: o.backupDir,
        entries: r.entries,
        bytes: r.bytes,
      };
      return rep.finish("ok", body, {
        verb: "wrote",
        count: r.entries,
        noun: "entries",
        bytes: r.bytes,
        destination: o.backupDir,
      });
    } finally {
      await img.close();
    }
  }),
};
