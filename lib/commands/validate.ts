/**
 * `ibvault validate`: offline page-checksum validation of a backup directory, a
 * backup image, a stopped server's data directory, or tablespace files named on
 * the command line. Exit 0 when everything is valid, 1 when a page is corrupt,
 * 3 when a file could not be read (and nothing was corrupt).
 */
import { IMAGE_READ_OPTIONS } from "./options.ts";
import type { Command, CommandContext } from "./command.ts";
import { openImageOrXbstream } from "./open_source.ts";
import { imageWorkDir, tempDirOf } from "./work_dir.ts";
import { rebuildingSource } from "../delta/rebuild_source.ts";
import {
  type DeltaVerdict,
  incrementalVerdict,
  validatingDeltas,
} from "../delta/validate_delta.ts";
import type { Manifest } from "../core/manifest.ts";
import { serverField } from "./report_fields.ts";
import { reported, type RunReport, type RunStatus } from "./run_report.ts";
import { UsageError } from "../errors.ts";
import { type CompletenessReport, describeCompleteness } from "../core/completeness.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import { keyFinder } from "../innodb/key_source.ts";
import { validationSink } from "../innodb/validate_sink.ts";
import { type FileReport, RunTally, type ValidationReport } from "../innodb/report.ts";
import {
  backupDirTablespaces,
  datadirTablespaces,
  listedTablespaces,
} from "../backupdir/tablespaces.ts";
import { validateInPlace } from "../framed/in_place.ts";
import { validateXbstream } from "../xbstream/validate.ts";
import { printable } from "../names/printable.ts";
import { expectedBytes } from "../core/manifest.ts";

function shown(f: FileReport): string {
  return printable(f.table ? `${f.name} (${f.table})` : f.name);
}

/** Print the per-file lines. */
function renderFiles(ctx: CommandContext, run: ValidationReport, tally: RunTally): void {
  const { report, options } = ctx;
  report.endProgress();
  for (const f of run.files) {
    if (f.status === "not-validated" && f.note) report.info(`${shown(f)}: ${f.note}`);
  }
  const others = run.files.filter((f) => f.status === "not-validated" && !f.note);
  let otherCount = 0;
  for (const n of tally.otherExtensions.values()) otherCount += n;
  if (options.verbose || otherCount <= 10) {
    for (const f of others) report.info(`${shown(f)}: not validated (not an InnoDB tablespace)`);
  } else {
    const list = [...tally.otherExtensions].map(([e, n]) => `${n} ${e}`).join(", ");
    report.info(
      `${otherCount} files not validated (not InnoDB tablespaces: ${list}); --verbose lists them`,
    );
  }
  for (const f of run.files) {
    if (f.status === "not-validated") {
      continue;
    } else if (f.status === "error") {
      report.error(`cannot validate ${shown(f)}: ${f.error}`);
    } else if (f.status === "corrupt") {
      // MySQL Enterprise Backup's wording, " : " included, kept on purpose: scripts grep for it.
      report.error(
        `${shown(f)} is corrupt and has : ${
          f.atLeast ? "at least " : ""
        }${f.corruptPages} corrupt pages`,
      );
      if (options.verbose) {
        for (const c of f.corrupt) report.info(`  ${f.name} page ${c.page}: ${c.reason}`);
      }
    }
    if (f.encryptedNotVerified) {
      report.info(
        `${shown(f)}: encrypted: ${f.encryptedNotVerified} pages not verified (${
          f.keyProblem ?? "no key: give --keyring-file, or put the table's .cfp beside it"
        })`,
      );
    }
    if (f.status === "valid" && options.verbose) {
      report.info(
        `${shown(f)}: ${f.pages} pages valid (${f.format}, ${f.flavour ?? "empty"})` +
          (f.skippedPages ? `, ${f.skippedPages} doublewrite pages skipped` : ""),
      );
    }
  }
}

/** The summary line, the document, and what is wrong after it; returns the exit code. */
function finish(rep: RunReport, run: ValidationReport, problems: string[]): number {
  const t = run.totals;
  const status: RunStatus = t.corruptFiles > 0 || problems.length
    ? "corrupt"
    : t.unreadableFiles > 0 || t.validated === 0
    ? "error"
    : "ok";
  const code = rep.finish(status, { ...run }, {
    verb: "validated",
    count: `${t.validated} of ${t.files}`,
    noun: "files",
    details: `${t.pages} pages, ${t.corruptPages} corrupt pages in ${t.corruptFiles} files, ` +
      `${t.unreadableFiles} unreadable, ${t.notValidated} not InnoDB` +
      (t.encryptedNotVerified ? `, encrypted: ${t.encryptedNotVerified} pages not verified` : ""),
    bytes: t.bytes,
    extra: `${t.mbPerSecond.toFixed(0)} MB/s`,
  });
  if (t.validated === 0 && t.corruptFiles === 0 && t.unreadableFiles === 0) {
    rep.report.error("no InnoDB files found to validate");
  }
  for (const p of problems) rep.report.error(p);
  return code;
}

/** Files validated, the algorithm used, and the image's completeness verdict. */
interface ImageRun {
  files: FileReport[];
  algorithmName: string;
  completeness?: CompletenessReport;
  /** Findings about the container itself (xbstream), each an error. */
  problems?: string[];
  /** JSON fields to add (xbstream; the server an image records). */
  extra?: Record<string, unknown>;
  /** An incremental's deltas, checked on their own, and what that could not check. */
  deltas?: { verdicts: DeltaVerdict[]; manifest: Manifest };
}

