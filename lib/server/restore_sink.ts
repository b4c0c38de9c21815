/**
 * The running server as a sink: tables restored by transportable tablespaces,
 * following a {@link RestorePlan}. Each table's files are staged in a temporary
 * directory inside the data directory as its entries arrive (one table at a
 * time; a stream is never staged whole), their pages and CRC-32C checked, then
 * the table is imported atomically (`import.ts`). A table that fails is left as
 * before and the others go on; a lost connection stops the run.
 */
import { mkdir, open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import type { Connection } from "mysql2/promise";
import { CorruptionError, OutputError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import type { Sink } from "../sink.ts";
import type { Source } from "../source.ts";
import type { Manifest, ServerFacts } from "../core/manifest.ts";
import { label } from "../core/label.ts";
import { Crc32c } from "../core/crc.ts";
import { writeAll } from "../core/files.ts";
import { processAlive } from "../core/part_files.ts";
import { quoteIdentifier } from "../names/quote.ts";
import type { Reporter } from "../progress/reporter.ts";
import { formatBytes } from "../progress/reporter.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import { spaceInfoFromPage0 } from "../innodb/flags.ts";
import { type PageCheck, pageChecker } from "../innodb/page_stream.ts";
import { ensureDatabase, importTable } from "./import.ts";
import { restoreLogicalTable, restorePartitionedTable } from "./wholedb_restore.ts";
import { partitionLabel } from "./partitions.ts";
import { decodeFilename } from "../names/filename.ts";
import { isConnectionLoss, queryRows } from "./facts.ts";
import type { PlannedTable, RestorePlan } from "./restore_plan.ts";
import { checkPlannedStatements } from "./statement_check.ts";

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

/** What a restore did. */
export interface RestoreSummary {
  tables: TableOutcome[];
  /** Tables whose failure was corruption (a bad page, a CRC mismatch). */
  corrupt: TableOutcome[];
  databasesCreated: string[];
  bytes: number;
  /** The source failed midway (tables not reached are not attempted). */
  sourceError?: unknown;
  /** The connection was lost: no further table was attempted. */
  lost?: Error;
}

/** What the restore sink works with. */
export interface RestoreSinkOptions {
  conn: Connection;
  facts: ServerFacts;
  plan: RestorePlan;
  /** Where per-table lines go (restored, not restored, created databases). */
  report: Reporter;
  /** Log each import step. */
  verbose?: boolean;
  /**
   * `--force`: a recorded DATA/INDEX DIRECTORY inside the data directory is allowed,
   * and partitions receiving rows may hold rows already (they are replaced).
   */
  force?: boolean;
  signal?: AbortSignal;
}

/** A restore sink with its staging directory; close it in a `finally`. */
export interface RestoreSink extends Sink<RestoreSummary> {
  /** Remove the staging directory. */
  close(): Promise<void>;
}

/**
 * Remove the staging directories in `datadir` left by copy-backs whose process
 * is gone (each reported through `warn`). Every copy-back does this first, before
 * planning, so even a run that then fails cleans up after a killed one.
 */
export async function removeStaleStages(datadir: string, warn: (m: string) => void): Promise<void> {
  for (const name of await readdir(datadir).catch(() => [] as string[])) {
    const m = new RegExp(`^${STAGE_PREFIX}(\\d+)-`).exec(name);
    if (m && !processAlive(Number(m[1]))) {
      warn(`removing ${join(datadir, name)}, left by an interrupted copy-back`);
      await rm(join(datadir, name), { recursive: true, force: true });
    }
  }
}

/**
 * Make this run's staging directory in `datadir`, after removing the ones left
 * by runs whose process is gone (reported through `warn`).
 */
export async function openStage(datadir: string, warn: (m: string) => void): Promise<string> {
  await removeStaleStages(datadir, warn);
  const dir = join(datadir, `${STAGE_PREFIX}${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    throw new OutputError(
      `cannot create the staging directory ${dir}: ${(err as Error).message}; copy-back ` +
        "must run on the database host as a user who may write the data directory " +
        "(--datadir if the server sees it under another path)",
    );
  }
  return dir;
}

/** Open the restore sink: its staging directory is made in the data directory now. */
export async function openRestoreSink(opts: RestoreSinkOptions): Promise<RestoreSink> {
  // The manifest is untrusted: every statement it gives is checked before anything runs.
  checkPlannedStatements(opts.plan, { force: !!opts.force, datadir: opts.facts.datadir });
  const stage = await openStage(opts.facts.datadir, opts.report.warn);
  return {
    write: (source) => new RestoreRun(opts, stage, source.manifest).run(source),
    close: () => rm(stage, { recursive: true, force: true }).catch(() => {}),
  };
}

/**
 * Write an entry to `file`, returning its size and CRC-32C. A failure to write
 * is an OutputError; errors of the entry's data (a corrupt page) pass through.
 */
async function stageEntry(
  entry: FileEntry,
  file: string,
  onBytes: (n: number) => void,
): Promise<{ size: number; crc: string }> {
  const written = (err: unknown) =>
    new OutputError(`staging ${entry.path} in ${file}: ${(err as Error).message}`, { cause: err });
  const fh = await open(file, "wx", 0o600).catch((err) => {
    throw written(err);
  });
  let size = 0;
  const crc = new Crc32c();
  try {
    for await (const chunk of entry.data) {
      crc.update(chunk);
      await writeAll(fh, chunk).catch((err) => {
        throw written(err);
      });
      size += chunk.length;
      onBytes(chunk.length);
    }
    await fh.sync().catch((err) => {
      throw written(err);
    });
  } finally {
    await fh.close();
  }
  return { size, crc: crc.hex() };
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

/** Read what is left of an entry's data (a consumer must finish an entry before the next). */
async function drain(entry: FileEntry): Promise<void> {
  try {
    for await (const _ of entry.data) { /* skip */ }
  } catch {
    // an entry abandoned midway may refuse to be read again
  }
}

/** One restore: the plan's tables, staged and imported as the source delivers them. */
class RestoreRun {
  readonly outcomes: Map<PlannedTable, TableOutcome>;
  readonly corrupt = new Set<TableOutcome>();
  readonly byEntry = new Map<string, PlannedTable>();
  readonly expected: Map<string, { size: number; crc32c: string }>;
  readonly pending = new Map<PlannedTable, Map<string, string>>();
  readonly failed = new Set<PlannedTable>();
  readonly check: PageCheck;
  databasesCreated: string[] = [];
  bytes = 0;
  total = 0;
  /** What progress is measured against: `total`, or a streamed image's planned bytes. */
  progressTotal = 0;
  lost?: Error;
  #n = 0;

  constructor(
    readonly opts: RestoreSinkOptions,
    readonly stage: string,
    readonly manifest: Manifest,
  ) {
    this.expected = new Map(manifest.entries.map((e) => [e.path, e]));
    this.outcomes = new Map(opts.plan.tables.map((t) => [t, {
      database: t.source.database,
      table: t.source.name,
      targetDatabase: t.target.database,
      targetTable: t.target.name,
      status: "not-attempted",
      bytes: 0,
      warnings: [],
    }]));
    for (const t of opts.plan.tables) {
      for (const f of t.files) {
        this.byEntry.set(f.entry, t);
        this.total += this.expected.get(f.entry)?.size ?? 0;
      }
    }
    // A streamed image lists no sizes: its planned total serves for percent and ETA
    // when every table of it is restored.
    this.progressTotal = this.total ||
      (opts.plan.tables.length === manifest.tables.length ? manifest.plannedBytes ?? 0 : 0);
    this.check = pageChecker({
      // Pages were written by the backup's server: judge them by its setting.
      algorithm: parseAlgorithm(manifest.server?.checksumAlgorithm),
      describe: (p) => label(this.byEntry.get(p)!.source),
    });
  }

  /** Restore every table of the plan from `source`; never throws for one table's failure. */
  async run(source: Source): Promise<RestoreSummary> {
    const { report } = this.opts;
    report.info(
      `restoring ${this.opts.plan.tables.length} table(s)` +
        (this.total ? `, ${formatBytes(this.total)}` : "") + ` from ${source.name}`,
    );
    let sourceError: unknown;
    try {
      for (const t of this.opts.plan.tables) {
        if (t.method === "definition") await this.restoreDefinition(t);
      }
      await this.consume(source);
    } catch (err) {
      sourceError = err;
    }
    if (!this.lost) await this.dropEmptyCreated();
    const tables = [...this.outcomes.values()];
    for (const t of tables) {
      if (t.status !== "not-attempted") continue;
      t.error = sourceError
        ? `not reached: ${(sourceError as Error)?.message ?? sourceError}`
        : this.lost
        ? `not attempted: ${this.lost.message}`
        : "not attempted";
    }
    return {
      tables,
      corrupt: tables.filter((t) => this.corrupt.has(t)),
      databasesCreated: this.databasesCreated,
      bytes: this.bytes,
      sourceError,
      lost: this.lost,
    };
  }

  /** Stage each selected table's files as they come, then restore it. */
  async consume(source: Source): Promise<void> {
    for await (const entry of source.entries((p) => this.byEntry.has(p))) {
      this.opts.signal?.throwIfAborted();
      const t = this.byEntry.get(entry.path)!;
      if (this.lost || this.failed.has(t)) {
        await drain(entry);
        continue;
      }
      if (t.method === "logical") {
        await this.restoreLogical(t, entry);
        if (this.lost) break;
        continue;
      }
      const staged = this.pending.get(t) ?? new Map<string, string>();
      this.pending.set(t, staged);
      if (!(await this.stageOne(t, entry, staged))) continue;
      if (staged.size === t.files.length) {
        this.pending.delete(t);
        await this.restoreTable(t, staged);
        if (this.lost) break;
      }
    }
    for (const [t, staged] of this.pending) {
      this.fail(t, "some of its files were missing from the source");
      for (const f of staged.values()) await rm(f, { force: true });
    }
    if (this.lost) return;
    for (const [t, out] of this.outcomes) {
      if (out.status === "not-attempted") this.fail(t, "its files were not in the source");
    }
  }

  fail(t: PlannedTable, error: string): TableOutcome {
    const out = this.outcomes.get(t)!;
    out.status = "failed";
    out.error = error;
    return out;
  }

  /** Stage one entry with its checks; false when the table failed (it is then not touched). */
  async stageOne(t: PlannedTable, entry: FileEntry, staged: Map<string, string>): Promise<boolean> {
    const out = this.outcomes.get(t)!;
    const file = join(this.stage, `${this.#n++}.${entry.path.endsWith(".cfg") ? "cfg" : "ibd"}`);
    staged.set(entry.path, file);
    try {
      const checked = entry.path.endsWith(".ibd") ? this.check(entry) : entry;
      const got = await stageEntry(checked, file, (b) => {
        this.bytes += b;
        out.bytes += b;
        this.opts.report.progress({
          label: "copy-back",
          done: this.bytes,
          total: this.progressTotal || undefined,
          unit: "bytes",
        });
      });
      const want = this.expected.get(entry.path);
      if (want && (want.size !== got.size || want.crc32c.toLowerCase() !== got.crc)) {
        throw new CorruptionError(
          `${entry.path}: ${got.size} bytes with CRC-32C ${got.crc}, but the manifest says ` +
            `${want.size} bytes with ${want.crc32c}`,
        );
      }
      return true;
    } catch (err) {
      if (!(err instanceof CorruptionError || err instanceof OutputError)) throw err;
      this.failed.add(t);
      this.fail(t, `${err.message}; the table was not touched`);
      if (err instanceof CorruptionError) this.corrupt.add(out);
      this.opts.report.error(`not restored: ${label(t.source)}: ${out.error}`);
      for (const f of staged.values()) await rm(f, { force: true });
      this.pending.delete(t);
      await drain(entry);
      return false;
    }
  }

  /** Check the staged files of one table and import it. */
  async restoreTable(t: PlannedTable, staged: Map<string, string>): Promise<void> {
    const { conn, facts, report } = this.opts;
    const out = this.outcomes.get(t)!;
    const what = t.renamed ? `${label(t.source)} as ${label(t.target)}` : label(t.source);
    try {
      if (t.method === "partitions") {
        await this.restorePartitions(t, staged, what);
        return;
      }
      for (const f of t.files.filter((f) => f.kind === "ibd")) {
        const ps = await stagedPageSize(staged.get(f.entry)!);
        if (ps !== facts.pageSize) {
          throw new CorruptionError(
            `${f.entry}: page size ${ps} but the server's innodb_page_size is ${facts.pageSize}`,
          );
        }
      }
      await this.ensureDb(t);
      const result = await importTable({
        conn,
        datadir: facts.datadir,
        database: t.target.database,
        table: t.target.name,
        createStatement: t.createStatement,
        files: t.files.map((f) => ({
          staged: staged.get(f.entry)!,
          target: f.target,
          kind: f.kind as "ibd" | "cfg",
        })),
        rowFormat: t.rowFormat,
        force: this.opts.force,
        signal: this.opts.signal,
        onStep: (step) => {
          if (this.opts.verbose) report.info(`${what}: ${step}`);
        },
      });
      out.status = "restored";
      out.warnings.push(...result.warnings);
      if (result.rebuiltFulltext.length) {
        report.info(
          `${what}: rebuilt FULLTEXT ${result.rebuiltFulltext.map(quoteIdentifier).join(", ")} ` +
            "(InnoDB does not import FULLTEXT indexes)",
        );
      }
      report.info(`restored ${what} (${formatBytes(out.bytes)})`);
    } catch (err) {
      this.fail(t, (err as Error)?.message ?? String(err));
      report.error(`not restored: ${what}: ${out.error}`);
      if (isConnectionLoss(err)) this.lost = err as Error;
      if (err instanceof CorruptionError) this.corrupt.add(out);
    } finally {
      for (const file of staged.values()) await rm(file, { force: true });
    }
  }

  /** Create the table's database when missing (with the source database's options). */
  async ensureDb(t: PlannedTable): Promise<void> {
    const { conn, facts, report } = this.opts;
    const db = this.opts.plan.databases.find((d) => d.name === t.target.database);
    if (
      await ensureDatabase(conn, t.target.database, db?.source, facts.lowerCaseTableNames !== 0)
    ) {
      this.databasesCreated.push(t.target.database);
      report.info(`created database ${quoteIdentifier(t.target.database)}`);
    }
  }

  /** The label of a planned table in messages. */
  what(t: PlannedTable): string {
    return t.renamed ? `${label(t.source)} as ${label(t.target)}` : label(t.source);
  }

  /** Record a failure of `t` (and a lost connection, a corruption). */
  recordFailure(t: PlannedTable, err: unknown): void {
    const out = this.fail(t, (err as Error)?.message ?? String(err));
    this.opts.report.error(`not restored: ${this.what(t)}: ${out.error}`);
    if (isConnectionLoss(err)) this.lost = err as Error;
    if (err instanceof CorruptionError) this.corrupt.add(out);
  }

  /** A MEMORY table: its definition only. */
  async restoreDefinition(t: PlannedTable): Promise<void> {
    try {
      await this.ensureDb(t);
      await restoreLogicalTable({
        conn: this.opts.conn,
        database: t.target.database,
        table: t.target.name,
        createStatement: t.createStatement,
        where: label(t.source),
      });
      this.outcomes.get(t)!.status = "restored";
      this.opts.report.info(`restored ${this.what(t)} (definition only: ${t.source.engine})`);
    } catch (err) {
      this.recordFailure(t, err);
    }
  }

  /** A logical table: created, its rows loaded as they stream in, their CRC-32C checked. */
  async restoreLogical(t: PlannedTable, entry: FileEntry): Promise<void> {
    const out = this.outcomes.get(t)!;
    const crc = new Crc32c();
    let size = 0;
    const count = (n: number) => {
      out.bytes += n;
      this.bytes += n;
    };
    const want = this.expected.get(entry.path);
    const data = (async function* () {
      for await (const chunk of entry.data) {
        crc.update(chunk);
        size += chunk.length;
        count(chunk.length);
        yield chunk;
      }
      if (want && (want.size !== size || want.crc32c.toLowerCase() !== crc.hex())) {
        throw new CorruptionError(
          `${entry.path}: ${size} bytes with CRC-32C ${crc.hex()}, but the manifest says ` +
            `${want.size} bytes with ${want.crc32c}`,
        );
      }
    })();
    try {
      await this.ensureDb(t);
      const rows = await restoreLogicalTable({
        conn: this.opts.conn,
        database: t.target.database,
        table: t.target.name,
        createStatement: t.createStatement,
        data,
        where: entry.path,
        signal: this.opts.signal,
      });
      out.status = "restored";
      this.opts.report.info(`restored ${this.what(t)} (${rows} rows, logical)`);
    } catch (err) {
      await drain(entry);
      this.recordFailure(t, err);
    }
  }

  /** A partitioned table, partition by partition (see partitions.ts). */
  async restorePartitions(
    t: PlannedTable,
    staged: Map<string, string>,
    what: string,
  ): Promise<void> {
    const { conn, facts, report } = this.opts;
    const out = this.outcomes.get(t)!;
    try {
      await this.ensureDb(t);
      const byLabel = new Map<string, { label: string; ibd: string; cfg?: string }>();
      for (const f of t.files) {
        const lbl = partitionLabel(f.entry, decodeFilename) ?? "";
        const p = byLabel.get(lbl) ?? { label: lbl, ibd: "" };
        if (f.kind === "ibd") p.ibd = staged.get(f.entry)!;
        else p.cfg = staged.get(f.entry)!;
        byLabel.set(lbl, p);
      }
      const warnings = await restorePartitionedTable({
        conn,
        flavor: facts.flavor,
        datadir: facts.datadir,
        database: t.target.database,
        table: t.target.name,
        createStatement: t.intoExisting ? undefined : t.createStatement,
        partitions: [...byLabel.values()],
        force: this.opts.force,
        signal: this.opts.signal,
        onStep: (step) => {
          if (this.opts.verbose) report.info(`${what}: ${step}`);
        },
      });
      out.status = "restored";
      out.warnings.push(...warnings);
      report.info(
        `restored ${what}: ${byLabel.size} partition(s) (${formatBytes(out.bytes)})` +
          (facts.flavor === "mariadb" ? " through EXCHANGE PARTITION" : ""),
      );
    } catch (err) {
      this.recordFailure(t, err);
    } finally {
      for (const file of staged.values()) await rm(file, { force: true });
    }
  }

  /** Drop the databases this run created that received no table (so they are as before). */
  async dropEmptyCreated(): Promise<void> {
    const { conn } = this.opts;
    for (const db of this.databasesCreated) {
      const restored = [...this.outcomes.values()].some((o) =>
        o.targetDatabase === db && o.status === "restored"
      );
      if (restored) continue;
      try {
        const rows = await queryRows<{ n: number }>(
          conn,
          "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
          [db],
        );
        if (Number(rows[0]?.n) === 0) {
          await queryRows(conn, `DROP DATABASE ${quoteIdentifier(db)}`);
          this.databasesCreated = this.databasesCreated.filter((d) => d !== db);
        }
      } catch {
        // leave it; the summary lists it as created
      }
    }
  }
}
