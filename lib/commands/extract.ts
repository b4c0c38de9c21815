/**
 * `extract`: write all or selected entries of an image into a directory, or one
 * entry to a chosen path; `--keep-compressed` writes entries as standard LZ4
 * frames that `lz4 -d` reads.
 */
import { IMAGE_READ_OPTIONS } from "./options.ts";
import type { Command } from "./command.ts";
import { UsageError } from "../errors.ts";
import { openImage } from "../image/reader.ts";
import { imageBytes, imageName } from "../image/image_io.ts";
import { prepareDestination } from "../backupdir/sink.ts";
import { unpackImage } from "../image/unpack.ts";
import { checkEntryPath } from "../image/names.ts";
import { codecThreads, keyForReading, requireImage } from "../image/command_support.ts";

/** The extract command. */
export const extractCommand: Command = {
  name: "extract",
  summary: "extract entries of an image into a directory",
  usage: "--backup-image=FILE|- [--src-entry=PATH [--dst-entry=PATH]] [--backup-dir=DIR]",
  help: "Extracts every entry (with the manifest), or with --src-entry only that entry (or the " +
    "entries under that directory), into DIR (default: the current directory), refusing to " +
    "replace existing files unless --force. --dst-entry writes the single --src-entry to that " +
    "path instead. --keep-compressed writes each entry as a standard LZ4 frame (name + .lz4) " +
    "without decompressing it, readable by `lz4 -d`.",
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
  async run({ options: o, report, signal, printJson }) {
    const image = requireImage(o);
    if (o.dstEntry !== undefined && o.srcEntry === undefined) {
      throw new UsageError("--dst-entry needs --src-entry");
    }
    if (o.srcEntry !== undefined) checkEntryPath(o.srcEntry.replace(/\/$/, ""), "--src-entry");
    const key = await keyForReading(o, report);
    const img = await openImage(imageBytes(image), {
      key,
      threads: codecThreads(o),
      name: imageName(image),
      mode: o.keepCompressed ? "keep-compressed" : "full",
      signal,
      recycle: true, // every chunk is written out before the next is asked for
    });
    try {
      const root = await prepareDestination(o.backupDir ?? ".", true);
      const r = await unpackImage(img, {
        root,
        select: o.srcEntry?.replace(/\/$/, ""),
        dstEntry: o.dstEntry,
        lz4Suffix: o.keepCompressed && o.dstEntry === undefined,
        force: o.force,
        sync: !o.noSync,
        whole: o.srcEntry === undefined && !o.keepCompressed,
        report,
        signal,
      });
      report.endProgress();
      if (o.json) printJson({ backupDir: o.backupDir ?? ".", ...r });
      report.info(`extracted ${r.entries} entries, ${r.bytes} bytes`);
      return 0;
    } finally {
      await img.close();
    }
  },
};
