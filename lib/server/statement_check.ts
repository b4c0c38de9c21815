/**
 * Every statement a restore plan will run from the manifest, checked before the
 * first one runs (so a hostile manifest leaves the server untouched, not half
 * restored): the CREATE TABLE of each table under its target name and the
 * CREATE DATABASE of each database the plan may create.
 */
import { renameCreateDatabase, renameCreateTable } from "./import.ts";
import {
  checkCreateDatabase,
  checkCreateTable,
  type CreateCheckOptions,
  LOGICAL_ENGINES,
} from "./sql_guard.ts";
import type { DatabaseRecord, TableRecord } from "../core/manifest.ts";

/** What of a restore plan is checked: its tables and databases. */
export interface PlannedStatements {
  tables: readonly {
    source: TableRecord;
    target: { database: string; name: string };
    /** The statement the restore runs, when not the recorded one (foreign keys retargeted). */
    createStatement?: string;
  }[];
  databases: readonly { name: string; source?: DatabaseRecord }[];
}

/** Check every recorded statement of `plan` (see {@link checkCreateTable}); throws CorruptionError. */
export function checkPlannedStatements(plan: PlannedStatements, opts: CreateCheckOptions): void {
  for (const d of plan.databases) {
    checkCreateDatabase(renameCreateDatabase(d.source, d.name), d.name);
  }
  for (const t of plan.tables) {
    const { database, name } = t.target;
    const logical = t.source.method === "logical" || t.source.method === "definition";
    checkCreateTable(
      renameCreateTable(t.createStatement ?? t.source.createStatement, database, name),
      database,
      name,
      logical ? { ...opts, engines: LOGICAL_ENGINES } : opts,
    );
  }
}
