/**
 * Server facts, and every SQL difference between MySQL 8.x and MariaDB 10.6+ that a
 * backup depends on: the flavour and version, InnoDB page size and checksum
 * algorithm, lower_case_table_names, the data directory, which tables have their
 * own tablespace, how partitions are named on disk. Other modules ask here and
 * never branch on the flavour themselves.
 */
import type { Connection } from "mysql2/promise";
import type { ServerFacts } from "../core/manifest.ts";
import { encodeFilename } from "../names/filename.ts";
import { ConnectionLost, ServerError } from "../errors.ts";

/** The server flavours ibvault knows. */
export type Flavor = ServerFacts["flavor"];

/** Run a query and return its rows, turning a driver error into a ServerError. */
export async function queryRows<T>(
  conn: Connection,
  sql: string,
  values?: unknown[],
): Promise<T[]> {
  try {
    const [rows] = await conn.query(sql, values);
    return rows as T[];
  } catch (err) {
    const msg = driverMessage(err);
    const text = `${msg} (in: ${sql.length > 200 ? sql.slice(0, 200) + "..." : sql})`;
    throw isConnectionLoss(err)
      ? new ConnectionLost(text, { cause: err })
      : new ServerError(text, { cause: err });
  }
}

/**
 * True when a driver error means the connection is gone: mysql2 marks those
 * `fatal` (lost, reset, closed, killed); a ConnectionLost already says so.
 */
export function isConnectionLoss(err: unknown): boolean {
  return err instanceof ConnectionLost || (err as { fatal?: boolean })?.fatal === true;
}

/**
 * A driver error in words. A lost connection says so, and what to do, instead of
 * the driver's own text (mysql2 answers every query after the loss with "Can't
 * add new command when connection is in closed state"); the server's message,
 * when it sent one (e.g. the session was killed), is kept. Others pass as they are.
 */
export function driverMessage(err: unknown): string {
  if (err instanceof ConnectionLost || !isConnectionLoss(err)) {
    return err instanceof Error ? err.message : String(err);
  }
  const e = err as { code?: string; sqlMessage?: string };
  const why = e.sqlMessage
    ? ` (${e.code ? `${e.code}: ` : ""}${e.sqlMessage})`
    : e.code
    ? ` (${e.code})`
    : " earlier in this run";
  return `the connection to the server was lost${why}: the server stopped or restarted, or ` +
    "this session was killed; check the server, then run again";
}

/** The flavour a `SELECT VERSION()` string belongs to. */
export function flavorOf(version: string): Flavor {
  return /mariadb/i.test(version) ? "mariadb" : "mysql";
}

/**
 * Read the server facts a backup records and depends on. `datadir` overrides the
 * server's own answer (for a server that sees its data directory under another path,
 * e.g. in a container); a trailing slash is removed either way.
 */
export async function readServerFacts(
  conn: Connection,
  opts: { datadir?: string } = {},
): Promise<ServerFacts> {
  const rows = await queryRows<{ Variable_name: string; Value: string }>(
    conn,
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'version_comment', " +
      "'innodb_page_size', 'innodb_checksum_algorithm', 'lower_case_table_names', 'datadir', " +
      "'innodb_file_per_table', 'innodb_default_row_format')",
  );
  const v = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), String(r.Value)]));
  const version = v.get("version") ?? "";
  const datadir = (opts.datadir ?? v.get("datadir") ?? "").replace(/(.)\/+$/, "$1");
  return {
    flavor: flavorOf(version),
    version,
    versionComment: v.get("version_comment") ?? "",
    pageSize: Number(v.get("innodb_page_size") ?? 16384),
    // MySQL 8.0.x+ dropped the non-crc32 choices; absent means crc32.
    checksumAlgorithm: (v.get("innodb_checksum_algorithm") ?? "crc32").toLowerCase(),
    lowerCaseTableNames: Number(v.get("lower_case_table_names") ?? 0),
    datadir,
    innodbFilePerTable: /^(on|1)$/i.test(v.get("innodb_file_per_table") ?? ""),
    innodbDefaultRowFormat: (v.get("innodb_default_row_format") ?? "").toLowerCase(),
  };
}

/** Where an InnoDB table (or one partition of it) keeps its data, as the server says. */
export interface InnodbTablespace {
  /** InnoDB's name: filename-encoded `db/tbl`, or `db/tbl#P#p0` for a partition. */
  name: string;
  /** Tablespace id; 0 is the system tablespace. */
  space: number;
  /** `single` (own .ibd), `system`, or `general` (CREATE TABLESPACE). */
  kind: "single" | "system" | "general";
  /** Data file as the server reports it (`./db/t.ibd`, or an absolute path), when known. */
  file?: string;
}

