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
import { IoError, ServerError } from "../errors.ts";
import type { LogicalColumn } from "../core/logical_format.ts";
import type { DatabaseRecord, Manifest, SkippedRecord, TableRecord } from "../core/manifest.ts";
import { type SeenEntry, seenUnion } from "../core/completeness.ts";
import { BACKUP_END_FILE } from "../core/chain.ts";
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
 * The manifest records of a whole-database plan's logical tables (CREATE TABLE
 * as the server shows it now) and of the databases of its logical tables and
 * objects. Full locking reads them under the lock; minimum locking before the hot
 * pass (an image's manifest goes first), checked again under the lock.
 */
export async function readWholeDbRecords(
  conn: Connection,
  plan: WholeDbPlan,
  into: AtLock,
): Promise<void> {
  for (const t of plan.logical) {
    const rec: TableRecord = {
      database: t.database,
      name: t.name,
      engine: t.engine,
      createStatement: plan.definitions.get(t) ?? await showCreate(conn, t),
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
}

async function showCreate(conn: Connection, t: LogicalTable): Promise<string> {
  const rows = await queryRows<Record<string, string>>(
    conn,
    `SHOW CREATE TABLE ${quoteTable(t.database, t.name)}`,
  );
  return String(rows[0]?.["Create Table"] ?? "");
}

/**
 * The `atLock` step of an export for a whole-database plan, run on the locked
 * connection: read the binlog position and spool the logical tables' rows.
 * `recordsRead` false (full locking): the records of {@link readWholeDbRecords}
 * are read here too; true (minimum locking, records read before the hot pass):
 * each logical table's CREATE TABLE is checked unchanged (AUTO_INCREMENT=N aside)
 * and ServerError names one that was altered. Fills `into`.
 */
export function atLockStep(
  plan: WholeDbPlan,
  flavor: "mariadb" | "mysql",
  into: AtLock,
  spoolDir?: string,
  recordsRead = false,
): (conn: Connection) => Promise<void> {
  return async (conn) => {
    into.binlog = await readBinlogPosition(conn, flavor);
    if (!recordsRead) await readWholeDbRecords(conn, plan, into);
    else {
      for (const t of plan.logical) {
        if (plan.definitions.has(t)) continue;
        const before = into.tables.find((r) => r.database === t.database && r.name === t.name);
        const now = await showCreate(conn, t);
        if (noAutoIncrement(now) !== noAutoIncrement(before?.createStatement ?? "")) {
          throw new ServerError(
            `${quoteTable(t.database, t.name)} was altered during the backup; run it again`,
          );
        }
      }
    }
    into.spool = await spoolLogicalTables(conn, plan.logical, plan.columns, spoolDir);
  };
}

function noAutoIncrement(create: string): string {
  return create.replace(/ AUTO_INCREMENT=\d+/, "");
}

/**
 * The export (full locking's TTS export or the page-LSN source) as a
 * whole-database source: its manifest with the logical tables, the objects, what
 * was skipped and the binlog position (read at each access: minimum locking
 * learns it at the lock); its entries followed by the spooled logical tables
 * (their sizes and CRC-32C known, added to `seen`), placed before a page-LSN
 * image's end entry. Everything else is the inner source's.
 */
export function wholeDbSource<S extends TtsExport>(inner: S, plan: WholeDbPlan, at: AtLock): S {
  const seen = new Map<string, SeenEntry>();
  const databases = () => [
    ...inner.manifest.databases,
    ...at.databases.filter((d) => !inner.manifest.databases.some((e) => e.name === d.name)),
  ];
  const manifest = (): Manifest => {
    const m = inner.manifest;
    return {
      ...m,
      databases: databases(),
      tables: [...m.tables, ...at.tables],
      objects: plan.objects,
      skipped: plan.skipped,
      ...(at.binlog ? { binlog: at.binlog } : {}),
    };
  };
  async function* spooled(select?: (path: string) => boolean): AsyncGenerator<FileEntry> {
    for (const s of at.spool?.tables ?? []) {
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
  }
  async function* entries(select?: (path: string) => boolean): AsyncGenerator<FileEntry> {
    let done = false;
    for await (const e of inner.entries(select)) {
      if (e.path === BACKUP_END_FILE && !done) {
        done = true;
        yield* spooled(select);
      }
      yield e;
    }
    if (!done) yield* spooled(select);
  }
  const out = Object.create(inner) as S;
  Object.defineProperties(out, {
    manifest: { get: manifest, enumerable: true },
    tables: { get: () => manifest().tables, enumerable: true },
    databases: { get: databases, enumerable: true },
    seen: { value: seenUnion(inner.seen, seen), enumerable: true },
    totalBytes: {
      get: () => inner.totalBytes + (at.spool?.tables ?? []).reduce((n, s) => n + s.size, 0),
      enumerable: true,
    },
    completed: { get: () => inner.completed, enumerable: true },
    lockStats: { value: () => inner.lockStats() },
    entries: { value: entries },
    close: {
      value: async () => {
        await inner.close();
        await at.spool?.close();
      },
    },
  });
  return out;
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
