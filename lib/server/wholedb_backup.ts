/**
 * What a whole-database backup takes besides the TTS files: the tables TTS
 * cannot carry (chosen from the table selection's skipped list, backed up
 * logically or by definition), the objects of the selected databases, and at
 * the lock the binlog position and the logical tables' rows, spooled to
 * temporary files so each becomes an entry of known size (a stream writes the
 * entry's size before its bytes).
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Connection } from "mysql2/promise";
import type { FileEntry } from "../entry.ts";
import { encodeFilename } from "../names/filename.ts";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import { Crc32c } from "../core/crc.ts";
import { IoError } from "../errors.ts";
import type { LogicalColumn } from "../core/logical_format.ts";
import type { DatabaseRecord, Manifest, SkippedRecord, TableRecord } from "../core/manifest.ts";
import type { SeenEntry } from "../core/completeness.ts";
import type { Catalog } from "./tables.ts";
import { queryRows, SYSTEM_DATABASES } from "./facts.ts";
import type { TtsExport } from "./export.ts";
import { dumpTableBytes, readLogicalColumns, type TableMethod, tableMethod } from "./logical.ts";
import {
  listObjects,
  type ObjectRecord,
  type ObjectSkips,
  readObjects,
  selectObjects,
  type SkippedObject,
} from "./objects.ts";
import { type BinlogPosition, readBinlogPosition } from "./binlog.ts";

/** A table backed up logically (rows in an entry) or by definition only. */
export interface LogicalTable {
  database: string;
  name: string;
  engine: string;
  method: Exclude<TableMethod, "tts">;
  /** Why TTS cannot carry it (the reason the TTS selection gave). */
  why: string;
  /** Entry path of its rows (`db/t.sql`); absent for definition-only tables. */
  entry?: string;
}

/** A table that is in neither form, and why. */
export interface SkippedTable {
  database: string;
  name: string;
  reason: string;
}

/** Entry path of a logical table's rows. */
export function logicalEntryPath(database: string, table: string): string {
  return `${encodeFilename(database)}/${encodeFilename(table)}.sql`;
}

/**
 * Split the tables the TTS selection skipped into those backed up another way
 * and those left out (views: captured as objects; sequences, temporary tables,
 * system databases, engines whose rows cannot be read back). `catalog` gives
 * each table's engine.
 */
export function chooseLogicalTables(
  catalog: Catalog,
  skipped: readonly SkippedTable[],
): { logical: LogicalTable[]; skipped: SkippedTable[] } {
  const rows = new Map(catalog.tables.map((r) => [JSON.stringify([r.database, r.name]), r]));
  const logical: LogicalTable[] = [];
  const still: SkippedTable[] = [];
  for (const s of skipped) {
    const row = rows.get(JSON.stringify([s.database, s.name]));
    const type = (row?.type ?? "").toUpperCase();
    if (
      !row || SYSTEM_DATABASES.includes(s.database.toLowerCase()) ||
      (type !== "BASE TABLE" && type !== "SYSTEM VERSIONED")
    ) {
      if (type !== "VIEW") still.push(s);
      continue;
    }
    if (type === "SYSTEM VERSIONED") {
      still.push({ ...s, reason: "a system-versioned table: its history cannot be restored" });
      continue;
    }
    const how = tableMethod(row.engine ?? "", "system");
    if ("reason" in how) {
      still.push({ ...s, reason: how.reason });
      continue;
    }
    const t: LogicalTable = {
      database: s.database,
      name: s.name,
      engine: row.engine ?? "",
      method: how.method as LogicalTable["method"],
      why: s.reason,
    };
    if (how.method === "logical") t.entry = logicalEntryPath(s.database, s.name);
    logical.push(t);
  }
  return { logical, skipped: still };
}

/** The databases a backup holds: those of its tables, and those of views the filter selects. */
export function selectedDatabases(
  tables: readonly { database: string }[],
  views: readonly { database: string; name: string }[],
  filter: (db: string, name: string) => boolean,
): string[] {
  const dbs = new Set(tables.map((t) => t.database));
  for (const v of views) {
    if (!SYSTEM_DATABASES.includes(v.database.toLowerCase()) && filter(v.database, v.name)) {
      dbs.add(v.database);
    }
  }
  return [...dbs];
}

