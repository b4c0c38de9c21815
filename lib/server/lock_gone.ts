/**
 * A table of the backup that is gone when `FLUSH TABLES ... FOR EXPORT` runs
 * (dropped or renamed after it was selected, e.g. during a minimum-locking hot
 * pass): the error names every such table, and nothing is locked.
 */
import type { Connection } from "mysql2/promise";
import { ServerError } from "../errors.ts";
import { tableLabel } from "../core/label.ts";
import { queryRows } from "./facts.ts";

/** MariaDB/MySQL ER_NO_SUCH_TABLE. */
const ER_NO_SUCH_TABLE = 1146;

/** Whether a statement failed because a table it names does not exist. */
export function isNoSuchTable(err: unknown): boolean {
  const e = err as { errno?: number; cause?: { errno?: number } };
  return e?.errno === ER_NO_SUCH_TABLE || e?.cause?.errno === ER_NO_SUCH_TABLE;
}

/** The error for a lock that failed on missing tables: names those no longer there. */
export async function tablesGoneError(
  conn: Connection,
  tables: readonly { database: string; name: string }[],
  cause: unknown,
): Promise<ServerError> {
  const gone: string[] = [];
  for (const t of tables) {
    const rows = await queryRows(
      conn,
      "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
      [t.database, t.name],
    ).catch(() => [1]);
    if (rows.length === 0) gone.push(tableLabel(t.database, t.name));
  }
  const what = gone.length > 0 ? gone.join(", ") : "a table of the backup";
  return new ServerError(
    `${what}: dropped or renamed during the backup, so it cannot be locked for export ` +
      `(nothing is locked, nothing was written as complete): run the backup again`,
    { cause },
  );
}
