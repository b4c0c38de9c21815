/**
 * `ibvault validate`: offline page-checksum validation of a backup directory, a
 * backup image, a stopped server's data directory, or tablespace files named on
 * the command line. Exit 0 when everything is valid, 1 when a page is corrupt,
 * 3 when a file could not be read (and nothing was corrupt).
 */
import fs from "node:fs";
import { join } from "node:path";
import { IMAGE_READ_OPTIONS } from "./options.ts";
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "../errors.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import {
  discoverBackupDir,
  discoverDatadir,
  type Discovered,
  discoverPaths,
} from "../innodb/discover.ts";
import { errorReport, validateFiles } from "../innodb/validator.ts";
import { validateEntries } from "../innodb/stream.ts";
import { type FileReport, summarize, type ValidationReport } from "../innodb/report.ts";
import { fileCrc32c, readManifest } from "../image/manifest_io.ts";
import { type Manifest, MANIFEST_FILE } from "../image/manifest.ts";
import { openImage } from "../image/reader.ts";
import { keyForReading } from "../image/command_support.ts";
import { imageBytes, imageName } from "../image/image_io.ts";
import {
  checkCompleteness,
  type CompletenessReport,
  describeCompleteness,
  type SeenEntry,
} from "../image/completeness.ts";
import { walkFiles } from "../backupdir/walk.ts";
import { sniffSource } from "../xbstream/detect.ts";
import { validateXbstream } from "../xbstream/validate.ts";

function shown(f: FileReport): string {
  return f.table ? `${f.name} (${f.table})` : f.name;
}

