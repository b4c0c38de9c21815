/**
 * Logical backup and restore of one table in the format of `lib/core/logical_format.ts`:
 * which tables need it (what transportable tablespaces cannot carry), reading a
 * table's rows as raw bytes (character_set_results off, TIMESTAMP in UTC) into
 * statement lines, and loading such lines into a target table after checking
 * each one. MEMORY tables are recorded by definition only: their rows do not
 * survive a server restart, and the server empties them at start.
 */
import type { Connection } from "mysql2/promise";
import { CorruptionError, ServerError } from "../errors.ts";
import {
  InsertBatcher,
  LOGICAL_MAGIC,
  type LogicalColumn,
  logicalFooter,
  logicalHeader,
  parseInsertLine,
  readLines,
  valueKind,
} from "../core/logical_format.ts";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import { driverMessage, queryRows } from "./facts.ts";

/** How a table travels in a backup. */
export type TableMethod = "tts" | "logical" | "definition";

/**
 * How a table of this engine and tablespace kind is backed up: `tts` for InnoDB
 * with a tablespace of its own, `definition` for MEMORY (no rows), `logical`
 * for everything else TTS cannot carry; undefined for engines whose rows live
 * elsewhere or nowhere (a reason is given instead).
 */
export function tableMethod(
  engine: string,
  tablespace: "single" | "system" | "general" | "outside" | undefined,
): { method: TableMethod } | { reason: string } {
  const e = engine.toLowerCase();
  if (e === "innodb") return { method: tablespace === "single" ? "tts" : "logical" };
  if (e === "memory" || e === "heap") return { method: "definition" };
  if (e === "myisam" || e === "aria" || e === "csv" || e === "archive") {
    return { method: "logical" };
  }
  if (e === "blackhole") return { method: "definition" };
  return {
    reason: `engine ${engine}: its rows are not stored by this server (or cannot be read back)`,
  };
}

/** The columns a logical backup writes: every column but generated ones, in order. */
export async function readLogicalColumns(
  conn: Connection,
  database: string,
  table: string,
): Promise<LogicalColumn[]> {
  const rows = await queryRows<
    { name: string; type: string; gen: string | null; extra: string | null }
  >(
    conn,
    "SELECT COLUMN_NAME AS name, DATA_TYPE AS type, IS_GENERATED AS gen, EXTRA AS extra " +
      "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? " +
      "ORDER BY ORDINAL_POSITION",
    [database, table],
  );
  const cols = rows.filter((r) =>
    String(r.gen ?? "").toUpperCase() !== "ALWAYS" && !/GENERATED/i.test(String(r.extra ?? ""))
  ).map((r) => ({
    name: String(r.name),
    kind: valueKind(String(r.type)),
  }));
  if (rows.length === 0) {
    throw new ServerError(`${quoteTable(database, table)}: information_schema lists no columns`);
  }
  return cols;
}

/** Settings of {@link dumpTable}. */
export interface DumpOptions {
  /** Bytes per INSERT statement (default 1 MiB). */
  batchBytes?: number;
}

/**
 * The logical table file of `database`.`table` as text pieces (header, one
 * statement per line, the row count): read with one SELECT streamed row by row
 * on `conn` (a connection that may read the table now: inside the lock or the
 * snapshot the backup holds). The session's character_set_results and
 * time_zone are set for the read and put back after it.
 */
export async function* dumpTable(
  conn: Connection,
  database: string,
  table: string,
  columns: LogicalColumn[],
  opts: DumpOptions = {},
): AsyncGenerator<string> {
  yield logicalHeader(database, table, columns);
  const batcher = new InsertBatcher(table, columns, opts.batchBytes);
  if (columns.length === 0) {
    yield logicalFooter(0);
    return;
  }
  const [saved] = await queryRows<{ tz: string }>(conn, "SELECT @@SESSION.time_zone AS tz");
  await queryRows(conn, "SET SESSION character_set_results = NULL, SESSION time_zone = '+00:00'");
  try {
    const sql = `SELECT ${columns.map((c) => quoteIdentifier(c.name)).join(", ")} FROM ` +
      quoteTable(database, table);
    // deno-lint-ignore no-explicit-any
    const core = (conn as any).connection;
    const stream = core.query({
      sql,
      rowsAsArray: true,
      // deno-lint-ignore no-explicit-any
      typeCast: (field: any) => field.buffer(),
    }).stream({ highWaterMark: 256 });
    try {
      for await (const row of stream as AsyncIterable<(Uint8Array | null)[]>) {
        const line = batcher.add(row);
        if (line) yield line;
      }
    } catch (err) {
      throw new ServerError(
        `${quoteTable(database, table)}: reading its rows failed: ${driverMessage(err)}`,
        { cause: err },
      );
    } finally {
      stream.destroy?.();
    }
    const last = batcher.flush();
    if (last) yield last;
  } finally {
    await queryRows(conn, "SET SESSION character_set_results = utf8mb4, SESSION time_zone = ?", [
      saved.tz,
    ]);
  }
  yield logicalFooter(batcher.rows);
}

