/**
 * The steps of a whole-database restore beyond TTS tables, each atomic like
 * `importTable`: a logical table (CREATE TABLE from the recorded statement, then
 * its rows; dropped again if anything fails), a partitioned table through its
 * partitions (`partitions.ts`; created first unless it exists, dropped again if
 * this call created it and a partition fails), and the database objects of an
 * {@link ObjectPlan}, in the plan's order.
 */
import type { Connection } from "mysql2/promise";
import { ServerError } from "../errors.ts";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import { queryRows } from "./facts.ts";
import type { Flavor } from "./facts.ts";
import { renameCreateTable } from "./import.ts";
import { loadTable } from "./logical.ts";
import {
  createObject,
  existingObjects,
  missingDefiners,
  objectKey,
  objectLabel,
} from "./objects.ts";
import {
  type Name,
  type NameMap,
  type ObjectPlan,
  planForeignKeys,
  planObjects,
  tableKey,
  targetDatabase,
} from "./object_plan.ts";
import type { Manifest, ServerFacts, TableRecord } from "../core/manifest.ts";
import { readForeignKeys } from "../names/sql_rewrite.ts";
import { checkPartitions, importPartitions, type PartitionFiles } from "./partitions.ts";

/** What {@link restoreLogicalTable} needs. */
export interface LogicalRestoreRequest {
  conn: Connection;
  database: string;
  table: string;
  /** The CREATE TABLE statement to run (any table name; it is replaced). */
  createStatement: string;
  /** The rows (a logical table file), or none for a definition-only table. */
  data?: AsyncIterable<Uint8Array>;
  /** Entry path, for messages. */
  where: string;
  signal?: AbortSignal;
}

/**
 * Create the table and load its rows; on failure the table is dropped again and
 * the error names it. Returns the number of rows loaded.
 */
export async function restoreLogicalTable(req: LogicalRestoreRequest): Promise<number> {
  const name = quoteTable(req.database, req.table);
  await queryRows(req.conn, renameCreateTable(req.createStatement, req.database, req.table));
  if (!req.data) return 0;
  try {
    return await loadTable({
      conn: req.conn,
      database: req.database,
      table: req.table,
      data: req.data,
      where: req.where,
      signal: req.signal,
    });
  } catch (err) {
    const dropped = await queryRows(req.conn, `DROP TABLE IF EXISTS ${name}`).then(
      () => "; the table was dropped again",
      (e) => `; dropping it failed too: ${(e as Error).message}`,
    );
    const Kind = (err as Error).constructor as typeof ServerError;
    const e = new Kind(`${(err as Error).message}${dropped}`, { cause: err });
    throw e;
  }
}

/** What {@link restorePartitionedTable} needs. */
export interface PartitionedRestoreRequest {
  conn: Connection;
  flavor: Flavor;
  datadir: string;
  database: string;
  table: string;
  /** CREATE TABLE to run when the table does not exist yet. */
  createStatement?: string;
  partitions: PartitionFiles[];
  /** Replace rows receiving partitions hold. */
  force?: boolean;
  signal?: AbortSignal;
  onStep?: (step: string) => void;
}

/**
 * Restore partitions into `database`.`table`, creating it first when
 * `createStatement` is given. Receiving partitions must be empty (or `force`).
 * If this call created the table and a partition fails, the table is dropped.
 */
export async function restorePartitionedTable(req: PartitionedRestoreRequest): Promise<string[]> {
  const name = quoteTable(req.database, req.table);
  let created = false;
  if (req.createStatement) {
    await queryRows(req.conn, renameCreateTable(req.createStatement, req.database, req.table));
    created = true;
  }
  try {
    const problems = await checkPartitions(
      req.conn,
      req.database,
      req.table,
      req.partitions.map((p) => p.label),
      req.force ?? false,
    );
    if (problems.length) throw new ServerError(problems.join("; "));
    return await importPartitions({ ...req });
  } catch (err) {
    if (!created) throw err;
    const dropped = await queryRows(req.conn, `DROP TABLE IF EXISTS ${name}`).then(
      () => "; the table was dropped again",
      (e) => `; dropping it failed too: ${(e as Error).message}`,
    );
    throw new ServerError(`${(err as Error).message}${dropped}`, { cause: err });
  }
}

/** The outcome of creating the objects of a plan. */
export interface ObjectOutcome {
  label: string;
  status: "created" | "failed";
  error?: string;
  notes: string[];
}

/**
 * Create the plan's objects in order; one that fails is reported and the rest go
 * on (a view whose base table failed fails too, and says so).
 */
export async function restoreObjects(
  conn: Connection,
  plan: ObjectPlan,
  signal?: AbortSignal,
): Promise<{ outcomes: ObjectOutcome[]; warnings: string[] }> {
  const outcomes: ObjectOutcome[] = [];
  const warnings: string[] = [];
  for (const o of plan.objects) {
    signal?.throwIfAborted();
    const label = objectLabel({ kind: o.record.kind, database: o.database, name: o.record.name });
    try {
      warnings.push(
        ...await createObject({
          conn,
          record: o.record,
          database: o.database,
          statement: o.statement,
        }),
      );
      outcomes.push({ label, status: "created", notes: o.notes });
    } catch (err) {
      outcomes.push({ label, status: "failed", error: (err as Error).message, notes: o.notes });
    }
  }
  return { outcomes, warnings };
}

