/**
 * The server's log sequence numbers a page-LSN backup depends on: the checkpoint
 * LSN (every page dirtied after it ends with a larger FIL_PAGE_LSN, so it is the
 * threshold of the delta taken under the lock) and the current LSN (read while the
 * tables are locked, it is the end LSN later incrementals continue from).
 *
 * MariaDB reports both in global status (`Innodb_lsn_last_checkpoint`,
 * `Innodb_lsn_current`); MySQL only in `SHOW ENGINE INNODB STATUS` ("Log sequence
 * number", "Last checkpoint at"). LSNs are unsigned 64-bit, so they are bigints.
 */
import type { Connection } from "mysql2/promise";
import { ServerError } from "../errors.ts";
import type { Flavor } from "./facts.ts";
import { queryRows } from "./facts.ts";

/** The two LSNs read at one moment. */
export interface ServerLsns {
  /** LSN of the last checkpoint. */
  checkpoint: bigint;
  /** Current (newest) LSN. */
  current: bigint;
}

const DECIMAL = /^\d{1,20}$/;

function toLsn(text: string | undefined, what: string): bigint {
  const s = String(text ?? "").trim();
  if (!DECIMAL.test(s)) {
    throw new ServerError(`the server reported no usable ${what} (${s || "none"})`);
  }
  const v = BigInt(s);
  if (v >= 1n << 64n) throw new ServerError(`the server reported ${what} ${s}, beyond 64 bits`);
  return v;
}

/**
 * Parse the LOG section of `SHOW ENGINE INNODB STATUS` (MySQL 5.7/8.x, MariaDB):
 * the lines `Log sequence number N` and `Last checkpoint at N`. MySQL 8 may add
 * `Log buffer assigned up to` and similar lines; only the two named lines count.
 * Throws ServerError when either is missing.
 */
export function parseInnodbStatusLsns(status: string): ServerLsns {
  const current = /^Log sequence number\s+(\d+)\s*$/m.exec(status)?.[1];
  const checkpoint = /^Last checkpoint at\s+(\d+)\s*$/m.exec(status)?.[1];
  if (current === undefined || checkpoint === undefined) {
    throw new ServerError(
      "SHOW ENGINE INNODB STATUS has no 'Log sequence number' / 'Last checkpoint at' line " +
        "(does the user have the PROCESS privilege?)",
    );
  }
  return {
    current: toLsn(current, "current LSN"),
    checkpoint: toLsn(checkpoint, "checkpoint LSN"),
  };
}

/** Read the checkpoint and current LSN from a server of the given flavour. */
export async function readServerLsns(conn: Connection, flavor: Flavor): Promise<ServerLsns> {
  if (flavor === "mariadb") {
    const rows = await queryRows<{ Variable_name: string; Value: string }>(
      conn,
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_lsn_current', 'Innodb_lsn_last_checkpoint')",
    );
    const v = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), String(r.Value)]));
    return {
      checkpoint: toLsn(v.get("innodb_lsn_last_checkpoint"), "Innodb_lsn_last_checkpoint"),
      current: toLsn(v.get("innodb_lsn_current"), "Innodb_lsn_current"),
    };
  }
  const rows = await queryRows<{ Status: string }>(conn, "SHOW ENGINE INNODB STATUS");
  return parseInnodbStatusLsns(String(rows[0]?.Status ?? ""));
}