/** Objects of the selected databases, read before the lock. */
export async function captureObjects(
  conn: Connection,
  databases: string[],
  tables: readonly { database: string; name: string }[],
  skips: ObjectSkips,
): Promise<{ objects: ObjectRecord[]; skipped: SkippedObject[] }> {
  const found = await listObjects(conn, databases);
  const sel = selectObjects(found, databases, tables, skips);
  return { objects: await readObjects(conn, sel.objects), skipped: sel.skipped };
}

/** A logical table's rows spooled to a file. */
export interface SpooledTable {
  table: LogicalTable;
  file: string;
  size: number;
  crc32c: string;
}

/** Spooled logical tables in a temporary directory; remove it with {@link Spool.close}. */
export interface Spool {
  tables: SpooledTable[];
  /** The spooled files as entries, in order. */
  entries(): AsyncGenerator<FileEntry>;
  close(): Promise<void>;
}

/**
 * Read the columns of each logical table (call before the lock: information_schema).
 */
export async function logicalColumns(
  conn: Connection,
  tables: LogicalTable[],
): Promise<Map<LogicalTable, LogicalColumn[]>> {
  const out = new Map<LogicalTable, LogicalColumn[]>();
  for (const t of tables) {
    if (t.entry) out.set(t, await readLogicalColumns(conn, t.database, t.name));
  }
  return out;
}

/**
 * Dump every logical table's rows into a temporary directory (under `dir`, the
 * system's temporary directory by default) on `conn`, which holds the tables
 * locked (or a consistent snapshot). Files are created exclusively, mode 0600.
 */
