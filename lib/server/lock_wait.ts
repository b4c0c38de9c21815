/**
 * Bounded waits for `FLUSH TABLES ... FOR EXPORT`: the session's
 * `lock_wait_timeout` (`--lock-wait-timeout`, default 60 s) bounds how long the
 * lock waits behind open transactions (and so how long other writers queue
 * behind the flush); on a timeout the sessions that held it up are read from the
 * process list and named in the error, and nothing stays locked.
 */
import type { Connection } from "mysql2/promise";
import { ServerError } from "../errors.ts";
import { printable } from "../names/printable.ts";
import { queryRows } from "./facts.ts";

/** Default `--lock-wait-timeout` in seconds. */
export const DEFAULT_LOCK_WAIT_TIMEOUT = 60;

/** MariaDB/MySQL ER_LOCK_WAIT_TIMEOUT. */
const ER_LOCK_WAIT_TIMEOUT = 1205;

/** Set this session's `lock_wait_timeout` (whole seconds, at least 1). */
export async function setLockWaitTimeout(conn: Connection, seconds: number): Promise<void> {
  await queryRows(conn, `SET SESSION lock_wait_timeout = ${Math.max(1, Math.floor(seconds))}`);
}

/** Whether a statement failed because it waited longer than `lock_wait_timeout`. */
export function isLockWaitTimeout(err: unknown): boolean {
  const e = err as { errno?: number; cause?: { errno?: number } };
  return e?.errno === ER_LOCK_WAIT_TIMEOUT || e?.cause?.errno === ER_LOCK_WAIT_TIMEOUT;
}

/** A session that may hold up a lock: an open transaction or a running statement. */
export interface BlockingSession {
  id: number;
  user: string;
  host: string;
  command: string;
  seconds: number;
  /** Since when its transaction is open, if one is. */
  trxStarted?: string;
  statement?: string;
}

/**
 * Sessions other than this one with an open InnoDB transaction or a statement
 * running (they hold the metadata locks FLUSH ... FOR EXPORT waits for), longest
 * first. Needs the PROCESS privilege to see other users' sessions.
 */
export async function blockingSessions(conn: Connection): Promise<BlockingSession[]> {
  const rows = await queryRows<Record<string, unknown>>(
    conn,
    "SELECT p.ID AS id, p.USER AS user, p.HOST AS host, p.COMMAND AS command, p.TIME AS time, " +
      "LEFT(p.INFO, 120) AS info, t.trx_started AS trx FROM information_schema.PROCESSLIST p " +
      "LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID " +
      "WHERE p.ID <> CONNECTION_ID() AND (t.trx_id IS NOT NULL OR p.COMMAND NOT IN " +
      "('Sleep', 'Daemon', 'Binlog Dump', 'Killed')) ORDER BY p.TIME DESC",
  );
  return rows.map((r) => ({
    id: Number(r.id),
    user: String(r.user ?? ""),
    host: String(r.host ?? ""),
    command: String(r.command ?? ""),
    seconds: Number(r.time ?? 0),
    trxStarted: r.trx ? new Date(r.trx as string).toISOString() : undefined,
    statement: r.info ? String(r.info) : undefined,
  }));
}

/** One session for a message: `session 12 (app@localhost, in a transaction since ..., idle)`. */
export function describeSession(s: BlockingSession): string {
  const what = s.trxStarted ? `in a transaction since ${s.trxStarted}` : `running ${s.command}`;
  const doing = s.statement ? `: ${s.statement}` : s.command === "Sleep" ? ", idle" : "";
  return printable(`session ${s.id} (${s.user}@${s.host}, ${what}${doing})`);
}

/**
 * The ServerError for a lock wait that timed out on `tables` after `seconds`:
 * names the blocking sessions (read now, on `conn`) and says nothing is locked.
 */
export async function lockWaitError(
  conn: Connection,
  tables: string,
  seconds: number,
): Promise<ServerError> {
  let who: string;
  try {
    const sessions = await blockingSessions(conn);
    who = sessions.length
      ? `blocked by ${sessions.slice(0, 5).map(describeSession).join("; ")}` +
        (sessions.length > 5 ? ` and ${sessions.length - 5} more` : "")
      : "no blocking session is visible (the PROCESS privilege shows other users' sessions)";
  } catch (e) {
    who = `the process list could not be read (${(e as Error).message})`;
  }
  return new ServerError(
    `FLUSH TABLES ... FOR EXPORT of ${tables} waited ${seconds} s (--lock-wait-timeout) ` +
      `for the tables' metadata lock: ${who}. Nothing is locked now; let those transactions ` +
      "finish (or end them), or give a longer --lock-wait-timeout",
  );
}

/**
 * Two `SHOW CREATE TABLE` texts describe the same table: equal once the table
 * option `AUTO_INCREMENT=N` is left out (it moves with every insert, which is
 * not a change of the definition).
 */
export function sameDefinition(a: string, b: string): boolean {
  const strip = (s: string) => s.replace(/ AUTO_INCREMENT=\d+\b/g, "");
  return strip(a) === strip(b);
}
