/**
 * What `backup` and `backup-to-image` share: connecting and selecting the
 * tables (reporting skips), opening the export source with the command's page
 * checks, progress and lock log, the options a manifest records, the help
 * paragraphs, and the end-of-run report.
 */
import type { Connection } from "mysql2/promise";
import type { CommandContext } from "./command.ts";
import type { Options } from "./options.ts";
import type { SelectionSpec } from "./selection.ts";
import type { RunReport } from "./run_report.ts";
import { EXPORT_LOCK } from "../server/lock_session.ts";
import { IoError, UsageError } from "../errors.ts";
import type { ServerFacts } from "../core/manifest.ts";
import { tableLabel } from "../core/label.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import { pageChecker } from "../innodb/page_stream.ts";
import { connect, endQuietly } from "../server/connection.ts";
import { readServerFacts } from "../server/facts.ts";
import { readCatalog, selectTables, type TableSelection } from "../server/tables.ts";
import { openTtsExport, type TtsExport } from "../server/export.ts";
import {
  type AtLock,
  atLockStep,
  captureObjects,
  chooseLogicalTables,
  lockedLogicalTables,
  logicalColumns,
  readDefinitions,
  readWholeDbRecords,
  selectedDatabases,
  type WholeDbPlan,
  wholeDbSource,
} from "../server/wholedb_backup.ts";
import { objectLabel } from "../server/objects.ts";
import { describeBinlog } from "../server/binlog.ts";
import { noteLockTime, serverField, type TableRow, tableRows } from "./report_fields.ts";
import type { PageLsnSource } from "../server/page_lsn_source.ts";
import {
  openPageLsnBackup,
  pageLsnSummary,
  readIncrementalBase,
  recordFullLockingChain,
  ttsMode,
} from "./backup_page_lsn.ts";

/** What a backup reads from: the full-locking TTS export or the page-LSN source. */
export type BackupSource = TtsExport | PageLsnSource;

/** True for the page-LSN (minimum locking, incremental) source. */
export function isPageLsn(s: BackupSource): s is PageLsnSource {
  return "result" in s;
}

/** The privileges a backup user needs (checked with least-privilege users in tests). */
export const BACKUP_PRIVILEGES = [
  "SELECT",
  "LOCK TABLES",
  "RELOAD",
  "PROCESS",
  "REPLICATION CLIENT",
] as const;