export async function spoolLogicalTables(
  conn: Connection,
  tables: LogicalTable[],
  columns: Map<LogicalTable, LogicalColumn[]>,
  dir = tmpdir(),
): Promise<Spool> {
  const root = await mkdtemp(join(dir, "ibvault-logical-"));
  const spooled: SpooledTable[] = [];
  try {
    let n = 0;
    for (const t of tables) {
      if (!t.entry) continue;
      const file = join(root, `${n++}.sql`);
      const fh = await open(file, "wx", 0o600);
      let size = 0;
      const crc = new Crc32c();
      try {
        for await (const chunk of dumpTableBytes(conn, t.database, t.name, columns.get(t)!)) {
          crc.update(chunk);
          size += chunk.length;
          await fh.write(chunk);
        }
      } catch (err) {
        if ((err as { code?: string }).code) {
          throw new IoError(
            `spooling the rows of ${quoteTable(t.database, t.name)} to ${file}: ${
              (err as Error).message
            }`,
          );
        }
        throw err;
      } finally {
        await fh.close();
      }
      spooled.push({ table: t, file, size, crc32c: crc.hex() });
    }
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return {
    tables: spooled,
    async *entries() {
      for (const s of spooled) {
        yield { path: s.table.entry!, size: s.size, mode: 0o640, data: readWhole(s.file, s.size) };
      }
    },
    close: () => rm(root, { recursive: true, force: true }),
  };
}

async function* readWhole(file: string, size: number): AsyncGenerator<Uint8Array> {
  const fh = await open(file, "r");
  try {
    const buf = new Uint8Array(Math.min(1 << 20, Math.max(size, 1)));
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) throw new IoError(`${file} ended at byte ${pos} of ${size}`);
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Read the binlog position at the lock (see `binlog.ts`). */
export function positionAtLock(
  conn: Connection,
  flavor: "mariadb" | "mysql",
): Promise<BinlogPosition> {
  return readBinlogPosition(conn, flavor);
}

/** What a whole-database backup adds to the TTS export. */
export interface WholeDbPlan {
  logical: LogicalTable[];
  /** CREATE TABLE of the definition-only tables, read before the lock (they cannot be locked for export). */
  definitions: Map<LogicalTable, string>;
  columns: Map<LogicalTable, LogicalColumn[]>;
  objects: ObjectRecord[];
  skipped: SkippedRecord[];
}

/** What was taken at the lock. */
export interface AtLock {
  binlog?: BinlogPosition;
  tables: TableRecord[];
  /** Databases of the logical tables and objects (the TTS export lists its own). */
  databases: DatabaseRecord[];
  spool?: Spool;
}

/**
 * The `atLock` step of the export for a whole-database plan: read the binlog
 * position, the logical tables' CREATE statements, and spool their rows, all on
 * the locked connection. Fills `into`.
 */
export function atLockStep(
  plan: WholeDbPlan,
  flavor: "mariadb" | "mysql",
  into: AtLock,
  spoolDir?: string,
): (conn: Connection) => Promise<void> {
  return async (conn) => {
    into.binlog = await readBinlogPosition(conn, flavor);
    for (const t of plan.logical) {
      const rows = plan.definitions.has(t)
        ? [{ "Create Table": plan.definitions.get(t)! }]
        : await queryRows<Record<string, string>>(
          conn,
          `SHOW CREATE TABLE ${quoteTable(t.database, t.name)}`,
        );
      const rec: TableRecord = {
        database: t.database,
        name: t.name,
        engine: t.engine,
        createStatement: String(rows[0]?.["Create Table"] ?? ""),
        files: t.entry ? [t.entry] : [],
        method: t.method,
      };
      into.tables.push(rec);
    }
    const dbs = new Set([...plan.logical, ...plan.objects].map((t) => t.database));
    for (const db of dbs) {
      const rows = await queryRows<Record<string, string>>(
        conn,
        `SHOW CREATE DATABASE ${quoteIdentifier(db)}`,
      );
      into.databases.push({
        name: db,
        dir: encodeFilename(db),
        createStatement: String(rows[0]?.["Create Database"] ?? ""),
      });
    }
    into.spool = await spoolLogicalTables(conn, plan.logical, plan.columns, spoolDir);
  };
}

/**
 * The export as a whole-database source: its manifest with the logical tables,
 * the objects, what was skipped and the binlog position; its entries followed by
 * the spooled logical tables (their sizes and CRC-32C known, added to `seen`).
 */
export function wholeDbSource(inner: TtsExport, plan: WholeDbPlan, at: AtLock): TtsExport {
  const seen = new Map<string, SeenEntry>();
  const databases = [
    ...inner.manifest.databases,
    ...at.databases.filter((d) => !inner.manifest.databases.some((e) => e.name === d.name)),
  ];
  const manifest: Manifest = {
    ...inner.manifest,
    databases,
    tables: [...inner.manifest.tables, ...at.tables],
    objects: plan.objects,
    skipped: plan.skipped,
    ...(at.binlog ? { binlog: at.binlog } : {}),
  };
  const spooled = at.spool?.tables ?? [];
  return {
    ...inner,
    name: inner.name,
    manifest,
    tables: manifest.tables,
    databases,
    get seen() {
      return new Map([...inner.seen, ...seen]);
    },
    get totalBytes() {
      return inner.totalBytes + spooled.reduce((n, s) => n + s.size, 0);
    },
    get completed() {
      return inner.completed;
    },
    lockStats: () => inner.lockStats(),
    async *entries(select?: (path: string) => boolean) {
      yield* inner.entries(select);
      for (const s of spooled) {
        const path = s.table.entry!;
        if (select && !select(path)) continue;
        const data = readWhole(s.file, s.size);
        yield {
          path,
          size: s.size,
          mode: 0o640,
          data: (async function* () {
            yield* data;
            seen.set(path, { size: s.size, crc32c: s.crc32c });
          })(),
        };
      }
    },
    async close() {
      await inner.close();
      await at.spool?.close();
    },
  };
}

/** The tables to lock with the TTS ones: those whose rows are read (definition-only ones cannot be). */
export function lockedLogicalTables(plan: WholeDbPlan): LogicalTable[] {
  return plan.logical.filter((t) => t.method === "logical");
}

/** `SHOW CREATE TABLE` of the definition-only tables (before the lock). */
export async function readDefinitions(
  conn: Connection,
  tables: LogicalTable[],
): Promise<Map<LogicalTable, string>> {
  const out = new Map<LogicalTable, string>();
  for (const t of tables.filter((x) => x.method === "definition")) {
    const rows = await queryRows<Record<string, string>>(
      conn,
      `SHOW CREATE TABLE ${quoteTable(t.database, t.name)}`,
    );
    out.set(t, String(rows[0]?.["Create Table"] ?? ""));
  }
  return out;
}
