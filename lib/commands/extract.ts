/**
 * `extract`: write all or selected entries of an image into a directory, or one
 * entry to a chosen path; `--keep-compressed` writes entries as standard LZ4
 * frames (or zstd frames, from a zstd image) that `lz4 -d` / `zstd -d` read.
 */
import { tmpdir } from "node:os";
import { IMAGE_READ_OPTIONS } from "./options.ts";
import type { Command } from "./command.ts";
import { openImageOption } from "./open_source.ts";
import { reported } from "./run_report.ts";
import { serverField } from "./report_fields.ts";
import { requireImage } from "./image_options.ts";
import { UsageError } from "../errors.ts";
import { checkEntryPath, isUnder } from "../core/entry_path.ts";
import { dirSink, prepareDestination } from "../backupdir/sink.ts";
import { printable } from "../names/printable.ts";

/** The extract command. */
export const extractCommand: Command = {
  name: "extract",
  summary: "extract entries of an image into a directory",
  usage: "--backup-image=FILE|- [--src-entry=PATH [--dst-entry=PATH]] [--backup-dir=DIR]",
  help: "Extracts every entry (with the manifest), or with --src-entry only that entry (or the " +
    "entries under that directory), into DIR (default: the current directory), refusing to " +
    "replace existing files unless --force. --dst-entry writes the single --src-entry to that " +
    "path instead. --keep-compressed writes each entry without decompressing it, as a " +
    "standard LZ4 frame (name + .lz4, read by `lz4 -d`) or, from a zstd image, as zstd frames " +
    "(name + .zst, read by `zstd -d`).",
  options: [
    "backup-image",
    "backup-dir",
    "src-entry",
    "dst-entry",
    "keep-compressed",
    ...IMAGE_READ_OPTIONS,
    "force",
    "no-sync",
  ],
  run: reported("extract", async (ctx, rep) => {
    const o = ctx.options;
    requireImage(o);
    if (o.dstEntry !== undefined && o.srcEntry === undefined) {
      throw new UsageError("--dst-entry needs --src-entry");
    }
    const select = o.srcEntry?.replace(/\/$/, "");
    if (select !== undefined) checkEntryPath(select, "--src-entry");
    // Every chunk is written out before the next is asked for.
    const img = await openImageOption(ctx, {
      mode: o.keepCompressed ? "keep-compressed" : "full",
      recycle: true,
      // --backup-dir is the output here: spools stay out of it.
      spoolDir: tmpdir(),
    });
    try {
      const destination = o.backupDir ?? ".";
      // A single --dst-entry names its own target; a directory must be empty (or --force).
      const root = await prepareDestination(
        destination,
        o.force || o.dstEntry !== undefined,
        (p) => ctx.report.info(`removed ${printable(p)}, left by an interrupted run`),
      );
      if (o.backupDir !== undefined && o.dstEntry === undefined) ctx.log?.openIn(root);
      const r = await dirSink({
        root,
        select: select === undefined ? undefined : (p) => isUnder(p, select),
        dstEntry: o.dstEntry,
        keptSuffix: o.keepCompressed && o.dstEntry === undefined,
        force: o.force,
        sync: o.noSync ? "none" : "each",
        manifest: o.srcEntry === undefined && !o.keepCompressed,
        signal: ctx.signal,
        onProgress: (done, total) =>
          ctx.report.progress({ label: "extracting", done, total, unit: "bytes" }),
      }).write(img);
      if (select !== undefined && r.entries === 0) {
        throw new UsageError(`no entry ${select} in the image`);
      }
      const body = {
        server: serverField(img.manifest.server),
        totals: { entries: r.entries, bytes: r.bytes },
        backupDir: destination,
        entries: r.entries,
        bytes: r.bytes,
      };
      return rep.finish("ok", body, {
        verb: "extracted",
        count: r.entries,
        noun: "entries",
        bytes: r.bytes,
        destination,
      });
    } finally {
      await img.close();
    }
  }),
};