function listDir(dir: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UsageError(`${what} ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UsageError(`${what} ${dir} is not a directory`);
}

/** Print the per-file lines, the summary, the JSON; return the exit code. */
function render(ctx: CommandContext, run: ValidationReport): number {
  const { report, options } = ctx;
  report.endProgress();
  const others = run.files.filter((f) => f.status === "not-validated");
  if (options.verbose || others.length <= 10) {
    for (const f of others) report.info(`${shown(f)}: not validated (not an InnoDB tablespace)`);
  } else {
    const exts = new Map<string, number>();
    for (const f of others) {
      const ext = /\.[^./]+$/.exec(f.name)?.[0] ?? "(no extension)";
      exts.set(ext, (exts.get(ext) ?? 0) + 1);
    }
    const list = [...exts].map(([e, n]) => `${n} ${e}`).join(", ");
    report.info(
      `${others.length} files not validated (not InnoDB tablespaces: ${list}); --verbose lists them`,
    );
  }
  for (const f of run.files) {
    if (f.status === "not-validated") {
      continue;
    } else if (f.status === "error") {
      report.error(`cannot validate ${shown(f)}: ${f.error}`);
    } else if (f.status === "corrupt") {
      report.error(
        `${shown(f)} is corrupt and has : ${
          f.atLeast ? "at least " : ""
        }${f.corruptPages} corrupt pages`,
      );
      if (options.verbose) {
        for (const c of f.corrupt) report.info(`  ${f.name} page ${c.page}: ${c.reason}`);
      }
    } else if (options.verbose) {
      report.info(
        `${shown(f)}: ${f.pages} pages valid (${f.format}, ${f.flavour ?? "empty"})` +
          (f.skippedPages ? `, ${f.skippedPages} doublewrite pages skipped` : ""),
      );
    }
  }
  const t = run.totals;
  report.info(
    `validated ${t.validated} of ${t.files} files: ${t.pages} pages, ${t.corruptPages} corrupt pages` +
      ` in ${t.corruptFiles} files, ${t.unreadableFiles} unreadable, ${t.notValidated} not InnoDB;` +
      ` ${(t.bytes / 1e6).toFixed(1)} MB in ${t.seconds.toFixed(2)} s (${
        t.mbPerSecond.toFixed(0)
      } MB/s)`,
  );
  if (options.json) ctx.printJson(run);
  if (t.corruptFiles > 0) return 1;
  if (t.unreadableFiles > 0) return 3;
  if (t.validated === 0) {
    report.error("no InnoDB files found to validate");
    return 3;
  }
  return 0;
}

function notValidated(names: string[]): FileReport[] {
  return names.map((n) => {
    const r = errorReport({ path: n, name: n }, "");
    r.status = "not-validated";
    delete r.error;
    return r;
  });
}

/** Files validated, the algorithm used, and the image's completeness verdict. */
interface ImageRun {
  files: FileReport[];
  algorithmName: string;
  completeness?: CompletenessReport;
  /** Findings about the container itself (xbstream), each an error. */
  problems?: string[];
  /** JSON fields to add (xbstream). */
  extra?: Record<string, unknown>;
}

async function runImage(ctx: CommandContext, image: string): Promise<ImageRun> {
  const o = ctx.options;
  const key = await keyForReading(o, ctx.report);
  const sniffed = await sniffSource(imageBytes(image));
  if (sniffed.xbstream) return await runXbstream(ctx, sniffed.bytes, imageName(image));
  const opened = await openImage(sniffed.bytes, {
    key,
    threads: Math.max(1, o.threads | 0),
    name: imageName(image),
    signal: ctx.signal,
    // validateEntries copies each chunk into its page buffer before asking for the next.
    recycle: true,
  });
  try {
    const algo = parseAlgorithm(
      o.innodbChecksumAlgorithm ?? opened.manifest.server?.checksumAlgorithm,
    );
    const files = await validateEntries(opened.entries(), {
      algorithm: algo,
      threshold: o.pageCorruptThreshold,
      signal: ctx.signal,
      onProgress: (done) => ctx.report.progress({ label: "validate", done, unit: "bytes" }),
    });
    return {
      files,
      algorithmName: algo.name,
      completeness: checkCompleteness(opened.manifest, opened.seen),
    };
  } finally {
    await opened.close();
  }
}

/** An xbstream (mariadb-backup/xtrabackup): container and page checks, hot-copy allowances said. */
async function runXbstream(
  ctx: CommandContext,
  bytes: AsyncIterable<Uint8Array>,
  name: string,
): Promise<ImageRun> {
  const algo = parseAlgorithm(ctx.options.innodbChecksumAlgorithm);
  const v = await validateXbstream(bytes, {
    algorithm: algo,
    threshold: ctx.options.pageCorruptThreshold,
    signal: ctx.signal,
    name,
    onProgress: (done) => ctx.report.progress({ label: "validate", done, unit: "bytes" }),
  });
  ctx.report.endProgress();
  ctx.report.info(`${name}: xbstream, ${v.stream.chunks} chunks, ${v.files.length} files`);
  for (const n of v.notes) ctx.report.info(n);
  const { files: _f, ...xbstream } = v;
  return {
    files: v.files,
    algorithmName: algo.name,
    problems: v.problems,
    extra: { format: "xbstream", xbstream },
  };
}

/**
 * A backup directory against its manifest: every regular file (the manifest
 * aside) with its size and CRC-32C, compared with the listed entries.
 */
async function dirCompleteness(dir: string, manifest: Manifest): Promise<CompletenessReport> {
  const found = await walkFiles(dir, { skip: (rel) => rel === MANIFEST_FILE });
  const sizes = new Map(manifest.entries.map((e) => [e.path, e.size]));
  const seen = new Map<string, SeenEntry>();
  for (const f of found) {
    // The CRC is only worth reading the file for when the size already agrees.
    const crc32c = sizes.get(f.path) === f.size
      ? await fileCrc32c(join(dir, ...f.path.split("/")))
      : undefined;
    seen.set(f.path, { size: f.size, crc32c });
  }
  return checkCompleteness(manifest, seen);
}

async function run(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const sources = [o.backupDir, o.datadir, o.backupImage].filter((x) => x !== undefined).length +
    (ctx.args.length ? 1 : 0);
  if (sources === 0) {
    throw new UsageError(
      "validate needs --backup-dir=DIR, --backup-image=FILE, --datadir=DIR or tablespace files",
    );
  }
  if (sources > 1) {
    throw new UsageError(
      "give only one of --backup-dir, --backup-image, --datadir or tablespace files",
    );
  }
  const start = performance.now();
  let algoName = o.innodbChecksumAlgorithm;
  let files: FileReport[];
  let completeness: CompletenessReport | undefined;
  let streamProblems: string[] = [];
  let extra: Record<string, unknown> | undefined;
  if (o.backupImage !== undefined) {
    const r = await runImage(ctx, o.backupImage);
    files = r.files;
    algoName = r.algorithmName;
    completeness = r.completeness;
    streamProblems = r.problems ?? [];
    extra = r.extra;
  } else {
    let found: Discovered;
    if (o.backupDir !== undefined) {
      listDir(o.backupDir, "backup directory");
      const manifest = await readManifest(o.backupDir);
      algoName ??= manifest?.server?.checksumAlgorithm;
      if (manifest) completeness = await dirCompleteness(o.backupDir, manifest);
      found = discoverBackupDir(o.backupDir);
    } else if (o.datadir !== undefined) {
      listDir(o.datadir, "data directory");
      found = discoverDatadir(o.datadir);
    } else {
      found = discoverPaths(ctx.args);
    }
    const algo = parseAlgorithm(algoName);
    algoName = algo.name;
    const validated = await validateFiles(found.inputs, {
      threads: Math.max(1, o.threads | 0),
      algorithm: algo,
      threshold: o.pageCorruptThreshold,
      signal: ctx.signal,
      onProgress: (done, total) =>
        ctx.report.progress({ label: "validate", done, total, unit: "bytes" }),
    });
    files = [...validated, ...notValidated(found.notValidated)];
  }
  const seconds = (performance.now() - start) / 1000;
  const summary = summarize(parseAlgorithm(algoName).name, files, seconds);
  if (completeness) Object.assign(summary, { completeness });
  if (extra) Object.assign(summary, extra);
  const code = render(ctx, summary);
  const problems = [...streamProblems, ...(completeness ? describeCompleteness(completeness) : [])];
  for (const p of problems) ctx.report.error(p);
  return problems.length ? 1 : code;
}

/** The `validate` command. */
export const validateCommand: Command = {
  name: "validate",
  summary: "check InnoDB page checksums offline (backup dir, image, datadir or .ibd files)",
  usage: "[--backup-dir=DIR | --backup-image=FILE | --datadir=DIR | FILE.ibd ...]",
  help: "Reads InnoDB tablespaces offline and reports every corrupt page with the verdict " +
    "the server would reach: checksum (crc32, innodb, none, full_crc32, and the " +
    "ROW_FORMAT=COMPRESSED checksums), the LSN copy in the page trailer, and the page " +
    "number. A backup directory or image is also checked against its manifest: missing, " +
    "truncated, altered (CRC-32C) and unexpected entries are reported by name. The algorithm comes from the backup's recorded server settings unless " +
    "--innodb-checksum-algorithm is given; without either, any flavour is accepted.\n\n" +
    "Exit status: 0 all valid, 1 corruption found or an entry missing, truncated, altered " +
    "or unexpected, 3 a file could not be read.",
  options: [
    "backup-dir",
    "backup-image",
    "datadir",
    "innodb-checksum-algorithm",
    "page-corrupt-threshold",
    ...IMAGE_READ_OPTIONS,
  ],
  run,
};
