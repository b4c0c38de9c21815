/**
 * `backup`: a transportable-tablespace backup of the selected tables of a live
 * server into a backup directory. Also the pieces `backup-to-image` shares:
 * selecting tables, opening the export, the manifest, the summary.
 */
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Connection } from "mysql2/promise";
import type { Command, CommandContext } from "./command.ts";
import type { Options } from "./options.ts";
import { IoError, UsageError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import { type Manifest, MANIFEST_FILE, type ServerFacts } from "../image/manifest.ts";
import { VERSION } from "../version.ts";
import { compileTableFilter, type TableFilter } from "../names/filter.ts";
import { decodeArgument } from "../names/charset.ts";
import { quoteTable } from "../names/quote.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import { connect } from "../server/connection.ts";
import { readServerFacts } from "../server/facts.ts";
import { selectTables, type TableSelection } from "../server/tables.ts";
import { openTtsExport, pageChecker, type TtsExport } from "../server/export.ts";
import {
  prepareDestination,
  syncDirectory,
  syncFiles,
  targetPath,
  writeAtomically,
} from "../backupdir/sink.ts";
import { formatBytes } from "../progress/reporter.ts";
import { timestampedDir } from "../retention/timestamp.ts";

/** Connection options every server command accepts. */
export const CONNECTION_OPTIONS = ["user", "password", "host", "port", "socket"];

/** Options `backup` and `backup-to-image` share. */
export const BACKUP_OPTIONS = [
  ...CONNECTION_OPTIONS,
  "datadir",
  "include-tables",
  "exclude-tables",
  "default-character-set",
  "lock-per-table",
  "strict",
  "skip-page-check",
  "force",
  "no-sync",
];

/** Help paragraphs `backup` and `backup-to-image` share. */
export const BACKUP_HELP = `
Tables are chosen by name from the server (information_schema): --include-tables
and --exclude-tables match db.tbl in four forms (db.tbl, \`db\`.tbl, db.\`tbl\`,
\`db\`.\`tbl\`). Only InnoDB tables with a tablespace of their own can be taken;
others (other engines, views, tables in the system or a general tablespace) are
listed with the reason and skipped, or fail the run with --strict. A partitioned
table is taken with all its partitions or skipped whole.

All selected tables are locked at once with FLUSH TABLES ... FOR EXPORT, so the
backup is consistent across them; writes to other tables go on. Their .ibd and
.cfg files are read from the data directory (ibvault must run on the database host
as a user who can read it; --datadir if the server sees it under another path),
every page checksummed as it is copied (--skip-page-check to not), then UNLOCK
TABLES. --lock-per-table locks, copies and unlocks one table at a time: shorter
locks, but the tables are no longer consistent with each other.`;

/** A selected, connected backup ready to export. */
export interface BackupPlan {
  conn: Connection;
  facts: ServerFacts;
  selection: TableSelection;
}

/** Describe a table for messages: `` `db`.`tbl` ``. */
export function tableLabel(database: string, name: string): string {
  return quoteTable(database, name);
}

/** The table selection of the command line: the filter and the expressions as decoded. */
export interface SelectionSpec {
  filter: TableFilter;
  include?: string;
  exclude?: string;
}

/**
 * Decode (--default-character-set) and compile --include-tables/--exclude-tables;
 * an invalid expression is a UsageError quoting it. Runs before anything is touched.
 */
export function selectionSpec(o: Options): SelectionSpec {
  const cs = o.defaultCharacterSet;
  const include = o.includeTables === undefined
    ? undefined
    : decodeArgument(o.includeTables, cs, "--include-tables");
  const exclude = o.excludeTables === undefined
    ? undefined
    : decodeArgument(o.excludeTables, cs, "--exclude-tables");
  return { filter: compileTableFilter({ include, exclude }), include, exclude };
}

/**
 * Connect, read the server facts and select the tables, reporting skips. Throws
 * UsageError when the selection is empty (naming the expressions) or, with
 * `--strict`, when a table had to be skipped. The caller ends `conn`.
 */
export async function planBackup(ctx: CommandContext, spec: SelectionSpec): Promise<BackupPlan> {
  const o = ctx.options;
  const { filter, include, exclude } = spec;
  const conn = await connect(o);
  try {
    const facts = await readServerFacts(conn, { datadir: o.datadir });
    const selection = await selectTables(conn, facts, filter, include !== undefined);
    for (const s of selection.skipped) {
      ctx.report.warn(`skipping ${tableLabel(s.database, s.name)}: ${s.reason}`);
    }
    if (selection.skipped.length > 0 && o.strict) {
      throw new UsageError(
        `--strict: ${selection.skipped.length} selected table(s) cannot be backed up: ` +
          selection.skipped.map((s) => `${tableLabel(s.database, s.name)} (${s.reason})`)
            .join(", "),
      );
    }
    if (selection.tables.length === 0) {
      const exprs = [
        include !== undefined ? `--include-tables=${JSON.stringify(include)}` : "",
        exclude !== undefined ? `--exclude-tables=${JSON.stringify(exclude)}` : "",
      ].filter(Boolean).join(" ") || "(no --include-tables: all tables)";
      const why = selection.skipped.length > 0
        ? `: the ${selection.skipped.length} table(s) it matched cannot be backed up`
        : "";
      throw new UsageError(`no table to back up matches ${exprs}${why}`);
    }
    return { conn, facts, selection };
  } catch (err) {
    await endQuietly(conn);
    throw err;
  }
}

/** Close a connection, ignoring errors (it may already be gone). */
export async function endQuietly(conn: Connection): Promise<void> {
  try {
    await conn.end();
  } catch {
    conn.destroy();
  }
}

/** Open the export of a plan with the command's options: page checks, progress, lock log. */
export async function openExport(
  ctx: CommandContext,
  plan: BackupPlan,
  extra: { crc?: boolean } = {},
): Promise<TtsExport> {
  const o = ctx.options;
  const names = new Map<string, string>();
  const ordinal = new Map<string, number>();
  plan.selection.tables.forEach((t, i) => {
    for (const s of t.stems) {
      names.set(`${s}.ibd`, tableLabel(t.database, t.name));
      names.set(`${s}.cfg`, tableLabel(t.database, t.name));
      ordinal.set(`${s}.ibd`, i + 1);
      ordinal.set(`${s}.cfg`, i + 1);
    }
  });
  const count = plan.selection.tables.length;
  let total = 0;
  const source = await openTtsExport({
    conn: plan.conn,
    facts: plan.facts,
    tables: plan.selection.tables,
    lockPerTable: o.lockPerTable,
    signal: ctx.signal,
    crc: extra.crc,
    checkPages: o.skipPageCheck ? undefined : pageChecker({
      algorithm: parseAlgorithm(plan.facts.checksumAlgorithm),
      describe: (p) => names.get(p) ?? p,
    }),
    onProgress: (bytes, path) =>
      ctx.report.progress({
        label: `table ${ordinal.get(path) ?? "?"}/${count} ${names.get(path) ?? ""}`.trimEnd(),
        done: bytes,
        total: total || undefined,
        unit: "bytes",
      }),
    onLock: (event, tables, ms) => {
      const what = tables.length === 1
        ? tableLabel(tables[0].database, tables[0].name)
        : `${tables.length} tables`;
      if (event === "locked") ctx.report.info(`locked ${what} (FLUSH TABLES ... FOR EXPORT)`);
      else ctx.report.info(`unlocked ${what} after ${(ms / 1000).toFixed(3)} s`);
    },
  });
  total = source.totalBytes;
  return source;
}

/** The options a manifest records: what shaped the backup, never keys or passwords. */
export function recordedOptions(o: Options): Record<string, unknown> {
  const r: Record<string, unknown> = {
    lockPerTable: o.lockPerTable,
    skipPageCheck: o.skipPageCheck,
    compress: o.compress,
    encrypt: o.encrypt,
  };
  if (o.includeTables !== undefined) r.includeTables = o.includeTables;
  if (o.excludeTables !== undefined) r.excludeTables = o.excludeTables;
  return r;
}

/** The manifest of an export; `entries` as known to the caller. */
export function buildManifest(
  plan: BackupPlan,
  source: TtsExport,
  options: Options,
  entries: Manifest["entries"],
): Manifest {
  return {
    format: "ibvault-manifest",
    version: 1,
    tool: { name: "ibvault", version: VERSION },
    createdAt: new Date().toISOString(),
    server: plan.facts,
    options: recordedOptions(options),
    databases: source.databases,
    tables: source.tables,
    entries,
  };
}

/** What a finished backup reports (and prints with --json). */
export interface BackupSummary {
  tables: number;
  skipped: { table: string; reason: string }[];
  bytes: number;
  /** Seconds tables were locked (summed over locks with --lock-per-table). */
  lockSeconds: number;
  longestLockSeconds: number;
  seconds: number;
  destination: string;
}

/** Log the summary lines and print it with --json. */
export function finish(
  ctx: CommandContext,
  plan: BackupPlan,
  source: TtsExport,
  destination: string,
  bytes: number,
  started: number,
): BackupSummary {
  const lock = source.lockStats();
  const summary: BackupSummary = {
    tables: plan.selection.tables.length,
    skipped: plan.selection.skipped.map((s) => ({
      table: tableLabel(s.database, s.name),
      reason: s.reason,
    })),
    bytes,
    lockSeconds: lock.totalMs / 1000,
    longestLockSeconds: lock.longestMs / 1000,
    seconds: (performance.now() - started) / 1000,
    destination,
  };
  ctx.report.endProgress();
  ctx.report.info(
    `backed up ${summary.tables} table(s), ${formatBytes(bytes)} in ` +
      `${summary.seconds.toFixed(2)} s to ${destination}; tables locked ` +
      `${summary.lockSeconds.toFixed(3)} s` +
      (ctx.options.lockPerTable
        ? ` in all, longest ${summary.longestLockSeconds.toFixed(3)} s`
        : ""),
  );
  if (ctx.options.json) ctx.printJson(summary);
  return summary;
}

/** Turn a sink's file-system error into an IoError that says what happened. */
export function sinkError(err: unknown, where: string): unknown {
  const code = (err as { code?: string })?.code;
  if (code === "ENOSPC" || code === "EFBIG" || code === "EDQUOT") {
    return new IoError(`${where}: no space left for the backup (${code}); nothing was completed`, {
      cause: err,
    });
  }
  if (code && !(err instanceof IoError)) {
    return new IoError(`${where}: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

/**
 * Write every entry of a stream into a backup directory (each under a temporary
 * name), without waiting for the disk: the tables are locked meanwhile. Returns the
 * bytes and the files written, for `syncFiles` once the tables are unlocked.
 */
export async function writeEntriesToDir(
  root: string,
  entries: AsyncIterable<FileEntry>,
): Promise<{ bytes: number; files: string[] }> {
  let bytes = 0;
  const files: string[] = [];
  for await (const e of entries) {
    const file = await targetPath(root, e.path);
    try {
      bytes += await writeAtomically(file, e.data, e.mode ?? 0o640, false);
    } catch (err) {
      throw sinkError(err, `writing ${file}`);
    }
    files.push(file);
  }
  return { bytes, files };
}

/** Run `backup`. */
export async function runBackup(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  if (!o.backupDir) throw new UsageError("backup needs --backup-dir=DIR");
  const spec = selectionSpec(o);
  const started = performance.now();
  const dir = o.withTimestamp ? timestampedDir(o.backupDir) : o.backupDir; // ROOT/YYYY-MM-DD_HH-MM-SS
  const root = await prepareDestination(dir, o.force);
  // With --force into an old backup, its manifest goes first: until the new one is
  // written, the directory must not look like a complete backup.
  await rm(join(root, MANIFEST_FILE), { force: true });
  const plan = await planBackup(ctx, spec);
  let source: TtsExport | undefined;
  try {
    source = await openExport(ctx, plan);
    const { bytes, files } = await writeEntriesToDir(root, source.entries);
    if (!source.completed) throw new IoError("the export stopped before every file was copied");
    // The tables are unlocked: now wait for the disk, before the manifest says "complete".
    if (!o.noSync) {
      await syncFiles(files).catch((err) => {
        throw sinkError(err, `flushing ${root} to disk`);
      });
    }
    const manifest = buildManifest(plan, source, o, source.records);
    const json = new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n");
    try {
      await writeAtomically(
        join(root, MANIFEST_FILE),
        (async function* () {
          yield json;
        })(),
        0o640,
        !o.noSync,
      );
      if (!o.noSync) await syncDirectory(dirname(root)); // the backup directory's own name
    } catch (err) {
      throw sinkError(err, `writing ${join(root, MANIFEST_FILE)}`);
    }
    finish(ctx, plan, source, root, bytes, started);
    return 0;
  } finally {
    await source?.close();
    await endQuietly(plan.conn);
  }
}

/** The `backup` command. */
export const backupCommand: Command = {
  name: "backup",
  summary: "TTS backup of the selected tables of a live server into --backup-dir",
  usage: "--backup-dir=DIR [--include-tables=REGEX] [--exclude-tables=REGEX] [OPTIONS]",
  help: `Writes a backup directory: DIR/DB/TABLE.ibd and .cfg for each table (names in
MySQL's filename encoding), and ${MANIFEST_FILE}, written last: a directory
without it is not a complete backup. DIR must be empty or absent (--force to
write into a non-empty one). --with-timestamp writes into DIR/YYYY-MM-DD_HH-MM-SS/
instead (local time, MEB's layout), a root that purge-backups and check-backup
work over.
${BACKUP_HELP}`,
  options: ["backup-dir", "with-timestamp", ...BACKUP_OPTIONS],
  run: runBackup,
};