/** Help paragraphs `backup` and `backup-to-image` share. */
export const BACKUP_HELP = `
The backup user needs ${BACKUP_PRIVILEGES.join(", ")}:
${EXPORT_LOCK} takes SELECT, LOCK TABLES and RELOAD; PROCESS reads
information_schema's InnoDB tables and names the sessions a lock waits for;
REPLICATION CLIENT (MariaDB's alias of BINLOG MONITOR) reads the binary log
position at the lock.

Tables are chosen by name from the server (information_schema): --include-tables
and --exclude-tables match db.tbl in four forms (db.tbl, \`db\`.tbl, db.\`tbl\`,
\`db\`.\`tbl\`). InnoDB tables with a tablespace of their own are taken by TTS
(a partitioned table with all its partitions). Tables TTS cannot carry (MyISAM,
Aria, CSV, ARCHIVE, InnoDB in the system or a general tablespace) are taken
logically: their rows, read under the same lock, in DB/TABLE.sql; MEMORY tables
by definition only. --strict refuses instead, naming them.

Every selected database also brings its CREATE DATABASE, views, stored
procedures and functions, and events, and every selected table its triggers
(--skip-views, --skip-routines, --skip-events, --skip-triggers leave them out).
The manifest lists what was taken and what was skipped with the reason, and the
binary log position (file, position, GTIDs) read while the tables were locked.
User accounts and grants are not part of a backup.

All selected tables are locked at once with ${EXPORT_LOCK}, so the
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
  /** The logical tables, objects and skips of a whole-database backup. */
  whole: WholeDbPlan;
  /** Seconds each table (by label) was locked, filled in as the export unlocks (--json rows). */
  lockSeconds: Map<string, number>;
}

/** Why nothing matches: the expressions as given, and whether matches had to be skipped. */
function nothingSelected(spec: SelectionSpec, skipped: number): UsageError {
  const exprs = [
    spec.include !== undefined ? `--include-tables=${JSON.stringify(spec.include)}` : "",
    spec.exclude !== undefined ? `--exclude-tables=${JSON.stringify(spec.exclude)}` : "",
  ].filter(Boolean).join(" ") || "(no --include-tables: all tables)";
  const why = skipped > 0 ? `: the ${skipped} table(s) it matched cannot be backed up` : "";
  return new UsageError(`no table to back up matches ${exprs}${why}`);
}

/**
 * Connect, read the server facts and select the tables, reporting skips. Throws
 * UsageError when the selection is empty (naming the expressions) or, with
 * `--strict`, when a table had to be skipped. The caller ends `conn`.
 */
export async function planBackup(ctx: CommandContext, spec: SelectionSpec): Promise<BackupPlan> {
  const o = ctx.options;
  const conn = await connect(o);
  try {
    const facts = await readServerFacts(conn, { datadir: o.datadir });
    ctx.log?.note(`server: ${facts.version} (${facts.flavor}), datadir ${facts.datadir}`);
    const selection = await selectTables(conn, facts, spec.filter, spec.include !== undefined);
    const catalog = await readCatalog(conn, facts);
    const chosen = chooseLogicalTables(catalog, selection.skipped);
    if (o.strict && (chosen.logical.length > 0 || chosen.skipped.length > 0)) {
      const names = [
        ...chosen.logical.map((t) => `${tableLabel(t.database, t.name)} (${t.why})`),
        ...chosen.skipped.map((s) => `${tableLabel(s.database, s.name)} (${s.reason})`),
      ];
      throw new UsageError(
        `--strict: ${names.length} selected table(s) cannot be carried by transportable ` +
          `tablespaces: ${names.join(", ")}`,
      );
    }
    for (const t of chosen.logical) {
      ctx.report.info(
        `${tableLabel(t.database, t.name)}: ${t.why}; taken ` +
          (t.method === "logical" ? "logically (rows in SQL)" : "by definition only"),
      );
    }
    for (const s of chosen.skipped) {
      ctx.report.warn(`skipping ${tableLabel(s.database, s.name)}: ${s.reason}`);
    }
    const whole = await planWholeDb(conn, o, spec, selection, catalog, chosen);
    if (selection.tables.length === 0 && chosen.logical.length === 0) {
      throw nothingSelected(spec, chosen.skipped.length);
    }
    return { conn, facts, selection, whole, lockSeconds: new Map() };
  } catch (err) {
    await endQuietly(conn);
    throw err;
  }
}

/** Objects of the selected databases and the logical tables' columns (read before the lock). */
async function planWholeDb(
  conn: Connection,
  o: Options,
  spec: SelectionSpec,
  selection: TableSelection,
  catalog: Awaited<ReturnType<typeof readCatalog>>,
  chosen: ReturnType<typeof chooseLogicalTables>,
): Promise<WholeDbPlan> {
  const tables = [...selection.tables, ...chosen.logical];
  const views = catalog.tables.filter((t) => t.type.toUpperCase() === "VIEW");
  const databases = selectedDatabases(tables, views, spec.filter);
  const objects = await captureObjects(conn, databases, tables, {
    views: o.skipViews,
    routines: o.skipRoutines,
    triggers: o.skipTriggers,
    events: o.skipEvents,
  });
  return {
    logical: chosen.logical,
    columns: await logicalColumns(conn, chosen.logical),
    definitions: await readDefinitions(conn, chosen.logical),
    objects: objects.objects,
    skipped: [
      ...chosen.skipped.map((s) => ({ kind: "table" as const, ...s })),
      ...objects.skipped,
    ],
  };
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

/** Progress of a backup's copy, by table ("table 2/5 `db`.`t`"); `total` is read at each call. */
export function progressOf(
  ctx: CommandContext,
  plan: BackupPlan,
  total: () => number,
): (bytes: number, path: string) => void {
  const names = new Map<string, string>();
  const ordinal = new Map<string, number>();
  plan.selection.tables.forEach((t, i) => {
    for (const path of t.stems.flatMap((s) => [`${s}.ibd`, `${s}.cfg`])) {
      names.set(path, tableLabel(t.database, t.name));
      ordinal.set(path, i + 1);
    }
  });
  const count = plan.selection.tables.length;
  return (bytes, path) =>
    ctx.report.progress({
      label: `table ${ordinal.get(path) ?? "?"}/${count} ${names.get(path) ?? ""}`.trimEnd(),
      done: bytes,
      total: total() || undefined,
      unit: "bytes",
    });
}

/** Open the export of a plan with the command's options: page checks, progress, lock log. */
export async function openExport(
  ctx: CommandContext,
  plan: BackupPlan,
  extra: { crc?: boolean; spoolDir?: string } = {},
): Promise<TtsExport> {
  const o = ctx.options;
  const names = new Map<string, string>();
  plan.selection.tables.forEach((t) => {
    for (const path of t.stems.flatMap((s) => [`${s}.ibd`, `${s}.cfg`])) {
      names.set(path, tableLabel(t.database, t.name));
    }
  });
  let total = 0;
  const at: AtLock = { tables: [], databases: [] };
  const inner = await openTtsExport({
    conn: plan.conn,
    facts: plan.facts,
    tables: plan.selection.tables,
    lockPerTable: o.lockPerTable,
    lockWaitTimeout: o.lockWaitTimeout,
    signal: ctx.signal,
    crc: extra.crc,
    recordedOptions: recordedOptions(o),
    alsoLock: lockedLogicalTables(plan.whole),
    atLock: atLockStep(plan.whole, plan.facts.flavor, at, extra.spoolDir),
    checkPages: o.skipPageCheck ? undefined : pageChecker({
      algorithm: parseAlgorithm(plan.facts.checksumAlgorithm),
      describe: (p) => names.get(p) ?? p,
    }),
    onProgress: progressOf(ctx, plan, () => total),
    onLock: (event, tables, ms) => {
      const what = tables.length === 1
        ? tableLabel(tables[0].database, tables[0].name)
        : `${tables.length} tables`;
      if (event === "locked") ctx.report.info(`locked ${what} (${EXPORT_LOCK})`);
      else {
        ctx.report.info(`unlocked ${what} after ${(ms / 1000).toFixed(3)} s`);
        noteLockTime(plan.lockSeconds, tables, ms);
      }
    },
  });
  const source = wholeDbSource(inner, plan.whole, at);
  if (at.binlog) ctx.report.info(`binary log position: ${describeBinlog(at.binlog)}`);
  total = source.totalBytes;
  return source;
}

/**
 * Run a backup: plan, open the export, hand it to `write` (which pipes it into
 * a sink and returns the bytes written), then report. The export and the
 * connection are closed on every path.
 */
export async function runBackupInto(
  ctx: CommandContext,
  rep: RunReport,
  spec: SelectionSpec,
  destination: string,
  write: (source: BackupSource) => Promise<number>,
  extra: { crc?: boolean; image?: boolean; spoolDir?: string } = {},
): Promise<number> {
  const mode = ttsMode(ctx.options);
  const base = ctx.options.incremental ? await readIncrementalBase(ctx) : undefined;
  const plan = await planBackup(ctx, spec);
  let source: BackupSource | undefined;
  try {
    if (mode === "with-minimum-locking") {
      source = await openMinimumLocking(ctx, plan, base, extra.image ?? false, extra.spoolDir);
    } else {
      source = await openExport(ctx, plan, extra);
      await recordFullLockingChain(source, plan, ctx.options.lockPerTable);
    }
    const bytes = await write(source);
    if (!source.completed) throw new IoError("the export stopped before every file was copied");
    return finishBackup(ctx, rep, plan, source, destination, bytes);
  } finally {
    await source?.close();
    await endQuietly(plan.conn);
  }
}

/**
 * Open a minimum-locking (or incremental) backup of a plan as a whole-database
 * source: the logical tables' records and the databases are read now, and under
 * the page-LSN export's lock, on its connection, the binlog position and the
 * logical tables' rows (which the lock covers too).
 */
async function openMinimumLocking(
  ctx: CommandContext,
  plan: BackupPlan,
  base: Awaited<ReturnType<typeof readIncrementalBase>> | undefined,
  image: boolean,
  spoolDir?: string,
): Promise<PageLsnSource> {
  const at: AtLock = { tables: [], databases: [] };
  await readWholeDbRecords(plan.conn, plan.whole, at);
  const step = atLockStep(plan.whole, plan.facts.flavor, at, spoolDir, true);
  let source: PageLsnSource | undefined = undefined;
  const inner = await openPageLsnBackup(ctx, plan, {
    image,
    spoolDir,
    base,
    recordedOptions: recordedOptions(ctx.options),
    onProgress: progressOf(ctx, plan, () => source?.totalBytes ?? 0),
    atLock: {
      alsoLock: lockedLogicalTables(plan.whole),
      carried: plan.whole.logical,
      step: async (conn) => {
        await step(conn);
        if (at.binlog) ctx.report.info(`binary log position: ${describeBinlog(at.binlog)}`);
      },
      endFields: () => (at.binlog ? { binlog: at.binlog } : {}),
    },
  });
  source = wholeDbSource(inner, plan.whole, at);
  return source;
}

/** The `--json` rows of a backup: every table taken, then every table skipped. */
function backupRows(plan: BackupPlan, source: BackupSource): TableRow[] {
  const m = source.manifest;
  const sizes = (p: string) => source.seen.get(p)?.size;
  const rows = tableRows(
    m.tables,
    sizes,
    plan.facts.pageSize,
    "ok",
    (name) => plan.lockSeconds.get(name) ?? null,
  );
  for (const s of m.skipped ?? []) {
    if (s.kind !== "table") continue;
    rows.push({
      name: tableLabel(s.database, s.name),
      size: 0,
      pages: 0,
      lockSeconds: null,
      status: "skipped",
      reason: s.reason,
    });
  }
  return rows;
}

/** Print the backup's summary line and document. */
function finishBackup(
  ctx: CommandContext,
  rep: RunReport,
  plan: BackupPlan,
  source: BackupSource,
  destination: string,
  bytes: number,
): number {
  const lock = source.lockStats();
  const lockSeconds = lock.totalMs / 1000;
  const longest = lock.longestMs / 1000;
  const m = source.manifest;
  const lsn = isPageLsn(source) ? pageLsnSummary(source) : undefined;
  const rows = backupRows(plan, source);
  const taken = rows.filter((r) => r.status === "ok");
  return rep.finish("ok", {
    server: serverField(plan.facts),
    tables: rows,
    totals: {
      tables: m.tables.length,
      logicalTables: m.tables.filter((t) => t.method && t.method !== "tts").length,
      objects: m.objects?.length ?? 0,
      skipped: (m.skipped ?? []).length,
      bytes,
      pages: taken.reduce((n, r) => n + r.pages, 0),
      lockSeconds,
      longestLockSeconds: longest,
    },
    logicalTables: m.tables.filter((t) => t.method && t.method !== "tts").length,
    objects: m.objects?.length ?? 0,
    skipped: (m.skipped ?? []).map((s) => ({
      [s.kind === "table" ? "table" : "object"]: s.kind === "table"
        ? tableLabel(s.database, s.name)
        : objectLabel(s as { kind: "view"; database: string; name: string }),
      reason: s.reason,
    })),
    binlog: m.binlog ?? null,
    bytes,
    lockSeconds,
    longestLockSeconds: longest,
    destination,
    ...(lsn?.fields ?? { mode: "with-full-locking" }),
  }, {
    verb: "backed up",
    count: m.tables.length,
    noun: `table(s) and ${m.objects?.length ?? 0} object(s)`,
    bytes,
    destination,
    extra: `tables locked ${lockSeconds.toFixed(3)} s` +
      (ctx.options.lockPerTable ? ` in all, longest ${longest.toFixed(3)} s` : "") +
      (lsn ? `, ${lsn.extra}` : ""),
  });
}