const TABLESPACE_SQL: Record<Flavor, string> = {
  mariadb: "SELECT t.NAME AS name, t.SPACE AS space, t.SPACE_TYPE AS kind, s.FILENAME AS file " +
    "FROM information_schema.INNODB_SYS_TABLES t " +
    "LEFT JOIN information_schema.INNODB_SYS_TABLESPACES s ON s.SPACE = t.SPACE",
  mysql: "SELECT t.NAME AS name, t.SPACE AS space, t.SPACE_TYPE AS kind, d.PATH AS file " +
    "FROM information_schema.INNODB_TABLES t " +
    "LEFT JOIN information_schema.INNODB_DATAFILES d ON d.SPACE = t.SPACE",
};

/**
 * Every InnoDB table and partition the server knows, keyed by InnoDB name (see
 * {@link tablespaceName}); compare keys with {@link sameTablespaceName}'s rules.
 */
export async function listInnodbTablespaces(
  conn: Connection,
  flavor: Flavor,
): Promise<Map<string, InnodbTablespace>> {
  const rows = await queryRows<{ name: string; space: number; kind: string; file: string | null }>(
    conn,
    TABLESPACE_SQL[flavor],
  );
  const map = new Map<string, InnodbTablespace>();
  for (const r of rows) {
    const space = Number(r.space);
    const k = String(r.kind ?? "").toLowerCase();
    const kind = space === 0 || k === "system" ? "system" : k === "general" ? "general" : "single";
    const entry: InnodbTablespace = { name: String(r.name), space, kind };
    if (r.file) entry.file = String(r.file);
    map.set(tablespaceKey(entry.name), entry);
  }
  return map;
}

/** Lookup key for an InnoDB name: partition markers in one case (`#P#` and `#p#` agree). */
export function tablespaceKey(name: string): string {
  return name.replace(/#(sp|SP)#/g, "#SP#").replace(/#(p|P)#/g, "#P#");
}

/**
 * The InnoDB name of a table or of one (sub)partition, which is also its data file
 * path relative to the data directory without `.ibd`: MariaDB writes `t#P#p0#SP#s0`,
 * MySQL 8 `t#p#p0#sp#s0`; every name part is filename-encoded.
 */
export function tablespaceName(
  flavor: Flavor,
  database: string,
  table: string,
  partition?: string,
  subpartition?: string,
): string {
  const [p, sp] = flavor === "mysql" ? ["#p#", "#sp#"] : ["#P#", "#SP#"];
  let name = `${encodeFilename(database)}/${encodeFilename(table)}`;
  if (partition !== undefined) name += p + encodeFilename(partition);
  if (subpartition !== undefined) name += sp + encodeFilename(subpartition);
  return name;
}

/** One row of information_schema.TABLES as backups use it. */
export interface TableRow {
  database: string;
  name: string;
  /** BASE TABLE, VIEW, SYSTEM VIEW, SEQUENCE (MariaDB), SYSTEM VERSIONED (MariaDB), ... */
  type: string;
  engine: string | null;
  rowFormat: string | null;
  createOptions: string | null;
}

/** Databases that hold the server's own tables, never user data to back up. */
export const SYSTEM_DATABASES: readonly string[] = [
  "mysql",
  "information_schema",
  "performance_schema",
  "sys",
];

/** Every table and view information_schema lists (same SQL on both flavours). */
export async function listTableRows(conn: Connection): Promise<TableRow[]> {
  const rows = await queryRows<Record<string, string | null>>(
    conn,
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine, " +
      "ROW_FORMAT AS rowFormat, CREATE_OPTIONS AS createOptions FROM information_schema.TABLES " +
      "ORDER BY TABLE_SCHEMA, TABLE_NAME",
  );
  return rows.map((r) => ({
    database: String(r.db),
    name: String(r.name),
    type: String(r.type ?? ""),
    engine: r.engine,
    rowFormat: r.rowFormat,
    createOptions: r.createOptions,
  }));
}

/** A partition of a table, with its subpartition when the table has those. */
export interface PartitionRow {
  database: string;
  table: string;
  partition: string;
  subpartition?: string;
}

/** Every partition and subpartition of every partitioned table (same SQL on both flavours). */
export async function listPartitionRows(conn: Connection): Promise<PartitionRow[]> {
  const rows = await queryRows<Record<string, string | null>>(
    conn,
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, PARTITION_NAME AS part, " +
      "SUBPARTITION_NAME AS sub FROM information_schema.PARTITIONS " +
      "WHERE PARTITION_NAME IS NOT NULL ORDER BY TABLE_SCHEMA, TABLE_NAME, " +
      "PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION",
  );
  return rows.map((r) => {
    const p: PartitionRow = {
      database: String(r.db),
      table: String(r.tbl),
      partition: String(r.part),
    };
    if (r.sub !== null && r.sub !== undefined) p.subpartition = String(r.sub);
    return p;
  });
}
