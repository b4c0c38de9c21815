/**
 * `backup-dir-to-image`: write a backup directory (or any directory) as one
 * image file or to stdout: the directory source (a directory without a manifest
 * gets one built from its files) piped into the image sink.
 */
import { IMAGE_WRITE_OPTIONS } from "./options.ts";
import type { Command } from "./command.ts";
import { codecThreads, compressionFor, keyForWriting, requireImage } from "./image_options.ts";
import { reported } from "./run_report.ts";
import { serverField } from "./report_fields.ts";
import { UsageError } from "../errors.ts";
import { MANIFEST_FILE } from "../core/manifest.ts";
import { checkCompleteness, describeCompleteness } from "../core/completeness.ts";
import { openDirSource } from "../backupdir/source.ts";
import { imageSink } from "../image/sink.ts";
import { pageAudit } from "../innodb/page_audit.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import { printable } from "../names/printable.ts";
import type { Source } from "../source.ts";
import type { FileEntry } from "../entry.ts";

/** The backup-dir-to-image command. */
export const backupDirToImageCommand: Command = {
  name: "backup-dir-to-image",
  summary: "write a backup directory (or any directory) as a single image",
  usage: "--backup-dir=DIR --backup-image=FILE|- [--compress] [--encrypt --key-file=FILE]",
  help: "Reads every regular file under DIR and writes them, after the manifest, as one image " +
    "(- writes to stdout, e.g. to pipe over ssh). A directory without ibvault_manifest.json is " +
    "imaged as plain files: a manifest is built from them (sizes and CRC-32C). --compress " +
    "compresses each chunk with LZ4 (--compress-method=zstd: zstd, --compress-level=N); --encrypt encrypts and authenticates each chunk with " +
    "AES-256-CBC and HMAC-SHA256 under a key from --key-file, --key-env or --key.",
  options: [
    "backup-dir",
    ...IMAGE_WRITE_OPTIONS,
    "force",
    "skip-page-check",
    "innodb-checksum-algorithm",
  ],
  run: reported("backup-dir-to-image", async (ctx, rep) => {
    const o = ctx.options;
    const image = requireImage(o);
    const compress = compressionFor(o, ctx.report);
    const key = await keyForWriting(o, ctx.report);
    const dir = o.backupDir!;
    const source = await openDirSource(dir, {
      manifest: "build",
      onOther: (rel) => ctx.report.warn(`${rel}: not a regular file, left out`),
      onBuilt: () => ctx.report.info(`${dir} has no ${MANIFEST_FILE}: imaging it as plain files`),
    });
    // The run log goes into an ibvault backup's meta/ (never into a plain directory).
    if (source.hadManifest) ctx.log?.openIn(dir);
    if (source.hadManifest) {
      const sizes = new Map(source.files.map((f) => [f.path, { size: f.size }]));
      for (const line of describeCompleteness(checkCompleteness(source.manifest, sizes))) {
        ctx.report.warn(`${dir}: ${line}`);
      }
    }
    const total = source.files.reduce((s, f) => s + f.size, 0);
    // The image is a copy of what is there; corrupt pages make the run exit 1.
    const audit = o.skipPageCheck ? undefined : pageAudit(
      parseAlgorithm(o.innodbChecksumAlgorithm ?? source.manifest.server?.checksumAlgorithm),
    );
    const r = await imageSink({
      target: image,
      compress,
      key,
      threads: codecThreads(o),
      force: o.force,
      sync: !o.noSync,
      signal: ctx.signal,
      onProgress: (done) => ctx.report.progress({ label: "imaging", done, total, unit: "bytes" }),
      onAltered: (path, crc, want) =>
        ctx.report.warn(
          `${path}: content differs from the manifest (CRC-32C ${crc}, listed ${want})`,
        ),
    }).write(audit ? auditedSource(source, audit.wrap) : source);
    for (const p of audit?.problems ?? []) ctx.report.error(`${printable(p)}`);
    const corrupt = (audit?.problems.length ?? 0) > 0;
    if (corrupt) {
      ctx.report.error(
        `${dir} has corrupt pages: the image holds them as they are (--skip-page-check to not check)`,
      );
    }
    return rep.finish(corrupt ? "corrupt" : "ok", {
      server: serverField(source.manifest.server),
      totals: {
        tables: source.manifest.tables.length,
        entries: source.files.length,
        bytes: total,
        imageBytes: r.imageBytes,
        corruptPages: audit?.problems.length ?? 0,
      },
      corruptPages: audit?.problems ?? [],
      image,
      entries: source.files.length,
      bytes: total,
      imageBytes: r.imageBytes,
      compressed: o.compress,
      encrypted: key !== undefined,
      altered: r.altered,
    }, {
      verb: "wrote",
      count: source.files.length,
      noun: "entries",
      bytes: total,
      destination: r.destination,
      extra: `${r.imageBytes} image bytes`,
    });
  }, {
    stdoutTaken: (ctx) => {
      if (!ctx.options.backupDir) throw new UsageError("--backup-dir=DIR is required");
      return ctx.options.backupImage === "-";
    },
  }),
};

/** `source` with each entry passed through `wrap`. */
function auditedSource(source: Source, wrap: (e: FileEntry) => FileEntry): Source {
  return {
    name: source.name,
    manifest: source.manifest,
    get seen() {
      return source.seen;
    },
    async *entries(select) {
      for await (const e of source.entries(select)) yield wrap(e);
    },
    close: () => source.close(),
  };
}
