/**
 * Where in the binary log a backup was taken: read while the backup's tables are
 * locked, so every transaction on them before the position is in the backup and
 * every one after it is not. MariaDB: `@@gtid_binlog_pos`, `@@gtid_current_pos`
 * and `SHOW MASTER STATUS`. MySQL 8: `@@gtid_executed` and `SHOW BINARY LOG
 * STATUS` (8.2+; `SHOW MASTER STATUS` before, removed in 8.4), from the MySQL
 * reference manual; the MySQL path is not tested against a MySQL server. The
 * parsing is separate from the queries so both flavours are unit-tested on text.
 */
import type { Connection } from "mysql2/promise";
import type { Flavor } from "./facts.ts";
import { queryRows } from "./facts.ts";

import type { BinlogPosition } from "../core/manifest.ts";

export type { BinlogPosition };

type Row = Record<string, unknown>;

function text(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  return String(v).replace(/\s+/g, "");
}

/**
 * Build the position from the rows the server returned: `vars` is the one row
 * of the variables query (columns `gtid_binlog_pos`, `gtid_current_pos`,
 * `gtid_executed`, `server_id`, each absent when the flavour lacks it), `status`
 * the rows of SHOW MASTER STATUS / SHOW BINARY LOG STATUS (empty when binary
 * logging is off). Empty GTID strings are recorded as empty (no transaction yet).
 */
export function binlogFromRows(flavor: Flavor, vars: Row, status: Row[]): BinlogPosition {
  const pos: BinlogPosition = { flavor, enabled: status.length > 0 };
  const s = status[0];
  if (s) {
    const file = text(s.File);
    if (file !== undefined) pos.file = file;
    const p = Number(s.Position);
    if (Number.isFinite(p)) pos.position = p;
  }
  if (flavor === "mariadb") {
    const b = text(vars.gtid_binlog_pos);
    const c = text(vars.gtid_current_pos);
    if (b !== undefined) pos.gtidBinlogPos = b;
    if (c !== undefined) pos.gtidCurrentPos = c;
  } else {
    const g = text(vars.gtid_executed) ?? text(s?.Executed_Gtid_Set);
    if (g !== undefined) pos.gtidExecuted = g;
  }
  const id = Number(vars.server_id);
  if (vars.server_id !== undefined && Number.isFinite(id)) pos.serverId = id;
  return pos;
}

/** The variables query of a flavour (one row, columns named as {@link binlogFromRows} reads). */
export function binlogVariablesSql(flavor: Flavor): string {
  return flavor === "mariadb"
    ? "SELECT @@GLOBAL.gtid_binlog_pos AS gtid_binlog_pos, " +
      "@@GLOBAL.gtid_current_pos AS gtid_current_pos, @@GLOBAL.server_id AS server_id"
    : "SELECT @@GLOBAL.gtid_executed AS gtid_executed, @@GLOBAL.server_id AS server_id";
}

/**
 * Read the position on `conn` (call it while the backup's tables are locked). On
 * MySQL, SHOW BINARY LOG STATUS is tried first and SHOW MASTER STATUS when the
 * server does not know it (before 8.2).
 */
export async function readBinlogPosition(
  conn: Connection,
  flavor: Flavor,
): Promise<BinlogPosition> {
  const [vars] = await queryRows<Row>(conn, binlogVariablesSql(flavor));
  let status: Row[];
  if (flavor === "mariadb") {
    status = await queryRows<Row>(conn, "SHOW MASTER STATUS");
  } else {
    try {
      status = await queryRows<Row>(conn, "SHOW BINARY LOG STATUS");
    } catch {
      status = await queryRows<Row>(conn, "SHOW MASTER STATUS");
    }
  }
  return binlogFromRows(flavor, vars ?? {}, status);
}

/** One line for people: `mysql-bin.000003:1234, GTID 0-1-15` or `binary logging off`. */
export function describeBinlog(p: BinlogPosition): string {
  const gtid = p.flavor === "mariadb" ? p.gtidBinlogPos : p.gtidExecuted;
  const parts: string[] = [];
  if (p.enabled && p.file) parts.push(`${p.file}:${p.position ?? "?"}`);
  else parts.push("binary logging off");
  if (gtid) parts.push(`GTID ${gtid}`);
  if (p.flavor === "mariadb" && p.gtidCurrentPos && p.gtidCurrentPos !== p.gtidBinlogPos) {
    parts.push(`gtid_current_pos ${p.gtidCurrentPos}`);
  }
  return parts.join(", ");
}

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/**
 * The statements that make a server restored from this backup replicate from
 * the source, for the README and `list-image`: by GTID when the position has
 * one (MariaDB `SET GLOBAL gtid_slave_pos` + `MASTER_USE_GTID=slave_pos`;
 * MySQL `SOURCE_AUTO_POSITION=1` after `SET GLOBAL gtid_purged`), else by file
 * and position. Host, user and password are placeholders for the user to fill.
 */
export function replicaSetup(p: BinlogPosition): string[] {
  if (p.flavor === "mariadb") {
    if (p.gtidBinlogPos) {
      return [
        `SET GLOBAL gtid_slave_pos = ${sqlString(p.gtidBinlogPos)};`,
        "CHANGE MASTER TO MASTER_HOST='source', MASTER_USER='repl', MASTER_PASSWORD='...', " +
        "MASTER_USE_GTID=slave_pos;",
        "START SLAVE;",
      ];
    }
  } else if (p.gtidExecuted) {
    return [
      `SET GLOBAL gtid_purged = ${sqlString(p.gtidExecuted)};`,
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='source', SOURCE_USER='repl', " +
      "SOURCE_PASSWORD='...', SOURCE_AUTO_POSITION=1;",
      "START REPLICA;",
    ];
  }
  if (p.enabled && p.file) {
    const [change, start] = p.flavor === "mariadb"
      ? [
        "CHANGE MASTER TO MASTER_HOST='source', MASTER_USER='repl', MASTER_PASSWORD='...', " +
        `MASTER_LOG_FILE=${sqlString(p.file)}, MASTER_LOG_POS=${p.position};`,
        "START SLAVE;",
      ]
      : [
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='source', SOURCE_USER='repl', " +
        `SOURCE_PASSWORD='...', SOURCE_LOG_FILE=${
          sqlString(p.file)
        }, SOURCE_LOG_POS=${p.position};`,
        "START REPLICA;",
      ];
    return [change, start];
  }
  return [];
}