/** {@link dumpTable} as UTF-8 bytes. */
export async function* dumpTableBytes(
  conn: Connection,
  database: string,
  table: string,
  columns: LogicalColumn[],
  opts: DumpOptions = {},
): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  for await (const piece of dumpTable(conn, database, table, columns, opts)) {
    yield enc.encode(piece);
  }
}

/** What {@link loadTable} needs. */
export interface LoadRequest {
  conn: Connection;
  /** Where the rows go (the table exists, created from the recorded statement). */
  database: string;
  table: string;
  /** The file's content. */
  data: AsyncIterable<Uint8Array>;
  /** The entry path, for messages. */
  where: string;
  signal?: AbortSignal;
}

/**
 * Load a logical table file into `database`.`table`: the header must be this
 * format's, every statement line is checked ({@link parseInsertLine}) and sent
 * with the target's name in place of the recorded one, and the row count on the
 * last line must match what was loaded (else CorruptionError: truncated or
 * altered). Runs with foreign key and unique checks off and time_zone '+00:00'
 * (put back after). Returns the number of rows.
 */
export async function loadTable(req: LoadRequest): Promise<number> {
  const { conn, where } = req;
  const target = quoteTable(req.database, req.table);
  let lineNo = 0;
  let rows = 0;
  let columns = -1;
  let ended: number | undefined;
  const [saved] = await queryRows<{ tz: string; uc: number }>(
    conn,
    "SELECT @@SESSION.time_zone AS tz, @@SESSION.unique_checks AS uc",
  );
  await queryRows(conn, "SET SESSION time_zone = '+00:00', SESSION unique_checks = 0");
  try {
    for await (const line of readLines(req.data, where)) {
      req.signal?.throwIfAborted();
      lineNo++;
      const at = `${where} line ${lineNo}`;
      if (lineNo === 1) {
        if (line !== LOGICAL_MAGIC) {
          throw new CorruptionError(
            `${where}: not an ibvault logical table file (first line ${
              JSON.stringify(line.slice(0, 40))
            })`,
          );
        }
        continue;
      }
      if (ended !== undefined) throw new CorruptionError(`${at}: text after the end line`);
      if (line.startsWith("-- ")) {
        const end = /^-- end (\d+) rows$/.exec(line);
        if (end) ended = Number(end[1]);
        else if (lineNo === 2) columns = columnCount(line, where);
        continue;
      }
      if (columns < 0) throw new CorruptionError(`${at}: statement before the table line`);
      const parsed = parseInsertLine(line, columns, at);
      const sql = line.slice(0, parsed.nameStart) + target + line.slice(parsed.nameEnd);
      try {
        await conn.query(sql);
      } catch (err) {
        throw new ServerError(`${target}: loading ${at} failed: ${driverMessage(err)}`, {
          cause: err,
        });
      }
      rows += parsed.rows;
    }
    if (lineNo === 0) throw new CorruptionError(`${where}: empty file`);
    if (ended === undefined) {
      throw new CorruptionError(`${where}: no end line after ${rows} rows (truncated?)`);
    }
    if (ended !== rows) {
      throw new CorruptionError(
        `${where}: the end line says ${ended} rows, the file holds ${rows}`,
      );
    }
    return rows;
  } finally {
    await queryRows(conn, "SET SESSION time_zone = ?, SESSION unique_checks = ?", [
      saved.tz,
      Number(saved.uc),
    ]).catch(() => {});
  }
}

/** The number of columns the `-- table ...; columns ...;` line names. */
function columnCount(line: string, where: string): number {
  const m = /; columns (.*); load with /.exec(line);
  if (!m) throw new CorruptionError(`${where}: line 2 does not name the columns`);
  if (m[1] === "") return 0;
  let n = 1;
  let inName = false;
  for (let i = 0; i < m[1].length; i++) {
    const c = m[1][i];
    if (c === "`") {
      if (inName && m[1][i + 1] === "`") {
        i++;
        continue;
      }
      inName = !inName;
    } else if (c === "," && !inName) n++;
  }
  return n;
}
