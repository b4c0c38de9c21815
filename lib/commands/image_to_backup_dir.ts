/**
 * `image-to-backup-dir`: unpack an image (a file or stdin) into a backup
 * directory, checked against the image's manifest.
 */
import { IMAGE_READ_OPTIONS } from "./options.ts";
import type { Command } from "./command.ts";
import { UsageError } from "../errors.ts";
import { openImage } from "../image/reader.ts";
import { imageBytes, imageName } from "../image/image_io.ts";
import { prepareDestination } from "../backupdir/sink.ts";
import { unpackImage } from "../image/unpack.ts";
import { codecThreads, keyForReading, requireImage } from "../image/command_support.ts";

/** The image-to-backup-dir command. */
export const imageToBackupDirCommand: Command = {
  name: "image-to-backup-dir",
  summary: "unpack an image into a backup directory",
  usage: "--backup-image=FILE|- --backup-dir=DIR [--key-file=FILE]",
  help: "Reads the image (- reads stdin) strictly in order, verifies every chunk (checksum, " +
    "and authentication when encrypted), and writes each file under DIR through a temporary " +
    "name. DIR must be empty or absent unless --force. The manifest is written last, after " +
    "every entry was checked against it. Compression is detected by itself (--uncompress is " +
    "accepted); an encrypted image needs its key.",
  options: [
    "backup-image",
    "backup-dir",
    ...IMAGE_READ_OPTIONS,
    "force",
    "no-sync",
  ],
  async run({ options: o, report, signal, printJson }) {
    const image = requireImage(o);
    if (!o.backupDir) throw new UsageError("--backup-dir=DIR is required");
    const key = await keyForReading(o, report);
    const img = await openImage(imageBytes(image), {
      key,
      threads: codecThreads(o),
      name: imageName(image),
      signal,
      recycle: true, // every chunk is written out before the next is asked for
    });
    try {
      if (!img.header.encrypted && key) {
        report.warn(`${imageName(image)} is not encrypted: the key is not needed`);
      }
      const root = await prepareDestination(o.backupDir, o.force);
      const r = await unpackImage(img, {
        root,
        lz4Suffix: false,
        force: o.force,
        sync: !o.noSync,
        whole: true,
        report,
        signal,
      });
      report.endProgress();
      if (o.json) printJson({ backupDir: o.backupDir, ...r });
      report.info(`wrote ${r.entries} entries, ${r.bytes} bytes to ${o.backupDir}`);
      return 0;
    } finally {
      await img.close();
    }
  },
};
