/**
 * `backup-dir-to-image`: write a backup directory (or any directory) as one
 * image file or to stdout. A directory without a manifest gets one built from
 * its files.
 */
import { IMAGE_WRITE_OPTIONS } from "./options.ts";
import type { Command } from "./command.ts";
import { UsageError } from "../errors.ts";
import { MANIFEST_FILE } from "../image/manifest.ts";
import { buildManifest, readManifest } from "../image/manifest_io.ts";
import { walkFiles } from "../backupdir/walk.ts";
import { directoryEntries } from "../backupdir/source.ts";
import { PART_SUFFIX } from "../backupdir/sink.ts";
import { writeImage } from "../image/writer.ts";
import { writeImageBytes } from "../image/image_io.ts";
import { codecThreads, keyForWriting, requireImage } from "../image/command_support.ts";
import { checkCompleteness, describeCompleteness } from "../image/completeness.ts";

/** The backup-dir-to-image command. */
export const backupDirToImageCommand: Command = {
  name: "backup-dir-to-image",
  summary: "write a backup directory (or any directory) as a single image",
  usage: "--backup-dir=DIR --backup-image=FILE|- [--compress] [--encrypt --key-file=FILE]",
  help: "Reads every regular file under DIR and writes them, after the manifest, as one image " +
    "(- writes to stdout, e.g. to pipe over ssh). A directory without ibvault_manifest.json is " +
    "imaged as plain files: a manifest is built from them (sizes and CRC-32C). --compress " +
    "compresses each chunk with LZ4; --encrypt encrypts and authenticates each chunk with " +
    "AES-256-CBC and HMAC-SHA256 under a key from --key-file, --key-env or --key.",
  options: [
    "backup-dir",
    ...IMAGE_WRITE_OPTIONS,
    "force",
  ],
  async run({ options: o, report, signal, printJson }) {
    if (!o.backupDir) throw new UsageError("--backup-dir=DIR is required");
    const image = requireImage(o);
    const key = await keyForWriting(o, report);
    const dir = o.backupDir;
    const files = await walkFiles(dir, {
      skip: (rel) => rel === MANIFEST_FILE || rel.endsWith(PART_SUFFIX),
      onOther: (rel) => report.warn(`${rel}: not a regular file, left out`),
    });
    let manifest = await readManifest(dir);
    if (manifest) {
      const r = checkCompleteness(manifest, new Map(files.map((f) => [f.path, { size: f.size }])));
      for (const line of describeCompleteness(r)) report.warn(`${dir}: ${line}`);
    } else {
      report.info(`${dir} has no ${MANIFEST_FILE}: imaging it as plain files`);
      manifest = await buildManifest(dir, files);
    }
    const listed = new Map(manifest.entries.map((e) => [e.path, e.crc32c]));
    const total = files.reduce((s, f) => s + f.size, 0);
    let altered = 0;
    const bytes = writeImage(manifest, directoryEntries(dir, files), {
      compress: o.compress,
      key,
      threads: codecThreads(o),
      signal,
      onProgress: (done) => report.progress({ label: "imaging", done, total, unit: "bytes" }),
      onEntry: (path, _size, crc) => {
        const want = listed.get(path);
        if (want && want !== crc) {
          altered++;
          report.warn(
            `${path}: content differs from the manifest (CRC-32C ${crc}, listed ${want})`,
          );
        }
      },
    });
    const written = await writeImageBytes(image, bytes, o.force, !o.noSync);
    report.endProgress();
    const summary = {
      image,
      entries: files.length,
      bytes: total,
      imageBytes: written,
      compressed: o.compress,
      encrypted: key !== undefined,
      altered,
    };
    if (o.json && image !== "-") printJson(summary);
    report.info(
      `wrote ${files.length} entries, ${total} bytes as ${written} image bytes to ${
        image === "-" ? "stdout" : image
      }`,
    );
    return 0;
  },
};