/** What {@link planWholeRestore} needs. */
export interface WholeRestoreInputs {
  conn: Connection;
  facts: ServerFacts;
  manifest: Manifest;
  /** The selected tables with their target names. */
  selected: { source: TableRecord; target: Name }[];
  /** Database-level renames, source to target. */
  databaseRenames: ReadonlyMap<string, string>;
  force: boolean;
  skipExisting: boolean;
  definerCurrentUser: boolean;
  /** Restore no objects (a partition restore repairs data, not a schema). */
  noObjects?: boolean;
}

/** The objects and foreign keys of a restore, decided before anything is touched. */
export interface WholeRestorePlan {
  /** CREATE TABLE statements with retargeted foreign keys, by target key (restore_plan's nameKey). */
  statements: Map<string, string>;
  objects: ObjectPlan;
  problems: string[];
  warnings: string[];
  /** What the user should know (info lines). */
  notes: string[];
}

/**
 * Plan the objects (those of databases whose tables are all selected; triggers
 * of the selected tables) and the foreign keys of a restore: references rewritten for
 * database renames, existing objects and dangling foreign keys found (problems,
 * unless `skipExisting` / `force`), definers the target lacks.
 */
export async function planWholeRestore(inputs: WholeRestoreInputs): Promise<WholeRestorePlan> {
  const { conn, facts, manifest, selected } = inputs;
  const foldCase = facts.lowerCaseTableNames !== 0;
  const names: NameMap = {
    databases: inputs.databaseRenames,
    tables: new Map(
      selected.map((s) => [tableKey(s.source.database, s.source.name, foldCase), s.target]),
    ),
    foldCase,
  };
  const existsOnTarget = await tableExistence(conn, selected, manifest, names);
  const fk = planForeignKeys({
    restored: selected.map((s) => ({
      source: { database: s.source.database, name: s.source.name },
      target: s.target,
      createStatement: s.source.createStatement,
    })),
    backup: manifest.tables,
    names,
    existsOnTarget,
  });
  const problems: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  if (fk.dangling.length) {
    (inputs.force ? warnings : problems).push(
      ...fk.dangling.map((d) =>
        d + (inputs.force ? " (--force: restored anyway)" : "; --force restores it anyway")
      ),
    );
  }
  warnings.push(...fk.orphanedParents);
  const restoredTables = new Set(
    selected.map((s) => tableKey(s.source.database, s.source.name, foldCase)),
  );
  // A database's views, routines and events come with it when all its tables do
  // (a whole-database restore); a partial selection brings only its triggers.
  const databases = new Set<string>();
  for (const db of new Set(selected.map((s) => s.source.database))) {
    const all = manifest.tables.filter((t) => t.database === db);
    const missing = all.filter((t) => !restoredTables.has(tableKey(db, t.name, foldCase)));
    const others = (manifest.objects ?? []).filter((o) =>
      o.database === db && o.kind !== "trigger"
    );
    if (missing.length === 0) databases.add(db);
    else if (others.length && !inputs.noObjects) {
      notes.push(
        `${others.length} view(s), routine(s) and event(s) of ${quoteIdentifier(db)} are not ` +
          `restored: only ${
            all.length - missing.length
          } of its ${all.length} tables are selected ` +
          "(they come with a whole database)",
      );
    }
  }
  const objects = inputs.noObjects
    ? []
    : (manifest.objects ?? []).filter((o) =>
      o.kind === "trigger"
        ? restoredTables.has(tableKey(o.database, o.table ?? "", foldCase))
        : databases.has(o.database)
    );
  const sourceNames = new Map<string, Set<string>>();
  for (const t of [...manifest.tables, ...(manifest.objects ?? [])]) {
    const set = sourceNames.get(t.database) ?? new Set<string>();
    set.add(t.name);
    sourceNames.set(t.database, set);
  }
  const existing = new Map<string, Set<string>>();
  for (const db of new Set(objects.map((o) => targetDatabase(names, o.database)))) {
    existing.set(db, await existingObjects(conn, db));
  }
  // Tables restored in this run are not "existing" for the views' namespace check.
  for (const s of selected) {
    existing.get(s.target.database)?.delete(objectKey("view", s.target.name));
  }
  const missing = await missingDefiners(conn, objects.flatMap((o) => o.definer ? [o.definer] : []));
  const plan = planObjects({
    objects,
    names,
    sourceNames,
    existing,
    missingDefiners: new Set(missing.map((d) => JSON.stringify([d.user, d.host]))),
    definerCurrentUser: inputs.definerCurrentUser,
    skipExisting: inputs.skipExisting,
  });
  problems.push(...plan.problems);
  warnings.push(...plan.warnings);
  return { statements: fk.statements, objects: plan, problems, warnings, notes };
}

/** Which referenced tables exist on the target: read once for every database the keys name. */
async function tableExistence(
  conn: Connection,
  selected: { source: TableRecord; target: Name }[],
  manifest: Manifest,
  names: NameMap,
): Promise<(t: Name) => boolean> {
  const dbs = new Set<string>();
  for (const s of selected) {
    dbs.add(s.target.database);
    for (const fk of readForeignKeys(s.source.createStatement)) {
      const db = fk.refDatabase ?? s.source.database;
      dbs.add(db);
      dbs.add(targetDatabase(names, db));
    }
  }
  void manifest;
  const have = new Set<string>();
  if (dbs.size) {
    const list = [...dbs];
    const rows = await queryRows<{ db: string; name: string }>(
      conn,
      "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES " +
        `WHERE TABLE_SCHEMA IN (${list.map(() => "?").join(", ")})`,
      list,
    );
    for (const r of rows) have.add(tableKey(String(r.db), String(r.name), names.foldCase));
  }
  return (t) => have.has(tableKey(t.database, t.name, names.foldCase));
}