async function runImage(ctx: CommandContext): Promise<ImageRun> {
  const o = ctx.options;
  // validateEntries copies each chunk into its page buffer before asking for the next.
  const source = await openImageOrXbstream(ctx, { recycle: true });
  if (source.kind === "xbstream") return await runXbstream(ctx, source.bytes, source.name);
  // hot copies are judged with their deltas, without a spool; an incremental's deltas on their own
  const rebuilt = rebuildingSource(source, tempDirOf(o), { pairsAsStored: true });
  try {
    const algo = parseAlgorithm(
      o.innodbChecksumAlgorithm ?? source.manifest.server?.checksumAlgorithm,
    );
    const verdicts: DeltaVerdict[] = [];
    const r = await validationSink({
      algorithm: algo,
      threshold: o.pageCorruptThreshold,
      signal: ctx.signal,
      hotCopies: rebuilt.hotCopies,
      onProgress: (done) =>
        ctx.report.progress({
          label: "validate",
          done,
          total: expectedBytes(source.manifest),
          unit: "bytes",
        }),
    }).write({
      name: rebuilt.name,
      get manifest() {
        return rebuilt.manifest;
      },
      get seen() {
        return rebuilt.seen;
      },
      entries: (sel) =>
        validatingDeltas(
          rebuilt.entries(sel),
          algo,
          verdicts,
          o.pageCorruptThreshold,
          rebuilt.hotCopies,
        ),
      close: () => rebuilt.close(),
    });
    return {
      ...r,
      files: [...r.files, ...verdicts.map((v) => v.report)],
      algorithmName: algo.name,
      deltas: { verdicts, manifest: rebuilt.manifest },
      extra: { server: serverField(rebuilt.manifest.server) },
    };
  } finally {
    await rebuilt.close();
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
 * Exactly one thing to validate (UsageError otherwise); with --backup-image,
 * --backup-dir is MEB's working directory, not a second source, and gets the run log.
 */
function checkSources(ctx: CommandContext): void {
  const o = ctx.options;
  const work = imageWorkDir(o);
  const dir = work === undefined ? o.backupDir : undefined;
  const sources = [dir, o.datadir, o.backupImage].filter((x) => x !== undefined).length +
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
  if (work !== undefined) ctx.log?.openIn(work);
}

const run = reported("validate", async (ctx, rep) => {
  const o = ctx.options;
  checkSources(ctx);
  const start = performance.now();
  let algoName = o.innodbChecksumAlgorithm;
  let files: FileReport[];
  const tally = new RunTally();
  let completeness: CompletenessReport | undefined;
  let streamProblems: string[] = [];
  let extra: Record<string, unknown> | undefined;
  let deltas: { verdicts: DeltaVerdict[]; manifest: Manifest; where: string } | undefined;
  if (o.backupImage !== undefined) {
    const r = await runImage(ctx);
    files = r.files;
    algoName = r.algorithmName;
    completeness = r.completeness;
    streamProblems = r.problems ?? [];
    extra = r.extra;
    if (r.deltas) deltas = { ...r.deltas, where: o.backupImage };
  } else {
    const source = o.backupDir !== undefined
      ? await backupDirTablespaces(o.backupDir)
      : o.datadir !== undefined
      ? await datadirTablespaces(o.datadir, (m) => ctx.report.warn(m))
      : listedTablespaces(ctx.args);
    completeness = source.completeness;
    if (source.manifest) {
      extra = { server: serverField(source.manifest.server) };
      // A backup directory may be an incremental: its deltas are checked on their own.
      deltas = { verdicts: [], manifest: source.manifest, where: source.root };
    }
    const algo = parseAlgorithm(algoName ?? source.manifest?.server?.checksumAlgorithm);
    algoName = algo.name;
    const r = await validateInPlace(source, {
      keys: keyFinder(o.keyringFile),
      threads: Math.max(1, o.threads | 0),
      algorithm: algo,
      threshold: o.pageCorruptThreshold,
      signal: ctx.signal,
      onProgress: (done, total) =>
        ctx.report.progress({ label: "validate", done, total, unit: "bytes" }),
      // Reports of valid files are kept only when they will be shown (--json, --verbose):
      // memory stays flat over any number of files.
      keepAll: o.json || o.verbose,
      tally,
      deltas: deltas?.verdicts,
    });
    streamProblems = r.problems;
    files = r.files;
  }
  if (deltas) {
    const v = incrementalVerdict(deltas.manifest, deltas.where, deltas.verdicts);
    if (v.note) ctx.report.info(v.note);
    streamProblems.push(...v.problems);
  }
  const seconds = (performance.now() - start) / 1000;
  if (o.backupImage !== undefined) { for (const f of files) tally.add(f); }
  const summary = tally.report(parseAlgorithm(algoName).name, files, seconds);
  if (completeness) Object.assign(summary, { completeness });
  if (extra) Object.assign(summary, extra);
  renderFiles(ctx, summary, tally);
  const problems = [...streamProblems, ...(completeness ? describeCompleteness(completeness) : [])];
  return finish(rep, summary, problems);
});

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
    "--innodb-checksum-algorithm is given; without either, any flavour is accepted. " +
    "MariaDB-encrypted pages are checked by their post-encryption checksum; MySQL " +
    "keyring-encrypted pages are decrypted and verified with --keyring-file or the table's " +
    ".cfp, else counted as 'encrypted: N pages not verified'; MySQL page-compressed pages " +
    "are inflated and verified. Undo and system tablespaces are recognised by content. " +
    "With --backup-image, --backup-dir is MEB's working directory (the run log's meta/), " +
    "not a second source.\n\n" +
    "Exit status: 0 all valid, 1 corruption found or an entry missing, truncated, altered " +
    "or unexpected, 3 a file could not be read.",
  options: [
    "backup-dir",
    "backup-image",
    "datadir",
    "innodb-checksum-algorithm",
    "page-corrupt-threshold",
    "keyring-file",
    ...IMAGE_READ_OPTIONS,
  ],
  run,
};
