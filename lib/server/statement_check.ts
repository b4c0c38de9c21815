/**
 * Every statement a restore plan will run from the manifest, checked before the
 * first one runs (so a hostile manifest leaves the server untouched, not half
 * restored): the CREATE TABLE of each table under its target name and the
 * CREATE DATABASE of each database the plan may create.
 */
import { renameCreateDatabase, renameCreateTable } from "./import.ts";
import { checkCreateDatabase, checkCreateTable, type CreateCheckOptions } from "./sql_guard.ts";
import type { DatabaseRecord, TableRecord } from "../core/manifest.ts";

/** What of a restore plan is checked: its tables and databases. */
export interface PlannedStatements {
  tables: readonly { source: TableRecord; target: { database: string; name: string } }[];
  databases: readonly { name: string; source?: DatabaseRecord }[];
}

/** Check every recorded statement of `plan` (see {@link checkCreateTable}); throws CorruptionError. */
export function checkPlannedStatements(plan: PlannedStatements, opts: CreateCheckOptions): void {
  for (const d of plan.databases) {
    checkCreateDatabase(renameCreateDatabase(d.source, d.name), d.name);
  }
  for (const t of plan.tables) {
    const { database, name } = t.target;
    checkCreateTable(
      renameCreateTable(t.source.createStatement, database, name),
      database,
      name,
      opts,
    );
  }
}
