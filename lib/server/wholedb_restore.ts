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
import { quoteTable } from "../names/quote.ts";
import { queryRows } from "./facts.ts";
import type { Flavor } from "./facts.ts";
import { renameCreateTable } from "./import.ts";
import { loadTable } from "./logical.ts";
import { createObject, objectLabel } from "./objects.ts";
import type { ObjectPlan } from "./object_plan.ts";
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
