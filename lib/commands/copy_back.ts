/**
 * `copy-back`: selective restore of tables from a backup directory, an image file
 * or an image on stdin into a running server, by transportable tablespaces. The
 * plan (selection, renames, compatibility, existing targets) is checked before
 * anything is touched; then each table's files are staged in a temporary
 * directory inside the data directory (one table at a time, as its entries
 * arrive; a stream is never staged whole), their pages and CRC-32C checked, and
 * the table imported atomically. The run reports which tables were restored.
 */
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import type { Connection } from "mysql2/promise";
import { IMAGE_READ_OPTIONS } from "./options.ts";
import type { Command, CommandContext } from "./command.ts";
import { CONNECTION_OPTIONS, endQuietly, selectionSpec } from "./backup.ts";
import { CorruptionError, IbvaultError, IoError, ServerError, UsageError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import type { Manifest, ServerFacts } from "../image/manifest.ts";
import { readManifest } from "../image/manifest_io.ts";
import { type OpenedImage, openImage } from "../image/reader.ts";
import { imageBytes, imageName } from "../image/image_io.ts";
import { codecThreads, keyForReading } from "../image/command_support.ts";
import { readFileChunks } from "../backupdir/source.ts";
import { writeAll } from "../backupdir/sink.ts";
import { decodeArgument } from "../names/charset.ts";
import { quoteIdentifier } from "../names/quote.ts";
import { parseRenames } from "../names/rename.ts";
import { crc32c } from "../kernels/mod.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import { spaceInfoFromPage0 } from "../innodb/flags.ts";
import { connect } from "../server/connection.ts";
import { readServerFacts } from "../server/facts.ts";
import { pageChecker } from "../server/export.ts";
import { ensureDatabase, importTable, prepareImportSession } from "../server/import.ts";
import {
  label,
  type PlannedTable,
  planRestore,
  readTargetState,
  type RestorePlan,
  selectRestoreTables,
} from "../server/restore_plan.ts";
import { formatBytes } from "../progress/reporter.ts";

/** Prefix of the staging directories copy-back makes in the data directory. */
export const STAGE_PREFIX = "#ibvault-stage-";

/** The outcome for one table, as the summary reports it. */
export interface TableOutcome {
  database: string;
  table: string;
  targetDatabase: string;
  targetTable: string;
  status: "restored" | "failed" | "not-attempted";
  bytes: number;
  error?: string;
  warnings: string[];
}

/** What a copy-back run reports (and prints with --json). */
export interface CopyBackSummary {
  source: string;
  server: string;
  restored: number;
  failed: number;
  tables: TableOutcome[];
  databasesCreated: string[];
  bytes: number;
  seconds: number;
}

/** A source opened for copy-back: its manifest, its entries, and how to close it. */
interface OpenedSource {
  name: string;
  manifest: Manifest;
  /** The entries of the selected files, in the order they arrive. */
  entries(wanted: Set<string>): AsyncIterable<FileEntry>;
  /** Throw if any of these entries cannot be had (a directory checks its files up front). */
  check?(paths: string[]): Promise<void>;
  close(): Promise<void>;
}

async function openDirSource(dir: string): Promise<OpenedSource> {
  const manifest = await readManifest(dir);
  if (!manifest) {
    throw new UsageError(`${dir} is not a complete backup directory: it has no manifest`);
  }
  const sizes = new Map(manifest.entries.map((e) => [e.path, e.size]));
  return {
    name: dir,
    manifest,
    async *entries(wanted) {
      for (const path of [...wanted].sort()) {
        const size = sizes.get(path) ?? 0;
        yield { path, size, data: readFileChunks(join(dir, ...path.split("/")), 1 << 20, size) };
      }
    },
    async check(paths) {
      const missing: string[] = [];
      for (const p of paths) {
        const ok = await stat(join(dir, ...p.split("/"))).then((st) => st.isFile(), () => false);
        if (!ok) missing.push(p);
      }
      if (missing.length > 0) {
        throw new IoError(`backup directory ${dir} is incomplete: missing ${missing.join(", ")}`);
      }
    },
    close: async () => {},
  };
}

async function openImageSource(ctx: CommandContext, arg: string): Promise<OpenedSource> {
  const key = await keyForReading(ctx.options, ctx.report);
  const img: OpenedImage = await openImage(imageBytes(arg), {
    key,
    threads: codecThreads(ctx.options),
    name: imageName(arg),
    signal: ctx.signal,
  });
  return {
    name: imageName(arg),
    manifest: img.manifest,
    async *entries(wanted) {
      for await (const e of img.entries()) {
        if (wanted.has(e.path)) {
          yield e;
        } else {
          for await (const _ of e.data) { /* not selected: skip its bytes */ }
        }
      }
    },
    close: () => img.close(),
  };
}

/** True if a process with this id runs on this host. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/**
 * Make this run's staging directory in `datadir`, after removing the ones left
 * by runs whose process is gone (reported through `warn`).
 */
export async function openStage(datadir: string, warn: (m: string) => void): Promise<string> {
  for (const name of await readdir(datadir).catch(() => [] as string[])) {
    const m = new RegExp(`^${STAGE_PREFIX}(\\d+)-`).exec(name);
    if (m && !alive(Number(m[1]))) {
      warn(`removing ${join(datadir, name)}, left by an interrupted copy-back`);
      await rm(join(datadir, name), { recursive: true, force: true });
    }
  }
  const dir = join(datadir, `${STAGE_PREFIX}${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    throw new IoError(
      `cannot create the staging directory ${dir}: ${(err as Error).message}; copy-back ` +
        "must run on the database host as a user who may write the data directory " +
        "(--datadir if the server sees it under another path)",
    );
  }
  return dir;
}

/** Write an entry to `file`, returning its size and CRC-32C (8 hex digits). */
async function stageEntry(
  entry: FileEntry,
  file: string,
  onBytes: (n: number) => void,
): Promise<{ size: number; crc: string }> {
  const fh = await open(file, "wx", 0o600);
  let size = 0;
  let crc = 0;
  try {
    for await (const chunk of entry.data) {
      crc = crc32c(chunk, crc);
      await writeAll(fh, chunk);
      size += chunk.length;
      onBytes(chunk.length);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { size, crc: (crc >>> 0).toString(16).padStart(8, "0") };
}

/** Page size of a staged tablespace, from its page 0. */
async function stagedPageSize(file: string): Promise<number> {
  const fh = await open(file, "r");
  try {
    const head = new Uint8Array(128);
    await fh.read(head, 0, head.length, 0);
    return spaceInfoFromPage0(head).logicalSize;
  } finally {
    await fh.close();
  }
}

/** A server error that leaves no point in trying further tables. */
function isFatal(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ""} ${
    String(((err as { cause?: { code?: string } })?.cause)?.code ?? "")
  }`;
  return /PROTOCOL_CONNECTION_LOST|ECONNRESET|ECONNREFUSED|EPIPE|closed state|connection.*lost|gone away/i
    .test(text);
}

interface RunState {
  ctx: CommandContext;
  conn: Connection;
  facts: ServerFacts;
  manifest: Manifest;
  plan: RestorePlan;
  stage: string;
  outcomes: Map<PlannedTable, TableOutcome>;
  createdDatabases: string[];
  bytes: number;
  total: number;
  fatal?: Error;
}

/** Stage one table's entries as they come, check them, and import the table. */
async function restoreTable(s: RunState, t: PlannedTable, staged: Map<string, string>) {
  const out = s.outcomes.get(t)!;
  const what = t.renamed ? `${label(t.source)} as ${label(t.target)}` : label(t.source);
  try {
    for (const f of t.files.filter((f) => f.kind === "ibd")) {
      const ps = await stagedPageSize(staged.get(f.entry)!);
      if (ps !== Number(s.facts.pageSize)) {
        throw new CorruptionError(
          `${f.entry}: page size ${ps} but the server's innodb_page_size is ${s.facts.pageSize}`,
        );
      }
    }
    const db = s.plan.databases.find((d) => d.name === t.target.database);
    const fold = s.facts.lowerCaseTableNames !== 0;
    if (await ensureDatabase(s.conn, t.target.database, db?.source, fold)) {
      s.createdDatabases.push(t.target.database);
      s.ctx.report.info(`created database ${quoteIdentifier(t.target.database)}`);
    }
    const result = await importTable({
      conn: s.conn,
      datadir: String(s.facts.datadir),
      database: t.target.database,
      table: t.target.name,
      createStatement: t.source.createStatement,
      files: t.files.map((f) => ({ staged: staged.get(f.entry)!, target: f.target, kind: f.kind })),
      rowFormat: t.rowFormat,
      signal: s.ctx.signal,
      onStep: (step) => {
        if (s.ctx.options.verbose) s.ctx.report.info(`${what}: ${step}`);
      },
    });
    out.status = "restored";
    out.warnings.push(...result.warnings);
    if (result.rebuiltFulltext.length) {
      s.ctx.report.info(
        `${what}: rebuilt FULLTEXT ${result.rebuiltFulltext.map(quoteIdentifier).join(", ")} ` +
          "(InnoDB does not import FULLTEXT indexes)",
      );
    }
    s.ctx.report.info(`restored ${what} (${formatBytes(out.bytes)})`);
  } catch (err) {
    out.status = "failed";
    out.error = (err as Error)?.message ?? String(err);
    s.ctx.report.error(`not restored: ${what}: ${out.error}`);
    if (isFatal(err)) s.fatal = err as Error;
    if (err instanceof CorruptionError) (out as { corrupt?: boolean }).corrupt = true;
  } finally {
    for (const file of staged.values()) await rm(file, { force: true });
  }
}

/** Read what is left of an entry's data (a consumer must finish an entry before the next). */
async function drain(entry: FileEntry): Promise<void> {
  try {
    for await (const _ of entry.data) { /* skip */ }
  } catch {
    // an entry abandoned midway may refuse to be read again
  }
}

/** Consume the source: stage each selected table's files, then restore it. */
async function runTables(s: RunState, source: OpenedSource): Promise<void> {
  const byEntry = new Map<string, PlannedTable>();
  for (const t of s.plan.tables) for (const f of t.files) byEntry.set(f.entry, t);
  const expected = new Map(s.manifest.entries.map((e) => [e.path, e]));
  const pending = new Map<PlannedTable, Map<string, string>>();
  const failed = new Set<PlannedTable>();
  const check = pageChecker({
    // Pages were written by the backup's server: judge them by its setting.
    algorithm: parseAlgorithm(s.manifest.server?.checksumAlgorithm),
    describe: (p) => label(byEntry.get(p)!.source),
  });
  let n = 0;
  for await (const entry of source.entries(new Set(byEntry.keys()))) {
    s.ctx.signal.throwIfAborted();
    const t = byEntry.get(entry.path)!;
    const out = s.outcomes.get(t)!;
    if (s.fatal || failed.has(t)) {
      await drain(entry);
      continue;
    }
    const staged = pending.get(t) ?? new Map<string, string>();
    pending.set(t, staged);
    const file = join(s.stage, `${n++}.${entry.path.endsWith(".cfg") ? "cfg" : "ibd"}`);
    staged.set(entry.path, file);
    try {
      const checked = entry.path.endsWith(".ibd") ? check(entry) : entry;
      const got = await stageEntry(checked, file, (b) => {
        s.bytes += b;
        out.bytes += b;
        s.ctx.report.progress({
          label: "copy-back",
          done: s.bytes,
          total: s.total || undefined,
          unit: "bytes",
        });
      });
      const want = expected.get(entry.path);
      if (want && (want.size !== got.size || want.crc32c.toLowerCase() !== got.crc)) {
        throw new CorruptionError(
          `${entry.path}: ${got.size} bytes with CRC-32C ${got.crc}, but the manifest says ` +
            `${want.size} bytes with ${want.crc32c}`,
        );
      }
    } catch (err) {
      if (err instanceof CorruptionError || (err as { code?: string }).code) {
        failed.add(t);
        out.status = "failed";
        out.error = `${(err as Error).message}; the table was not touched`;
        (out as { corrupt?: boolean }).corrupt = err instanceof CorruptionError;
        s.ctx.report.error(`not restored: ${label(t.source)}: ${out.error}`);
        for (const f of staged.values()) await rm(f, { force: true });
        pending.delete(t);
        await drain(entry);
        continue;
      }
      throw err;
    }
    if (staged.size === t.files.length) {
      pending.delete(t);
      await restoreTable(s, t, staged);
      if (s.fatal) break;
    }
  }
  for (const [t, staged] of pending) {
    const out = s.outcomes.get(t)!;
    out.status = "failed";
    out.error = "some of its files were missing from the source";
    for (const f of staged.values()) await rm(f, { force: true });
  }
  if (s.fatal) return;
  for (const out of s.outcomes.values()) {
    if (out.status === "not-attempted") {
      out.status = "failed";
      out.error = "its files were not in the source";
    }
  }
}

/** Drop the databases this run created that received no table (so they are as before). */
async function dropEmptyCreated(s: RunState): Promise<void> {
  for (const db of s.createdDatabases) {
    const restored = [...s.outcomes.values()].some((o) =>
      o.targetDatabase === db && o.status === "restored"
    );
    if (restored) continue;
    try {
      const [rows] = await s.conn.query(
        "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
        [db],
      );
      if (Number((rows as { n: number }[])[0]?.n) === 0) {
        await s.conn.query(`DROP DATABASE ${quoteIdentifier(db)}`);
        s.createdDatabases = s.createdDatabases.filter((d) => d !== db);
      }
    } catch {
      // leave it; the summary lists it as created
    }
  }
}

/** Run `copy-back`. */
export async function runCopyBack(ctx: CommandContext): Promise<number> {
  const o = ctx.options;
  const started = performance.now();
  if (!o.backupDir === !o.backupImage) {
    throw new UsageError("copy-back needs one of --backup-dir=DIR or --backup-image=FILE|-");
  }
  const spec = selectionSpec(o);
  const renames = parseRenames(
    o.rename.map((r) => decodeArgument(r, o.defaultCharacterSet, "--rename")),
  );
  const source = o.backupDir
    ? await openDirSource(o.backupDir)
    : await openImageSource(ctx, o.backupImage!);
  let conn: Connection | undefined;
  let stage: string | undefined;
  try {
    const selected = selectRestoreTables(source.manifest, {
      include: spec.include,
      exclude: spec.exclude,
      renames,
    });
    await source.check?.(selected.flatMap((t) => t.source.files));
    conn = await connect(o);
    const facts = await readServerFacts(conn, { datadir: o.datadir });
    const state = await readTargetState(conn, facts, selected);
    const plan = planRestore({ manifest: source.manifest, selected, facts, state, force: o.force });
    for (const w of plan.warnings) ctx.report.warn(w);
    await prepareImportSession(conn);
    stage = await openStage(String(facts.datadir), ctx.report.warn);
    const sizes = new Map(source.manifest.entries.map((e) => [e.path, e.size]));
    const s: RunState = {
      ctx,
      conn,
      facts,
      manifest: source.manifest,
      plan,
      stage,
      outcomes: new Map(plan.tables.map((t) => [t, {
        database: t.source.database,
        table: t.source.name,
        targetDatabase: t.target.database,
        targetTable: t.target.name,
        status: "not-attempted",
        bytes: 0,
        warnings: [],
      }])),
      createdDatabases: [],
      bytes: 0,
      total: plan.tables.reduce(
        (n, t) => n + t.files.reduce((m, f) => m + (sizes.get(f.entry) ?? 0), 0),
        0,
      ),
    };
    ctx.report.info(
      `restoring ${plan.tables.length} table(s)` +
        (s.total ? `, ${formatBytes(s.total)}` : "") + ` from ${source.name}`,
    );
    let streamError: unknown;
    try {
      await runTables(s, source);
    } catch (err) {
      streamError = err;
    }
    if (!s.fatal) await dropEmptyCreated(s);
    return finish(s, source.name, started, streamError);
  } finally {
    if (stage) await rm(stage, { recursive: true, force: true }).catch(() => {});
    await source.close().catch(() => {});
    if (conn) await endQuietly(conn);
  }
}

/** Report the outcome, print the JSON summary, and turn failures into the exit code. */
function finish(s: RunState, sourceName: string, started: number, streamError: unknown): number {
  const { ctx } = s;
  const tables = [...s.outcomes.values()];
  for (const t of tables) {
    if (t.status === "not-attempted") {
      t.error = streamError
        ? `not reached: ${(streamError as Error)?.message ?? streamError}`
        : s.fatal
        ? `not attempted: ${s.fatal.message}`
        : "not attempted";
    }
    for (const w of t.warnings) {
      ctx.report.warn(`${label({ database: t.targetDatabase, name: t.targetTable })}: ${w}`);
    }
  }
  const restored = tables.filter((t) => t.status === "restored");
  const summary: CopyBackSummary = {
    source: sourceName,
    server: `${s.facts.flavor} ${s.facts.version}`,
    restored: restored.length,
    failed: tables.length - restored.length,
    tables: tables.map((t) => {
      const { corrupt: _, ...rest } = t as TableOutcome & { corrupt?: boolean };
      return rest;
    }),
    databasesCreated: s.createdDatabases,
    bytes: s.bytes,
    seconds: (performance.now() - started) / 1000,
  };
  ctx.report.endProgress();
  if (ctx.options.json) ctx.printJson(summary);
  const name = (t: TableOutcome) => label({ database: t.targetDatabase, name: t.targetTable });
  if (restored.length) {
    ctx.report.info(`restored: ${restored.map(name).join(", ")}`);
  }
  if (restored.length === tables.length && !streamError) {
    ctx.report.info(
      `copied back ${restored.length} table(s), ${formatBytes(s.bytes)} in ` +
        `${summary.seconds.toFixed(2)} s`,
    );
    return 0;
  }
  const notRestored = tables.filter((t) => t.status !== "restored");
  const message = `${notRestored.length} of ${tables.length} table(s) not restored: ` +
    notRestored.map((t) => name(t)).join(", ") +
    (streamError ? `; the source failed: ${(streamError as Error)?.message ?? streamError}` : "");
  const corrupt = streamError instanceof CorruptionError ||
    tables.some((t) => (t as { corrupt?: boolean }).corrupt);
  if (streamError instanceof IbvaultError && !(streamError instanceof CorruptionError)) {
    throw new (streamError.constructor as typeof ServerError)(message);
  }
  throw corrupt ? new CorruptionError(message) : new ServerError(message);
}

/** The `copy-back` command. */
export const copyBackCommand: Command = {
  name: "copy-back",
  summary: "restore selected tables from a backup dir or image (or stdin) into a running server",
  usage: "--backup-dir=DIR | --backup-image=FILE|- [--include-tables=REGEX] " +
    '[--rename "OLD TO NEW" ...] [OPTIONS]',
  help: `Imports tables into the running server by transportable tablespaces: for each
table CREATE TABLE from the recorded statement (under its new name with --rename),
ALTER TABLE ... DISCARD TABLESPACE, its .ibd and .cfg placed in the data directory
with the owner and mode of the server's files, ALTER TABLE ... IMPORT TABLESPACE,
ANALYZE TABLE. FULLTEXT indexes, which InnoDB cannot import, are dropped, the table
rebuilt and the indexes created again (on a large table this takes a while). ibvault must run on the database host, as a user who may write the
data directory (--datadir if the server sees it under another path).

--include-tables and --exclude-tables select tables of the backup (four quoting
forms, as in backup). --rename "OLD TO NEW" (repeatable) restores OLD (tbl or
db.tbl, a selected table) as NEW; either part may be quoted with backticks, single
or double quotes; NEW's database is created when missing, with the options of the
original database. --default-character-set says how the command line is encoded.

Nothing is overwritten: if a target table (or a file of it) exists, or the backup
cannot be imported (other server flavour or page size, partitioned tables on
MariaDB), the run stops before touching anything and names every problem.
--force allows only these format adjustments: importing a table whose .cfg is
missing (no schema verification), and creating a table with its recorded
ROW_FORMAT when the server's innodb_default_row_format differs.

Each table is staged in ${STAGE_PREFIX}* inside the data directory (one table at a
time, also from a stream), its pages and CRC-32C checked, then imported. A table
that fails is dropped with its files, so the server is as before; the others go
on. The run ends with "ibvault completed OK!" only if every table was restored.`,
  options: [
    "backup-dir",
    "backup-image",
    ...CONNECTION_OPTIONS,
    "datadir",
    "include-tables",
    "exclude-tables",
    "rename",
    "default-character-set",
    ...IMAGE_READ_OPTIONS,
    "force",
  ],
  run: runCopyBack,
};
