/**
 * FULLTEXT indexes across a transportable-tablespace import. InnoDB keeps a
 * FULLTEXT index in auxiliary tables that IMPORT TABLESPACE does not bring over:
 * the imported table says its index is "not found or corrupt", MATCH finds
 * nothing, and on MariaDB 10.11 the next INSERT crashes the server (signal 6,
 * seen in the tests). The cure: drop the FULLTEXT indexes, rebuild the table
 * (ALTER TABLE ... FORCE: adding one back without the rebuild also crashes it),
 * then add each one back, which indexes the imported rows.
 */
import type { Connection } from "mysql2/promise";
import { quoteIdentifier, scanIdentifier } from "../names/quote.ts";
import { ServerError } from "../errors.ts";
import { driverMessage, queryRows } from "./facts.ts";

/** A FULLTEXT index as `SHOW CREATE TABLE` prints it. */
export interface FulltextIndex {
  /** The index name. */
  name: string;
  /** Its definition, ready for ALTER TABLE ... ADD: "FULLTEXT KEY `ft` (`body`)". */
  definition: string;
}

const FULLTEXT_LINE = /^\s*(FULLTEXT\s+(?:KEY|INDEX)\s+)/i;

/** The FULLTEXT indexes of a `SHOW CREATE TABLE` statement (one index per line). */
export function fulltextIndexes(createStatement: string): FulltextIndex[] {
  const found: FulltextIndex[] = [];
  for (const line of createStatement.split("\n")) {
    const head = FULLTEXT_LINE.exec(line);
    if (!head) continue;
    const { name } = scanIdentifier(line, head[0].length, "FULLTEXT index name");
    found.push({ name, definition: line.trim().replace(/,$/, "") });
  }
  return found;
}

/**
 * Rebuild the FULLTEXT indexes of the just-imported table `quoted` (a quoted
 * name) as listed by its `SHOW CREATE TABLE`: drop them, rebuild the table, add
 * them back one at a time (InnoDB creates one FULLTEXT index per statement).
 */
export async function rebuildFulltextIndexes(
  conn: Connection,
  quoted: string,
  indexes: FulltextIndex[],
): Promise<void> {
  if (indexes.length === 0) return;
  const step = async (sql: string) => {
    try {
      await queryRows(conn, sql);
    } catch (err) {
      throw new ServerError(`rebuilding FULLTEXT indexes: ${sql}: ${driverMessage(err)}`, {
        cause: err,
      });
    }
  };
  const drops = indexes.map((i) => `DROP INDEX ${quoteIdentifier(i.name)}`);
  await step(`ALTER TABLE ${quoted} ${drops.join(", ")}`);
  await step(`ALTER TABLE ${quoted} FORCE`);
  for (const i of indexes) await step(`ALTER TABLE ${quoted} ADD ${i.definition}`);
}

/** True for the warning IMPORT TABLESPACE gives about FULLTEXT index `name`. */
export function isFulltextImportWarning(warning: string, name: string): boolean {
  return /Index corrupt: Index .* not found or corrupt/i.test(warning) && warning.includes(name);
}
